"""mmssl.engine.hooks."""
