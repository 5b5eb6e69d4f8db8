"""mmssl.models.layers."""
