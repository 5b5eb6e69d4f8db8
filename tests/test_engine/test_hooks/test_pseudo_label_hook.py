"""PseudoLabelHook: degenerate clusterings and the learning diagnostics, on fakes."""
import logging
import types

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from mmssl.engine.hooks import PseudoLabelHook
from mmssl.models.memory import PersonMemory
from mmssl.models.pseudo_labels import PseudoLabelStore


class FakeDataset:
    """Ten images, boxes of 20 identities (five sightings each) at given rows."""

    def __init__(self, person_ids, image_paths=None):
        self.person_ids = np.asarray(person_ids)
        num = len(self.person_ids)
        self.image_index = np.arange(num) % 10
        self.paths = image_paths or [f'missing_{i}.png' for i in range(10)]

    def instance_table(self):
        num = len(self.person_ids)
        boxes = np.tile(np.array([[2., 2., 12., 30.]], np.float32), (num, 1))
        return dict(image_index=self.image_index.copy(),
                    person_id=self.person_ids.copy(), bboxes=boxes)

    def __len__(self):
        return 10

    def get_data_info(self, index):
        return dict(img_path=self.paths[index])


def fake_runner(bank, dataset, epoch=0):
    model = types.SimpleNamespace(memory=PersonMemory(len(bank), bank.shape[1]),
                                  pseudo_labels=PseudoLabelStore(len(bank)))
    model.memory.fill(torch.arange(len(bank)), bank, bank)
    runner = types.SimpleNamespace(
        epoch=epoch, logger=logging.getLogger('test_pseudo_label_hook'),
        train_dataloader=types.SimpleNamespace(dataset=dataset))
    return runner, model


def identity_bank(num_ids=20, per_id=5, spread=0.05, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(num_ids, 32))
    rows = np.repeat(centres, per_id, 0) + spread * rng.normal(size=(num_ids *
                                                                     per_id, 32))
    return (F.normalize(torch.tensor(rows, dtype=torch.float32), dim=1),
            np.repeat(np.arange(num_ids), per_id))


def collapsed(bank):
    """90 rows of the bank onto one direction (one cluster would hold most rows)."""
    noise = torch.randn(90, 32, generator=torch.Generator().manual_seed(0))
    return F.normalize(bank[:1] + 1e-3 * noise, dim=1)


def test_degenerate_clustering_keeps_no_threshold_and_is_split(caplog):
    bank, pids = identity_bank()
    bank[:90] = collapsed(bank)
    hook = PseudoLabelHook(label_cfg=dict(k1=6, k2=2, min_samples=3),
                           diagnostics=False)
    runner, model = fake_runner(bank, FakeDataset(pids))
    with caplog.at_level(logging.WARNING):
        stats = hook._compute(runner, model, epoch=0)
    assert stats['degenerate'] and stats['largest_cluster_share'] > 0.3
    assert 'degenerate clustering' in caplog.text
    assert hook.independence_threshold is None
    stored = model.pseudo_labels.cluster_labels.numpy()
    assert np.bincount(stored).max() <= 0.2 * len(stored)

    # a healthy clustering afterwards sets the threshold
    bank, pids = identity_bank(seed=1)
    runner, model = fake_runner(bank, FakeDataset(pids), epoch=1)
    stats = hook._compute(runner, model, epoch=1)
    assert not stats['degenerate'] and stats['clusters'] >= 15
    assert hook.independence_threshold is not None
    assert stats['cluster_precision'] > 0.95


def test_without_the_rule_a_degenerate_threshold_is_kept():
    bank, pids = identity_bank()
    bank[:90] = collapsed(bank)
    hook = PseudoLabelHook(label_cfg=dict(k1=6, k2=2, min_samples=3),
                           diagnostics=False, max_cluster_share=None)
    runner, model = fake_runner(bank, FakeDataset(pids))
    stats = hook._compute(runner, model, epoch=0)
    assert not stats['degenerate'] and stats['largest_cluster_share'] > 0.3
    assert hook.independence_threshold is not None


def test_diagnostics_report_bank_and_colour_precision(tmp_path):
    bank, pids = identity_bank()
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 255, size=(20, 3))
    paths = []
    for image in range(10):
        # every box of an image shares the image: one colour per image, so the
        # colour floor cannot tell its identities apart
        pixels = np.zeros((40, 20, 3), np.uint8)
        pixels[:] = colours[image]
        paths.append(str(tmp_path / f'{image}.png'))
        cv2.imwrite(paths[-1], pixels)
    hook = PseudoLabelHook(label_cfg=dict(k1=6, k2=2, min_samples=3))
    runner, model = fake_runner(bank, FakeDataset(pids, paths))
    stats = hook._compute(runner, model, epoch=0)
    for name in ('instance', 'exemplar', 'combined'):
        assert stats[f'nn_precision_{name}'] > 0.95
    assert stats['nn_precision_colour'] < 0.5
