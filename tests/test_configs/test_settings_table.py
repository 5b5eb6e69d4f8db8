"""docs/configs.md's table of the paper configs covers every setting, and its mmssl
column says what the configs hold."""
import fnmatch
import os.path as osp
import re

import pytest
from mmengine.config import Config

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
SECTION = '## The paper configs, setting by setting'


def flatten(value, prefix=''):
    """Dotted keys of every leaf; lists of dicts are entered by index."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            out.update(flatten(item, f'{prefix}.{key}' if prefix else str(key)))
        return out
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        out = {}
        for index, item in enumerate(value):
            out.update(flatten(item, f'{prefix}.{index}'))
        return out
    return {prefix: value}


def table_rows():
    """``(pattern, mmssl cell)`` of every row of the section's tables."""
    with open(osp.join(REPO, 'docs', 'configs.md'), encoding='utf-8') as f:
        text = f.read()
    assert SECTION in text
    section = text.split(SECTION, 1)[1].split('\n## ', 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip('|').split('|')]
        if len(cells) != 6 or not cells[0].startswith('`'):
            continue
        rows.append((cells[0].strip('`'), cells[4]))
    return rows


def resolved(name):
    return flatten(Config.fromfile(osp.join(REPO, 'configs', name)).to_dict())


CONFIGS = {name: resolved(name) for name in ('ssl_r50-c4_26e_prw.py', 'ssl_r50-c4_26e_cuhk-sysu.py')}
ROWS = table_rows()


def test_rows_are_unique_and_many():
    patterns = [p for p, _ in ROWS]
    assert len(patterns) == len(set(patterns))
    assert len(patterns) > 150


@pytest.mark.parametrize('name', sorted(CONFIGS))
def test_every_setting_has_a_row(name):
    missing = [key for key in CONFIGS[name]
               if not any(fnmatch.fnmatchcase(key, p) for p, _ in ROWS)]
    assert not missing, f'{name}: settings without a row in docs/configs.md: {missing}'


def test_every_row_names_a_setting():
    keys = set(CONFIGS['ssl_r50-c4_26e_prw.py']) | set(CONFIGS['ssl_r50-c4_26e_cuhk-sysu.py'])
    stale = [p for p, _ in ROWS if not any(fnmatch.fnmatchcase(k, p) for k in keys)]
    assert not stale, f'rows of docs/configs.md naming no setting: {stale}'


def test_the_mmssl_column_holds_the_resolved_values():
    wrong = []
    for pattern, cell in ROWS:
        if '*' in pattern or not cell:
            continue
        shown = re.findall(r'`([^`]*)`', cell)
        for name, flat in CONFIGS.items():
            if pattern in flat and str(flat[pattern]) not in shown:
                wrong.append((name, pattern, flat[pattern], shown))
    assert not wrong, wrong
