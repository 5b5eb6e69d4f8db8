"""Shared tiny dataset roots for the dataset tests (written once per session).

Tests that modify a root write their own copy under ``tmp_path``.
"""
from typing import Dict, List, Set, Tuple

import pytest
import scipy.io

from mmssl.testing import write_tiny_cuhk_root, write_tiny_prw_root


@pytest.fixture(scope='session')
def prw_root(tmp_path_factory) -> str:
    """A tiny PRW root with masks (read-only for the tests)."""
    return write_tiny_prw_root(str(tmp_path_factory.mktemp('prw')))['root']


@pytest.fixture(scope='session')
def cuhk_root(tmp_path_factory) -> str:
    """A tiny CUHK-SYSU root with TestG50/TestG100 and masks (read-only)."""
    return write_tiny_cuhk_root(str(tmp_path_factory.mktemp('cuhk')))['root']


@pytest.fixture
def captured_logs(monkeypatch):
    """Messages sent to ``print_log`` by the dataset modules."""
    from mmssl.datasets import cuhk_sysu, person_search_dataset
    messages = []

    def fake_print_log(msg, *args, **kwargs):
        messages.append(str(msg))

    for module in (person_search_dataset, cuhk_sysu):
        monkeypatch.setattr(module, 'print_log', fake_print_log)
    return messages


def _expand_protocol(dataset, name: str) -> List[Tuple[Set[str], Set[str]]]:
    """Per query: (gallery image ids, gallery image ids holding a positive).

    A literal reading of docs/internals.md section 2, for assertions only.
    """
    protocol = dataset.metainfo['search_protocol']
    spec = protocol['galleries'][name]
    ids = protocol['gallery_img_ids']
    records = [dataset.get_data_info(i) for i in range(len(ids))]
    cams: Dict[str, int] = {r['img_id']: r['cam_id'] for r in records}
    result = []
    for q, query in enumerate(protocol['queries']):
        if spec['gallery'] is None:
            gallery = {i for i in ids if i != query['img_id']}
        else:
            gallery = {ids[k] for k in spec['gallery'][q]}
        if spec['exclude_same_camera']:
            gallery = {i for i in gallery if cams[i] != query['cam_id']}
        if spec['positives'] is None:
            positives = {
                r['img_id'] for r in records if r['img_id'] in gallery and any(
                    inst['person_id'] == query['person_id']
                    for inst in r['instances'])
            }
        else:
            positives = {ids[k] for k in spec['positives'][q]}
        result.append((gallery, positives))
    return result


@pytest.fixture
def expand_protocol():
    """``expand_protocol(dataset, name)``: per-query gallery and positive ids."""
    return _expand_protocol


def _saved_mat_raises(path: str, arrays: dict, call, match: str) -> None:
    """Write ``arrays`` as the .mat file ``path``; ``call()`` must then raise a
    ``ValueError`` whose message matches ``match``."""
    scipy.io.savemat(path, arrays)
    with pytest.raises(ValueError, match=match):
        call()


@pytest.fixture
def saved_mat_raises():
    """``saved_mat_raises(path, arrays, call, match)``: a malformed .mat file makes
    ``call()`` raise a ``ValueError`` matching ``match``."""
    return _saved_mat_raises
