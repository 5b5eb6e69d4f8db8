"""A configurable ResNet stage used as the RoI feature head of the C4 layout."""
from typing import Optional

from mmdet.models.backbones.resnet import BasicBlock, Bottleneck
from mmdet.models.layers import ResLayer
from mmdet.registry import MODELS
from torch.nn.modules.batchnorm import _BatchNorm

_BLOCKS = {'basic': BasicBlock, 'bottleneck': Bottleneck}


@MODELS.register_module()
class ResStageHead(ResLayer):
    """The res5 stage of a C4 Faster R-CNN, run on RoI features.

    mmdet's ``ResLayer`` shared head fixes the channels of a standard ResNet; this one
    takes them as arguments, so a small backbone (``ResNet(base_channels=16)``) gets a
    matching small res5 on this CPU, while ``in_channels=1024, planes=512,
    block='bottleneck', num_blocks=3`` is ResNet-50's res5. Its parameters are named
    like a torchvision ResNet stage (``0.conv1.weight``...), so
    ``init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50',
    prefix='layer4.')`` loads ImageNet res5 weights.

    Args:
        in_channels: Channels of the RoI features (the backbone's C4 output).
        planes: Planes of the blocks; the output has ``planes * expansion`` channels.
        num_blocks: Number of residual blocks.
        block: ``'basic'`` or ``'bottleneck'``.
        stride: Stride of the first block.
        norm_cfg: Normalisation layer config.
        norm_eval: Keep the normalisation layers in eval mode while training.
        init_cfg: MMEngine init config.
    """

    def __init__(self,
                 in_channels: int,
                 planes: int,
                 num_blocks: int = 2,
                 block: str = 'basic',
                 stride: int = 2,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 norm_eval: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        if block not in _BLOCKS:
            raise ValueError(f'block must be one of {sorted(_BLOCKS)}, got {block!r}')
        block_cls = _BLOCKS[block]
        super().__init__(
            block_cls,
            inplanes=in_channels,
            planes=planes,
            num_blocks=num_blocks,
            stride=stride,
            norm_cfg=norm_cfg)
        self.init_cfg = init_cfg
        self.norm_eval = norm_eval
        self.out_channels = planes * block_cls.expansion

    def train(self, mode: bool = True) -> 'ResStageHead':
        """Set train mode, keeping BN layers frozen when ``norm_eval``."""
        super().train(mode)
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self
