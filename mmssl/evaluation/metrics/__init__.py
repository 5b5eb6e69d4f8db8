"""mmssl.evaluation.metrics: MMEngine metrics registered in ``mmdet.registry.METRICS``."""
from .person_search_metric import PersonSearchMetric

__all__ = ['PersonSearchMetric']
