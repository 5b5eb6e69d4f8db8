"""mmssl.datasets.transforms."""
