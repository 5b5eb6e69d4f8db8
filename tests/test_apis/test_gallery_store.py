"""The gallery index files: commit, crash leftovers, compaction, damage, format;
and the exact / HNSW vector index (no model)."""
import json
import os
import sqlite3

import numpy as np
import pytest

from mmssl.apis import GalleryIndex, VectorIndexSettings
from mmssl.apis.gallery_store import DB_FILE, GalleryStore, _fsync_write, _save_array
from mmssl.apis.gallery_vectors import (add_vectors, empty_index, index_kind,
                                        search_vectors)

DIM = 8


def unit_rows(num, seed=0):
    rows = np.random.default_rng(seed).standard_normal((num, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def records(num, source='a.jpg', start=0):
    return [dict(source=source, frame=start + i, bbox=[i, 0, i + 5, 10], score=0.9)
            for i in range(num)]


def test_commits_survive_reopening_and_compaction(tmp_path):
    index = GalleryIndex.create(str(tmp_path), embed_dim=DIM)
    feats = unit_rows(7)
    index.add_detections(feats[:4], records(4))
    index.add_detections(feats[4:], records(3, 'b.jpg'))
    assert len(os.listdir(tmp_path / 'shards')) == 2  # one per commit, not merged yet
    again = GalleryIndex.load(str(tmp_path))
    assert len(again) == 7
    np.testing.assert_allclose(again.vectors.reconstruct_n(0, 7), feats, atol=1e-6)
    again.save()
    assert os.listdir(tmp_path / 'shards') == []
    assert (tmp_path / 'vectors.1.faiss').is_file()
    third = GalleryIndex.load(str(tmp_path))
    match = third.search(feats[5], k=1)[0]
    assert (match.row, match.source, match.frame) == (5, 'b.jpg', 1)
    assert match.similarity == pytest.approx(1.0, abs=1e-5)
    assert third.meta['format_version'] == 1 and third.meta['main_rows'] == 7


def test_crash_leftovers_are_removed(tmp_path):
    index = GalleryIndex.create(str(tmp_path), embed_dim=DIM)
    index.add_detections(unit_rows(3), records(3))
    index.save()
    # a crash after writing a shard, before its SQLite commit; and one while
    # writing the next generation of the vector file
    orphan = tmp_path / 'shards' / '00000099.npy'
    _save_array(str(orphan), unit_rows(2))
    (tmp_path / 'vectors.2.faiss').write_bytes(b'partial')
    (tmp_path / 'vectors.3.faiss.tmp').write_bytes(b'partial')
    again = GalleryIndex.load(str(tmp_path))
    assert len(again) == 3 and again.vectors.ntotal == 3
    assert not orphan.exists()
    assert sorted(p.name for p in tmp_path.glob('vectors.*')) == ['vectors.1.faiss']


def test_opening_during_a_write_leaves_its_shard_alone(tmp_path):
    writer = GalleryStore(str(tmp_path), create=True,
                          meta=dict(embed_dim=DIM, vector_index={}))
    fresh = tmp_path / 'shards' / '00000001.npy'
    with writer.writer_lock():  # a writer between its shard and its commit
        _save_array(str(fresh), unit_rows(2))
        GalleryStore(str(tmp_path)).close()  # a search process opening meanwhile
        assert fresh.exists()
    GalleryStore(str(tmp_path)).close()  # no writer: the leftover goes
    assert not fresh.exists()


def test_a_failed_commit_leaves_nothing_behind(tmp_path, monkeypatch):
    index = GalleryIndex.create(str(tmp_path), embed_dim=DIM)
    index.add_detections(unit_rows(2), records(2))

    def crash(*args):
        raise OSError('disk full')

    monkeypatch.setattr('mmssl.apis.gallery_store._plain', crash)  # after the shard
    with pytest.raises(OSError, match='disk full'):
        index.add_detections(unit_rows(3, seed=1), records(3, 'b.jpg'))
    monkeypatch.undo()
    index.add_detections(unit_rows(1, seed=2), records(1, 'c.jpg'))  # goes on
    index.close()
    again = GalleryIndex.load(str(tmp_path))
    assert len(again) == 3 and [s['path'] for s in again.sources()] == ['a.jpg',
                                                                       'c.jpg']
    assert len(os.listdir(tmp_path / 'shards')) == 2  # the failed one is gone


def test_damaged_or_foreign_indexes_are_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match='no gallery index'):
        GalleryIndex.load(str(tmp_path))
    index = GalleryIndex.create(str(tmp_path), embed_dim=DIM)
    with pytest.raises(FileExistsError, match='already holds a gallery index'):
        GalleryIndex.create(str(tmp_path), embed_dim=DIM)
    index.add_detections(unit_rows(2), records(2))
    index.close()
    shard = next((tmp_path / 'shards').iterdir())
    _fsync_write(str(shard), lambda tmp: _save_array(tmp, unit_rows(1)))
    with pytest.raises(ValueError, match=f'{shard.name}: holds 1 vectors'):
        GalleryIndex.load(str(tmp_path))
    shard.unlink()
    with pytest.raises(ValueError, match='unreadable vector shard'):
        GalleryIndex.load(str(tmp_path))
    db = sqlite3.connect(str(tmp_path / DB_FILE))
    db.execute("UPDATE meta SET value = ? WHERE key = 'format_version'", (json.dumps(9), ))
    db.commit()
    db.close()
    with pytest.raises(ValueError, match='format 9, this mmssl reads format 1'):
        GalleryStore(str(tmp_path))


def test_in_memory_index_saves_into_a_folder(tmp_path):
    index = GalleryIndex.create(embed_dim=DIM)
    feats = unit_rows(5)
    index.add_detections(feats, [dict(r, kind='video', time=r['frame'] / 25)
                                 for r in records(5, 'cam.mp4')])
    with pytest.raises(ValueError, match='needs a directory'):
        index.save()
    index.save(str(tmp_path / 'saved'))
    loaded = GalleryIndex.load(str(tmp_path / 'saved'))
    match = loaded.search(feats[3], k=1)[0]
    assert (match.kind, match.frame, match.time) == ('video', 3, pytest.approx(0.12))
    with pytest.raises(FileExistsError, match='already holds a gallery index'):
        GalleryIndex.create(embed_dim=DIM).save(str(tmp_path / 'saved'))


def test_search_order_exclusion_and_feature_checks(tmp_path):
    index = GalleryIndex.create(embed_dim=DIM)
    feats = unit_rows(20, seed=3)
    index.add_detections(feats[:10], records(10, 'a.jpg'))
    index.add_detections(feats[10:], records(10, 'b.jpg'))
    query = feats[4] + 0.3 * feats[15]
    matches = index.search(query * 7.0, k=20)  # any scale: the query is normalised
    expected = feats @ (query / np.linalg.norm(query))
    assert [m.row for m in matches] == list(np.argsort(-expected, kind='stable'))
    np.testing.assert_allclose([m.similarity for m in matches], np.sort(expected)[::-1],
                               atol=1e-5)
    others = index.search(query, k=5, exclude_source='a.jpg')
    assert all(m.source == 'b.jpg' for m in others) and len(others) == 5
    frame_left_out = index.search(feats[4], k=3, exclude_source='a.jpg', exclude_frame=4)
    assert 4 not in [m.row for m in frame_left_out]
    with pytest.raises(ValueError, match='query feature of size 3'):
        index.search(np.ones(3), k=1)
    with pytest.raises(ValueError, match='4-d features for a gallery of 8-d'):
        index.add_detections(np.ones((1, 4)), records(1))
    with pytest.raises(ValueError, match='no model'):
        index.search(('img.jpg', [0, 0, 1, 1]))


def test_vector_index_kinds_and_automatic_switch(tmp_path):
    with pytest.raises(ValueError, match='index_type must be one of'):
        VectorIndexSettings(index_type='ivf')
    auto = VectorIndexSettings(approximate_above=50)
    assert auto.kind_for(50) == 'exact' and auto.kind_for(51) == 'hnsw'
    feats = unit_rows(120, seed=5)
    index = add_vectors(empty_index(DIM), feats[:50], auto)
    assert index_kind(index) == 'exact'
    index = add_vectors(index, feats[50:], auto)  # crosses the threshold
    assert index_kind(index) == 'hnsw' and index.ntotal == 120
    sims, rows = search_vectors(index, feats[7], 5)
    assert rows[0] == 7 and sims[0] == pytest.approx(1.0, abs=1e-5)
    sims, rows = search_vectors(empty_index(DIM), feats[0], 5)
    assert len(rows) == 0
    # through the index: the kind and settings persist; forcing exact converts back
    gallery = GalleryIndex.create(str(tmp_path), embed_dim=DIM,
                                  settings=VectorIndexSettings(approximate_above=50))
    gallery.add_detections(feats, records(120))
    gallery.save()
    loaded = GalleryIndex.load(str(tmp_path))
    assert loaded.search_kind == 'hnsw'
    exact = GalleryIndex.load(str(tmp_path), index_type='exact')
    assert exact.search_kind == 'exact'
    brute = np.argsort(-(feats @ feats[9]), kind='stable')[:10]
    assert [m.row for m in exact.search(feats[9], k=10)] == list(brute)
    hnsw_rows = [m.row for m in loaded.search(feats[9], k=10)]
    assert len(set(hnsw_rows) & set(brute)) >= 9
    exact.save()
    assert GalleryIndex.load(str(tmp_path)).settings.index_type == 'exact'
