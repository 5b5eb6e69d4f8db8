"""mmssl.evaluation.metrics."""
