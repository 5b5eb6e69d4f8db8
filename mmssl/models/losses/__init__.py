"""mmssl.models.losses."""
