"""tools/index_gallery.py and tools/search_gallery.py on the tiny searcher: index a
folder and a video, resume, refuse, append, search by box and by crop."""
import io
import shutil
from pathlib import Path

import cv2
import pytest

import mmssl.apis.gallery_indexing as indexing
from mmssl.apis import GalleryIndex, detect_and_embed_batch
from mmssl.testing.footage import write_test_video


@pytest.fixture(scope='module')
def tools(load_tool):
    return load_tool('index_gallery.py'), load_tool('search_gallery.py')


@pytest.fixture(scope='module')
def footage(tiny_searcher, tmp_path_factory):
    root = tmp_path_factory.mktemp('tool_footage')
    frames = sorted(Path(tiny_searcher['data_root'], 'frames').glob('*.jpg'))[:6]
    (root / 'images').mkdir()
    for frame in frames[:4]:
        shutil.copy(frame, root / 'images' / frame.name)
    video = write_test_video(str(root / 'cam.avi'), frames, 5.0)
    return dict(images=str(root / 'images'), video=str(video), frames=frames)


def index_argv(tiny_searcher, *extra):
    return [tiny_searcher['config'], tiny_searcher['checkpoint'], '--score-thr', '0',
            '--no-progress', *extra]


def test_index_resume_refuse_append(tools, tiny_searcher, footage, tmp_path,
                                    monkeypatch, capsys):
    index_tool, _ = tools
    out = str(tmp_path / 'index')
    calls = dict(n=0)

    def interrupted(model, images):
        calls['n'] += 1
        if calls['n'] == 2:
            raise KeyboardInterrupt
        return detect_and_embed_batch(model, images)

    monkeypatch.setattr(indexing, 'detect_and_embed_batch', interrupted)
    with pytest.raises(KeyboardInterrupt):
        index_tool.main(index_argv(tiny_searcher, '--images', footage['images'],
                                   '--out', out, '--batch-size', '1'))
    monkeypatch.undo()
    # another input without --append: refused, naming the run to finish
    with pytest.raises(ValueError, match='holds an interrupted run of --images'):
        index_tool.main(index_argv(tiny_searcher, '--video', footage['video'],
                                   '--out', out))
    capsys.readouterr()
    summary = index_tool.main(index_argv(tiny_searcher, '--images', footage['images'],
                                         '--out', out))
    printed = capsys.readouterr().out
    assert 'resuming the interrupted run' in printed and 'torch intra-op threads' in printed
    assert summary['already_indexed'] == 1 and summary['frames'] == 3
    with pytest.raises(FileExistsError, match='pass --append'):
        index_tool.main(index_argv(tiny_searcher, '--images', footage['images'],
                                   '--out', out))
    video = index_tool.main(index_argv(tiny_searcher, '--video', footage['video'],
                                       '--every', '2', '--out', out, '--append',
                                       '--threads', '1'))
    assert video['frames'] == 3 and video['start_frame'] == 0
    index = GalleryIndex.load(out)
    assert [s['kind'] for s in index.sources()] == ['image'] * 4 + ['video']
    assert index.meta['complete'] and index.meta['checkpoint'] == str(
        Path(tiny_searcher['checkpoint']).resolve())
    # a checkpoint of other weights: a clear error, nothing added
    cfg_only = [tiny_searcher['config'], str(tmp_path / 'other.pth')]
    import torch
    state = torch.load(tiny_searcher['checkpoint'], map_location='cpu',
                       weights_only=False)
    key = 'roi_head.embedding_head.projection.weight'
    state['state_dict'][key] = state['state_dict'][key] * 2
    torch.save(state, cfg_only[1])
    with pytest.raises(ValueError, match='the checkpoint differs'):
        index_tool.main(cfg_only + ['--video', footage['video'], '--out', out,
                                    '--append', '--no-progress'])
    assert len(GalleryIndex.load(out)) == len(index)


def test_argument_errors(tools, capsys):
    index_tool, search_tool = tools
    for argv, message in ((['c', 'k', '--out', 'x'], 'one of the arguments'),
                          (['c', 'k', '--images', 'd', '--every', '2', '--out', 'x'],
                           '--every applies to --video only')):
        with pytest.raises(SystemExit):
            index_tool.parse_args(argv)
        assert message in capsys.readouterr().err
    for argv, message in ((['i'], 'give --query-image and --query-box'),
                          (['i', '--query-crop', 'c.png', '--query-image', 'q.jpg'],
                           'give --query-crop, or'),
                          (['i', '--query-crop', 'c.png', '--exclude-query-image'],
                           'needs --query-image')):
        with pytest.raises(SystemExit):
            search_tool.parse_args(argv)
        assert message in capsys.readouterr().err


def test_search_by_box_and_by_crop(tools, tiny_searcher, footage, tmp_path, capsys):
    index_tool, search_tool = tools
    out = str(tmp_path / 'index')
    index_tool.main(index_argv(tiny_searcher, '--video', footage['video'], '--out', out))
    query = str(footage['frames'][0])
    matches = search_tool.main([out, '--query-image', query, '--query-box', '20', '10',
                                '40', '70', '--topk', '3',
                                '--out', str(tmp_path / 'box.png')])
    printed = capsys.readouterr().out
    assert len(matches) == 3 and matches[0]['similarity'] >= matches[2]['similarity']
    assert all(m['kind'] == 'video' and m['time'] == pytest.approx(m['frame'] / 5.0)
               for m in matches)
    assert f'cam.avi frame {matches[0]["frame"]} ({matches[0]["time"]:.2f} s)' in printed
    picture = cv2.imread(str(tmp_path / 'box.png'))
    assert picture is not None and picture.std() > 10
    assert picture.shape[0] > 400  # frames above, enlarged persons below
    crop = tmp_path / 'person.png'
    cv2.imwrite(str(crop), cv2.imread(query)[10:70, 20:40])
    by_crop = search_tool.main([out, '--query-crop', str(crop), '--topk', '2',
                                '--out', str(tmp_path / 'crop.png'),
                                '--config', tiny_searcher['config'],
                                '--checkpoint', tiny_searcher['checkpoint']])
    assert len(by_crop) == 2 and (tmp_path / 'crop.png').is_file()
    # the recorded checkpoint is gone: the tool says to pass one
    index = GalleryIndex.load(out)
    index.store.set_meta(dict(checkpoint=str(tmp_path / 'moved.pth')))
    index.close()
    with pytest.raises(FileNotFoundError, match='pass --checkpoint'):
        search_tool.main([out, '--query-crop', str(crop)])


def test_serve_gallery_app_routes(tiny_searcher, footage, tmp_path, load_tool):
    """tools/serve_gallery.py's app, through Flask's test client (no browser)."""
    pytest.importorskip('flask', reason='the web page needs Flask (mmssl[demo])')
    serve = load_tool('serve_gallery.py')
    index_tool = load_tool('index_gallery.py')
    out = str(tmp_path / 'index')
    index_tool.main(index_argv(tiny_searcher, '--images', footage['images'], '--out',
                               out))
    client = serve.build_app(serve.parse_args([out, '--threads', '1'])).test_client()
    info = client.get('/api/info').get_json()
    assert info['detections'] > 0 and info['sources'] == 4 and info['search'] == 'exact'
    frames = client.get('/api/frames').get_json()['frames']
    assert len(frames) == 4 and frames[0]['frame'] == 0
    first = frames[0]
    picture = client.get(f'/api/frame/{first["source_id"]}/0?box=1,2,30,40')
    assert picture.mimetype == 'image/jpeg' and picture.data[:2] == b'\xff\xd8'
    found = client.post('/api/search', json=dict(
        query=dict(source_id=first['source_id'], frame=0), box=[20, 10, 40, 70], k=3))
    matches = found.get_json()['matches']
    assert len(matches) == 3 and all(m['source'] != first['source'] for m in matches)
    crop = client.get(matches[0]['crop_url'])
    assert crop.mimetype == 'image/jpeg' and client.get(matches[0]['frame_url']).data
    assert client.get('/api/frame/999/0').status_code == 404
    assert client.get('/api/crop/99999').status_code == 404
    bad = client.post('/api/search', json=dict(query=dict(upload='gone'),
                                               box=[1, 2, 3, 4]))
    assert bad.status_code == 400 and 'upload is gone' in bad.get_json()['error']
    assert client.post('/api/search', json=dict(box=[1, 2])).status_code == 400
    upload = client.post('/api/upload', data=dict(
        image=(io.BytesIO(b'not an image'), 'x.jpg')))
    assert upload.status_code == 400 and 'x.jpg: not a readable image' in \
        upload.get_json()['error']
    png = cv2.imencode('.png', cv2.imread(str(footage['frames'][0])))[1].tobytes()
    token = client.post('/api/upload', data=dict(
        image=(io.BytesIO(png), 'q.png'))).get_json()['token']
    by_upload = client.post('/api/search', json=dict(query=dict(upload=token),
                                                     box=[20, 10, 40, 70], k=2))
    assert len(by_upload.get_json()['matches']) == 2
