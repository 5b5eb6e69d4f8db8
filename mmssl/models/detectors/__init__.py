"""mmssl.models.detectors."""
