"""Per-iteration multi-labels of Eq. 8 (batch_multilabels) and RowImages."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmssl.labels import dynamic_multilabels
from mmssl.models.losses import RowImages, batch_multilabels


def direct_walk(memory, rows, image_keys, threshold):
    """Eq. 7-10 literally, one row at a time (float64 similarities of the same
    float32 memory): candidates s_ij >= t, walked self first, then by similarity
    descending and index ascending; accepting j rejects the rest of j's image."""
    m = memory.double().numpy()
    keys = image_keys.numpy()
    out = {}
    for i in rows.tolist():
        sims = m @ m[i]
        candidates = [j for j in range(len(m)) if j == i or sims[j] >= threshold]
        candidates.sort(key=lambda j: (j != i, -sims[j], j))
        accepted, rejected_images = [], set()
        for j in candidates:
            if keys[j] in rejected_images:
                continue
            accepted.append(j)
            rejected_images.add(keys[j])
        out[i] = sorted(accepted)
    return out


def clustered_bank(num_ids=6, per_id=5, dim=12, noise=0.35, seed=0):
    gen = torch.Generator().manual_seed(seed)
    centres = F.normalize(torch.randn(num_ids, dim, generator=gen), dim=1)
    ids = torch.arange(num_ids).repeat_interleave(per_id)
    memory = F.normalize(centres[ids] + noise * torch.randn(len(ids), dim,
                                                            generator=gen), dim=1)
    perm = torch.randperm(len(ids), generator=gen)
    memory = memory[perm]
    # images of 1-4 boxes, in row order (as datasets number their boxes)
    sizes = torch.randint(1, 5, (len(ids), ), generator=gen)
    image_keys = torch.repeat_interleave(torch.arange(len(ids)), sizes)[:len(ids)]
    return memory, image_keys


def csr_rows(indptr, indices, rows):
    return {r: indices[indptr[r]:indptr[r + 1]].tolist() for r in rows}


@pytest.mark.parametrize('threshold', [0.5, 0.7, 0.9])
def test_equals_the_direct_walk(threshold):
    memory, image_keys = clustered_bank(seed=1)
    rows = torch.tensor([0, 3, 7, 12, 21, 29])
    indptr, indices = batch_multilabels(memory, rows, image_keys, threshold)
    assert indptr.shape == (memory.shape[0] + 1, ) and indptr.dtype == torch.long
    assert csr_rows(indptr, indices, rows.tolist()) == direct_walk(
        memory, rows, image_keys, threshold)
    # the other rows are empty; every batch row is its own positive
    counts = indptr[1:] - indptr[:-1]
    others = torch.ones(memory.shape[0], dtype=torch.bool)
    others[rows] = False
    assert int(counts[others].sum()) == 0
    for r in rows.tolist():
        assert r in indices[indptr[r]:indptr[r + 1]].tolist()
    # the exclusion: no two positives of a row share an image
    for r in rows.tolist():
        positives = indices[indptr[r]:indptr[r + 1]]
        assert len(set(image_keys[positives].tolist())) == len(positives)


def test_same_positive_sets_as_the_per_epoch_labels():
    """On one M, both cadences give the same positive sets."""
    memory, image_keys = clustered_bank(num_ids=8, per_id=6, seed=2)
    rows = torch.tensor([1, 2, 10, 33, 47])
    epoch = dynamic_multilabels(memory.numpy(), image_keys.numpy(), 0.6)
    indptr, indices = batch_multilabels(memory, rows, image_keys, 0.6)
    ours = csr_rows(indptr, indices, rows.tolist())
    for r in rows.tolist():
        assert ours[r] == sorted(epoch.indices[epoch.indptr[r]:
                                               epoch.indptr[r + 1]].tolist())
    assert sum(len(v) for v in ours.values()) > len(rows)  # real positives


def test_self_is_a_positive_below_the_threshold_and_errors():
    memory = F.normalize(torch.randn(6, 4, generator=torch.Generator().manual_seed(3)),
                         dim=1)
    keys = torch.arange(6)
    indptr, indices = batch_multilabels(memory, torch.tensor([4]), keys, 2.0)
    assert indices.tolist() == [4] and indptr[5] - indptr[4] == 1
    empty_ptr, empty = batch_multilabels(memory, torch.zeros(0, dtype=torch.long),
                                         keys, 0.5)
    assert empty.numel() == 0 and int(empty_ptr.sum()) == 0
    with pytest.raises(ValueError, match='twice'):
        batch_multilabels(memory, torch.tensor([1, 1]), keys, 0.5)
    with pytest.raises(ValueError, match='image_keys'):
        batch_multilabels(memory, torch.tensor([1]), keys[:3], 0.5)
    with pytest.raises(ValueError, match='out of range'):
        batch_multilabels(memory, torch.tensor([6]), keys, 0.5)


def test_row_images_learn_the_image_blocks():
    # 4 images: rows 0-1, 2, 3-6, 7-8
    truth = torch.tensor([0, 0, 1, 2, 2, 2, 2, 3, 3])
    blocks = RowImages()
    blocks.record(torch.tensor([3, 4, 5, 6, 0, 1]), torch.tensor([0, 0, 0, 0, 1, 1]),
                  num_rows=9)
    keys = blocks.image_keys()
    # images not seen yet (rows 2, 7, 8) are images of their own
    assert keys.tolist() == [0, 0, 1, 2, 2, 2, 2, 3, 4]
    # a box dropped from a batch image (row 5) still falls inside its block
    blocks.record(torch.tensor([2, 7, 8, 3, 6]), torch.tensor([0, 1, 1, 2, 2]))
    assert torch.equal(blocks.image_keys(), truth)
    with pytest.raises(ValueError, match='interleave'):
        blocks.record(torch.tensor([0, 1, 2]), torch.tensor([0, 1, 0]))
    # checkpoints carry the blocks; loading resizes
    restored = RowImages()
    restored.load_state_dict(blocks.state_dict())
    assert torch.equal(restored.image_keys(), truth)
    # a resized memory starts over
    blocks.record(torch.tensor([0]), torch.tensor([0]), num_rows=4)
    assert blocks.image_keys().tolist() == [0, 1, 2, 3]


def test_row_image_keys_feed_the_exclusion():
    """Keys learnt from batches give the labels the true image ids give."""
    memory, image_keys = clustered_bank(seed=4)
    blocks = RowImages()
    for image in torch.unique(image_keys).tolist():
        rows = torch.nonzero(image_keys == image).flatten()
        blocks.record(rows, torch.zeros_like(rows), num_rows=len(image_keys))
    rows = torch.tensor([2, 9, 18])
    learnt = batch_multilabels(memory, rows, blocks.image_keys(), 0.6)
    given = batch_multilabels(memory, rows, image_keys, 0.6)
    assert all(torch.equal(a, b) for a, b in zip(learnt, given))
    np.testing.assert_array_equal(blocks.image_keys().numpy(),
                                  np.unique(image_keys.numpy(),
                                            return_inverse=True)[1])
