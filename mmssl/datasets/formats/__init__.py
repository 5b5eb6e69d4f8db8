"""Readers and writers of the official dataset file formats (scipy .mat, text)."""
from .prw_format import (load_prw_annotation, load_prw_name_list,
                         load_prw_queries, save_prw_annotation,
                         save_prw_name_list, save_prw_queries)

__all__ = [
    'load_prw_annotation', 'load_prw_name_list', 'load_prw_queries',
    'save_prw_annotation', 'save_prw_name_list', 'save_prw_queries'
]
