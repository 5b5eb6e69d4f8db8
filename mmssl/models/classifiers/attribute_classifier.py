"""The detector's backbone and res5 with attribute heads: pretraining on SynthPS crops.

What ImageNet classification is for the paper's ResNet-50, attribute classification of
SynthPS crops (:mod:`mmssl.synthps.attribute_samples`) is for the small CPU network:
a task of its own, on renders that share no identity with any training split, that
teaches the backbone what persons and their clothes look like. The classifier is built
from the very backbone and res5 configs of the detector, and
:meth:`AttributeClassifier.export_state_dict` names the weights as a torchvision
ResNet does (``conv1``, ``bn1``, ``layer1``..``layer3``, the res5 as ``layer4``), so
the detector config loads them as it loads ``torchvision://resnet50``.
"""
from typing import Dict, Optional

import torch
import torch.nn.functional as F
from mmdet.registry import MODELS
from torch import Tensor, nn


class AttributeClassifier(nn.Module):
    """Backbone -> (RoI-align) -> res5 -> global average pool -> linear heads.

    Two inputs, as the detector meets persons: whole crops (the exemplar branch's
    view: res5 on the crop's C4 map), and boxes of a scene (the main branch's view:
    the box RoI-aligned from the scene's C4 map, then res5), like the object and
    attribute pretraining of Faster R-CNN on Visual Genome (Anderson et al.,
    "Bottom-Up and Top-Down Attention", CVPR 2018).

    Args:
        backbone: backbone config (its single output is the C4 map).
        res5: config of the RoI stage run on it (``ResStageHead``).
        roi_extractor: RoI extractor config (the detector's
            ``bbox_roi_extractor``).
        attribute_classes: classes of each attribute head, in label order.
    """

    def __init__(self, backbone: dict, res5: dict, roi_extractor: dict,
                 attribute_classes: Dict[str, int]) -> None:
        super().__init__()
        self.backbone = MODELS.build(backbone)
        self.res5 = MODELS.build(res5)
        self.roi_extractor = MODELS.build(roi_extractor)
        channels = self.res5.out_channels
        self.attribute_names = list(attribute_classes)
        self.person_head = nn.Linear(channels, 2)
        self.attribute_heads = nn.ModuleDict({
            name: nn.Linear(channels, count)
            for name, count in attribute_classes.items()
        })

    def forward(self, images: Tensor,
                rois: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Logits of the person head (``'person'``) and of every attribute.

        Args:
            images: ``(n, 3, H, W)`` crops, or scenes when ``rois`` is given.
            rois: ``(r, 5)`` ``(image index, x1, y1, x2, y2)`` boxes of the
                scenes; one row of logits per RoI.
        """
        c4 = self.backbone(images)
        if rois is not None:
            # mmcv's RoIAlign reads its input as contiguous NCHW memory: a
            # channels-last map (from a channels-last input) would give garbage
            c4 = [level.contiguous() for level in c4]
            c4 = self.roi_extractor(c4[:self.roi_extractor.num_inputs], rois)
        else:
            c4 = c4[-1]
        feats = self.res5(c4).mean(dim=(2, 3))
        logits = dict(person=self.person_head(feats))
        for name in self.attribute_names:
            logits[name] = self.attribute_heads[name](feats)
        return logits

    def loss(self, images: Tensor, is_person: Tensor, attributes: Tensor,
             rois: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Cross entropy of the person head plus the mean over attribute heads
        (background boxes, label -1, are ignored by the attribute heads).

        Returns:
            ``loss`` (the sum to minimise), ``loss_person``, ``loss_attributes``.
        """
        logits = self(images, rois)
        loss_person = F.cross_entropy(logits['person'], is_person.long())
        losses = []
        if bool(is_person.any()):
            for k, name in enumerate(self.attribute_names):
                losses.append(F.cross_entropy(logits[name], attributes[:, k],
                                              ignore_index=-1))
        loss_attributes = (torch.stack(losses).mean() if losses else
                           loss_person * 0.0)
        return dict(loss=loss_person + loss_attributes, loss_person=loss_person,
                    loss_attributes=loss_attributes)

    @torch.no_grad()
    def accuracies(self, images: Tensor, is_person: Tensor, attributes: Tensor,
                   rois: Optional[Tensor] = None) -> Dict[str, float]:
        """Accuracy of the person head and of each attribute head (on persons)."""
        logits = self(images, rois)
        result = dict(person=float((logits['person'].argmax(1) ==
                                    is_person.long()).float().mean()))
        persons = is_person.bool()
        for k, name in enumerate(self.attribute_names):
            if bool(persons.any()):
                predicted = logits[name][persons].argmax(1)
                result[name] = float((predicted == attributes[persons, k]).float()
                                     .mean())
        return result

    def export_state_dict(self) -> Dict[str, Tensor]:
        """Backbone weights as named by torchvision (``conv1.weight``...), the res5
        as ``layer4.*``, the heads as ``heads.*``."""
        state = {}
        for key, value in self.backbone.state_dict().items():
            state[key] = value.clone()
        for key, value in self.res5.state_dict().items():
            state[f'layer4.{key}'] = value.clone()
        state['heads.person.weight'] = self.person_head.weight.detach().clone()
        state['heads.person.bias'] = self.person_head.bias.detach().clone()
        for name, head in self.attribute_heads.items():
            state[f'heads.{name}.weight'] = head.weight.detach().clone()
            state[f'heads.{name}.bias'] = head.bias.detach().clone()
        return state
