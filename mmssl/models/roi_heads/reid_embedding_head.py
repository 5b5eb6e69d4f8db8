"""The re-id embedding head: RoI feature map -> 256-d L2-normalised embedding."""
import contextlib
from typing import Iterator, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmdet.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor

NORM_STATS = ('population', 'batch')
POOLINGS = ('avg', 'max')
#: The domain of scene RoIs: what the head embeds at test time.
SCENE_DOMAIN = 0


@MODELS.register_module()
class ReIDEmbeddingHead(BaseModule):
    """Pool (average by default, or max), project, batch-normalise, L2-normalise.

    The same head embeds the main branch's RoIs (f_i) and the exemplar branch's crops
    (f^o, f^1..f^K), so both live in one space (paper Sec. 3.2).

    The batch norm centres and scales each dimension, which removes the large
    component that all pooled ReLU features share (without it every cosine is
    close to 1). How it gets its statistics matters for SSL: the detector embeds the
    persons of a batch in small groups (the ground-truth boxes, the original-scale
    crops, each exemplar scale), and with batch statistics two persons of a
    two-person group come out near ``+-1`` in every dimension whatever they show.

    * ``norm_stats='population'`` (default): in training too, every embedding is
      normalised with the running (population) statistics, so it depends on its own
      input only; after normalising, each training call updates the running
      statistics from its batch without gradient (momentum ``norm_momentum``), as
      batch norm does. Before the first training step the statistics can be
      estimated with :meth:`calibrating` (``MemoryBankHook`` does, before it fills
      the banks).
    * ``norm_stats='batch'``: plain ``BatchNorm1d`` (batch statistics in training),
      for heads that embed large batches at once.

    **Domains.** Masked exemplar crops (black background, fixed sizes) are another
    input distribution than scene RoIs: normalised with the scenes' statistics all
    exemplars share a large common component (mean cosine 0.66 between two
    persons' f^h on SynthPS, against 0.01 for f_i), which inflates every
    similarity of M_M. With ``num_domains = K + 2`` (population statistics only),
    domain 0 holds the scenes' statistics, which test time uses, and domain
    ``1 + k`` those of exemplar column ``k`` (f^o, f^1..f^K); the projection and the
    scale of the normalisation are shared, as in domain-specific batch norm (Chang
    et al., "Domain-Specific Batch Normalization for Unsupervised Domain
    Adaptation", CVPR 2019). Domain 0's statistics follow ``self.norm.momentum``
    (``frozen_bn_statistics`` sets it to 0); the other domains' always move with
    ``norm_momentum``.

    **Initialisation.** The normalisation makes each embedding independent of the
    projection's scale, so a projection row of norm ``r`` moves with an effective
    learning rate of ``lr / r**2``: the usual ``std=0.01`` of detection heads
    (``r = 0.11`` for 128 input channels) makes that about 80 times the learning
    rate, and on SynthPS the embeddings turned over within an epoch (the banks'
    features collapsed to a dozen directions). The projection starts with rows of
    unit norm (``std = in_channels ** -0.5``) instead.

    **res4 and res5 (CGPS, SeqNet).** With ``res4_channels``, the head also takes the
    RoI-aligned C4 features (before res5): each map is pooled and projected on its
    own, res5 to ``embed_dim - embed_dim // 2`` and res4 to ``embed_dim // 2``
    dimensions, and the two are concatenated before the normalisation. CGPS
    concatenates a 128-d projection of the max-pooled res5 and one of the
    max-pooled res4 (ljpadam/CGPS ``mmdet/models/roi_heads/reid_roi_head.py`` lines
    141-146, ``bbox_heads/cgps_head.py`` lines 89-90 and 124), as SeqNet's
    norm-aware embedding does (serend1p1ty/SeqNet ``models/resnet.py`` lines 37-40,
    ``models/seqnet.py`` lines 405-450). The normalisation (and its domains) acts
    on the concatenated vector, per dimension, as SeqNet's batch norm of each part.

    Args:
        in_channels: Channels of the RoI feature map (after the res5 stage).
        embed_dim: Embedding size (256 in the paper).
        norm_stats: ``'population'`` or ``'batch'`` (see above).
        norm_bias: Learn a bias after the normalisation. Off by default, as in the
            bias-free "BNNeck" of re-id (Luo et al., "Bag of Tricks and a Strong
            Baseline for Deep Person Re-identification", CVPRW 2019): a bias is one
            direction shared by every embedding, which noisy positives of the
            pseudo labels pull all features towards.
        norm_momentum: Momentum of the running statistics.
        num_domains: Sets of population statistics (1: all inputs share the
            scenes' statistics).
        pooling: ``'avg'`` (default) or ``'max'`` (CGPS, SeqNet) over each RoI
            feature map.
        res4_channels: Channels of the RoI-aligned features before res5, to embed
            them too (see above); None embeds res5 alone.
        init_cfg: MMEngine init config; None: the unit-row normal init above
            (of each projection, res4's too).
    """

    def __init__(self,
                 in_channels: int,
                 embed_dim: int = 256,
                 norm_stats: str = 'population',
                 norm_bias: bool = False,
                 norm_momentum: float = 0.1,
                 num_domains: int = 1,
                 pooling: str = 'avg',
                 res4_channels: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if init_cfg is None:
            # unit-norm rows (see the class docstring, "Initialisation")
            init_cfg = dict(type='Normal', layer='Linear', std=in_channels**-0.5)
            if res4_channels is not None:
                init_cfg['override'] = dict(type='Normal', name='projection_res4',
                                            std=res4_channels**-0.5)
        super().__init__(init_cfg)
        if norm_stats not in NORM_STATS:
            raise ValueError(f'ReIDEmbeddingHead: norm_stats must be one of '
                             f'{NORM_STATS}, got {norm_stats!r}')
        if num_domains < 1 or (num_domains > 1 and norm_stats != 'population'):
            raise ValueError(f'ReIDEmbeddingHead: num_domains must be >= 1, and '
                             f'1 unless norm_stats is population; got '
                             f'{num_domains} with {norm_stats!r}')
        if pooling not in POOLINGS:
            raise ValueError(f'ReIDEmbeddingHead: pooling must be one of {POOLINGS}, '
                             f'got {pooling!r}')
        if res4_channels is not None and embed_dim < 2:
            raise ValueError('ReIDEmbeddingHead: embedding res4 and res5 needs '
                             f'embed_dim >= 2, got {embed_dim}')
        self.embed_dim = embed_dim
        self.norm_stats = norm_stats
        self.norm_momentum = norm_momentum
        self.num_domains = num_domains
        self.pooling = pooling
        self.res4_channels = res4_channels
        res4_dim = 0 if res4_channels is None else embed_dim // 2
        self.projection = nn.Linear(in_channels, embed_dim - res4_dim)
        if res4_channels is not None:
            self.projection_res4 = nn.Linear(res4_channels, res4_dim)
        self.norm = nn.BatchNorm1d(embed_dim, momentum=norm_momentum)
        if not norm_bias:
            nn.init.zeros_(self.norm.bias)
            self.norm.bias.requires_grad_(False)
        # statistics of the domains beyond the scenes' (which self.norm holds)
        extra = num_domains - 1
        self.register_buffer('domain_mean', torch.zeros(extra, embed_dim))
        self.register_buffer('domain_var', torch.ones(extra, embed_dim))
        self.register_buffer('domain_batches', torch.zeros(extra,
                                                           dtype=torch.long))
        self._calibrating = False

    def _pool(self, feats: Tensor) -> Tensor:
        """``(n, C, h, w)`` -> ``(n, C)`` by the configured pooling."""
        if self.pooling == 'max':
            return feats.amax(dim=(2, 3))
        return feats.mean(dim=(2, 3))

    def forward(self, feats: Tensor, domain: int = SCENE_DOMAIN,
                res4_feats: Optional[Tensor] = None) -> Tensor:
        """Embed ``(n, C, h, w)`` RoI features into ``(n, embed_dim)`` unit vectors.

        Args:
            feats: RoI feature maps (after res5).
            domain: whose population statistics normalise them (0: scenes);
                ``domain >= num_domains`` falls back to the last domain.
            res4_feats: ``(n, res4_channels, h', w')`` RoI features before res5;
                needed when the head has ``res4_channels``, ignored otherwise.
        """
        embedded = self.projection(self._pool(feats))
        if self.res4_channels is not None:
            if res4_feats is None:
                raise ValueError('ReIDEmbeddingHead: this head embeds res4 too '
                                 '(res4_channels is set): pass res4_feats')
            embedded = torch.cat(
                [embedded, self.projection_res4(self._pool(res4_feats))], dim=1)
        norm = self.norm
        if self.norm_stats == 'batch' and norm.training and embedded.shape[0] > 1:
            return F.normalize(norm(embedded), dim=1)
        domain = min(int(domain), self.num_domains - 1)
        mean, var = self._statistics(domain)
        # the statistics before this batch's update: nothing of the batch reaches
        # its own normalisation (a single sample in 'batch' mode too)
        normalised = F.batch_norm(embedded, mean.clone(), var.clone(), norm.weight,
                                  norm.bias, training=False, eps=norm.eps)
        if (norm.training or self._calibrating) and embedded.shape[0] > 1:
            self._update_statistics(embedded.detach(), domain)
        return F.normalize(normalised, dim=1)

    def _statistics(self, domain: int):
        """The running mean and variance of ``domain`` (views of the buffers)."""
        if domain == SCENE_DOMAIN:
            return self.norm.running_mean, self.norm.running_var
        return self.domain_mean[domain - 1], self.domain_var[domain - 1]

    @torch.no_grad()
    def _update_statistics(self, embedded: Tensor, domain: int) -> None:
        """Move ``domain``'s running statistics towards this batch's (as batch
        norm does); while :meth:`calibrating`, they are the cumulative average of
        the batches seen (batch norm's ``momentum=None``)."""
        if domain == SCENE_DOMAIN:
            momentum = self.norm.momentum
            counter = self.norm.num_batches_tracked
        else:
            momentum = self.norm_momentum
            counter = self.domain_batches[domain - 1]
        if momentum == 0.0 and not self._calibrating:
            return  # frozen, e.g. inside frozen_bn_statistics
        counter += 1
        factor = 1.0 / float(counter) if self._calibrating else momentum
        mean, var = self._statistics(domain)
        mean.mul_(1 - factor).add_(embedded.mean(dim=0), alpha=factor)
        var.mul_(1 - factor).add_(embedded.var(dim=0, unbiased=True),
                                  alpha=factor)

    def population_statistics(self) -> List[Tensor]:
        """The running means and variances of every domain (the buffers
        themselves), e.g. to average them over ranks after :meth:`calibrating`."""
        return [self.norm.running_mean, self.norm.running_var, self.domain_mean,
                self.domain_var]

    @contextlib.contextmanager
    def calibrating(self) -> Iterator[None]:
        """Estimate every domain's running statistics afresh from the batches
        embedded inside.

        The statistics are reset on entry and become the average of the batch
        statistics of every call made inside the context (in train or eval mode);
        the embeddings returned meanwhile use the statistics gathered so far, so
        they are for the estimate only. A domain no call reached keeps its reset
        statistics (mean 0, variance 1).
        """
        if self.norm_stats != 'population':
            raise RuntimeError("ReIDEmbeddingHead.calibrating needs "
                               "norm_stats='population'")
        self.norm.reset_running_stats()
        self.domain_mean.zero_()
        self.domain_var.fill_(1.0)
        self.domain_batches.zero_()
        self._calibrating = True
        try:
            yield
        finally:
            self._calibrating = False
