"""Checkpoints shipped inside the package, loadable as ``mmssl://NAME``.

``init_cfg=dict(type='Pretrained', checkpoint='mmssl://synthps_r18c16_attributes')``
loads ``mmssl/checkpoints/synthps_r18c16_attributes.pth`` the way
``torchvision://resnet50`` loads ImageNet weights: the registered MMEngine
checkpoint scheme resolves the name to the file in the installed package.
"""
import os.path as osp

from mmengine.runner import CheckpointLoader
from mmengine.runner.checkpoint import load_from_local

SCHEME = 'mmssl://'
CHECKPOINT_DIR = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                          'checkpoints')


def packaged_checkpoint_path(name: str) -> str:
    """The file of a packaged checkpoint ``name`` (without ``.pth``).

    Raises:
        FileNotFoundError: no such checkpoint ships with mmssl; the message lists
            those that do.
    """
    path = osp.join(CHECKPOINT_DIR, f'{name}.pth')
    if not osp.isfile(path):
        import glob
        shipped = sorted(osp.basename(p)[:-4]
                         for p in glob.glob(osp.join(CHECKPOINT_DIR, '*.pth')))
        raise FileNotFoundError(f'{SCHEME}{name}: mmssl ships no checkpoint of that '
                                f'name (it has: {shipped}); see docs/pretraining.md '
                                'for how to make one')
    return path


@CheckpointLoader.register_scheme(prefixes=SCHEME)
def load_from_mmssl(filename: str, map_location=None):
    """Load ``mmssl://NAME`` from ``mmssl/checkpoints/NAME.pth``."""
    return load_from_local(packaged_checkpoint_path(filename[len(SCHEME):]),
                           map_location=map_location)
