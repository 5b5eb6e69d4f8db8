"""Re-id features of the ground-truth person boxes of a dataset (for diagnostics)."""
from collections import Counter
from typing import Dict, Optional

import numpy as np
import torch.nn as nn
from mmengine.utils import track_iter_progress

from .inference import embed_boxes


def embed_dataset_boxes(model: nn.Module,
                        dataset,
                        max_ids: Optional[int] = None,
                        progress: bool = True) -> Dict[str, np.ndarray]:
    """Embed the labelled ground-truth boxes of a person-search dataset.

    Uses the train records, or the gallery records of a test split (query records
    repeat gallery boxes and are skipped). Only boxes with a known person id
    (``>= 0``) are kept; with ``max_ids`` only the boxes of the ``max_ids``
    identities with the most boxes (ties: smaller id first).

    Args:
        model: from :func:`mmssl.apis.init_searcher`.
        dataset: a :class:`mmssl.datasets.PersonSearchDataset`.
        max_ids: the number of identities kept; None keeps all.
        progress: show a progress bar over the images.

    Returns:
        dict with ``features`` ``(n, d)``, ``person_ids`` ``(n,)``, ``bboxes``
        ``(n, 4)`` (original pixels) and ``image_index`` ``(n,)`` (record index).

    Raises:
        ValueError: no labelled box is left.
    """
    records = [dataset.get_data_info(i) for i in range(len(dataset))]
    records = [(i, r) for i, r in enumerate(records) if not r.get('is_query', False)]
    counts = Counter(inst['person_id'] for _, r in records for inst in r['instances']
                     if inst['person_id'] >= 0)
    ranked = sorted(counts, key=lambda pid: (-counts[pid], pid))
    keep_ids = set(ranked if max_ids is None else ranked[:max_ids])
    jobs = []
    for index, record in records:
        kept = [inst for inst in record['instances'] if inst['person_id'] in keep_ids]
        if kept:
            jobs.append((index, record['img_path'], kept))
    if not jobs:
        raise ValueError(f'{type(dataset).__name__}: no box with a known person id')
    features, person_ids, boxes, owners = [], [], [], []
    for index, img_path, kept in (track_iter_progress(jobs) if progress else jobs):
        img_boxes = np.array([inst['bbox'] for inst in kept], dtype=np.float32)
        features.append(embed_boxes(model, img_path, img_boxes))
        person_ids.extend(inst['person_id'] for inst in kept)
        boxes.append(img_boxes)
        owners.extend([index] * len(kept))
    return dict(features=np.concatenate(features),
                person_ids=np.asarray(person_ids, dtype=np.int64),
                bboxes=np.concatenate(boxes),
                image_index=np.asarray(owners, dtype=np.int64))
