"""Models: the person-search detector, its RoI head, losses and memory."""
from . import detectors, layers, losses, memory, roi_heads  # noqa: F401
