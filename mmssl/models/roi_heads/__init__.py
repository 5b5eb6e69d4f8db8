"""mmssl.models.roi_heads."""
