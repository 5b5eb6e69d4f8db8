"""mmssl.evaluation.functional."""
