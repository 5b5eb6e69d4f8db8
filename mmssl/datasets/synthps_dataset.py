"""SynthPS, the embedded synthetic person-search set, read like PRW.

When ``data_root`` holds no rendered set yet (no ``frame_train.mat``, which the
renderer writes last), the dataset renders one there first. Several processes may
build the dataset at once (DDP ranks, dataloader workers, parallel test runs): an
``fcntl`` lock on a file beside the root lets one of them render while the others
wait, then all read the same files.
"""
import contextlib
import fcntl
import json
import logging
import os
import os.path as osp
from typing import Iterator, Optional

from mmengine.logging import print_log

from mmdet.registry import DATASETS

from .prw import PRWDataset

COMPLETE_MARKER = 'frame_train.mat'
"""The file whose presence marks a fully rendered root."""


def render_lock_path(data_root: str) -> str:
    """The lock file of a root: ``<parent>/.<name>.render.lock``.

    It lies beside the root, not inside it, so a renderer may create the root by
    renaming a temporary folder.
    """
    root = osp.abspath(data_root)
    return osp.join(osp.dirname(root), f'.{osp.basename(root)}.render.lock')


@contextlib.contextmanager
def exclusive_file_lock(path: str) -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on ``path`` (created if needed)."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    with open(path, 'a+') as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _recorded_parameters(data_root: str) -> dict:
    """The parameters a root's ``synthps.json`` records that this renderer
    knows ({} without a readable marker)."""
    from ..synthps.render import render_parameters  # lazy: renderer only
    from ..synthps.writer import MARKER_FILE
    try:
        with open(osp.join(data_root, MARKER_FILE)) as handle:
            recorded = json.load(handle).get('parameters', {})
    except (OSError, ValueError):
        return {}
    known = render_parameters()
    return {k: v for k, v in recorded.items() if k in known}


def stale_synthps_root(data_root: str,
                       render_cfg: Optional[dict] = None) -> Optional[str]:
    """Why a complete root does not hold what ``render_cfg`` renders, or None.

    A root is stale when its ``synthps.json`` names another renderer version, or
    another value of a parameter that ``render_cfg`` sets (parameters it leaves
    out may be anything: a root rendered with other sizes by ``mmssl-synthps``
    stays usable). A root without ``synthps.json`` was not written by the renderer
    (a PRW-format root of the user's): it is read as it is.
    """
    from ..synthps.render import render_parameters  # lazy: renderer only
    from ..synthps.writer import MARKER_FILE, RENDERER_VERSION
    marker_path = osp.join(data_root, MARKER_FILE)
    if not osp.isfile(marker_path):
        return None
    try:
        with open(marker_path) as handle:
            marker = json.load(handle)
    except (OSError, ValueError) as error:
        return f'{marker_path} cannot be read ({error})'
    cfg = {k: v for k, v in (render_cfg or {}).items() if k != 'progress'}
    wanted = {k: v for k, v in render_parameters(**cfg).items() if k in cfg}
    version = marker.get('version', 1)
    if version != RENDERER_VERSION:
        return (f'it was rendered by SynthPS renderer version {version}, this is '
                f'version {RENDERER_VERSION}')
    found = marker.get('parameters', {})
    changed = sorted(k for k in wanted if found.get(k) != wanted[k])
    if changed:
        return 'its parameters differ: ' + ', '.join(
            f'{k}={found.get(k)!r} (wanted {wanted[k]!r})' for k in changed)
    return None


def ensure_synthps_rendered(data_root: str,
                            render_cfg: Optional[dict] = None) -> bool:
    """Render SynthPS into ``data_root`` unless it is already there.

    A complete root of another renderer version or with other parameters than
    ``render_cfg`` asks for (:func:`stale_synthps_root`) is rendered again, with
    its recorded parameters updated by ``render_cfg`` and a warning that says why
    (a SynthPS root holds only what the renderer wrote). Safe to call from several
    processes at once: only one renders, the others wait on the lock and find the
    finished root.

    Args:
        data_root: the SynthPS root.
        render_cfg: keyword arguments of
            :func:`mmssl.synthps.render_synthps` (``seed`` and sizes).

    Returns:
        True when this call rendered the set, False when it was already there.
    """
    marker = osp.join(data_root, COMPLETE_MARKER)

    def up_to_date() -> bool:
        if not osp.isfile(marker):
            return False
        reason = stale_synthps_root(data_root, render_cfg)
        if reason is not None:
            print_log(f'SynthPS: {data_root} is rendered again: {reason}',
                      logger='current', level=logging.WARNING)
        return reason is None

    if up_to_date():
        return False
    with exclusive_file_lock(render_lock_path(data_root)):
        if up_to_date():  # another process rendered it while we waited
            return False
        from ..synthps import render_synthps  # lazy: only needed to render
        # a stale root is rendered again with its own parameters, but those
        # render_cfg sets (a root of mmssl-synthps keeps its sizes)
        cfg = dict(_recorded_parameters(data_root), **(render_cfg or {}))
        print_log(f'SynthPS: rendering into {data_root} ({cfg})',
                  logger='current')
        render_synthps(data_root, **cfg)
        if not osp.isfile(marker):
            raise RuntimeError(f'SynthPS: rendering into {data_root} finished '
                               f'without writing {COMPLETE_MARKER}')
        return True


@DATASETS.register_module()
class SynthPSDataset(PRWDataset):
    """SynthPS in the PRW layout, rendered on first use.

    Args:
        render_cfg: keyword arguments of ``render_synthps`` used when
            ``data_root`` lacks ``frame_train.mat`` (e.g. ``dict(seed=0)``).
        *args, **kwargs: :class:`PRWDataset` arguments; ``mask_dir`` defaults to
            ``'masks'``, where SynthPS writes its ground-truth masks, and
            ``box_reading`` to ``'clipped'`` on both splits: SynthPS figures are
            compared with no paper, so its boxes are read as they are rather than
            with SeqNet's integer reading of PRW (docs/datasets.md).
    """

    def __init__(self, *args, render_cfg: Optional[dict] = None,
                 **kwargs) -> None:
        self.render_cfg = dict(render_cfg or {})
        kwargs.setdefault('box_reading', 'clipped')
        super().__init__(*args, **kwargs)

    def load_data_list(self):
        """Render the set if needed, then read it as PRW."""
        if not self.root:
            raise ValueError('SynthPSDataset needs a data_root')
        ensure_synthps_rendered(self.root, self.render_cfg)
        return super().load_data_list()
