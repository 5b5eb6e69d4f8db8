"""Search API: build a searcher, embed a query box, detect and embed a gallery
image, rank a gallery; and the ground truth of a dataset's protocol queries.
"""
from .dataset_features import embed_dataset_boxes
from .inference import (detect_and_embed, embed_boxes, embed_query,
                        inference_pipeline)
from .protocol_query import (ProtocolQuery, dataset_protocol_query,
                             gallery_ground_truth, match_person_boxes,
                             protocol_query)
from .ranking import rank_by_similarity
from .search import search
from .searcher import init_searcher

__all__ = [
    'init_searcher', 'embed_query', 'embed_boxes', 'detect_and_embed',
    'inference_pipeline', 'embed_dataset_boxes',
    'search', 'rank_by_similarity', 'ProtocolQuery', 'protocol_query',
    'dataset_protocol_query', 'gallery_ground_truth', 'match_person_boxes'
]
