"""Similarity search: attribute space over catalogs, sound space over the library, exclusions,
reasons, the encoding, and `musicrec similar` end to end on real audio."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
from audio_fixtures import music, write
from conftest import run_cli
from test_catalog import SPOTIFY_HEADER, spotify_row, write_csv

from musicrec_engine.attributes import Attribute
from musicrec_engine.library.catalogs import import_csv
from musicrec_engine.library.store import Library
from musicrec_engine.search import encoding
from musicrec_engine.search.similarity import Query, Similarity, SoundSpace


@pytest.fixture
def lib(tmp_path):
    lib = Library(tmp_path / "lib.sqlite3")
    yield lib
    lib.close()


def test_encoding_same_track_same_vector_and_weights(tmp_path):
    lib_style = [{"attributes": {"energy": {"value": 0.8}, "tempo": {"value": 128.0}, "key": {"value": 9},
                                 "mode": {"value": 0}}}]
    flat = [{"energy": 0.8, "tempo": 128.0, "key": 9, "mode": 0}]
    a, b = encoding.encode(lib_style), encoding.encode(flat)
    assert a.dtype == np.float32 and a.shape == (1, encoding.DIM) and np.array_equal(a, b)
    names = encoding.feature_names()
    assert a[0, names.index("key=A")] > 0 and a[0, names.index("mode=minor")] > 0
    assert a[0, names.index("valence")] == 0  # unknown -> the reference mean
    heavy = encoding.encode(flat, weights={"energy": 3.0})
    assert heavy[0, 1] == pytest.approx(3 * a[0, 1])
    no_key = encoding.encode(flat, weights={"key": 0})
    assert no_key[0, names.index("key=A")] == 0


def _catalog(tmp_path, lib):
    rows = []
    for i in range(60):
        r = spotify_row(i, artist=f"Band {i % 6}")
        r.update(energy=(i % 10) / 10, danceability=(i % 10) / 10, tempo=80 + 8 * (i % 10), key=i % 12)
        if i % 6 == 2:  # Band 2 features Band 1 on some tracks
            r["artists"] = str(["Band 2", "Band 1"])
        rows.append(r)
    q = spotify_row(1000, artist="Band 0", album="Query Album")
    q.update(energy=0.7, danceability=0.7, tempo=136.0, key=7)
    rows.append(q)
    rep = import_csv(lib, write_csv(tmp_path / "c.csv", SPOTIFY_HEADER, rows), name="cat")
    by_ext = {r["external_id"]: r for r in lib.catalog_tracks(rep.catalog_id)}
    return by_ext


def test_catalog_neighbours_by_attributes_with_reasons(tmp_path, lib):
    tracks = _catalog(tmp_path, lib)
    sim = Similarity(lib, tmp_path / "index")
    q = tracks["id001000"]
    res = sim.similar(Query(catalog_track_id=q["id"]), top=5, source="catalog")
    assert len(res) == 5 and q["id"] not in [r["id"] for r in res]
    assert [r["score"] for r in res] == sorted([r["score"] for r in res], reverse=True)
    # the rows built with the same energy/danceability/tempo (i % 10 == 7) come first
    top_rows = [tracks[r["external_id"]] for r in res]
    assert all(t["energy"] == 0.7 and t["tempo"] == 136.0 for t in top_rows[:3])
    assert {"energy", "danceability"} & {b["attribute"] for b in res[0]["because"]}
    b = next(b for b in res[0]["because"] if b["attribute"] in ("energy", "danceability"))
    assert b["query"] == pytest.approx(0.7) and b["result"] == pytest.approx(0.7)
    assert res[0]["catalog"] == "cat" and res[0]["space"] == "attributes"


def test_exclude_artist_and_album(tmp_path, lib):
    tracks = _catalog(tmp_path, lib)
    sim = Similarity(lib, tmp_path / "index")
    q = tracks["id000007"]  # Band 1, album "Album 0"
    plain = sim.similar(Query(catalog_track_id=q["id"]), top=10, source="catalog")
    assert any(r["artist"] == "Band 1" for r in plain)
    no_artist = sim.similar(Query(catalog_track_id=q["id"]), top=10, source="catalog", exclude_artist=True)
    assert len(no_artist) == 10 and all("Band 1" not in tracks[r["external_id"]]["artists"] for r in no_artist)
    everything = sim.similar(Query(catalog_track_id=q["id"]), top=100, source="catalog", exclude_artist=True)
    assert len(everything) == 61 - 10 - 10  # 61 rows less Band 1 (query included) and Band 2 featuring Band 1
    assert sum(r["artist"] == "Band 2" for r in everything) == 0
    no_album = sim.similar(Query(catalog_track_id=q["id"]), top=10, source="catalog", exclude_album=True)
    assert all(r["album_id"] != q["album_id"] for r in no_album)


def test_catalog_index_is_memory_mapped_and_rebuilt_after_reimport(tmp_path, lib):
    _catalog(tmp_path, lib)
    sim = Similarity(lib, tmp_path / "index")
    idx = sim.catalog_index(lib.catalog("cat")["id"])
    assert isinstance(idx.cont, np.memmap) and idx.cont.dtype == np.float32
    assert idx.cont.flags["C_CONTIGUOUS"] and len(idx.ids) == 61
    full = np.stack([idx.vector(i) for i in range(len(idx.ids))])
    assert np.allclose(np.linalg.norm(full, axis=1), 1.0, atol=1e-5)
    # the compact layout scores exactly like the plain cosine over the encoded rows
    rows = lib.catalog_tracks(lib.catalog("cat")["id"])
    enc = encoding.normalise(encoding.encode(rows))
    assert np.allclose(full, enc, atol=1e-6)
    q = enc[7]
    i, scores = idx.top(q, 61)
    assert np.allclose(scores, (enc @ q)[i], atol=1e-5)
    mask = np.zeros(encoding.DIM, bool)
    mask[:3] = True
    mask[encoding.groups()["key"]] = True
    i, scores = idx.top(q, 61, mask)
    qm, em = q * mask, enc * mask
    expect = (em @ qm) / (np.linalg.norm(em, axis=1) * np.linalg.norm(qm))
    assert np.allclose(scores, expect[i], atol=1e-5)
    write_csv(tmp_path / "c.csv", SPOTIFY_HEADER, [spotify_row(i) for i in range(30)])
    import_csv(lib, tmp_path / "c.csv", name="cat")
    sim.forget_catalog(lib.catalog("cat")["id"])
    assert len(sim.catalog_index(lib.catalog("cat")["id"]).ids) == 30
    assert len(list((tmp_path / "index").glob("catalog-*.cont.npy"))) == 1  # the stale index is gone


def _analysed(path, vec, album, artist, attrs=None):
    return SimpleNamespace(
        path=str(path), status="ok", error=None, duration=1.0, content_hash=f"h-{path.name}",
        features={"mfcc": vec[:273].astype(np.float32), "stats": vec[273:].astype(np.float32)},
        feature_names={"mfcc": [f"m{i}" for i in range(273)], "stats": [f"s{i}" for i in range(len(vec) - 273)]},
        schema_hash={"mfcc": "m1", "stats": "s1"},
        attributes={k: Attribute(v, "measured", 1.0) for k, v in (attrs or {"tempo": 120.0}).items()}), \
        {"album": album, "artist": artist, "title": path.stem}


def test_sound_space_finds_the_album_and_updates_incrementally(tmp_path, lib):
    rng = np.random.default_rng(0)
    dim = 273 + 40
    # Albums differ in a few directions; a big shared nuisance (loudness-like) varies per track.
    centres = rng.normal(0, 1, (6, dim))
    nuisance = rng.normal(0, 1, dim) * 8
    ids = {}
    for a in range(6):
        for t in range(4):
            v = centres[a] + 0.3 * rng.normal(0, 1, dim) + nuisance * rng.normal()
            res, tags = _analysed(tmp_path / f"a{a}t{t}.wav", v, f"Album {a}", f"Artist {a}")
            ids[(a, t)] = lib.store_analysis(res, tags=tags)
    sim = Similarity(lib, tmp_path / "index")
    hits = 0
    for (a, _t), tid in ids.items():
        res = sim.similar(Query(track_id=tid), top=3, source="library")
        assert tid not in [r["id"] for r in res] and res[0]["space"] == "sound"
        hits += sum(r["album"] == f"Album {a}" for r in res)
    assert hits / (3 * len(ids)) > 0.85
    # a new track joins without re-reading the others, and is found
    res, tags = _analysed(tmp_path / "new.wav", centres[2] + 0.3 * rng.normal(0, 1, dim), "Album 2", "Artist 2")
    new_id = lib.store_analysis(res, tags=tags)
    out = sim.similar(Query(track_id=new_id), top=3, source="library")
    assert out[0]["space"] == "sound" and sum(r["album"] == "Album 2" for r in out) >= 2
    excl = sim.similar(Query(track_id=ids[(2, 0)]), top=4, source="library", exclude_artist=True)
    assert all(r["artist"] != "Artist 2" for r in excl)
    # a track analysed again (same id, new vector) moves in the space
    res, tags = _analysed(tmp_path / "a0t0.wav", centres[5] + 0.3 * rng.normal(0, 1, dim), "Album 0", "Artist 0")
    assert lib.store_analysis(res, tags=tags) == ids[(0, 0)]
    moved = sim.similar(Query(track_id=ids[(0, 0)]), top=3, source="library")
    assert sum(r["album"] == "Album 5" for r in moved) >= 2


def test_whitening_beats_plain_zscores_when_one_direction_dominates():
    rng = np.random.default_rng(1)
    labels = np.repeat(np.arange(10), 5)
    signal = rng.normal(0, 1, (10, 20))[labels] * 0.5
    # 200 correlated columns carry one loud nuisance factor: z-scores let it swamp the cosine
    nuisance = rng.normal(0, 1, (50, 1)) @ np.ones((1, 200)) + 0.05 * rng.normal(0, 1, (50, 200))
    x = np.hstack([signal + 0.2 * rng.normal(0, 1, (50, 20)), nuisance])

    def p_at_4(v):
        s = v @ v.T
        np.fill_diagonal(s, -np.inf)
        top = np.argsort(-s, axis=1)[:, :4]
        return float(np.mean(labels[top] == labels[:, None]))

    from musicrec_engine.search.similarity import zscore_cosine_space

    assert p_at_4(SoundSpace().fit(x).transform(x)) > p_at_4(zscore_cosine_space(x)) + 0.2


def test_library_track_in_attribute_space_against_catalog(tmp_path, lib):
    _catalog(tmp_path, lib)
    res, tags = _analysed(tmp_path / "mine.wav", np.zeros(300), "Mine", "Me",
                          attrs={"energy": 0.7, "danceability": 0.7, "tempo": 136.0, "key": 7})
    tid = lib.store_analysis(res, tags=tags)
    sim = Similarity(lib, tmp_path / "index")
    out = sim.similar(Query(track_id=tid), top=3, source="all")
    cat = [r for r in out if r["source"] == "catalog"]
    assert len(cat) == 3 and all(r["space"] == "attributes" for r in cat)
    assert {r["external_id"] for r in cat[:2]} == {"id000007", "id001000"}  # same energy, tempo and key


def test_cli_similar_on_a_real_file(tmp_path, home):
    for i, (key, bpm, drums) in enumerate([(0, 90, False), (0, 92, False), (7, 150, True)]):
        write(tmp_path / "m" / f"Artist {i} - Song {i}.wav", music(2.0, key=key, bpm=bpm, drums=drums, seed=i))
    from musicrec_engine.analysis.pipeline import analyze_paths
    from musicrec_engine.library import scan

    lib = Library(home / "library.sqlite3")
    scan.scan(lib, [tmp_path / "m"], analyze_paths, jobs=1)
    lib.close()
    query = write(tmp_path / "q" / "Someone - Query.wav", music(2.0, key=0, bpm=91, drums=False, seed=9))
    r = run_cli("similar", str(query), "--top", "2", "--json", "--source", "library", home=home)
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert len(res) == 2 and all(x["source"] == "library" and x["space"] == "sound" for x in res)
    assert res[0]["path"].endswith(("Song 0.wav", "Song 1.wav"))  # the calm C-major pieces, not the drum one
    r = run_cli("similar", "--track", "999", home=home)
    assert r.returncode == 1 and "no library track with id 999" in r.stderr


def test_a_two_track_library_is_not_mirrored(tmp_path, lib):
    rng = np.random.default_rng(3)
    base = rng.normal(5, 1, 313)
    a, ta = _analysed(tmp_path / "a.wav", base, "X", "P")
    b, tb = _analysed(tmp_path / "b.wav", base + rng.normal(0, 0.1, 313), "Y", "Q")
    ia, ib = lib.store_analysis(a, tags=ta), lib.store_analysis(b, tags=tb)
    res = Similarity(lib, tmp_path / "index").similar(Query(track_id=ia), source="library")
    # two nearly identical tracks: z-scores over two tracks would make them opposites (-1)
    assert [r["id"] for r in res] == [ib] and res[0]["score"] > 0.9


def test_whitening_from_the_gram_matrix_matches_numpys_svd():
    from musicrec_engine.search.sound import whitening

    rng = np.random.default_rng(3)
    z = rng.normal(size=(300, 40)) @ rng.normal(size=(40, 40))  # correlated columns
    z -= z.mean(axis=0)
    k, shrink = 12, 1.0
    ours = whitening(z, k, shrink)
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    eig = s[:k] ** 2 / (len(z) - 1)
    ref = vt[:k].T / np.sqrt(eig + shrink * np.median(eig))
    assert np.allclose(np.abs(ours), np.abs(ref), atol=1e-8)  # the same directions, up to sign
    a, b = encoding.normalise(z @ ours), encoding.normalise(z @ ref)
    assert np.allclose(a @ a.T, b @ b.T, atol=1e-9)  # which no cosine sees


def test_a_fitted_space_saved_as_arrays_places_tracks_as_the_original_does():
    from musicrec_engine.search.sound import LISTENING_PIPELINES, ListeningSpace

    rng = np.random.default_rng(4)
    parts = {"mfcc": rng.normal(size=(40, 273)), "stats": rng.normal(size=(40, 30)),
             **{p: rng.normal(size=(40, 200)) for p in LISTENING_PIPELINES}}
    new = {p: v[:3] + 0.1 for p, v in parts.items()}
    x = np.hstack([parts["mfcc"], parts["stats"]])
    for space, data, query in ((SoundSpace(), x, x[:3] + 0.1), (ListeningSpace(), parts, new)):
        placed = space.fit_transform(data)
        assert np.allclose(placed, type(space)().fit(data).transform(data), atol=1e-6)
        saved = {k: np.asarray(v) for k, v in space.state().items()}
        assert all(v.dtype != object for v in saved.values())  # plain arrays: np.load needs no pickle
        again = type(space).from_state(saved)
        assert np.allclose(again.transform(data), placed, atol=1e-6)
        assert np.allclose(again.transform(query), space.transform(query), atol=1e-6)


def test_a_fresh_engine_reads_the_saved_sound_space_until_the_library_changes(tmp_path, lib, monkeypatch):
    rng = np.random.default_rng(5)
    dim = 273 + 40
    centres = rng.normal(0, 1, (6, dim))
    ids = {}
    for a in range(6):
        for t in range(4):
            res, tags = _analysed(tmp_path / f"a{a}t{t}.wav", centres[a] + 0.3 * rng.normal(0, 1, dim),
                                  f"Album {a}", f"Artist {a}")
            ids[(a, t)] = lib.store_analysis(res, tags=tags)
    first = Similarity(lib, tmp_path / "index").sound_space()
    reads = []
    real = lib.features
    monkeypatch.setattr(lib, "features", lambda *a, **k: reads.append(a) or real(*a, **k))
    again = Similarity(lib, tmp_path / "index").sound_space()
    assert reads == []  # not one vector read, nothing fitted: the saved space
    assert np.array_equal(again[0], first[0]) and np.allclose(again[1], first[1])
    assert again[2].proj is not None and np.allclose(again[2].proj, first[2].proj)

    # a track analysed again: the next engine reads the vectors, fits afresh, and the track has moved
    res, tags = _analysed(tmp_path / "a0t0.wav", centres[5] + 0.3 * rng.normal(0, 1, dim), "Album 0", "Artist 0")
    assert lib.store_analysis(res, tags=tags) == ids[(0, 0)]
    moved = Similarity(lib, tmp_path / "index")
    assert reads == [] and moved.sound_space() is not None and reads
    near = moved.similar(Query(track_id=ids[(0, 0)]), top=3, source="library")
    assert sum(r["album"] == "Album 5" for r in near) >= 2
    # a damaged file is fitted again, not an error
    (tmp_path / "index" / "sound-space.npz").write_bytes(b"not a numpy file")
    damaged = Similarity(lib, tmp_path / "index").sound_space()
    assert np.allclose(damaged[1], moved.sound_space()[1], atol=1e-6)
