"""mmssl.visualization."""
