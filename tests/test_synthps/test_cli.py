"""The mmssl-synthps command line and ``python -m mmssl.synthps``."""
import json
import runpy
import sys

import pytest

from mmssl.synthps.cli import main

SMALL_ARGS = ['--num-train-ids', '4', '--num-test-ids', '3',
              '--num-train-frames', '6', '--num-test-frames', '5',
              '--num-cameras', '2', '--height', '96', '--width', '128',
              '--min-person-height', '12', '--max-person-height', '72',
              '--no-progress']


def test_cli_renders_and_prints_statistics(tmp_path, capsys):
    out = tmp_path / 'root'
    assert main(['--out', str(out), '--seed', '1', '--json'] + SMALL_ARGS) == 0
    printed = capsys.readouterr().out
    assert 'SynthPS rendered into' in printed
    assert 'identities.train' in printed and 'person_height.max_min_ratio' in \
        printed
    stats = json.loads(printed.strip().splitlines()[-1])
    assert stats['identities'] == dict(train=4, test=3, shared=0)
    assert stats['frames'] == dict(train=6, test=5)
    assert (out / 'frame_train.mat').is_file()

    assert main(['--out', str(out), '--stats-only']) == 0
    again = capsys.readouterr().out
    assert 'SynthPS statistics of' in again and 'frames.test' in again
    assert (out / 'frames').is_dir()


def test_python_dash_m_entry_point(tmp_path, capsys, monkeypatch):
    out = tmp_path / 'root'
    monkeypatch.setattr(sys, 'argv',
                        ['mmssl.synthps', '--out', str(out)] +
                        SMALL_ARGS)
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_module('mmssl.synthps', run_name='__main__')
    assert exit_info.value.code == 0
    assert 'frames.train' in capsys.readouterr().out
    assert (out / 'query_info.txt').is_file()


def test_cli_rejects_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(['--seed', '1'])  # --out is required
    with pytest.raises(ValueError, match='num_cameras'):
        main(['--out', str(tmp_path / 'x'), '--num-cameras', '12'])
