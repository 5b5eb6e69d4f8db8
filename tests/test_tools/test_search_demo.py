"""tools/search_demo.py on the tiny searcher: free images, --gt-json, a protocol query."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest


@pytest.fixture(scope='module')
def demo(load_tool):
    return load_tool('search_demo.py')


def assert_png(path, min_bytes=20000):
    data = Path(path).read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > min_bytes
    image = cv2.imread(str(path))
    assert image is not None and image.std() > 10
    return image


def demo_match(match, positives):
    """IoU rule, written out: min(0.5, wh / ((w + 10)(h + 10)))."""
    x1, y1, x2, y2 = match['bbox']
    for px1, py1, px2, py2 in positives[match['image']]:
        iw = max(0.0, min(x2, px2) - max(x1, px1))
        ih = max(0.0, min(y2, py2) - max(y1, py1))
        inter = iw * ih
        union = (x2 - x1) * (y2 - y1) + (px2 - px1) * (py2 - py1) - inter
        w, h = px2 - px1, py2 - py1
        if inter / union >= min(0.5, w * h / ((w + 10) * (h + 10))):
            return True
    return False


def test_protocol_query(demo, tiny_searcher, tmp_path):
    from mmssl.apis import dataset_protocol_query
    from mmssl.datasets import SynthPSDataset
    out = tmp_path / 'q2.png'
    matches = demo.main([tiny_searcher['config'], tiny_searcher['checkpoint'],
                         '--dataset-root', tiny_searcher['data_root'],
                         '--query-index', '2', '--topk', '4', '--score-thr', '0',
                         '--out', str(out)])
    assert len(matches) == 4
    sims = [m['similarity'] for m in matches]
    assert sims == sorted(sims, reverse=True)
    test_set = SynthPSDataset(data_root=tiny_searcher['data_root'], split='test',
                              test_mode=True, pipeline=[])
    query = dataset_protocol_query(test_set, 2)
    query_path = test_set.get_data_info(
        test_set.metainfo['search_protocol']['gallery_img_ids'].index(query.img_id)
    )['img_path']
    assert all(m['image'] != query_path for m in matches)  # the protocol's gallery
    assert all(isinstance(m['correct'], bool) for m in matches)
    positives = {test_set.get_data_info(int(g))['img_path']: boxes
                 for g, boxes in query.positive_boxes.items()}
    for m in matches:  # green exactly where the match finds the person
        iou_ok = m['image'] in positives and bool(demo_match(m, positives))
        assert m['correct'] == iou_ok
    image = assert_png(out)
    # the query and 4 matches side by side
    assert image.shape[1] > 4 * image.shape[0]


def test_free_images_with_gt_json(demo, tiny_searcher, tmp_path):
    frames = sorted((Path(tiny_searcher['data_root']) / 'frames').glob('*.jpg'))[:4]
    gallery = [str(p) for p in frames[1:]]
    first = demo.main([tiny_searcher['config'], tiny_searcher['checkpoint'],
                       '--query-image', str(frames[0]), '--query-box', '20', '10', '40',
                       '70', '--gallery', *gallery, '--topk', '3', '--score-thr', '0',
                       '--out', str(tmp_path / 'free.png')])
    assert len(first) == 3 and 'correct' not in first[0]
    assert_png(tmp_path / 'free.png')
    # declare the first match's box the person: it is then drawn green, others red
    truth = {Path(first[0]['image']).name: [first[0]['bbox']]}
    (tmp_path / 'gt.json').write_text(json.dumps(truth))
    folder = tmp_path / 'gallery'  # the query image and the 3 gallery images
    folder.mkdir()
    for frame in frames:
        (folder / frame.name).symlink_to(frame)
    again = demo.main([tiny_searcher['config'], tiny_searcher['checkpoint'],
                       '--query-image', str(folder / frames[0].name), '--query-box',
                       '20', '10', '40', '70', '--gallery-dir', str(folder), '--topk', '3',
                       '--score-thr', '0', '--exclude-query-image',
                       '--gt-json', str(tmp_path / 'gt.json'),
                       '--out', str(tmp_path / 'gt.png')])
    assert {Path(m['image']).name for m in again} <= {p.name for p in frames[1:]}
    for m in again:
        expected = (Path(m['image']).name in truth and np.allclose(
            m['bbox'], truth[Path(m['image']).name][0]))
        assert m['correct'] == expected
    assert any(m['correct'] for m in again)
    assert_png(tmp_path / 'gt.png')


@pytest.mark.parametrize('argv, message', [
    (['--dataset-root', 'x'], '--dataset-root needs --query-index'),
    (['--query-image', 'a.jpg'], 'give --query-image and --query-box'),
    (['--query-image', 'a.jpg', '--query-box', '1', '2', '3', '4'],
     'give --gallery or --gallery-dir'),
    (['--dataset-root', 'x', '--query-index', '0', '--gallery', 'a.jpg'],
     'takes the query and the gallery from the dataset'),
])
def test_argument_errors(demo, argv, message, capsys):
    with pytest.raises(SystemExit):
        demo.parse_args(['cfg.py', 'ckpt.pth'] + argv)
    assert message in capsys.readouterr().err


def test_input_errors(demo, tmp_path):
    with pytest.raises(FileNotFoundError, match='no frame_test.mat'):
        demo.dataset_query(str(tmp_path), 0, None)
    with pytest.raises(ValueError, match='no image files'):
        demo.list_gallery_dir(str(tmp_path))
    (tmp_path / 'gt.json').write_text('{"a.jpg": [[1, 2, 3]]}')
    with pytest.raises(ValueError, match="boxes of 'a.jpg'"):
        demo.read_gt_json(str(tmp_path / 'gt.json'), [str(tmp_path / 'a.jpg')])
