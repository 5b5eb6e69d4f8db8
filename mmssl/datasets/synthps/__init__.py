"""mmssl.datasets.synthps."""
