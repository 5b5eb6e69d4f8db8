"""mmssl.labels."""
