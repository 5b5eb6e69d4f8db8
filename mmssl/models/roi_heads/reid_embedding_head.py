"""The re-id embedding head: RoI feature map -> 256-d L2-normalised embedding."""
from typing import Optional

import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor


@MODELS.register_module()
class ReIDEmbeddingHead(BaseModule):
    """Global-average-pool, project, batch-normalise and L2-normalise.

    The same head embeds the main branch's RoIs (f_i) and the exemplar branch's crops
    (f^o, f^1..f^K), so both live in one space (paper Sec. 3.2).

    Args:
        in_channels: Channels of the RoI feature map (after the res5 stage).
        embed_dim: Embedding size (256 in the paper).
        norm_eval: Keep the batch norm in eval mode (running statistics) while
            training, so that an embedding does not depend on the other samples
            of the batch.
        init_cfg: MMEngine init config.
    """

    def __init__(self,
                 in_channels: int,
                 embed_dim: int = 256,
                 norm_eval: bool = False,
                 init_cfg: Optional[dict] = dict(
                     type='Normal', layer='Linear', std=0.01)) -> None:
        super().__init__(init_cfg)
        self.embed_dim = embed_dim
        self.norm_eval = norm_eval
        self.projection = nn.Linear(in_channels, embed_dim)
        self.norm = nn.BatchNorm1d(embed_dim)

    def forward(self, feats: Tensor) -> Tensor:
        """Embed ``(n, C, h, w)`` RoI features into ``(n, embed_dim)`` unit vectors."""
        pooled = feats.mean(dim=(2, 3))
        embedded = self.projection(pooled)
        if self.norm.training and embedded.shape[0] == 1:
            # batch statistics of one sample are undefined: use the running ones
            embedded = F.batch_norm(embedded, self.norm.running_mean,
                                    self.norm.running_var, self.norm.weight,
                                    self.norm.bias, training=False)
        else:
            embedded = self.norm(embedded)
        return F.normalize(embedded, dim=1)

    def train(self, mode: bool = True) -> 'ReIDEmbeddingHead':
        """Set train mode, keeping the batch norm in eval mode when ``norm_eval``."""
        super().train(mode)
        if mode and self.norm_eval:
            self.norm.eval()
        return self
