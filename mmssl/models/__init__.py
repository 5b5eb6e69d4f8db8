"""Models: the person-search detector, its RoI head, losses and memory."""
from . import (classifiers, detectors, layers, losses, memory,  # noqa: F401
               pretrained_checkpoints, roi_heads)
