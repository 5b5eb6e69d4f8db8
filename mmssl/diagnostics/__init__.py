"""Learning diagnostics: does training learn identities? (plain numpy, faiss and
OpenCV; no mmdet import). They read person ids that training never sees, and
feed nothing back into training."""
from .colour_histogram import crop_histograms, hsv_histogram
from .neighbour_precision import neighbour_identity_precision

__all__ = ['crop_histograms', 'hsv_histogram', 'neighbour_identity_precision']
