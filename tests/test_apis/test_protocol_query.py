"""protocol_query / match_person_boxes / dataset_protocol_query."""
import numpy as np
import pytest

from mmssl.apis import (dataset_protocol_query, gallery_ground_truth,
                        match_person_boxes, protocol_query)

BOX = [10.0, 10.0, 30.0, 70.0]


def make_protocol(**spec):
    """Four gallery images: a (cam 1), b (cam 1), c (cam 2), d (cam 3)."""
    galleries = dict(
        everything=dict(gallery=None, exclude_same_camera=False, positives=None),
        other_cams=dict(gallery=None, exclude_same_camera=True, positives=None))
    if spec:
        galleries['explicit'] = spec
    return dict(
        gallery_img_ids=['a.jpg', 'b.jpg', 'c.jpg', 'd.jpg'],
        queries=[dict(img_id='a.jpg', cam_id=1, person_id=5, bbox=BOX),
                 dict(img_id='c.jpg', cam_id=2, person_id=-2, bbox=BOX)],
        galleries=galleries, default='everything')


CAMS = [1, 1, 2, 3]
PIDS = [np.array([5, 7]), np.array([5]), np.array([-2, 5]), np.array([9])]
BOXES = [np.array([BOX, [0, 0, 5, 5]]), np.array([[1, 2, 3, 4]]),
         np.array([[0, 0, 9, 9], [5, 5, 25, 65]]), np.array([[2, 2, 8, 8]])]


def test_default_gallery_drops_the_query_image_and_finds_the_person():
    query = protocol_query(make_protocol(), CAMS, PIDS, BOXES, 0)
    assert query.protocol == 'everything' and query.img_id == 'a.jpg'
    assert query.gallery_indices.tolist() == [1, 2, 3]
    assert sorted(query.positive_boxes) == [1, 2]
    np.testing.assert_array_equal(query.positive_boxes[2], [[5, 5, 25, 65]])
    np.testing.assert_array_equal(query.bbox, BOX)


def test_exclude_same_camera():
    query = protocol_query(make_protocol(), CAMS, PIDS, BOXES, 0, 'other_cams')
    assert query.gallery_indices.tolist() == [2, 3]
    assert sorted(query.positive_boxes) == [2]


def test_unlabelled_query_has_no_positive():
    query = protocol_query(make_protocol(), CAMS, PIDS, BOXES, 1)
    assert query.gallery_indices.tolist() == [0, 1, 3]
    assert query.positive_boxes == {}


def test_explicit_gallery_and_positives():
    spec = dict(gallery=[np.array([3, 1, 1]), np.array([0])],
                exclude_same_camera=False,
                positives=[{1: [1, 1, 9, 9], 2: [0, 0, 4, 4]}, {}])
    query = protocol_query(make_protocol(**spec), CAMS, PIDS, BOXES, 0, 'explicit')
    assert query.gallery_indices.tolist() == [1, 3]
    # the positive in image 2 is outside this query's gallery
    assert list(query.positive_boxes) == [1]
    np.testing.assert_array_equal(query.positive_boxes[1], [[1, 1, 9, 9]])


@pytest.mark.parametrize('index, name, lists, match', [
    (2, None, None, 'query 2 does not exist'),
    (0, 'nope', None, "no protocol 'nope'"),
    (0, None, 3, '3 gallery camera ids for 4 gallery images'),
])
def test_errors(index, name, lists, match):
    cams = CAMS[:lists] if lists else CAMS
    with pytest.raises(ValueError, match=match):
        protocol_query(make_protocol(), cams, PIDS, BOXES, index, name)


def test_match_person_boxes_uses_the_small_box_rule():
    person = np.array([[0.0, 0.0, 10.0, 20.0]])  # threshold 200 / 600 = 1/3
    boxes = np.array([[0, 0, 10, 20],      # IoU 1
                      [0, 0, 10, 6.8],     # IoU 0.34 >= 1/3
                      [0, 0, 10, 6.6],     # IoU 0.33 <  1/3
                      [50, 50, 60, 70]])   # no overlap
    assert match_person_boxes(boxes, person).tolist() == [True, True, False, False]
    big = np.array([[0.0, 0.0, 100.0, 200.0]])  # threshold 0.5
    assert match_person_boxes([[0, 0, 100, 110]], big).tolist() == [True]
    assert match_person_boxes([[0, 0, 100, 90]], big).tolist() == [False]
    # any of several boxes of the person counts
    assert match_person_boxes(boxes[3:], np.vstack([person, boxes[3:]])).all()
    assert match_person_boxes(np.zeros((0, 4)), person).shape == (0, )


def test_dataset_protocol_query_follows_the_records(tiny_test_set):
    protocol = tiny_test_set.metainfo['search_protocol']
    cams, pids, boxes = gallery_ground_truth(tiny_test_set)
    assert len(cams) == len(protocol['gallery_img_ids'])
    for q, spec in enumerate(protocol['queries']):
        query = dataset_protocol_query(tiny_test_set, q)
        own = protocol['gallery_img_ids'].index(spec['img_id'])
        assert own not in query.gallery_indices
        assert len(query.gallery_indices) == len(cams) - 1
        expected = {g for g in query.gallery_indices if (pids[g] == spec['person_id']).any()}
        assert set(query.positive_boxes) == expected
        assert expected, 'every SynthPS query person appears in another test frame'
        multi = dataset_protocol_query(tiny_test_set, q, 'multi_view')
        assert all(cams[g] != spec['cam_id'] for g in multi.gallery_indices)


def test_dataset_without_protocol_is_refused(tiny_searcher):
    from mmssl.datasets import SynthPSDataset
    train = SynthPSDataset(data_root=tiny_searcher['data_root'], split='train',
                           pipeline=[])
    with pytest.raises(ValueError, match='no search_protocol'):
        dataset_protocol_query(train, 0)
