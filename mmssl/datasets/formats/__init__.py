"""Readers and writers of the official dataset file formats (scipy .mat, text), the
two ways of reading their boxes, the listed-once rule, and image sizes from file
headers."""
from .cuhk_format import (CUHK_GALLERY_SIZES, CUHKImageAnnotation,
                          CUHKPersonBox, CUHKTestQuery, CUHKTrainIdentity,
                          cuhk_test_protocol_key, cuhk_test_protocol_path,
                          load_cuhk_images, load_cuhk_pool,
                          load_cuhk_test_protocol, load_cuhk_train_identities,
                          parse_cuhk_person_id, save_cuhk_images,
                          save_cuhk_pool, save_cuhk_test_protocol,
                          save_cuhk_train_identities)
from .prw_format import (load_prw_annotation, load_prw_name_list,
                         load_prw_queries, save_prw_annotation,
                         save_prw_name_list, save_prw_queries)
from .box_readings import (BOX_READINGS, area_inside_image, clip_xywh_boxes,
                           cuhk_seqnet_boxes, prw_seqnet_boxes,
                           prw_seqnet_query_boxes, resolve_box_reading)
from .entries import note_first_entry
from .image_header import UNKNOWN_SIZE, read_image_size

__all__ = [
    'load_prw_annotation', 'load_prw_name_list', 'load_prw_queries',
    'save_prw_annotation', 'save_prw_name_list', 'save_prw_queries',
    'CUHK_GALLERY_SIZES', 'CUHKImageAnnotation', 'CUHKPersonBox',
    'CUHKTestQuery', 'CUHKTrainIdentity', 'cuhk_test_protocol_key',
    'cuhk_test_protocol_path', 'load_cuhk_images', 'load_cuhk_pool',
    'load_cuhk_test_protocol', 'load_cuhk_train_identities',
    'parse_cuhk_person_id', 'save_cuhk_images', 'save_cuhk_pool',
    'save_cuhk_test_protocol', 'save_cuhk_train_identities',
    'BOX_READINGS', 'area_inside_image', 'clip_xywh_boxes', 'cuhk_seqnet_boxes',
    'prw_seqnet_boxes', 'prw_seqnet_query_boxes', 'resolve_box_reading',
    'note_first_entry', 'UNKNOWN_SIZE', 'read_image_size'
]
