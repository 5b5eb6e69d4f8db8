"""mmssl.labels: pseudo labels at scale, plain functions over arrays (no mmdet import).

Neighbour search (exact, on torch; approximate, faiss IVF/HNSW), dynamic
multi-labels (Eq. 7-10), sparse k-reciprocal Jaccard distance, self-paced DBSCAN,
pairwise precision/recall, and dense reference implementations for agreement checks.
"""
from .approximate_index import (build_approximate_index, default_nlist, knn_recall,
                                range_recall)
from .dense_reference import (dense_jaccard_distance, dense_multilabels,
                              dense_self_paced_labels, dense_similarity)
from .dynamic_threshold import dynamic_threshold
from .jaccard_distance import k_reciprocal_jaccard_distance
from .knn_refinement import refine_knn, reverse_neighbours
from .multi_labels import dynamic_multilabels, exclusive_multilabels
from .canonical_similarity import check_features, pair_similarities
from .neighbour_search import (NeighbourSearch, as_search, knn_search,
                               range_search, range_search_from_knn)
from .pairwise_metrics import PairwiseScores, pairwise_precision_recall
from .pseudo_label_generator import PseudoLabels, generate_pseudo_labels
from .same_image_rule import separate_same_image
from .self_paced_dbscan import (SelfPacedClusters, canonical_labels,
                                outliers_to_singletons, self_paced_clustering)
from .sparse_dbscan import NeighbourGraph, dbscan_labels
from .synthetic_features import (SyntheticBank, make_clustered_bank,
                                 make_spcl_style_bank)

__all__ = [
    'PairwiseScores', 'PseudoLabels', 'check_features', 'SelfPacedClusters', 'SyntheticBank',
    'NeighbourGraph', 'build_approximate_index', 'canonical_labels',
    'dbscan_labels',
    'default_nlist', 'dense_jaccard_distance', 'dense_multilabels',
    'dense_self_paced_labels', 'dense_similarity', 'dynamic_multilabels',
    'dynamic_threshold', 'exclusive_multilabels', 'generate_pseudo_labels',
    'k_reciprocal_jaccard_distance', 'knn_recall', 'knn_search',
    'make_clustered_bank', 'make_spcl_style_bank', 'outliers_to_singletons', 'pair_similarities',
    'pairwise_precision_recall', 'range_recall', 'range_search',
    'range_search_from_knn', 'refine_knn', 'NeighbourSearch', 'as_search',
    'reverse_neighbours', 'self_paced_clustering',
    'separate_same_image'
]
