"""Search a query person in a gallery of images."""
import os.path as osp
from typing import List, Optional, Sequence

import numpy as np
import torch.nn as nn
from mmengine.utils import track_iter_progress

from .inference import ImageLike, detect_and_embed, embed_query
from .ranking import rank_by_similarity


def _same_image(a: ImageLike, b: ImageLike) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return osp.realpath(a) == osp.realpath(b)
    return a is b


def search(model: nn.Module,
           query_image: ImageLike,
           query_box: Sequence[float],
           gallery_images: Sequence[ImageLike],
           score_thr: float = 0.5,
           topk: Optional[int] = None,
           exclude_query_image: bool = False,
           progress: bool = False,
           confidence_weighted: bool = False) -> List[dict]:
    """Rank every person detected in the gallery by similarity to the query.

    The query feature is the embedding of the given box (:func:`embed_query`);
    each gallery image is detected and embedded (:func:`detect_and_embed`); all
    detections scoring at least ``score_thr`` are ranked by the dot product of the
    L2-normalised features (:func:`rank_by_similarity`).

    Args:
        model: from :func:`mmssl.apis.init_searcher`.
        query_image: path or BGR array of the query's image.
        query_box: ``[x1, y1, x2, y2]`` of the query person (original pixels).
        gallery_images: paths or BGR arrays.
        score_thr: detection score threshold (0.5 in the evaluation protocol).
        topk: keep the ``topk`` best matches; None keeps all.
        exclude_query_image: leave the query's own image out of the gallery (same
            real path, or the same array object).
        progress: show a progress bar over the gallery.
        confidence_weighted: rank by SeqNet's confidence-weighted similarity (the
            cosine times the detection score), as the paper configs evaluate.

    Returns:
        Matches, most similar first: dicts with ``rank`` (1-based),
        ``gallery_index`` (position in ``gallery_images``), ``image`` (that entry),
        ``bbox`` (``[x1, y1, x2, y2]``), ``score`` (detection score) and
        ``similarity``.
    """
    query_feat = embed_query(model, query_image, query_box)
    indices = [i for i, image in enumerate(gallery_images)
               if not (exclude_query_image and _same_image(image, query_image))]
    boxes, scores, feats, owners = [], [], [], []
    steps = track_iter_progress(indices) if progress and indices else indices
    for index in steps:
        dets = detect_and_embed(model, gallery_images[index])
        boxes.append(dets['bboxes'])
        scores.append(dets['scores'])
        feats.append(dets['embeddings'])
        owners.append(np.full(len(dets['scores']), index, dtype=np.int64))
    if not boxes:
        return []
    boxes, scores = np.concatenate(boxes), np.concatenate(scores)
    feats, owners = np.concatenate(feats), np.concatenate(owners)
    order, similarities = rank_by_similarity(query_feat, feats, scores,
                                             score_thr=score_thr, topk=topk,
                                             confidence_weighted=confidence_weighted)
    return [
        dict(rank=rank, gallery_index=int(owners[i]),
             image=gallery_images[owners[i]],
             bbox=[float(v) for v in boxes[i]], score=float(scores[i]),
             similarity=float(sim))
        for rank, (i, sim) in enumerate(zip(order, similarities), start=1)
    ]
