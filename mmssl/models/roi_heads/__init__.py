"""RoI heads: the two-stage person-search box head and the re-id embedding head."""
from .person_search_roi_head import PersonSearchRoIHead
from .reid_embedding_head import ReIDEmbeddingHead

__all__ = ['PersonSearchRoIHead', 'ReIDEmbeddingHead']
