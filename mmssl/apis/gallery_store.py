"""On-disk layout of a gallery index: an SQLite table and faiss vector files.

``INDEX_DIR/`` holds

* ``gallery.sqlite``: table ``detections`` (one row per detection: source, frame,
  time, box, score; its ``id`` is the row of the vector index), ``sources`` (each
  indexed image or video and how far it got), ``meta`` (format version, embedding
  size, model fingerprint, settings) and ``shards``;
* ``vectors.<generation>.faiss``: the embeddings, a faiss index written with
  ``faiss.write_index``;
* ``shards/<n>.npy``: embeddings added since that file was written (float32).

Crash safety: new detections are committed in batches. A batch's shard file is
written (temporary name, fsync, rename) *before* the SQLite transaction that adds
its rows and names the shard, so a committed row always has its vector; a shard
left without rows by a crash is deleted when the index is opened. ``compact``
writes a new generation of the faiss file, then switches to it and drops the shards
in one transaction. SQLite (journal mode WAL) keeps the table consistent; nothing
committed is lost. A writer holds an advisory lock (``.writer.lock``) while it
writes files and commits, and the clean-up at opening is skipped while another
process holds it, so a search process opened during indexing never deletes a shard
about to be committed. Plain sqlite3, numpy and faiss; no mmdet.
"""
import contextlib
import fcntl
import json
import os
import os.path as osp
import sqlite3
import threading
from typing import Dict, Iterator, List, Optional, Sequence

import numpy as np

FORMAT_VERSION = 1
DB_FILE = 'gallery.sqlite'
SHARD_DIR = 'shards'
LOCK_FILE = '.writer.lock'

SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('image', 'video')),
    status TEXT NOT NULL CHECK (status IN ('partial', 'done', 'unreadable')),
    next_frame INTEGER NOT NULL DEFAULT 0,
    every INTEGER NOT NULL DEFAULT 1,
    fps REAL,
    width INTEGER,
    height INTEGER,
    frames_indexed INTEGER NOT NULL DEFAULT 0,
    frames_skipped INTEGER NOT NULL DEFAULT 0);
CREATE TABLE detections (
    id INTEGER PRIMARY KEY,
    source_id INTEGER NOT NULL REFERENCES sources(id),
    frame INTEGER NOT NULL,
    time_s REAL,
    x1 REAL NOT NULL, y1 REAL NOT NULL, x2 REAL NOT NULL, y2 REAL NOT NULL,
    score REAL NOT NULL);
CREATE INDEX detections_by_frame ON detections (source_id, frame);
CREATE TABLE shards (id INTEGER PRIMARY KEY, first_row INTEGER NOT NULL,
                     num_rows INTEGER NOT NULL);
"""

SOURCE_FIELDS = ('id', 'path', 'kind', 'status', 'next_frame', 'every', 'fps',
                 'width', 'height', 'frames_indexed', 'frames_skipped')
DETECTION_FIELDS = ('source_id', 'frame', 'time_s', 'x1', 'y1', 'x2', 'y2', 'score')


def _fsync_write(path: str, write) -> None:
    """Write a file through ``write(tmp_path)``, fsync it, rename it into place."""
    tmp = path + '.tmp'
    write(tmp)
    with open(tmp, 'rb') as handle:
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class GalleryStore:
    """The table and vector files of one gallery index (see the module docstring).

    Args:
        directory: the index folder; None keeps everything in memory (SQLite
            ``:memory:``, no vector files) until :meth:`copy_to`.
        create: make a new index (the folder must not hold one) with ``meta``.
        meta: the metadata of a new index (JSON-serialisable values).

    Raises:
        FileExistsError: ``create`` where an index exists.
        FileNotFoundError: opening a folder without an index.
        ValueError: an index of another format version, or damaged.
    """

    def __init__(self, directory: Optional[str], create: bool = False,
                 meta: Optional[dict] = None) -> None:
        self.directory = directory
        self.lock = threading.RLock()
        db_path = ':memory:' if directory is None else osp.join(directory, DB_FILE)
        if directory is not None:
            exists = osp.isfile(db_path)
            if create and exists:
                raise FileExistsError(f'{directory}: already holds a gallery index '
                                      f'({DB_FILE})')
            if not create and not exists:
                raise FileNotFoundError(f'{directory}: no gallery index ({DB_FILE} '
                                        'not found)')
            os.makedirs(osp.join(directory, SHARD_DIR), exist_ok=True)
        self.db = sqlite3.connect(db_path, check_same_thread=False)
        self.db.execute('PRAGMA foreign_keys = ON')
        if directory is not None:
            self.db.execute('PRAGMA journal_mode = WAL')
            self.db.execute('PRAGMA synchronous = FULL')
        if create:
            self.db.executescript(SCHEMA)
            values = dict(meta or {}, format_version=FORMAT_VERSION, generation=0,
                          main_rows=0)
            self.db.executemany('INSERT INTO meta VALUES (?, ?)',
                                [(k, json.dumps(v)) for k, v in values.items()])
            self.db.commit()
        self._check_format()
        self.num_rows = self._count_rows()
        if directory is not None:
            with self.writer_lock(wait=False) as locked:
                if locked:
                    self._remove_stale_files()

    @contextlib.contextmanager
    def writer_lock(self, wait: bool = True):
        """Hold the folder's advisory writer lock; yields False (without waiting)
        when another process holds it and ``wait`` is False."""
        if self.directory is None:
            yield True
            return
        with open(osp.join(self.directory, LOCK_FILE), 'a') as handle:
            try:
                fcntl.flock(handle.fileno(),
                            fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    # ------------------------------------------------------------------ metadata
    def _check_format(self) -> None:
        where = self.directory or '<memory>'
        try:
            version = self.meta('format_version')
        except sqlite3.DatabaseError as err:
            raise ValueError(f'{osp.join(where, DB_FILE)}: not a gallery index table '
                             f'({err})') from err
        if version != FORMAT_VERSION:
            raise ValueError(f'{osp.join(where, DB_FILE)}: gallery index format '
                             f'{version}, this mmssl reads format {FORMAT_VERSION}')

    def meta(self, key: str, default=None):
        """One metadata value (decoded JSON), ``default`` when absent."""
        with self.lock:
            row = self.db.execute('SELECT value FROM meta WHERE key = ?',
                                  (key, )).fetchone()
        return default if row is None else json.loads(row[0])

    def all_meta(self) -> dict:
        """Every metadata value."""
        with self.lock:
            rows = self.db.execute('SELECT key, value FROM meta').fetchall()
        return {k: json.loads(v) for k, v in rows}

    def set_meta(self, values: dict, commit: bool = True) -> None:
        """Set metadata values (in the pending transaction unless ``commit``)."""
        with self.lock:
            self.db.executemany('INSERT OR REPLACE INTO meta VALUES (?, ?)',
                                [(k, json.dumps(v)) for k, v in values.items()])
            if commit:
                self.db.commit()

    # ------------------------------------------------------------------- sources
    def source(self, path: str) -> Optional[dict]:
        """The sources row of ``path``, None when it was never indexed."""
        with self.lock:
            row = self.db.execute(
                f'SELECT {", ".join(SOURCE_FIELDS)} FROM sources WHERE path = ?',
                (path, )).fetchone()
        return None if row is None else dict(zip(SOURCE_FIELDS, row))

    def source_by_id(self, source_id: int) -> Optional[dict]:
        """The sources row of an id, None when there is none."""
        with self.lock:
            row = self.db.execute(
                f'SELECT {", ".join(SOURCE_FIELDS)} FROM sources WHERE id = ?',
                (int(source_id), )).fetchone()
        return None if row is None else dict(zip(SOURCE_FIELDS, row))

    def sources(self) -> List[dict]:
        """Every sources row, in insertion order."""
        with self.lock:
            rows = self.db.execute(f'SELECT {", ".join(SOURCE_FIELDS)} FROM sources '
                                   'ORDER BY id').fetchall()
        return [dict(zip(SOURCE_FIELDS, row)) for row in rows]

    def put_source(self, path: str, **fields) -> int:
        """Insert or update a source (pending until :meth:`commit`); its id."""
        with self.lock:
            existing = self.source(path)
            if existing is None:
                names = ['path'] + list(fields)
                cursor = self.db.execute(
                    f'INSERT INTO sources ({", ".join(names)}) VALUES '
                    f'({", ".join("?" * len(names))})', [path] + list(fields.values()))
                return int(cursor.lastrowid)
            if fields:
                self.db.execute(
                    f'UPDATE sources SET {", ".join(f"{k} = ?" for k in fields)} '
                    'WHERE id = ?', list(fields.values()) + [existing['id']])
            return int(existing['id'])

    # ---------------------------------------------------------------- detections
    def _count_rows(self) -> int:
        count, largest = self.db.execute(
            'SELECT COUNT(*), MAX(id) FROM detections').fetchone()
        if count and largest != count - 1:
            raise ValueError(f'{self.directory}: detection ids are not 0..{count - 1} '
                             '(the table was edited by hand?)')
        return int(count)

    def commit(self, vectors: np.ndarray, rows: Sequence[Sequence]) -> None:
        """Add detections with their vectors and commit every pending change.

        Args:
            vectors: ``(n, d)`` float32 embeddings, row ``i`` for ``rows[i]``.
            rows: ``(source_id, frame, time_s, x1, y1, x2, y2, score)`` each.
        """
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if len(vectors) != len(rows):
            raise ValueError(f'{len(vectors)} vectors for {len(rows)} detection rows')
        with self.lock, self.writer_lock():
            first = self.num_rows
            try:
                if len(rows) and self.directory is not None:
                    shard = self.db.execute('SELECT COALESCE(MAX(id), 0) + 1 FROM '
                                            'shards').fetchone()[0]
                    _fsync_write(self._shard_path(shard),
                                 lambda tmp: _save_array(tmp, vectors))
                    self.db.execute('INSERT INTO shards VALUES (?, ?, ?)',
                                    (shard, first, len(rows)))
                self.db.executemany(
                    f'INSERT INTO detections (id, {", ".join(DETECTION_FIELDS)}) '
                    f'VALUES (?, {", ".join("?" * len(DETECTION_FIELDS))})',
                    [(first + i, *map(_plain, row)) for i, row in enumerate(rows)])
                self.db.commit()
            except BaseException:
                self.db.rollback()  # a shard file without rows goes at next open
                raise
            self.num_rows = first + len(rows)

    def detections(self, ids: Sequence[int]) -> Dict[int, dict]:
        """Rows by id, each joined with its source's path, kind and fps."""
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        with self.lock:
            rows = self.db.execute(
                'SELECT d.id, s.path, s.kind, d.frame, d.time_s, d.x1, d.y1, d.x2, '
                'd.y2, d.score, d.source_id FROM detections d JOIN sources s ON '
                f's.id = d.source_id WHERE d.id IN ({", ".join("?" * len(ids))})',
                ids).fetchall()
        return {r[0]: dict(row=r[0], source=r[1], kind=r[2], frame=r[3], time=r[4],
                           bbox=[r[5], r[6], r[7], r[8]], score=r[9], source_id=r[10])
                for r in rows}

    def frame_rows(self, source_id: int, frame: Optional[int] = None) -> List[int]:
        """Ids of the detections of a source (of one of its frames)."""
        query = 'SELECT id FROM detections WHERE source_id = ?'
        args = [int(source_id)]
        if frame is not None:
            query += ' AND frame = ?'
            args.append(int(frame))
        with self.lock:
            return [r[0] for r in self.db.execute(query, args).fetchall()]

    def frames(self, limit: int = 500) -> List[dict]:
        """The first ``limit`` frames holding detections: source id, path, kind,
        frame, time and detection count."""
        with self.lock:
            rows = self.db.execute(
                'SELECT d.source_id, s.path, s.kind, d.frame, MIN(d.time_s), '
                'COUNT(*) FROM detections d JOIN sources s ON s.id = d.source_id '
                'GROUP BY d.source_id, d.frame ORDER BY d.source_id, d.frame '
                'LIMIT ?', (int(limit), )).fetchall()
        return [dict(source_id=r[0], source=r[1], kind=r[2], frame=r[3], time=r[4],
                     detections=r[5]) for r in rows]

    # ------------------------------------------------------------------ vectors
    def _shard_path(self, shard: int) -> str:
        return osp.join(self.directory, SHARD_DIR, f'{shard:08d}.npy')

    def _main_path(self, generation: int) -> str:
        return osp.join(self.directory, f'vectors.{generation}.faiss')

    def _remove_stale_files(self) -> None:
        """Delete what a crash may leave: temporary files, shards no row names,
        vector files of older generations."""
        with self.lock:
            live = {self._shard_path(s) for (s, ) in
                    self.db.execute('SELECT id FROM shards').fetchall()}
        shard_dir = osp.join(self.directory, SHARD_DIR)
        for name in os.listdir(shard_dir):
            path = osp.join(shard_dir, name)
            if path not in live:
                os.remove(path)
        current = self._main_path(self.meta('generation'))
        for name in os.listdir(self.directory):
            path = osp.join(self.directory, name)
            if ((name.startswith('vectors.') and path != current)
                    or name.endswith('.tmp')):
                os.remove(path)

    def read_vectors(self) -> Iterator:
        """The stored vectors, oldest first: the faiss index of the current
        generation (when there is one), then each shard as an ``(n, d)`` array.

        Raises:
            ValueError: a file is missing or does not hold the rows the table
                says (the message names it).
        """
        import faiss
        total = 0
        generation = self.meta('generation')
        if generation:
            path = self._main_path(generation)
            if not osp.isfile(path):
                raise ValueError(f'{path}: vector file missing')
            index = faiss.read_index(path)
            if index.ntotal != self.meta('main_rows'):
                raise ValueError(f'{path}: holds {index.ntotal} vectors, the table '
                                 f'says {self.meta("main_rows")}')
            total = index.ntotal
            yield index
        with self.lock:
            shards = self.db.execute('SELECT id, first_row, num_rows FROM shards '
                                     'ORDER BY first_row').fetchall()
        for shard, first, num in shards:
            path = self._shard_path(shard)
            try:
                vectors = np.load(path)
            except (OSError, ValueError) as err:
                raise ValueError(f'{path}: unreadable vector shard ({err})') from err
            if first != total or len(vectors) != num:
                raise ValueError(f'{path}: holds {len(vectors)} vectors from row '
                                 f'{first}, the table expects {num} from row {total}')
            total += num
            yield vectors
        if total != self.num_rows:
            raise ValueError(f'{self.directory}: {total} stored vectors for '
                             f'{self.num_rows} detection rows')

    def compact(self, index) -> None:
        """Write ``index`` (holding every row) as the next generation's vector
        file and drop the shards."""
        import faiss
        if self.directory is None:
            return
        with self.lock, self.writer_lock():
            if index.ntotal != self.num_rows:
                raise ValueError(f'compact: the index holds {index.ntotal} vectors '
                                 f'for {self.num_rows} rows')
            old = self.meta('generation')
            shards = [s for (s, ) in self.db.execute('SELECT id FROM shards')]
            new = old + 1
            _fsync_write(self._main_path(new),
                         lambda tmp: faiss.write_index(index, tmp))
            self.db.execute('DELETE FROM shards')
            self.set_meta(dict(generation=new, main_rows=index.ntotal), commit=False)
            self.db.commit()
            for path in [self._main_path(old)] + [self._shard_path(s) for s in shards]:
                if osp.isfile(path):
                    os.remove(path)

    def copy_to(self, directory: str, index) -> 'GalleryStore':
        """Write this index (table and ``index``) into a new folder; its store."""
        os.makedirs(directory, exist_ok=True)
        if osp.isfile(osp.join(directory, DB_FILE)):
            raise FileExistsError(f'{directory}: already holds a gallery index')
        with self.lock:
            target = sqlite3.connect(osp.join(directory, DB_FILE))
            self.db.commit()
            self.db.backup(target)
            target.execute('DELETE FROM shards')
            target.executemany('INSERT OR REPLACE INTO meta VALUES (?, ?)',
                               [('generation', '0'), ('main_rows', '0')])
            target.commit()
            target.close()
        store = GalleryStore(directory)
        store.compact(index)
        return store

    def close(self) -> None:
        """Close the SQLite connection."""
        with self.lock:
            self.db.close()


def _save_array(path: str, array: np.ndarray) -> None:
    with open(path, 'wb') as handle:  # a handle: np.save would add '.npy'
        np.save(handle, array)


def _plain(value):
    """numpy scalars as Python numbers for sqlite3; None stays None."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value
