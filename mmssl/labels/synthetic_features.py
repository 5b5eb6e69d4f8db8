"""Clustered synthetic re-id embeddings, for tests and benchmarks of pseudo labelling.

Real memory banks (PRW: 18,048 boxes, CUHK-SYSU: 55,272) cannot be downloaded here, so
the label generators are exercised on features that look like a re-id memory bank:
L2-normalised float32 rows, several noisy samples per identity, identities that share
attributes (so some of them are confusable), and a cross-scale-like nuisance: every
sample has a resolution in ``[0, 1]``; low-resolution samples get more noise and drift
toward one common "low-resolution" direction, which pulls different persons together
the way small, blurry boxes do (:func:`make_clustered_bank`).

:func:`make_spcl_style_bank` draws features of the density that SpCL's setting
produces (identities of about 4 members, 20% singletons, within-identity cosine
0.7-0.9, unrelated identities in random directions): their k-reciprocal weight rows
are about 2.3x denser than the clustered bank's (115 against 50 non-zeros per row at
18,048 rows), the harder case for the sparse Jaccard distance.

In both, boxes are grouped into images that never hold two boxes of one identity, as
in a person-search frame.
"""
from dataclasses import dataclass
from typing import Optional, Tuple

import numpy as np


@dataclass
class SyntheticBank:
    """Synthetic memory bank.

    Attributes:
        features: ``(N, dim)`` float32, L2-normalised rows.
        image_ids: ``(N,)`` int64, the image each box belongs to.
        person_ids: ``(N,)`` int64 ground-truth identities (never ``< 0`` here).
    """

    features: np.ndarray
    image_ids: np.ndarray
    person_ids: np.ndarray


def make_clustered_bank(num_samples: int,
                        dim: int = 256,
                        num_identities: Optional[int] = None,
                        boxes_per_image: float = 3.2,
                        num_attributes: Optional[int] = None,
                        attribute_weight: float = 1.2,
                        noise: float = 0.5,
                        low_res_drift: float = 0.6,
                        duplicate_fraction: float = 0.0,
                        seed: int = 0,
                        chunk_size: int = 65536) -> SyntheticBank:
    """Draw a clustered synthetic memory bank.

    Each identity has a centre ``c = normalise(g + attribute_weight * a)``: ``g`` its
    own Gaussian direction, ``a`` one of ``num_attributes`` shared unit attribute
    directions. A sample with resolution ``r ~ U(0, 1)`` is
    ``normalise(c + noise * (2 - r) * e + low_res_drift * (1 - r) * u)``, with ``e``
    isotropic Gaussian noise of unit expected norm and ``u`` the common
    low-resolution direction.

    Args:
        num_samples: N, number of boxes.
        dim: feature dimension.
        num_identities: number of persons (default ``N // 4``, at least 1). Every
            identity gets at least one sample; the rest are spread uniformly.
        boxes_per_image: mean boxes per image (PRW 3.2, CUHK-SYSU 4.9).
        num_attributes: number of shared attribute directions (default: one per
            two identities, so that most identities have a look-alike).
        attribute_weight: weight of the shared attribute in an identity centre.
        noise: scale of the per-sample isotropic noise.
        low_res_drift: weight of the common low-resolution direction.
        duplicate_fraction: fraction of samples replaced by an exact copy of another
            sample of the same identity (exact ties, to test tie handling).
        seed: random seed.
        chunk_size: rows drawn at a time (bounds memory at large N).

    Returns:
        A :class:`SyntheticBank`.
    """
    if num_samples < 1:
        raise ValueError(f'num_samples must be >= 1, got {num_samples}')
    rng = np.random.default_rng(seed)
    num_identities = max(1, num_samples // 4) if num_identities is None else int(
        num_identities)
    num_identities = min(num_identities, num_samples)
    if num_attributes is None:
        num_attributes = max(1, num_identities // 2)

    attributes = rng.standard_normal((num_attributes, dim)).astype(np.float32)
    attributes /= np.linalg.norm(attributes, axis=1, keepdims=True)
    centres = rng.standard_normal((num_identities, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    centres += attribute_weight * attributes[rng.integers(0, num_attributes,
                                                          num_identities)]
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    low_res_direction = rng.standard_normal(dim).astype(np.float32)
    low_res_direction /= np.linalg.norm(low_res_direction)

    person_ids = np.concatenate([
        np.arange(num_identities),
        rng.integers(0, num_identities, num_samples - num_identities)
    ]).astype(np.int64)
    rng.shuffle(person_ids)

    features = np.empty((num_samples, dim), dtype=np.float32)
    for start in range(0, num_samples, chunk_size):
        stop = min(start + chunk_size, num_samples)
        resolution = rng.random(stop - start, dtype=np.float32)[:, None]
        block = rng.standard_normal((stop - start, dim), dtype=np.float32)
        block *= noise * (2.0 - resolution) / np.sqrt(dim)
        block += centres[person_ids[start:stop]]
        block += low_res_drift * (1.0 - resolution) * low_res_direction
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        features[start:stop] = block

    if duplicate_fraction > 0:
        order = np.argsort(person_ids, kind='stable')
        sorted_ids = person_ids[order]
        same_as_previous = np.flatnonzero(sorted_ids[1:] == sorted_ids[:-1]) + 1
        num_copies = int(round(duplicate_fraction * num_samples))
        chosen = rng.permutation(same_as_previous)[:num_copies]
        features[order[chosen]] = features[order[chosen - 1]]

    image_ids = _assign_images(person_ids, boxes_per_image, rng)
    return SyntheticBank(features=features, image_ids=image_ids,
                         person_ids=person_ids)


def make_spcl_style_bank(num_samples: int,
                         dim: int = 256,
                         members: float = 4.0,
                         singleton_fraction: float = 0.2,
                         within_cosine: Tuple[float, float] = (0.7, 0.9),
                         boxes_per_image: float = 3.2,
                         seed: int = 0,
                         chunk_size: int = 65536) -> SyntheticBank:
    """Draw features of SpCL-like density: small identities, many singletons.

    ``singleton_fraction * N`` samples are identities of their own; the rest form
    identities of at least 2 and on average ``members`` samples. Identity centres are
    independent random unit directions; identity ``p`` draws a target cosine
    ``c_p ~ U(within_cosine)`` and its samples are ``normalise(centre + s_p e)`` with
    ``s_p^2 = 1 / c_p - 1`` and ``e`` isotropic Gaussian of unit expected norm, so two
    samples of ``p`` have cosine about ``c_p``.

    Args:
        num_samples: N, number of boxes.
        dim: feature dimension.
        members: mean samples per non-singleton identity (``>= 2``).
        singleton_fraction: fraction of samples that are singletons.
        within_cosine: range of the within-identity cosine.
        boxes_per_image: mean boxes per image.
        seed: random seed.
        chunk_size: rows drawn at a time.

    Returns:
        A :class:`SyntheticBank` (``person_ids`` of singletons are their own).
    """
    if num_samples < 1:
        raise ValueError(f'num_samples must be >= 1, got {num_samples}')
    if members < 2 or not 0 <= singleton_fraction <= 1:
        raise ValueError(f'need members >= 2 and singleton_fraction in [0, 1], got '
                         f'{members} and {singleton_fraction}')
    if not 0 < within_cosine[0] <= within_cosine[1] <= 1:
        raise ValueError(f'within_cosine must be a range in (0, 1], got '
                         f'{within_cosine}')
    rng = np.random.default_rng(seed)
    num_singletons = int(round(singleton_fraction * num_samples))
    grouped = num_samples - num_singletons
    num_groups = min(grouped // 2, int(round(grouped / members)))
    if num_groups == 0:  # too few samples for a pair: all singletons
        num_singletons, grouped = num_samples, 0
    sizes = np.full(num_groups, 2, dtype=np.int64)
    sizes += np.bincount(rng.integers(0, max(num_groups, 1), grouped - 2 * num_groups),
                         minlength=num_groups)[:num_groups]
    num_identities = num_groups + num_singletons
    person_ids = np.concatenate([np.repeat(np.arange(num_groups), sizes),
                                 num_groups + np.arange(num_singletons)])
    person_ids = rng.permutation(person_ids).astype(np.int64)

    centres = rng.standard_normal((num_identities, dim), dtype=np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    cosine = rng.uniform(within_cosine[0], within_cosine[1], num_identities)
    spread = np.sqrt(1.0 / cosine - 1.0).astype(np.float32)
    features = np.empty((num_samples, dim), dtype=np.float32)
    for start in range(0, num_samples, chunk_size):
        ids = person_ids[start:start + chunk_size]
        block = rng.standard_normal((len(ids), dim), dtype=np.float32)
        block *= spread[ids, None] / np.sqrt(dim)
        block += centres[ids]
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        features[start:start + len(ids)] = block
    image_ids = _assign_images(person_ids, boxes_per_image, rng)
    return SyntheticBank(features=features, image_ids=image_ids,
                         person_ids=person_ids)


def _assign_images(person_ids: np.ndarray, boxes_per_image: float,
                   rng: np.random.Generator) -> np.ndarray:
    """Deal boxes to images so that no image holds two boxes of one identity.

    Boxes sorted by identity are dealt round-robin over the images, so the samples
    of one identity land in distinct images as long as the identity has no more
    samples than there are images; image numbers are then shuffled.
    """
    num_samples = len(person_ids)
    num_images = max(1, int(round(num_samples / boxes_per_image)))
    order = np.argsort(person_ids, kind='stable')
    image_ids = np.empty(num_samples, dtype=np.int64)
    image_ids[order] = np.arange(num_samples) % num_images
    return rng.permutation(num_images)[image_ids].astype(np.int64)
