"""Classifiers used to pretrain the detector's backbone (the ImageNet stand-in)."""
from .attribute_classifier import AttributeClassifier

__all__ = ['AttributeClassifier']
