"""Evaluate saved detections and features against a dataset root, without a model.

:func:`evaluate_arrays` takes, in the dataset's order, each gallery image's detections
(boxes, scores) and features, and one feature per query, and reports what
:class:`~mmssl.evaluation.metrics.PersonSearchMetric` reports for a test run: the same
code computes both (docs/evaluation.md section 5). The dataset is read without
opening any image where its annotations suffice. :func:`load_saved_arrays` reads the
file layouts of ``tools/analysis_tools/eval_arrays.py``, SeqNet's ``eval_cache.pth``
among them.
"""
import os.path as osp
import pickle
from typing import Dict, List, Optional, Sequence, Union

import numpy as np

from mmdet.registry import DATASETS, METRICS
from .metrics import PersonSearchMetric

ArrayList = Sequence[np.ndarray]


def _numpy(value, dtype=None) -> np.ndarray:
    if hasattr(value, 'detach'):  # a torch.Tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=dtype)


def build_eval_dataset(dataset: Union[dict, object]):
    """The test-split dataset of a config dict (or an already built dataset).

    A config is built with ``pipeline=[]`` and, unless it asks for
    ``box_reading='clipped'`` (which clips to each image), ``read_image_sizes=False``:
    no image is opened.

    Raises:
        ValueError: the dataset has no ``search_protocol`` (not a test split).
    """
    if isinstance(dataset, dict):
        import mmssl.datasets  # noqa: F401 (registers the readers)
        cfg = dict(dataset, pipeline=[], test_mode=True)
        cfg.setdefault('read_image_sizes', cfg.get('box_reading') == 'clipped')
        dataset = DATASETS.build(cfg)
    if 'search_protocol' not in dataset.metainfo:
        raise ValueError(f'{type(dataset).__name__}: no search_protocol in its '
                         "metainfo; build the test split (split='test')")
    return dataset


def _checked_per_image(values: ArrayList, num: int, what: str, ids: List[str],
                       width: Optional[int]) -> List[np.ndarray]:
    if len(values) != num:
        raise ValueError(f'evaluate_arrays: {len(values)} {what} arrays for {num} '
                         'gallery images (one per image, in the dataset order)')
    out = []
    for index, value in enumerate(values):
        array = _numpy(value, np.float32)
        if width is None:
            array = array.reshape(-1)
        elif array.size == 0:
            array = array.reshape(0, width if width > 0 else 0)
        elif array.ndim != 2 or (width > 0 and array.shape[1] != width):
            shape = f'(n, {width})' if width > 0 else '(n, d)'
            raise ValueError(f'evaluate_arrays: {what}[{index}] ({ids[index]}) has shape '
                             f'{array.shape}, expected {shape}')
        out.append(array)
    return out


def evaluate_arrays(dataset: Union[dict, object],
                    gallery_boxes: ArrayList,
                    gallery_scores: ArrayList,
                    gallery_feats: ArrayList,
                    query_feats: Union[np.ndarray, ArrayList],
                    metric: Optional[Union[dict, PersonSearchMetric]] = None,
                    **metric_kwargs) -> Dict[str, float]:
    """Search and detection figures of saved arrays on a dataset's test split.

    Args:
        dataset: a test-split dataset config (``dict(type='PRWDataset',
            data_root=..., split='test')``) or a built dataset.
        gallery_boxes: per gallery image (``search_protocol['gallery_img_ids']``
            order), ``(n_i, 4)`` detections ``[x1, y1, x2, y2]`` in original pixels.
        gallery_scores: per gallery image, ``(n_i,)`` detection scores.
        gallery_feats: per gallery image, ``(n_i, d)`` re-id features.
        query_feats: ``(Q, d)`` features of the query boxes, in
            ``search_protocol['queries']`` order.
        metric: a ``PersonSearchMetric`` config dict or instance; None builds one
            from ``metric_kwargs`` (``score_thr``, ``det_score_thr``,
            ``det_method``, ``protocols``, ...).

    Returns:
        The metric's figures with its prefix, e.g. ``{'search/mAP': ...,
        'search/det_ap': ...}``.

    Raises:
        ValueError: arrays of another count or shape than the dataset's gallery and
            queries (the message names the image).
    """
    dataset = build_eval_dataset(dataset)
    if metric is None:
        metric = PersonSearchMetric(**metric_kwargs)
    elif isinstance(metric, dict):
        metric = METRICS.build(dict(metric, **metric_kwargs))
    protocol = dataset.metainfo['search_protocol']
    ids = list(protocol['gallery_img_ids'])
    num_gallery, num_queries = len(ids), len(protocol['queries'])
    boxes = _checked_per_image(gallery_boxes, num_gallery, 'gallery_boxes', ids, 4)
    scores = _checked_per_image(gallery_scores, num_gallery, 'gallery_scores', ids, None)
    feats = _checked_per_image(gallery_feats, num_gallery, 'gallery_feats', ids, 0)
    for index, (b, s, f) in enumerate(zip(boxes, scores, feats)):
        if not len(b) == len(s) == len(f):
            raise ValueError(f'evaluate_arrays: gallery image {index} ({ids[index]}) has '
                             f'{len(b)} boxes, {len(s)} scores and {len(f)} features')
    query_feats = np.stack([_numpy(f, np.float32).reshape(-1) for f in query_feats]) \
        if len(query_feats) else np.zeros((0, 0), np.float32)
    if len(query_feats) != num_queries:
        raise ValueError(f'evaluate_arrays: {len(query_feats)} query features for '
                         f'{num_queries} queries (in search_protocol order)')

    metric.dataset_meta = dataset.metainfo
    samples = []
    for index in range(len(dataset)):
        record = dataset.get_data_info(index)
        sample = dict(img_id=record['img_id'], is_query=record['is_query'],
                      query_index=record['query_index'], cam_id=record['cam_id'],
                      instances=record['instances'])
        if record['is_query']:
            q = record['query_index']
            pred = dict(bboxes=np.asarray([protocol['queries'][q]['bbox']], np.float32),
                        scores=np.ones(1, np.float32), embeddings=query_feats[q:q + 1])
        else:
            if record['img_id'] != ids[index]:
                raise ValueError(f'{type(dataset).__name__}: record {index} is '
                                 f'{record["img_id"]}, the protocol lists {ids[index]}')
            pred = dict(bboxes=boxes[index], scores=scores[index],
                        embeddings=feats[index])
        sample['pred_instances'] = pred
        samples.append(sample)
    metric.process(None, samples)
    figures = metric.compute_metrics(metric.results)
    metric.results.clear()
    prefix = metric.prefix or metric.default_prefix
    return {f'{prefix}/{k}' if prefix else k: v for k, v in figures.items()}


def load_saved_arrays(path: str) -> Dict[str, list]:
    """Read saved gallery detections, gallery features and query features.

    Layouts (docs/evaluation.md section 5):

    * ``.pkl`` / ``.pth`` (pickle, or ``torch.save``): a dict with ``gallery_dets``
      (per image ``(n_i, 5)`` ``[x1, y1, x2, y2, score]``; or ``gallery_boxes`` and
      ``gallery_scores``), ``gallery_feats`` (per image ``(n_i, d)``) and
      ``query_feats`` (``(Q, d)``, or per query ``(d,)`` / ``(1, d)``;
      ``query_box_feats`` is accepted, the name in SeqNet's ``eval_cache.pth``).
    * ``.npz``: flat arrays ``det_boxes`` ``(D, 4)``, ``det_scores`` ``(D,)``,
      ``det_feats`` ``(D, d)``, ``det_img_inds`` ``(D,)`` (gallery index of each
      detection), ``num_images`` (optional) and ``query_feats`` ``(Q, d)``.

    A pickle can run code when read: only read files you trust.

    Returns:
        ``dict(gallery_boxes=, gallery_scores=, gallery_feats=, query_feats=)``; the
        flat layout gives per-image lists over ``num_images`` (else the largest
        index + 1) images.

    Raises:
        ValueError: an unknown suffix or missing keys (the message names the file).
    """
    suffix = osp.splitext(path)[1].lower()
    if suffix == '.npz':
        with np.load(path) as data:
            arrays = {k: data[k] for k in data.files}
        return _from_flat(arrays, path)
    if suffix in ('.pkl', '.pickle'):
        with open(path, 'rb') as f:
            arrays = pickle.load(f)
    elif suffix in ('.pth', '.pt'):
        import torch
        arrays = torch.load(path, map_location='cpu', weights_only=False)
    else:
        raise ValueError(f'{path}: unknown file type {suffix!r}; expected .pkl, .pth '
                         'or .npz')
    if not isinstance(arrays, dict):
        raise ValueError(f'{path}: holds a {type(arrays).__name__}, expected a dict')
    return _from_per_image(arrays, path)


def _require(arrays: dict, keys: Sequence[str], path: str) -> None:
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise ValueError(f'{path}: lacks {missing} (keys present: {sorted(arrays)})')


def _from_per_image(arrays: dict, path: str) -> Dict[str, list]:
    if 'query_feats' not in arrays and 'query_box_feats' in arrays:
        arrays = dict(arrays, query_feats=arrays['query_box_feats'])
    _require(arrays, ('gallery_feats', 'query_feats'), path)
    if 'gallery_dets' in arrays:
        dets = [_numpy(d, np.float32).reshape(-1, 5) for d in arrays['gallery_dets']]
        boxes, scores = [d[:, :4] for d in dets], [d[:, 4] for d in dets]
    else:
        _require(arrays, ('gallery_boxes', 'gallery_scores'), path)
        boxes, scores = list(arrays['gallery_boxes']), list(arrays['gallery_scores'])
    return dict(gallery_boxes=boxes, gallery_scores=scores,
                gallery_feats=list(arrays['gallery_feats']),
                query_feats=list(arrays['query_feats']))


def _from_flat(arrays: dict, path: str) -> Dict[str, list]:
    _require(arrays, ('det_boxes', 'det_scores', 'det_feats', 'det_img_inds',
                      'query_feats'), path)
    img = np.asarray(arrays['det_img_inds'], np.int64).reshape(-1)
    num_images = int(arrays['num_images']) if 'num_images' in arrays else (
        int(img.max()) + 1 if len(img) else 0)
    if len(img) and (img.min() < 0 or img.max() >= num_images):
        raise ValueError(f'{path}: det_img_inds outside [0, {num_images})')
    order = np.argsort(img, kind='stable')
    bounds = np.searchsorted(img[order], np.arange(num_images + 1))
    rows = [order[bounds[g]:bounds[g + 1]] for g in range(num_images)]
    boxes = np.asarray(arrays['det_boxes'], np.float32).reshape(-1, 4)
    scores = np.asarray(arrays['det_scores'], np.float32).reshape(-1)
    feats = np.asarray(arrays['det_feats'], np.float32)
    feats = feats.reshape(len(img), -1) if len(img) else feats.reshape(0, 0)
    if not len(boxes) == len(scores) == len(feats) == len(img):
        raise ValueError(f'{path}: {len(boxes)} det_boxes, {len(scores)} det_scores, '
                         f'{len(feats)} det_feats and {len(img)} det_img_inds')
    return dict(gallery_boxes=[boxes[r] for r in rows],
                gallery_scores=[scores[r] for r in rows],
                gallery_feats=[feats[r] for r in rows],
                query_feats=list(np.asarray(arrays['query_feats'], np.float32)))
