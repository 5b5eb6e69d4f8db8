"""tools/analysis_tools: t-SNE (Fig. 7), pseudo-label quality (Fig. 4), gallery size
(Fig. 6), each writing a PNG."""
import json
from pathlib import Path

import cv2
import pytest


def assert_png(path, min_bytes=10000):
    data = Path(path).read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > min_bytes
    image = cv2.imread(str(path))
    assert image is not None and min(image.shape[:2]) > 200 and image.std() > 10
    return image


def test_tsne_features(tiny_searcher, tmp_path, capsys, load_tool):
    tool = load_tool('analysis_tools/tsne_features.py')
    out = tool.main([tiny_searcher['config'], tiny_searcher['checkpoint'],
                     '--out', str(tmp_path / 'tsne.png'), '--max-ids', '3',
                     '--perplexity', '5', '--threads', '1'])
    assert out == str(tmp_path / 'tsne.png')
    assert_png(out)
    printed = capsys.readouterr().out
    assert 'of 3 identities' in printed
    assert 'torch intra-op threads: 1' in printed  # the thread policy (--threads)
    # the test split (gallery records) with a data_root override
    tool.main([tiny_searcher['config'], tiny_searcher['checkpoint'], '--split', 'test',
               '--data-root', tiny_searcher['data_root'],
               '--out', str(tmp_path / 'tsne_test.png')])
    assert_png(tmp_path / 'tsne_test.png')


def hook_line(stats):
    """A line as PseudoLabelHook logs it (``'pseudo labels ' + json.dumps(stats)``)."""
    return ('2026/11/29 15:28:05 - mmengine - INFO - pseudo labels '
            + json.dumps(stats) + '\n')


def test_plot_pseudo_label_quality(tmp_path, capsys, load_tool):
    tool = load_tool('analysis_tools/plot_pseudo_label_quality.py')
    logs = []
    for run, shift in (('ssl', 0.0), ('ablation', -0.2)):
        lines = ['2026/11/29 15:20:00 - mmengine - INFO - Epoch(train) [1][50/200]\n']
        for epoch in range(1, 6):
            lines.append(hook_line(dict(
                epoch=epoch, samples=1828, clusters=40 + epoch, threshold=0.7,
                cluster_precision=0.5 + shift + 0.05 * epoch,
                cluster_recall=0.3 + 0.05 * epoch,
                multilabel_precision=0.7 + shift + 0.04 * epoch,
                multilabel_recall=0.4 + 0.05 * epoch)))
        path = tmp_path / f'{run}.log'
        path.write_text(''.join(lines))
        logs.append(str(path))
    out = tool.main(logs + ['--labels', 'SSL', 'no DML', '--out',
                            str(tmp_path / 'fig4.png')])
    assert_png(out)
    printed = capsys.readouterr().out
    assert 'SSL: 5 labelling epochs' in printed and 'cluster P 0.750' in printed
    empty = tmp_path / 'empty.log'
    empty.write_text('no labels here\n')
    with pytest.raises(ValueError, match='no "pseudo labels'):
        tool.main([str(empty), '--out', str(tmp_path / 'x.png')])
    with pytest.raises(SystemExit):
        tool.parse_args(logs + ['--labels', 'one'])


def test_plot_gallery_size(tmp_path, capsys, load_tool):
    tool = load_tool('analysis_tools/plot_gallery_size.py')
    sizes = (50, 100, 500, 1000, 2000, 4000)
    # a test run: one JSON object, the default protocol gallery_100 un-suffixed
    test_run = {f'search/gallery_{n}/mAP': 0.9 - 0.05 * i
                for i, n in enumerate(sizes) if n != 100}
    test_run.update({'search/mAP': 0.86, 'search/top1': 0.88, 'time': 1.0})
    (tmp_path / 'test.json').write_text(json.dumps(test_run, indent=4))
    # validation scalars: JSON lines, the last evaluation counts
    lines = [{'loss': 1.0, 'step': 1},
             {'search/mAP': 0.5, 'search/gallery_50/mAP': 0.6, 'step': 1},
             {'loss': 0.5, 'step': 2},
             {'search/mAP': 0.7, 'search/gallery_50/mAP': 0.75,
              'search/gallery_500/mAP': 0.6, 'step': 2}]
    (tmp_path / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in lines))
    out = tool.main([str(tmp_path / 'test.json'), str(tmp_path / 'scalars.json'),
                     '--labels', 'SSL', 'baseline', '--dashed', 'SSL',
                     '--out', str(tmp_path / 'fig6.png')])
    assert_png(out)
    printed = capsys.readouterr().out
    assert 'SSL: 50: 0.9000  100: 0.8600  500: 0.8000' in printed
    assert 'baseline: 50: 0.7500  100: 0.7000  500: 0.6000' in printed
    (tmp_path / 'coco.json').write_text(json.dumps({'coco/bbox_mAP': 0.3}))
    with pytest.raises(ValueError, match='no search/gallery_<N>/mAP'):
        tool.main([str(tmp_path / 'coco.json'), '--out', str(tmp_path / 'x.png')])


def test_ablation_run_states(tmp_path, load_tool):
    """The Tab. 1 driver retrains nothing finished and resumes an interrupted run."""
    tool = load_tool('analysis_tools/synthps_ablation.py')
    config = tmp_path / 'cfg.py'
    config.write_text('train_cfg = dict(max_epochs=6)\n')
    run_dir = tmp_path / 'run'
    run_dir.mkdir()
    assert tool.training_state(str(run_dir), str(config)) == 'new'
    (run_dir / 'last_checkpoint').write_text(str(run_dir / 'epoch_3.pth'))
    assert tool.training_state(str(run_dir), str(config)) == 'interrupted'
    (run_dir / 'last_checkpoint').write_text(str(run_dir / 'epoch_6.pth'))
    assert tool.training_state(str(run_dir), str(config)) == 'finished'


def test_sweep_label_thresholds(tiny_searcher, capsys, load_tool):
    """The threshold sweep fills the banks on a labelled split and labels them per
    t_s and per eps: a higher Eq. 9 threshold never gives more positives."""
    from mmengine.config import Config
    tool = load_tool('analysis_tools/sweep_label_thresholds.py')
    cfg = Config.fromfile(tiny_searcher['config'])
    seed = cfg.train_dataloader.dataset.get('render_cfg', {}).get('seed', 0)
    out = tool.main([tiny_searcher['config'], '--checkpoint',
                     tiny_searcher['checkpoint'], '--data-root',
                     tiny_searcher['data_root'], '--render-seed', str(seed),
                     '--t-s', '0.2', '0.6', '0.95', '--eps', '0.3', '0.7',
                     '--threads', '1'])
    import torch
    state = torch.load(tiny_searcher['checkpoint'], map_location='cpu',
                       weights_only=False)['state_dict']
    assert out['boxes'] == state['memory.instance_feats'].shape[0]  # every box
    positives = [row['positives_per_box'] for row in out['multilabels']]
    assert positives == sorted(positives, reverse=True) and positives[-1] >= 1.0
    alpha = tool.label_settings(cfg)['label_cfg'].get('alpha', 0.1)
    assert [row['threshold'] for row in out['multilabels']] == pytest.approx(
        [t + alpha for t in (0.2, 0.6, 0.95)])  # Eq. 9 at epoch 0
    assert [row['eps'] for row in out['clusters']] == [0.3, 0.7]
    assert all(0 < row['largest_share'] <= 1 for row in out['clusters'])
    assert 0 <= out['nn_precision'] <= 1
    printed = capsys.readouterr().out
    assert 'pos/box' in printed and printed.strip().splitlines()[-1].startswith('{')
