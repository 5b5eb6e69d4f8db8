"""Draw the search results of a sample of queries after a test run."""
import os.path as osp
from typing import Dict, List, Optional, Sequence

import mmcv
import numpy as np
from mmengine.dist import all_gather_object, get_world_size, is_main_process
from mmengine.hooks import Hook
from mmengine.runner import Runner

from mmdet.registry import HOOKS
from mmssl.apis.protocol_query import (gallery_ground_truth, match_person_boxes,
                                       protocol_query)
from mmssl.apis.ranking import rank_by_similarity
from mmssl.utils.config_entries import evaluator_metrics
from .figure_io import save_figure
from .search_panel import draw_search_panel


def _numpy(value) -> np.ndarray:
    if hasattr(value, 'tensor'):  # mmdet box structures
        value = value.tensor
    return value.detach().float().cpu().numpy()


def sample_query_indices(num_queries: int, num: int) -> List[int]:
    """``num`` query indices spread evenly over ``0..num_queries - 1``."""
    if num <= 0 or num_queries <= 0:
        return []
    if num >= num_queries:
        return list(range(num_queries))
    return sorted({int(round(v)) for v in np.linspace(0, num_queries - 1, num)})


def evaluator_score_thr(evaluator_cfg, default: float = 0.5) -> float:
    """``score_thr`` of the ``PersonSearchMetric`` in an evaluator config."""
    metrics = evaluator_metrics(evaluator_cfg, 'PersonSearchMetric')
    return float(metrics[0].get('score_thr', default)) if metrics else default


@HOOKS.register_module()
class SearchVisualizationHook(Hook):
    """Write one search picture per sampled query after the test loop.

    During the test loop it keeps, per gallery image, the detections scoring at
    least ``score_thr`` with their embeddings, and the embedding of each query
    record. After the loop (on rank 0, with the results of every rank) it picks
    ``num_queries`` queries spread over the protocol, ranks the detections of each
    query's gallery (protocol of ``docs/internals.md`` section 2) and writes
    ``<out_dir>/query_<index>.png``: the query and its top-k matches, green where
    the match is the query's person, red where not (:func:`draw_search_panel`).
    ``tools/test.py --show-dir DIR --show-num N`` adds it.

    Args:
        out_dir: folder of the pictures (created).
        num_queries: number of queries drawn.
        topk: matches per picture.
        score_thr: detection score threshold; None takes the ``score_thr`` of the
            test evaluator's ``PersonSearchMetric`` (0.5 when it sets none).
        protocol: protocol name; None takes the dataset's default.
        context: crop each image around its box with this margin (in box sizes);
            None shows whole images.
    """

    priority = 'LOW'

    def __init__(self,
                 out_dir: str,
                 num_queries: int = 10,
                 topk: int = 5,
                 score_thr: Optional[float] = None,
                 protocol: Optional[str] = None,
                 context: Optional[float] = None) -> None:
        if num_queries < 0 or topk < 1:
            raise ValueError('SearchVisualizationHook: num_queries must be >= 0 and '
                             f'topk >= 1, got {num_queries} and {topk}')
        self.out_dir = out_dir
        self.num_queries = num_queries
        self.topk = topk
        self.score_thr = score_thr
        self.protocol = protocol
        self.context = context
        self._gallery: Dict[str, dict] = {}
        self._queries: Dict[int, np.ndarray] = {}

    def before_test(self, runner: Runner) -> None:
        """Forget earlier results; take the evaluator's score threshold if unset."""
        self._gallery, self._queries = {}, {}
        if self.score_thr is None:
            self.score_thr = evaluator_score_thr(runner.cfg.get('test_evaluator'))

    def after_test_iter(self, runner: Runner, batch_idx: int,
                        data_batch=None, outputs: Optional[Sequence] = None) -> None:
        """Keep the detections above the threshold and the query embeddings."""
        for sample in outputs or []:
            pred = sample.pred_instances
            if 'embeddings' not in pred:
                continue
            if sample.metainfo.get('is_query', False):
                if len(pred.embeddings):
                    self._queries[int(sample.metainfo['query_index'])] = _numpy(
                        pred.embeddings[0])
                continue
            scores = _numpy(pred.scores).reshape(-1)
            keep = scores >= self.score_thr
            self._gallery[sample.metainfo['img_id']] = dict(
                bboxes=_numpy(pred.bboxes).reshape(-1, 4)[keep],
                scores=scores[keep],
                embeddings=_numpy(pred.embeddings)[keep])

    def after_test_epoch(self, runner: Runner, metrics=None) -> None:
        """Gather the kept results on rank 0 and draw the sampled queries."""
        gallery, queries = self._gallery, self._queries
        if get_world_size() > 1:
            parts = all_gather_object((gallery, queries))
            gallery, queries = {}, {}
            for part_gallery, part_queries in parts:
                gallery.update(part_gallery)
                queries.update(part_queries)
        if not is_main_process():
            return
        dataset = runner.test_dataloader.dataset
        search_protocol = dataset.metainfo.get('search_protocol')
        if search_protocol is None or not queries:
            runner.logger.warning('SearchVisualizationHook: no search protocol or no '
                                  'query embeddings in this test run; no pictures')
            return
        ground_truth = gallery_ground_truth(dataset)
        gallery_ids = search_protocol['gallery_img_ids']
        chosen = [q for q in sample_query_indices(len(search_protocol['queries']),
                                                  self.num_queries) if q in queries]
        for q in chosen:
            query = protocol_query(search_protocol, *ground_truth, q, self.protocol)
            self._draw(dataset, query, queries[q], gallery, gallery_ids)
        runner.logger.info(f'SearchVisualizationHook: search pictures of '
                           f'{len(chosen)} queries written to {self.out_dir}')

    def rank_query(self, query, query_feat: np.ndarray, gallery: Dict[str, dict],
                   gallery_ids: Sequence[str]) -> dict:
        """Top-k detections of a query's gallery and whether each is its person.

        Args:
            query: a :class:`mmssl.apis.ProtocolQuery`.
            query_feat: ``(d,)`` query embedding.
            gallery: image id -> kept detections (``bboxes``, ``scores``,
                ``embeddings``).
            gallery_ids: ``search_protocol['gallery_img_ids']``.

        Returns:
            dict with ``bboxes`` ``(k, 4)``, ``similarities`` ``(k,)``,
            ``gallery_indices`` ``(k,)`` and ``correct`` ``(k,)`` bool.
        """
        dim = len(query_feat)
        boxes, scores = [np.zeros((0, 4))], [np.zeros(0)]
        feats, owners = [np.zeros((0, dim))], [np.zeros(0, np.int64)]
        for index in query.gallery_indices:
            dets = gallery.get(gallery_ids[index])
            if dets is None:
                continue
            boxes.append(dets['bboxes'])
            scores.append(dets['scores'])
            feats.append(dets['embeddings'])
            owners.append(np.full(len(dets['scores']), index, np.int64))
        boxes, scores = np.concatenate(boxes), np.concatenate(scores)
        feats, owners = np.concatenate(feats), np.concatenate(owners)
        order, sims = rank_by_similarity(query_feat, feats, scores,
                                         score_thr=self.score_thr, topk=self.topk)
        correct = np.array([
            bool(match_person_boxes(boxes[i][None],
                                    query.positive_boxes[int(owners[i])])[0])
            if int(owners[i]) in query.positive_boxes else False for i in order
        ], dtype=bool)
        return dict(bboxes=boxes[order], similarities=sims,
                    gallery_indices=owners[order], correct=correct)

    def _draw(self, dataset, query, query_feat: np.ndarray, gallery: Dict[str, dict],
              gallery_ids: Sequence[str]) -> str:
        ranked = self.rank_query(query, query_feat, gallery, gallery_ids)
        if query.img_id in gallery_ids:
            query_path = dataset.get_data_info(
                gallery_ids.index(query.img_id))['img_path']
        else:
            query_path = self._query_path(dataset, query.query_index)
        owners = ranked['gallery_indices']
        images = [mmcv.imread(dataset.get_data_info(int(i))['img_path'])
                  for i in owners]
        figure = draw_search_panel(
            mmcv.imread(query_path), query.bbox, images, ranked['bboxes'],
            ranked['similarities'], correct=ranked['correct'],
            match_titles=[gallery_ids[i] for i in owners],
            title=(f'query {query.query_index}: person {query.person_id} in '
                   f'{query.img_id} ({query.protocol}; '
                   f'{len(query.positive_boxes)} gallery images hold the person)'),
            context=self.context)
        return save_figure(figure, osp.join(self.out_dir,
                                            f'query_{query.query_index:05d}.png'))

    @staticmethod
    def _query_path(dataset, query_index: int) -> str:
        """Image path of a query whose image is not a gallery image (CUHK-SYSU)."""
        for index in range(len(dataset) - 1, -1, -1):
            record = dataset.get_data_info(index)
            if not record.get('is_query', False):
                break
            if record['query_index'] == query_index:
                return record['img_path']
        raise ValueError(f'{type(dataset).__name__}: no record for query '
                         f'{query_index}')
