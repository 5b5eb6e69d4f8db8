"""A persistent gallery of person detections: index footage once, search it often.

:class:`GalleryIndex` detects and embeds every person of a folder of images or of a
video once (:func:`mmssl.apis.detect_and_embed_batch`), keeps the embeddings in a
faiss index and one table row per detection (:mod:`.gallery_store`), and answers a
query (a box in an image, a person crop, or a feature) in milliseconds
(:mod:`.gallery_vectors`). See ``docs/gallery.md``.
"""
import os.path as osp
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch.nn as nn

from mmssl.evaluation.functional import l2_normalise
from mmssl.version import __version__
from .gallery_model import (check_same_model, embed_person_crop, index_searcher,
                            model_fingerprint)
from .gallery_store import GalleryStore
from .gallery_vectors import (VectorIndexSettings, add_vectors, apply_search_settings,
                              empty_index, index_kind, search_vectors)
from .inference import ImageLike, embed_query

Query = Union[np.ndarray, Tuple[ImageLike, Optional[Sequence[float]]]]


@dataclass
class GalleryMatch:
    """One ranked detection: where it is and how similar it is to the query.

    ``frame`` is 0 for an image, the frame index for a video; ``time`` is seconds
    from the video's start (None for images and videos of unknown fps).
    """
    rank: int
    row: int
    source: str
    kind: str
    frame: int
    time: Optional[float]
    bbox: List[float]
    score: float
    similarity: float

    def as_dict(self) -> dict:
        """The match as a plain dict."""
        return asdict(self)


class GalleryIndex:
    """Detections of a gallery with their embeddings, searchable by similarity.

    Make one with :meth:`create` or :meth:`build`, open one with :meth:`load`.

    Args:
        store: the table and files (:class:`~.gallery_store.GalleryStore`).
        vectors: the faiss index holding every committed row.
        model: the searcher that embeds new footage and image queries (optional
            for searches by feature).
    """

    def __init__(self, store: GalleryStore, vectors, model: Optional[nn.Module] = None):
        self.store = store
        self.settings = VectorIndexSettings(**store.meta('vector_index'))
        self.vectors = apply_search_settings(vectors, self.settings)
        self.model = model
        self._unsaved = False  # vectors or settings differ from the files

    # ------------------------------------------------------------ construction
    @classmethod
    def create(cls, directory: Optional[str] = None,
               model: Optional[nn.Module] = None, *,
               embed_dim: Optional[int] = None,
               checkpoint: Optional[str] = None,
               score_thr: float = 0.5,
               settings: Optional[VectorIndexSettings] = None) -> 'GalleryIndex':
        """An empty index.

        Args:
            directory: its folder (None: in memory until :meth:`save`).
            model: the searcher (from :func:`mmssl.apis.init_searcher`); its
                fingerprint, config and embedding size go into the metadata.
            embed_dim: the embedding size of an index without a model (features
                computed elsewhere).
            checkpoint: the checkpoint file of ``model``, recorded so that the
                tools can rebuild the model from the index alone.
            score_thr: detections scoring lower are not indexed (0.5 as in the
                evaluation protocol).
            settings: exact or approximate search (:class:`VectorIndexSettings`).
        """
        settings = settings or VectorIndexSettings()
        fingerprint, config_text = None, None
        if model is not None:
            fingerprint = model_fingerprint(model)
            embed_dim = fingerprint['embed_dim']
            config_text = model.cfg.pretty_text
            if embed_dim is None:
                raise ValueError(f'{type(model).__name__} has no re-id embedding '
                                 'head: it cannot build a gallery index')
        if embed_dim is None or int(embed_dim) < 1:
            raise ValueError('give a model or the embedding size (embed_dim)')
        meta = dict(embed_dim=int(embed_dim), model=fingerprint, config=config_text,
                    checkpoint=None if checkpoint is None else osp.abspath(checkpoint),
                    score_thr=float(score_thr), vector_index=settings.as_dict(),
                    complete=True, run_input=None, mmssl_version=__version__,
                    created=time.strftime('%Y-%m-%d %H:%M:%S'))
        store = GalleryStore(directory, create=True, meta=meta)
        return cls(store, empty_index(embed_dim), model)

    @classmethod
    def load(cls, directory: str, model: Optional[nn.Module] = None,
             **settings_overrides) -> 'GalleryIndex':
        """Open the index of a folder.

        Args:
            directory: the index folder.
            model: the searcher; it must be the one that built the index (same
                embedding size, config and weights), else ValueError.
            settings_overrides: :class:`VectorIndexSettings` fields to change
                (e.g. ``index_type='hnsw'``); the index is converted if needed and
                the new settings are saved with it.
        """
        store = GalleryStore(directory)
        settings = VectorIndexSettings(**store.meta('vector_index'))
        vectors = empty_index(store.meta('embed_dim'))
        for part in store.read_vectors():  # the faiss file, then newer batches
            vectors = (add_vectors(vectors, part, settings)
                       if isinstance(part, np.ndarray) else part)
        index = cls(store, vectors)
        index._unsaved = vectors.ntotal != store.meta('main_rows')
        if settings_overrides:
            index.set_settings(**settings_overrides)
        if model is not None:
            index.attach_model(model)
        return index

    @classmethod
    def load_with_searcher(cls, directory: str, config=None,
                           checkpoint: Optional[str] = None, device: str = 'cpu',
                           cfg_options: Optional[dict] = None,
                           **settings_overrides) -> 'GalleryIndex':
        """:meth:`load` with the searcher built from ``config`` / ``checkpoint``,
        or from the config text and checkpoint path in the index metadata
        (:func:`~.gallery_model.index_searcher`)."""
        store = GalleryStore(directory)
        meta = store.all_meta()
        store.close()
        model = index_searcher(meta, directory, config, checkpoint, device,
                               cfg_options)
        return cls.load(directory, model=model, **settings_overrides)

    @classmethod
    def build(cls, model: nn.Module, directory: Optional[str] = None, *,
              images: Union[str, Sequence[str], None] = None,
              video: Optional[str] = None, every: int = 1,
              checkpoint: Optional[str] = None, score_thr: float = 0.5,
              settings: Optional[VectorIndexSettings] = None,
              **add_options) -> 'GalleryIndex':
        """:meth:`create`, then :meth:`add_images` and / or :meth:`add_video`."""
        index = cls.create(directory, model, checkpoint=checkpoint,
                           score_thr=score_thr, settings=settings)
        if images is not None:
            index.add_images(images, **add_options)
        if video is not None:
            index.add_video(video, every=every, **add_options)
        return index

    # ---------------------------------------------------------------- settings
    def set_settings(self, **changes) -> None:
        """Change :class:`VectorIndexSettings` fields (e.g. ``index_type``,
        ``ef_search``); converts the index when its kind changes. Kept by the next
        :meth:`save`."""
        self.settings = VectorIndexSettings(**dict(self.settings.as_dict(), **changes))
        self.vectors = apply_search_settings(
            add_vectors(self.vectors, np.zeros((0, self.embed_dim), np.float32),
                        self.settings), self.settings)
        self._unsaved = True

    @property
    def search_kind(self) -> str:
        """``'exact'`` or ``'hnsw'``: the index searched now."""
        return index_kind(self.vectors)

    @property
    def embed_dim(self) -> int:
        """The embedding size."""
        return int(self.store.meta('embed_dim'))

    @property
    def meta(self) -> dict:
        """Every metadata value (format version, model fingerprint, settings...)."""
        return self.store.all_meta()

    def attach_model(self, model: nn.Module) -> None:
        """Use ``model`` for new footage and image queries, after checking that it
        is the model that built the index (ValueError otherwise)."""
        stored = self.store.meta('model')
        where = self.store.directory or '<in-memory index>'
        fingerprint = model_fingerprint(model)
        if stored is None:
            if fingerprint['embed_dim'] != self.embed_dim:
                raise ValueError(f'{where}: the index holds {self.embed_dim}-d '
                                 f'embeddings, the model gives '
                                 f'{fingerprint["embed_dim"]}-d ones')
        else:
            check_same_model(stored, fingerprint, where)
        self.model = model

    def _need_model(self) -> nn.Module:
        if self.model is None:
            raise ValueError('this gallery index has no model: pass one to '
                             'GalleryIndex.load(..., model=) or attach_model()')
        return self.model

    # --------------------------------------------------------------- contents
    def __len__(self) -> int:
        return self.store.num_rows

    def sources(self) -> List[dict]:
        """Every indexed source (path, kind, status, frames indexed / skipped)."""
        return self.store.sources()

    def frame_size(self) -> Tuple[int, int]:
        """``(height, width)`` of most indexed frames (for person-crop queries)."""
        sizes = Counter((s['height'], s['width']) for s in self.sources()
                        if s['height'] and s['width'])
        if not sizes:
            raise ValueError('the gallery index holds no frame yet')
        return sizes.most_common(1)[0][0]

    # ------------------------------------------------------------------ adding
    def add_detections(self, features: np.ndarray, rows: Sequence[dict]) -> None:
        """Add detections computed elsewhere, and commit them.

        Args:
            features: ``(n, d)`` embeddings (L2-normalised here).
            rows: per detection: ``source`` (path), ``kind`` (``'image'`` or
                ``'video'``, default image), ``frame`` (default 0), ``time``
                (optional), ``bbox`` ``[x1, y1, x2, y2]``, ``score``.
        """
        features = np.asarray(features, dtype=np.float32).reshape(len(rows), -1)
        if len(rows) and features.shape[1] != self.embed_dim:
            raise ValueError(f'{features.shape[1]}-d features for a gallery of '
                             f'{self.embed_dim}-d embeddings')
        source_ids: Dict[str, int] = {}
        table = []
        for row in rows:
            path = row['source']
            if path not in source_ids:
                source_ids[path] = self.store.put_source(
                    path, kind=row.get('kind', 'image'), status='done')
            table.append((source_ids[path], int(row.get('frame', 0)),
                          row.get('time'), *[float(v) for v in row['bbox']],
                          float(row['score'])))
        self.commit(l2_normalise(features) if len(rows) else features, table)

    def commit(self, features: np.ndarray, table: Sequence[Sequence]) -> None:
        """Commit pending source changes and new table rows with their vectors
        (used by :mod:`.gallery_indexing`)."""
        self.store.commit(features, table)
        if len(table):
            self.vectors = apply_search_settings(
                add_vectors(self.vectors, features, self.settings), self.settings)
            self._unsaved = True

    def add_images(self, images: Union[str, Sequence[str]], **options) -> dict:
        """Detect, embed and add the persons of images (a folder, or paths).

        Images already indexed are skipped, so a call after an interruption
        resumes. Options: ``batch_size`` (default: the config's test batch size),
        ``progress``, ``flush_every`` (images per commit), ``flush_seconds``.

        Returns:
            A summary (:func:`~.gallery_indexing.index_images`).
        """
        from .gallery_indexing import index_images
        return index_images(self, images, **options)

    def add_video(self, video: str, every: int = 1, **options) -> dict:
        """Detect, embed and add the persons of every ``every``-th frame of a video
        (resuming where an interrupted call stopped). Options as
        :meth:`add_images`."""
        from .gallery_indexing import index_video
        return index_video(self, video, every=every, **options)

    def save(self, directory: Optional[str] = None) -> None:
        """Write the vectors into the index folder's faiss file (merging the
        batches committed since) and the settings into its metadata, or copy the
        index into a new ``directory``."""
        if directory is not None and directory != self.store.directory:
            self.store.set_meta(dict(vector_index=self.settings.as_dict()))
            self.store = self.store.copy_to(directory, self.vectors)
        elif self.store.directory is None:
            raise ValueError('an in-memory gallery index needs a directory to save')
        elif self._unsaved:
            self.store.set_meta(dict(vector_index=self.settings.as_dict()),
                                commit=False)
            self.store.compact(self.vectors)
        self._unsaved = False

    def close(self) -> None:
        """Close the table."""
        self.store.close()

    # ---------------------------------------------------------------- searching
    def query_feature(self, image: ImageLike,
                      box: Optional[Sequence[float]] = None) -> np.ndarray:
        """The feature of a query: ``box`` in ``image``, or, without a box, the
        whole image as a person crop (:func:`~.gallery_model.crop_canvas`)."""
        model = self._need_model()
        if box is not None:
            return embed_query(model, image, box)
        if isinstance(image, str):
            from .gallery_sources import read_image
            path, image = image, read_image(image)
            if image is None:
                raise ValueError(f'{path}: unreadable query crop')
        return embed_person_crop(model, image, self.frame_size())

    def search(self, query: Query, k: int = 10,
               exclude_source: Optional[str] = None,
               exclude_frame: Optional[int] = None) -> List[GalleryMatch]:
        """The ``k`` detections most similar to the query.

        Args:
            query: a ``(d,)`` feature, or ``(image, box)`` (``box`` None: the image
                is a person crop); image queries need the model.
            k: matches returned.
            exclude_source: leave out the detections of this source (e.g. the
                query's own image), or only of its frame ``exclude_frame``.

        Returns:
            Matches, most similar first (ties: smaller row first).
        """
        if k < 1:
            raise ValueError(f'k must be >= 1, got {k}')
        if isinstance(query, tuple):
            feature = self.query_feature(*query)
        else:
            feature = l2_normalise(
                np.asarray(query, dtype=np.float32).reshape(1, -1))[0]
        excluded = set()
        if exclude_source is not None:
            source = self.store.source(exclude_source)
            if source is not None:
                excluded = set(self.store.frame_rows(source['id'], exclude_frame))
        sims, rows = search_vectors(self.vectors, feature, k + len(excluded))
        kept = [(float(s), int(r)) for s, r in zip(sims, rows)
                if int(r) not in excluded]
        kept.sort(key=lambda pair: (-pair[0], pair[1]))
        kept = kept[:k]
        details = self.store.detections([r for _, r in kept])
        return [GalleryMatch(rank=rank, row=row, source=details[row]['source'],
                             kind=details[row]['kind'], frame=details[row]['frame'],
                             time=details[row]['time'], bbox=details[row]['bbox'],
                             score=details[row]['score'], similarity=sim)
                for rank, (sim, row) in enumerate(kept, start=1)]
