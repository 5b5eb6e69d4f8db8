"""Read what MMEngine runs write: pseudo-label lines of a text log, metric JSON."""
import json
import os.path as osp
from typing import Dict, List, Optional, Sequence

PSEUDO_LABEL_MARKER = 'pseudo labels {'
"""What starts the JSON of a ``PseudoLabelHook`` log line (``pseudo labels {...}``)."""


def read_pseudo_label_stats(log_path: str) -> List[dict]:
    """The statistics ``PseudoLabelHook`` logged, one dict per labelling epoch.

    Args:
        log_path: an MMEngine text log (``<work_dir>/<timestamp>/<timestamp>.log``).

    Returns:
        The dicts in log order (keys ``epoch``, ``clusters``, ...,
        ``cluster_precision``, ``cluster_recall``, ``multilabel_precision``,
        ``multilabel_recall`` when person ids were known). A later line for the
        same epoch (a resumed run) replaces the earlier one.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a pseudo-label line whose JSON does not parse (names the file
            and the line number).
    """
    if not osp.isfile(log_path):
        raise FileNotFoundError(f'{log_path}: log file not found')
    by_epoch: Dict[int, dict] = {}
    with open(log_path, encoding='utf-8', errors='replace') as handle:
        for number, line in enumerate(handle, start=1):
            start = line.find(PSEUDO_LABEL_MARKER)
            if start < 0:
                continue
            text = line[start + len(PSEUDO_LABEL_MARKER) - 1:].strip()
            try:
                stats = json.loads(text)
            except json.JSONDecodeError as err:
                raise ValueError(f'{log_path}:{number}: pseudo-label line is not '
                                 f'valid JSON ({err})') from err
            by_epoch[int(stats.get('epoch', len(by_epoch)))] = stats
    return [by_epoch[e] for e in sorted(by_epoch)]


def run_names(paths: Sequence[str],
              labels: Optional[Sequence[str]] = None) -> List[str]:
    """A name per file: ``labels`` when given, else the file names without their
    extension."""
    if labels:
        return list(labels)
    return [osp.splitext(osp.basename(p))[0] for p in paths]


def read_runs_pseudo_label_stats(
        log_paths: Sequence[str],
        labels: Optional[Sequence[str]] = None) -> Dict[str, List[dict]]:
    """:func:`read_pseudo_label_stats` of every log, by run name
    (:func:`run_names`).

    Raises:
        ValueError: a log without any pseudo-label line (names the file).
    """
    runs = {}
    for name, path in zip(run_names(log_paths, labels), log_paths):
        stats = read_pseudo_label_stats(path)
        if not stats:
            raise ValueError(f'{path}: no "pseudo labels {{...}}" line (was '
                             'PseudoLabelHook in the config?)')
        runs[name] = stats
    return runs


def read_metric_records(json_path: str) -> List[dict]:
    """The metric dicts of an MMEngine JSON log.

    Accepts both layouts MMEngine writes: the single JSON object of a test run
    (``<timestamp>/<timestamp>.json``) and the JSON-lines scalar logs
    (``vis_data/<timestamp>.json``, ``scalars.json``: one object per line).

    Returns:
        The objects in file order.

    Raises:
        FileNotFoundError: no such file.
        ValueError: a line that is not a JSON object (names file and line).
    """
    if not osp.isfile(json_path):
        raise FileNotFoundError(f'{json_path}: JSON file not found')
    with open(json_path, encoding='utf-8') as handle:
        text = handle.read()
    try:
        whole = json.loads(text)
    except json.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        return [whole]
    if isinstance(whole, list) and all(isinstance(r, dict) for r in whole):
        return whole
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f'{json_path}:{number}: not a JSON object ({err})') from err
        if not isinstance(record, dict):
            raise ValueError(f'{json_path}:{number}: not a JSON object')
        records.append(record)
    return records
