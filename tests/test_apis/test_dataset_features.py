"""embed_dataset_boxes: the labelled boxes of the identities with most boxes."""
from collections import Counter

import numpy as np
import pytest

from mmssl.apis import embed_boxes, embed_dataset_boxes


def test_embeds_the_boxes_of_the_most_frequent_identities(searcher, tiny_searcher):
    from mmssl.datasets import SynthPSDataset
    train = SynthPSDataset(data_root=tiny_searcher['data_root'], split='train',
                           pipeline=[])
    counts = Counter(inst['person_id'] for i in range(len(train))
                     for inst in train.get_data_info(i)['instances']
                     if inst['person_id'] >= 0)
    result = embed_dataset_boxes(searcher, train, max_ids=2, progress=False)
    expected_ids = sorted(counts, key=lambda pid: (-counts[pid], pid))[:2]
    assert sorted(set(result['person_ids'].tolist())) == sorted(expected_ids)
    n = sum(counts[pid] for pid in expected_ids)
    dim = searcher.roi_head.embedding_head.embed_dim
    assert result['features'].shape == (n, dim) and result['bboxes'].shape == (n, 4)
    # row 0 is the embedding of its box in its image
    record = train.get_data_info(int(result['image_index'][0]))
    np.testing.assert_allclose(
        embed_boxes(searcher, record['img_path'], result['bboxes'][:1])[0],
        result['features'][0], atol=1e-5)
    everything = embed_dataset_boxes(searcher, train, progress=False)
    assert len(everything['person_ids']) == sum(counts.values())


def test_test_split_skips_query_records(searcher, tiny_test_set):
    result = embed_dataset_boxes(searcher, tiny_test_set, progress=False)
    gallery_size = len(tiny_test_set.metainfo['search_protocol']['gallery_img_ids'])
    assert result['image_index'].max() < gallery_size
    assert (result['person_ids'] >= 0).all()


def test_no_labelled_box(searcher):
    class Unlabelled:
        def __len__(self):
            return 1

        def get_data_info(self, index):
            return dict(img_path='x.jpg', is_query=False,
                        instances=[dict(bbox=[0, 0, 5, 5], person_id=-2)])

    with pytest.raises(ValueError, match='no box with a known person id'):
        embed_dataset_boxes(searcher, Unlabelled(), progress=False)
