"""Detectors: the SSL person-search detector."""
from .person_search_detector import PersonSearchDetector

__all__ = ['PersonSearchDetector']
