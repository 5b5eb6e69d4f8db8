"""Search API: build a searcher, embed a query box, detect and embed a gallery
image, rank a gallery; a persistent gallery index of your own footage
(:class:`GalleryIndex`); and the ground truth of a dataset's protocol queries.
"""
from .dataset_features import embed_dataset_boxes
from .gallery_index import GalleryIndex, GalleryMatch
from .gallery_vectors import VectorIndexSettings
from .inference import (detect_and_embed, detect_and_embed_batch, embed_boxes,
                        embed_query, inference_pipeline)
from .protocol_query import (ProtocolQuery, dataset_protocol_query,
                             gallery_ground_truth, match_person_boxes,
                             protocol_query)
from .ranking import rank_by_similarity
from .search import search
from .searcher import init_searcher

__all__ = [
    'init_searcher', 'embed_query', 'embed_boxes', 'detect_and_embed',
    'detect_and_embed_batch',
    'inference_pipeline', 'embed_dataset_boxes',
    'search', 'rank_by_similarity', 'ProtocolQuery', 'protocol_query',
    'dataset_protocol_query', 'gallery_ground_truth', 'match_person_boxes',
    'GalleryIndex', 'GalleryMatch', 'VectorIndexSettings'
]
