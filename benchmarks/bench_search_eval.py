"""Benchmark: person-search evaluation time and memory at CUHK-SYSU size.

Synthetic arrays shaped like the CUHK-SYSU test set: 6,978 gallery images with 10
detections each (69,780 detections, 256-d features), about 2.4 ground-truth persons per
image, 2,900 queries whose person appears in 1-3 other images. Protocols: explicit
galleries of 100 and 4,000 images (positives first, as in TestG*.mat) and the full
gallery (every image but the query's own). Each protocol is timed with
``time.perf_counter`` (best of ``--repeat`` runs) and then run once under
``tracemalloc`` for the peak of the memory numpy allocates during the evaluation.
The person-detection figures (``detection_ap_recall``, SeqNet's rule and VOC's) of the
same gallery are timed the same way.

Run with no arguments; prints a table and ends with one JSON line of the figures.
"""
import argparse
import json
import pathlib
import resource
import sys
import time
import tracemalloc

import numpy as np

try:
    import mmssl  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from mmssl.evaluation.functional import (SearchGallery, SearchQueries,  # noqa: E402
                                         detection_ap_recall, evaluate_search)

NUM_IMAGES = 6978
DETS_PER_IMAGE = 10
NUM_QUERIES = 2900
FEAT_DIM = 256
GALLERY_SIZES = (100, 4000)


def random_boxes(rng: np.random.Generator, num: int) -> np.ndarray:
    """Person-shaped boxes in an 800 x 600 frame (heights 30-400 px)."""
    height = rng.uniform(30, 400, num)
    width = height * rng.uniform(0.3, 0.5, num)
    x1 = rng.uniform(0, 800 - width)
    y1 = rng.uniform(0, np.maximum(600 - height, 1))
    return np.stack([x1, y1, x1 + width, y1 + height], 1)


def make_world(seed: int = 0):
    """Gallery, queries and CUHK-style protocols on synthetic arrays."""
    rng = np.random.default_rng(seed)
    # Ground truth: query person q appears in 2-4 images (one holds the query box);
    # other boxes belong to distractors (ids >= NUM_QUERIES).
    appearances = rng.integers(2, 5, NUM_QUERIES)
    gt_img = np.concatenate([rng.choice(NUM_IMAGES, n, replace=False) for n in appearances])
    gt_pid = np.repeat(np.arange(NUM_QUERIES), appearances)
    num_distractors = int(NUM_IMAGES * 2.4) - len(gt_img)
    gt_img = np.concatenate([gt_img, rng.integers(0, NUM_IMAGES, num_distractors)])
    gt_pid = np.concatenate([gt_pid, NUM_QUERIES + np.arange(num_distractors)])
    gt_box = random_boxes(rng, len(gt_img))
    identity = rng.normal(size=(NUM_QUERIES + num_distractors, FEAT_DIM)).astype(np.float32)

    # Detections: a jittered box on most persons (clipped to 10 per image), clutter
    # to fill every image to 10.
    found = rng.uniform(size=len(gt_img)) < 0.9
    det_img, det_box, det_feat = gt_img[found], gt_box[found], identity[gt_pid[found]]
    size = (det_box[:, 2:] - det_box[:, :2])
    det_box = det_box + rng.normal(0, 0.05, det_box.shape) * np.hstack([size, size])
    det_feat = det_feat + rng.normal(0, 1.6, det_feat.shape).astype(np.float32)
    order = np.argsort(det_img, kind='stable')
    det_img, det_box, det_feat = det_img[order], det_box[order], det_feat[order]
    rank_in_image = np.arange(len(det_img)) - np.searchsorted(det_img, det_img)
    keep = rank_in_image < DETS_PER_IMAGE
    det_img, det_box, det_feat = det_img[keep], det_box[keep], det_feat[keep]
    fill = DETS_PER_IMAGE - np.bincount(det_img, minlength=NUM_IMAGES)
    clutter_img = np.repeat(np.arange(NUM_IMAGES), fill)
    det_img = np.concatenate([det_img, clutter_img])
    det_box = np.concatenate([det_box, random_boxes(rng, len(clutter_img))])
    det_feat = np.concatenate([det_feat, rng.normal(
        size=(len(clutter_img), FEAT_DIM)).astype(np.float32)])
    det_score = rng.uniform(0.3, 1.0, len(det_img))
    gallery = SearchGallery(cam_ids=np.full(NUM_IMAGES, -1), det_boxes=det_box,
                            det_scores=det_score, det_feats=det_feat, det_img_inds=det_img,
                            gt_boxes=gt_box, gt_person_ids=gt_pid, gt_img_inds=gt_img)

    # Queries: the first appearance of each query person.
    first = np.searchsorted(gt_pid[:appearances.sum()], np.arange(NUM_QUERIES))
    query_feat = identity[:NUM_QUERIES] + rng.normal(0, 1.6, (NUM_QUERIES, FEAT_DIM))
    queries = SearchQueries(feats=query_feat.astype(np.float32), img_inds=gt_img[first],
                            cam_ids=np.full(NUM_QUERIES, -1),
                            person_ids=np.arange(NUM_QUERIES))

    # Protocols: positives (the other appearances) then random other images.
    positives, galleries = [], {n: [] for n in GALLERY_SIZES}
    starts = np.concatenate([[0], np.cumsum(appearances)])
    for q in range(NUM_QUERIES):
        rows = np.arange(starts[q] + 1, starts[q + 1])
        positives.append({int(gt_img[r]): gt_box[r] for r in rows})
        pos_imgs = gt_img[rows]
        taken = set(pos_imgs.tolist()) | {int(gt_img[starts[q]])}
        pool = rng.choice(NUM_IMAGES, max(GALLERY_SIZES) + len(taken), replace=False)
        pool = pool[~np.isin(pool, list(taken))]
        for n in GALLERY_SIZES:
            galleries[n].append(np.concatenate([pos_imgs, pool[:n - len(pos_imgs)]]))
    protocols = {f'gallery_{n}': dict(gallery=galleries[n], exclude_same_camera=False,
                                      positives=positives) for n in GALLERY_SIZES}
    protocols['full'] = dict(gallery=None, exclude_same_camera=False, positives=positives)
    return gallery, queries, protocols


def time_detection(gallery: SearchGallery, repeat: int) -> dict:
    """Time ``detection_ap_recall`` on the gallery, both rules; print a table."""
    split = np.cumsum(np.bincount(gallery.det_img_inds, minlength=gallery.num_images))[:-1]
    gt_split = np.cumsum(np.bincount(gallery.gt_img_inds, minlength=gallery.num_images))[:-1]
    by_det = np.argsort(gallery.det_img_inds, kind='stable')
    by_gt = np.argsort(gallery.gt_img_inds, kind='stable')
    inputs = dict(det_boxes=np.split(gallery.det_boxes[by_det], split),
                  det_scores=np.split(gallery.det_scores[by_det], split),
                  gt_boxes=np.split(gallery.gt_boxes[by_gt], gt_split))
    header = f'{"detection rule":<14}{"seconds":>9}{"peak MiB":>10}{"AP":>8}{"recall":>8}'
    print(header)
    print('-' * len(header))
    figures = {}
    for method in ('seqnet', 'voc'):
        best = float('inf')
        for _ in range(repeat):
            start = time.perf_counter()
            out = detection_ap_recall(method=method, **inputs)
            best = min(best, time.perf_counter() - start)
        tracemalloc.start()
        detection_ap_recall(method=method, **inputs)
        peak_mib = tracemalloc.get_traced_memory()[1] / 2 ** 20
        tracemalloc.stop()
        print(f'{method:<14}{best:>9.2f}{peak_mib:>10.1f}{out["ap"]:>8.3f}'
              f'{out["recall"]:>8.3f}')
        figures[method] = dict(seconds=round(best, 3), peak_mib=round(peak_mib, 1),
                               ap=round(out['ap'], 4), recall=round(out['recall'], 4))
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeat', type=int, default=1, help='timed runs per protocol')
    args = parser.parse_args()

    start = time.perf_counter()
    gallery, queries, protocols = make_world()
    setup_s = time.perf_counter() - start
    print(f'synthetic CUHK-SYSU-sized set: {gallery.num_images} gallery images, '
          f'{len(gallery.det_boxes)} detections x {gallery.det_feats.shape[1]}-d, '
          f'{len(queries)} queries (built in {setup_s:.1f} s)\n')
    figures = {}
    header = f'{"protocol":<14}{"seconds":>9}{"ms/query":>10}{"peak MiB":>10}' \
             f'{"mAP":>8}{"top1":>8}{"queries":>9}'
    print(header)
    print('-' * len(header))
    for name, protocol in protocols.items():
        best = float('inf')
        for _ in range(max(args.repeat, 1)):
            start = time.perf_counter()
            result = evaluate_search(gallery, queries, protocol, name=name)
            best = min(best, time.perf_counter() - start)
        tracemalloc.start()
        evaluate_search(gallery, queries, protocol, name=name)
        peak_mib = tracemalloc.get_traced_memory()[1] / 2 ** 20
        tracemalloc.stop()
        summary = result.summary()
        print(f'{name:<14}{best:>9.2f}{1000 * best / len(queries):>10.2f}{peak_mib:>10.1f}'
              f'{summary["mAP"]:>8.3f}{summary["top1"]:>8.3f}{summary["num_queries"]:>9d}')
        figures[name] = dict(seconds=round(best, 3), peak_mib=round(peak_mib, 1),
                             mAP=round(summary['mAP'], 4), top1=round(summary['top1'], 4))
    print()
    detection = time_detection(gallery, max(args.repeat, 1))
    max_rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f'\nprocess max RSS {max_rss_mib:.0f} MiB (includes the synthetic set)')
    print(json.dumps(dict(benchmark='search_eval', num_queries=len(queries),
                          num_gallery_images=gallery.num_images,
                          num_detections=len(gallery.det_boxes),
                          feat_dim=int(gallery.det_feats.shape[1]),
                          max_rss_mib=round(max_rss_mib), protocols=figures,
                          detection=detection)))


if __name__ == '__main__':
    main()
