"""PersonSearchDetector(multilabel_cadence='iteration'): L_DML takes positive sets
computed for the batch against the current M (Eq. 8 at each iteration)."""
import copy

import pytest
import torch
from mmdet.registry import MODELS
from mmengine.registry import init_default_scope

import mmssl  # noqa: F401
from mmssl.models.losses import batch_multilabels
from mmssl.testing import tiny_ssl_config
from mmssl.testing.person_batches import person_batch
from mmssl.utils import config_hooks

NUM_ROWS = 12


def make_batch():
    return person_batch([[[10., 8., 40., 80.], [60., 20., 90., 90.]],
                         [[5., 5., 30., 60.], [50., 10., 70., 50.],
                          [90., 30., 120., 95.]]], height=96, width=128)


def run_loss(model, batch):
    return model(**model.data_preprocessor(batch, True), mode='loss')


def build(cadence):
    init_default_scope('mmdet')
    cfg = tiny_ssl_config('unused', 'unused')
    cfg.model.multilabel_cadence = cadence
    return MODELS.build(cfg.model)


def self_only_labels(model, threshold):
    labels = torch.arange(NUM_ROWS)
    model.pseudo_labels.set(labels, torch.arange(NUM_ROWS + 1), torch.arange(NUM_ROWS),
                            epoch=0, threshold=threshold)


def test_iteration_cadence_uses_the_batch_labels_of_eq8():
    torch.manual_seed(0)
    per_iteration = build('iteration').train()
    per_iteration.memory.resize(NUM_ROWS)
    per_iteration.memory.fill(torch.arange(NUM_ROWS), torch.randn(NUM_ROWS, 32),
                              torch.randn(NUM_ROWS, 32))
    per_iteration.memory.mark_initialised()
    per_epoch = build('epoch').train()
    per_epoch.load_state_dict(per_iteration.state_dict(), strict=False)
    assert not hasattr(per_epoch, 'row_images')

    threshold = 0.05
    memory = per_iteration.memory.combined()
    batch = make_batch()
    # the batch: image 0 holds rows 0-1, image 1 rows 2-4; rows 5.. are unseen
    image_keys = torch.tensor([0, 0, 1, 1, 1] + list(range(2, NUM_ROWS - 3)))
    rows = torch.arange(5)
    indptr, indices = batch_multilabels(memory, rows, image_keys, threshold)
    assert indices.numel() > rows.numel()  # positives beyond the rows themselves

    # per-epoch store holding exactly those labels vs the per-iteration labels
    # computed by the model from a store that holds self-only labels
    self_only_labels(per_iteration, threshold)
    store_self_only = copy.deepcopy(per_epoch)
    self_only_labels(store_self_only, threshold)
    per_epoch.pseudo_labels.set(torch.arange(NUM_ROWS), indptr, indices, epoch=0,
                                threshold=threshold)
    got = run_loss(per_iteration, copy.deepcopy(batch))
    expected = run_loss(per_epoch, copy.deepcopy(batch))
    store_labels = run_loss(store_self_only, copy.deepcopy(batch))
    assert torch.equal(per_iteration.row_images.image_keys(), image_keys)
    for key in ('loss_dml_instance', 'loss_dml_exemplar'):
        assert got[key].item() == pytest.approx(expected[key].item(), rel=1e-5)
        # not what the store's (self-only) labels give
        assert got[key].item() != pytest.approx(store_labels[key].item(), rel=1e-3)
    assert 'row_images.starts' in per_iteration.state_dict()


def test_cadence_is_checked():
    with pytest.raises(ValueError, match='multilabel_cadence'):
        build('batch')


def test_a_tiny_run_learns_the_images_of_every_row(tmp_path):
    """In a real run the fill pass shows every image before training: the row
    images the model learnt are the dataset's, and training uses them."""
    from mmengine.runner import Runner

    from mmssl.testing import render_tiny_synthps
    root = render_tiny_synthps(str(tmp_path / 'synthps'))
    cfg = tiny_ssl_config(root, str(tmp_path / 'work'), max_epochs=1)
    cfg.model.multilabel_cadence = 'iteration'
    for hook in config_hooks(cfg, 'PseudoLabelHook'):  # labels from epoch 0 on
        hook['start_epoch'] = 0
    runner = Runner.from_cfg(cfg)
    runner.train()
    model = runner.model
    table = runner.train_dataloader.dataset.instance_table()
    _, expected = torch.unique(torch.from_numpy(table['image_index']),
                               return_inverse=True)
    assert torch.equal(model.row_images.image_keys(), expected)
    assert model.pseudo_labels.has_labels
    assert 'train/loss_dml_instance' in runner.message_hub.log_scalars
