"""search(): a valid ranking of every gallery detection above the threshold."""
import mmcv
import numpy as np

from mmssl.apis import detect_and_embed, embed_query, search


def gallery_and_query(dataset, q=0):
    protocol = dataset.metainfo['search_protocol']
    query = protocol['queries'][q]
    paths = [dataset.get_data_info(i)['img_path']
             for i in range(len(protocol['gallery_img_ids']))]
    query_path = paths[protocol['gallery_img_ids'].index(query['img_id'])]
    return query_path, query['bbox'], paths


def key(index, box):
    return index, tuple(round(float(v), 2) for v in box)


def test_search_ranks_every_detection_above_the_threshold(searcher, tiny_test_set):
    query_path, box, paths = gallery_and_query(tiny_test_set)
    paths = paths[:4]
    detections = [detect_and_embed(searcher, path) for path in paths]
    # the tiny model's scores are all alike: a threshold that keeps about half
    thr = float(np.median(np.concatenate([d['scores'] for d in detections])))
    matches = search(searcher, query_path, box, paths, score_thr=thr)
    feat = embed_query(searcher, query_path, box)
    expected, total = {}, 0
    for index, dets in enumerate(detections):
        total += len(dets['scores'])
        for b, s, e in zip(dets['bboxes'], dets['scores'], dets['embeddings']):
            if s >= thr:
                expected[key(index, b)] = float(e @ feat)
    assert 0 < len(matches) == len(expected) < total
    assert [m['rank'] for m in matches] == list(range(1, len(matches) + 1))
    sims = [m['similarity'] for m in matches]
    assert sims == sorted(sims, reverse=True)
    assert all(m['score'] >= thr for m in matches)
    assert all(m['image'] == paths[m['gallery_index']] for m in matches)
    assert {key(m['gallery_index'], m['bbox']) for m in matches} == set(expected)
    for m in matches:
        np.testing.assert_allclose(m['similarity'],
                                   expected[key(m['gallery_index'], m['bbox'])],
                                   atol=1e-5)


def test_search_topk_and_excluding_the_query_image(searcher, tiny_test_set):
    query_path, box, paths = gallery_and_query(tiny_test_set, 2)
    paths = paths[:5]
    if query_path not in paths:
        paths = paths[:4] + [query_path]
    everything = search(searcher, query_path, box, paths, score_thr=0.0)
    assert any(m['image'] == query_path for m in everything)
    top = search(searcher, query_path, box, paths, score_thr=0.0, topk=4,
                 exclude_query_image=True)
    assert len(top) == 4
    assert all(m['image'] != query_path for m in top)
    others = [m for m in everything if m['image'] != query_path][:4]
    assert [(m['gallery_index'], m['bbox']) for m in top] == [
        (m['gallery_index'], m['bbox']) for m in others]
    # nothing passes an impossible threshold
    assert search(searcher, query_path, box, paths, score_thr=1.01) == []


def test_search_takes_arrays(searcher, tiny_test_set):
    query_path, box, paths = gallery_and_query(tiny_test_set, 1)
    images = [mmcv.imread(p) for p in paths[:3]]
    query_image = images[0]
    by_array = search(searcher, query_image, box, images, score_thr=0.0, topk=5,
                      exclude_query_image=True)
    assert all(m['gallery_index'] in (1, 2) for m in by_array)
    assert all(m['image'] is images[m['gallery_index']] for m in by_array)
    by_path = search(searcher, paths[0], box, paths[1:3], score_thr=0.0, topk=5)
    np.testing.assert_allclose([m['similarity'] for m in by_array],
                               [m['similarity'] for m in by_path], atol=1e-5)
