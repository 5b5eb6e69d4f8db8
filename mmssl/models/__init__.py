"""Models: the person-search detector, its RoI head, losses, memory banks and
pseudo labels."""
from . import (classifiers, detectors, layers, losses, memory,  # noqa: F401
               pretrained_checkpoints, pseudo_labels, roi_heads)
