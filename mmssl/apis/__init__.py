"""mmssl.apis."""
