"""``PersonSearchMetric``: MMEngine glue around :mod:`mmssl.evaluation.functional`.

``process`` turns each data sample into a small dict of numpy arrays (picklable, so
distributed evaluation gathers them to rank 0); ``compute_metrics`` assembles the
gallery and the queries and calls :func:`evaluate_search` for every protocol of
``dataset_meta['search_protocol']`` and :func:`detection_ap_recall` on the gallery.
The rules, and how the keys map to the columns of the papers' tables, are in
docs/evaluation.md.
"""
import logging
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log
from mmengine.structures import BaseDataElement

from mmdet.registry import METRICS
from .confidence_weighting import confidence_weighted_features, pad_query_features
from ..functional import (DEFAULT_TOPK, DETECTION_METHODS, DETECTION_SCORE_THR,
                          SEARCH_SCORE_THR, SearchGallery, SearchQueries, aligned_box_iou,
                          cross_scale_query_mask, detection_ap_recall, evaluate_search)

GT_COORDS = ('auto', 'original', 'resized')
FEAT_DTYPES = ('float32', 'float16')


def _numpy(value, dtype=None) -> Optional[np.ndarray]:
    """Tensor / mmdet box structure / sequence -> numpy (None stays None)."""
    if value is None:
        return None
    if hasattr(value, 'tensor'):  # mmdet BaseBoxes
        value = value.tensor
    if hasattr(value, 'detach'):  # torch.Tensor
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=dtype)


def _field(container, key: str):
    """``container[key]`` for dicts and InstanceData alike; None when absent."""
    if container is None:
        return None
    if isinstance(container, dict):
        return container.get(key)
    return getattr(container, key, None)


@METRICS.register_module()
class PersonSearchMetric(BaseMetric):
    """Person-search mAP / top-k and person detection AP / recall.

    Reported keys (under the ``search`` prefix by default, e.g. ``search/mAP``):
    ``mAP``, ``top1``, ``top5``, ``top10`` for the protocol named
    ``search_protocol['default']``, ``<name>/mAP``, ``<name>/top1``... for the other
    protocols; ``det_ap``, ``det_recall`` over all gallery boxes and
    ``det_labelled_ap``, ``det_labelled_recall`` over the labelled ones (person id
    >= 0; SeqNet's ``labeled_only``). Predictions without ``embeddings`` (a plain
    detector), or a dataset with no ``search_protocol``, give the detection figures
    only.

    The rules are those of SeqNet's ``eval_func.py`` (docs/evaluation.md): search
    drops the gallery detections scoring below ``score_thr`` (0.5); queries whose
    person is in no gallery image are skipped and counted in the log. Detection keeps
    the detections scoring at least ``det_score_thr`` (0.01) and, with
    ``det_method='seqnet'``, pairs boxes and detections by mutual best IoU and takes
    scikit-learn's AP times the recall; ``det_method='voc'`` gives MMDetection's
    figures (greedy matching by score, VOC all-point AP).

    Ground-truth coordinates: predictions are in original image pixels. Ground truth is
    read from a data sample's ``instances`` when the pipeline packs that key (original
    pixels), else from ``gt_instances.bboxes``, which are in original pixels when the
    annotations are loaded after ``Resize`` (mmdet's test pipelines) and in resized
    pixels when loaded before it. ``gt_coords='auto'`` decides from the query samples
    (their packed box is compared with the protocol's original query box, and again
    after dividing by ``scale_factor``); with no query to judge from it assumes
    ``original``. ``'resized'`` always divides by ``scale_factor``; ``'original'``
    never does. Test-time flipping of ground truth is not undone.

    Cross-scale breakdown (``cross_scale=True``): queries are split by the paper's
    scale classes (Fig. 7: box area < 3,600 px² small, > 45,300 px² large, medium
    between) into ``cross_scale`` (some gallery match of the person falls in another
    class than the query box) and ``same_scale`` (all matches in the query's class),
    reported as ``[<name>/]cross_scale/mAP``, ``.../top1``, ``.../num_queries`` and the
    same for ``same_scale``.

    Confidence-weighted similarity (``confidence_weighted=True``, SeqNet's CWS):
    a query ranks each gallery detection by its cosine times the detection's score
    (:mod:`.confidence_weighting`).

    Args:
        score_thr: gallery detections scoring below it are left out of the search.
        topk: ``k`` of the reported top-k accuracies.
        protocols: protocol names to evaluate; None evaluates all of them.
        cross_scale: also report the cross-scale / same-scale breakdown.
        det_score_thr: detections scoring below it are left out of the detection
            figures.
        det_iou_thr: IoU for the detection figures.
        det_method: ``'seqnet'`` (the figures papers print) or ``'voc'``.
        gt_coords: ``'auto'``, ``'original'`` or ``'resized'`` (see above).
        confidence_weighted: rank by SeqNet's confidence-weighted similarity
            (see above) instead of the plain cosine.
        feat_dtype: ``'float32'`` or ``'float16'`` (halves what ranks send to rank 0;
            features are L2-normalised again in float32 before matching).
        collect_device: ``'cpu'`` or ``'gpu'``, see ``BaseMetric``.
        prefix: key prefix; ``'search'`` when None.
        collect_dir: see ``BaseMetric``.
    """

    default_prefix: Optional[str] = 'search'

    def __init__(self,
                 score_thr: float = SEARCH_SCORE_THR,
                 topk: Sequence[int] = DEFAULT_TOPK,
                 protocols: Optional[Union[str, Sequence[str]]] = None,
                 cross_scale: bool = False,
                 det_score_thr: float = DETECTION_SCORE_THR,
                 det_iou_thr: float = 0.5,
                 det_method: str = 'seqnet',
                 gt_coords: str = 'auto',
                 confidence_weighted: bool = False,
                 feat_dtype: str = 'float32',
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None,
                 collect_dir: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix,
                         collect_dir=collect_dir)
        if gt_coords not in GT_COORDS:
            raise ValueError(f'PersonSearchMetric: gt_coords must be one of {GT_COORDS}, '
                             f'got {gt_coords!r}')
        if det_method not in DETECTION_METHODS:
            raise ValueError(f'PersonSearchMetric: det_method must be one of '
                             f'{DETECTION_METHODS}, got {det_method!r}')
        if feat_dtype not in FEAT_DTYPES:
            raise ValueError(f'PersonSearchMetric: feat_dtype must be one of {FEAT_DTYPES}, '
                             f'got {feat_dtype!r}')
        self.score_thr = float(score_thr)
        self.topk = tuple(int(k) for k in topk)
        self.protocols = [protocols] if isinstance(protocols, str) else protocols
        self.cross_scale = bool(cross_scale)
        self.det_score_thr = float(det_score_thr)
        self.det_iou_thr = float(det_iou_thr)
        self.det_method = det_method
        self.gt_coords = gt_coords
        self.confidence_weighted = bool(confidence_weighted)
        self.feat_dtype = np.dtype(feat_dtype)

    # ------------------------------------------------------------------ process
    def process(self, data_batch, data_samples: Sequence) -> None:
        """Keep, per sample, its predictions and ground truth as numpy arrays."""
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            self.results.append(self._sample_record(sample))

    def _sample_record(self, sample: dict) -> dict:
        img_id = sample.get('img_id', sample.get('img_path'))
        pred = sample.get('pred_instances')
        if pred is None:
            raise ValueError(f'PersonSearchMetric: data sample {img_id!r} has no '
                             'pred_instances')
        boxes = _numpy(_field(pred, 'bboxes'), np.float32).reshape(-1, 4)
        scores = _numpy(_field(pred, 'scores'), np.float32).reshape(-1)
        feats = _numpy(_field(pred, 'embeddings'))
        if feats is not None:
            dim = feats.shape[-1] if feats.ndim > 1 else (feats.size // max(len(boxes), 1))
            feats = feats.astype(self.feat_dtype).reshape(len(boxes), dim)
        record = dict(img_id=img_id, is_query=bool(sample.get('is_query', False)),
                      query_index=int(sample.get('query_index', -1)),
                      cam_id=int(sample.get('cam_id', -1)), boxes=boxes, scores=scores,
                      feats=feats,
                      scale_factor=np.asarray(sample.get('scale_factor', (1.0, 1.0)),
                                              np.float64).reshape(-1)[:2])
        if sample.get('instances') is not None:  # raw records: original pixels
            instances = sample['instances']
            ignore = np.array([bool(i.get('ignore_flag', 0)) for i in instances], bool)
            gt = np.array([i['bbox'] for i in instances], np.float32).reshape(-1, 4)
            pids = np.array([i.get('person_id', -1) for i in instances], np.int64)
            record.update(gt_boxes=gt[~ignore], gt_person_ids=pids[~ignore],
                          gt_ignored_boxes=gt[ignore], gt_original=True)
        else:
            gt = sample.get('gt_instances')
            gt_boxes = _numpy(_field(gt, 'bboxes'), np.float32)
            gt_boxes = np.zeros((0, 4), np.float32) if gt_boxes is None else gt_boxes
            pids = _numpy(_field(gt, 'person_ids'), np.int64)
            pids = np.full(len(gt_boxes), -1, np.int64) if pids is None else pids
            ignored = _numpy(_field(sample.get('ignored_instances'), 'bboxes'), np.float32)
            record.update(gt_boxes=gt_boxes.reshape(-1, 4), gt_person_ids=pids.reshape(-1),
                          gt_ignored_boxes=(np.zeros((0, 4), np.float32) if ignored is None
                                            else ignored.reshape(-1, 4)),
                          gt_original=False)
        return record

    # ---------------------------------------------------------- compute_metrics
    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Detection figures on the gallery, then search figures per protocol."""
        protocol_meta = (self.dataset_meta or {}).get('search_protocol')
        gallery_records, query_records = {}, {}
        for record in results:  # first occurrence wins (duplicates are padding)
            if record['is_query']:
                query_records.setdefault(record['query_index'], record)
            else:
                gallery_records.setdefault(record['img_id'], record)
        self._to_original_coords(list(gallery_records.values()), query_records,
                                 protocol_meta)

        if protocol_meta is not None:
            gallery_ids = list(protocol_meta['gallery_img_ids'])
            known = set(gallery_ids)
            unknown = [i for i in gallery_records if i not in known]
            if unknown:
                raise ValueError(f'PersonSearchMetric: gallery result {unknown[0]!r} is not '
                                 'in search_protocol["gallery_img_ids"]')
            missing = sum(i not in gallery_records for i in gallery_ids)
            if missing:
                print_log(f'PersonSearchMetric: {missing} of {len(gallery_ids)} gallery '
                          'images have no result; they count as images without '
                          'detections (and without ground truth where positives are '
                          'found by person id)', logger='current', level=logging.WARNING)
        else:
            gallery_ids = sorted(gallery_records, key=str)
        gallery = [gallery_records.get(i) for i in gallery_ids]

        metrics = self._detection_metrics([r for r in gallery if r is not None])
        with_feats = [r['feats'] is not None for r in gallery if r is not None]
        with_feats += [r['feats'] is not None for r in query_records.values()]
        if protocol_meta is None or not query_records or not all(with_feats):
            if protocol_meta is not None and any(with_feats) and not all(with_feats):
                raise ValueError('PersonSearchMetric: some predictions carry embeddings '
                                 'and others do not')
            return metrics
        metrics.update(self._search_metrics(gallery, query_records, protocol_meta))
        return metrics

    def _to_original_coords(self, gallery: List[dict], queries: Dict[int, dict],
                            protocol_meta: Optional[dict]) -> None:
        """Divide packed ground truth by ``scale_factor`` when it is in resized pixels."""
        packed = [r for r in gallery + list(queries.values()) if not r['gt_original']]
        if not packed:
            return
        mode = self.gt_coords
        if mode == 'auto':
            mode = self._guess_gt_coords(queries, protocol_meta)
        for record in packed:
            if mode == 'resized':
                scale = np.tile(record['scale_factor'], 2).astype(np.float32)
                record['gt_boxes'] = record['gt_boxes'] / scale
                record['gt_ignored_boxes'] = record['gt_ignored_boxes'] / scale
            record['gt_original'] = True

    @staticmethod
    def _guess_gt_coords(queries: Dict[int, dict], protocol_meta: Optional[dict]) -> str:
        """'resized' or 'original': which one the packed query boxes agree with."""
        votes = dict(original=0, resized=0)
        for index, record in queries.items():
            if (protocol_meta is None or record['gt_original'] or not len(record['gt_boxes'])
                    or not 0 <= index < len(protocol_meta['queries'])
                    or np.allclose(record['scale_factor'], 1.0)):
                continue
            truth = np.asarray(protocol_meta['queries'][index]['bbox'], np.float64)[None]
            packed = record['gt_boxes'][:1].astype(np.float64)
            scale = np.tile(record['scale_factor'], 2)[None]
            as_original = aligned_box_iou(packed, truth)[0]
            as_resized = aligned_box_iou(packed / scale, truth)[0]
            votes['original' if as_original >= as_resized else 'resized'] += 1
        return 'resized' if votes['resized'] > votes['original'] else 'original'

    def _detection_metrics(self, gallery: List[dict]) -> Dict[str, float]:
        """Detection AP and recall over all boxes and over the labelled ones.

        Ignored boxes carry no person id here: the labelled-only figures leave them out.
        """
        inputs = dict(
            det_boxes=[r['boxes'] for r in gallery],
            det_scores=[r['scores'] for r in gallery],
            gt_boxes=[np.vstack([r['gt_boxes'], r['gt_ignored_boxes']]) for r in gallery],
            gt_ignore=[np.r_[np.zeros(len(r['gt_boxes']), bool),
                             np.ones(len(r['gt_ignored_boxes']), bool)] for r in gallery],
            gt_person_ids=[np.r_[r['gt_person_ids'],
                                 np.full(len(r['gt_ignored_boxes']), -1, np.int64)]
                           for r in gallery],
            iou_thr=self.det_iou_thr, score_thr=self.det_score_thr, method=self.det_method)
        every = detection_ap_recall(**inputs)
        labelled = detection_ap_recall(labelled_only=True, **inputs)
        print_log(f'person detection (score >= {self.det_score_thr:g}, IoU '
                  f'{self.det_iou_thr:g}, {self.det_method} rule): all boxes AP '
                  f'{every["ap"]:.4f} recall {every["recall"]:.4f} ({every["num_gt"]} '
                  f'boxes); labelled only AP {labelled["ap"]:.4f} recall '
                  f'{labelled["recall"]:.4f} ({labelled["num_gt"]} boxes)',
                  logger='current')
        return dict(det_ap=every['ap'], det_recall=every['recall'],
                    det_labelled_ap=labelled['ap'],
                    det_labelled_recall=labelled['recall'])

    def _search_metrics(self, gallery: List[Optional[dict]], query_records: Dict[int, dict],
                        protocol_meta: dict) -> Dict[str, float]:
        protocol_queries = protocol_meta['queries']
        num_queries = len(protocol_queries)
        feat_dim = next(r['feats'].shape[1] for r in query_records.values())
        empty = dict(boxes=np.zeros((0, 4)), scores=np.zeros(0),
                     feats=np.zeros((0, feat_dim), np.float32), gt_boxes=np.zeros((0, 4)),
                     gt_person_ids=np.zeros(0, np.int64), cam_id=-1)
        filled = [r if r is not None else empty for r in gallery]
        gallery_ids = list(protocol_meta['gallery_img_ids'])
        cam_ids = [r['cam_id'] if r is not None else -1 for r in gallery]
        gallery_feats = [r['feats'] for r in filled]
        if self.confidence_weighted:
            gallery_feats = [confidence_weighted_features(r['feats'], r['scores'])
                             for r in filled]
        search_gallery = SearchGallery.from_per_image(
            [r['boxes'] for r in filled], [r['scores'] for r in filled],
            gallery_feats, [r['gt_boxes'] for r in filled],
            [r['gt_person_ids'] for r in filled], cam_ids)

        index_of_image = {img_id: i for i, img_id in enumerate(gallery_ids)}
        query_feats = np.zeros((num_queries, feat_dim), np.float32)
        present = []
        for index, record in query_records.items():
            if not 0 <= index < num_queries:
                raise ValueError(f'PersonSearchMetric: query result {record["img_id"]!r} has '
                                 f'query_index {index}, the protocol has {num_queries} '
                                 'queries')
            if not len(record['feats']):
                raise ValueError(f'PersonSearchMetric: query {index} ({record["img_id"]!r}) '
                                 'has no predicted instance to take its feature from')
            box = np.asarray(protocol_queries[index]['bbox'], np.float64)[None]
            best = int(np.argmax(aligned_box_iou(
                record['boxes'].astype(np.float64), np.repeat(box, len(record['boxes']), 0))))
            query_feats[index] = record['feats'][best]
            present.append(index)
        if len(present) < num_queries:
            print_log(f'PersonSearchMetric: {num_queries - len(present)} of {num_queries} '
                      'queries have no result and are not evaluated', logger='current',
                      level=logging.WARNING)
        if self.confidence_weighted:
            query_feats = pad_query_features(query_feats)
        queries = SearchQueries(
            feats=query_feats,
            img_inds=[index_of_image.get(q['img_id'], -1) for q in protocol_queries],
            cam_ids=[q.get('cam_id', -1) for q in protocol_queries],
            person_ids=[q.get('person_id', -1) for q in protocol_queries])
        query_boxes = np.array([q['bbox'] for q in protocol_queries], np.float64)

        galleries = protocol_meta['galleries']
        default = protocol_meta.get('default', next(iter(galleries)))
        names = list(galleries) if self.protocols is None else list(self.protocols)
        unknown = [n for n in names if n not in galleries]
        if unknown:
            raise ValueError(f'PersonSearchMetric: protocol {unknown[0]!r} not in the '
                             f'dataset\'s search_protocol (has {sorted(galleries)})')
        metrics, lines = {}, []
        for name in names:
            result = evaluate_search(search_gallery, queries, galleries[name],
                                     score_thr=self.score_thr, topk=self.topk,
                                     query_inds=np.array(present, np.int64), name=name)
            key = '' if name == default else f'{name}/'
            summary = result.summary()
            lines.append(f'{name:>16s}  mAP {summary["mAP"]:.4f}  ' + '  '.join(
                f'top{k} {summary[f"top{k}"]:.4f}' for k in self.topk)
                + f'  queries {summary["num_queries"]}  skipped {result.num_skipped}')
            metrics[f'{key}mAP'] = summary['mAP']
            for k in self.topk:
                metrics[f'{key}top{k}'] = summary[f'top{k}']
            if self.cross_scale:
                masks = cross_scale_query_mask(query_boxes, result.positive_boxes)
                for split, mask in zip(('cross_scale', 'same_scale'), masks):
                    part = result.summary(mask)
                    metrics[f'{key}{split}/mAP'] = part['mAP']
                    selected = result.evaluated & mask
                    metrics[f'{key}{split}/top1'] = (
                        float(np.mean(result.first_hit_rank[selected] <= 1))
                        if selected.any() else float('nan'))
                    metrics[f'{key}{split}/num_queries'] = part['num_queries']
        print_log('person search (queries whose person is in no gallery image are '
                  'skipped):\n' + '\n'.join(lines), logger='current')
        return metrics
