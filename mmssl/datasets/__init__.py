"""Datasets: PRW, CUHK-SYSU, SynthPS and COCO-style JSON readers; their transforms.

Importing this package registers ``PersonSearchDataset``, ``PRWDataset``,
``CUHKSYSUDataset``, ``SynthPSDataset`` and ``PersonSearchJSONDataset`` in
``mmdet.registry.DATASETS`` and the transforms in ``mmdet.registry.TRANSFORMS``.
"""
from . import transforms  # noqa: F401
from .cuhk_sysu import CUHKSYSUDataset
from .json_dataset import PersonSearchJSONDataset, records_to_coco
from .person_search_dataset import PersonSearchDataset
from .prw import PRWDataset
from .synthps_dataset import SynthPSDataset, ensure_synthps_rendered

__all__ = [
    'PersonSearchDataset', 'PRWDataset', 'CUHKSYSUDataset', 'SynthPSDataset',
    'PersonSearchJSONDataset', 'records_to_coco', 'ensure_synthps_rendered'
]
