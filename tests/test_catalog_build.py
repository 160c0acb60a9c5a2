"""`catalog build`: an archive of audio files into a Parquet catalog file that `catalog import` reads
and the similarity search uses like any catalog; an interrupted build is finished by running it
again; Parquet files are read without unpickling anything."""

from __future__ import annotations

import json
import os
import threading

import pytest
from audio_fixtures import music, write
from conftest import SHARED_DATA, run_cli

pa = pytest.importorskip("pyarrow", reason="catalog files need pyarrow: pip install 'musicrec[cluster]'")
import pyarrow.parquet as pq  # noqa: E402


def _archive(folder, n: int = 4, untagged: tuple[int, ...] = ()):
    """Tagged FLAC files of one album, in different keys and tempos (those in `untagged` without tags)."""
    import mutagen.flac

    paths = []
    for i in range(n):
        p = write(folder / f"{i + 1:02d} song {i}.flac", music(3.0, key=(3 * i) % 12, mode=i % 2, bpm=80 + 15 * i,
                                                              seed=i))
        paths.append(str(p))
        if i in untagged:
            continue
        f = mutagen.flac.FLAC(p)
        f["title"], f["artist"], f["album"], f["date"] = f"Song {i}", "The Testers", "Archive Tapes", "1999"
        f.save()
    return paths


def test_build_then_import_then_find_the_archive_in_the_catalog(tmp_path, home, monkeypatch):
    monkeypatch.setenv("MUSICREC_LISTEN_PATCHES", "1")
    songs = _archive(tmp_path / "archive", untagged=(3,))
    (tmp_path / "archive" / "notes.mp3").write_text("not audio")  # a per-file error; the build goes on
    out = tmp_path / "archive.parquet"
    r = run_cli("catalog", "build", str(tmp_path / "archive"), "--out", str(out), "--jobs", "2", "--json", home=home)
    assert r.returncode == 1, r.stderr  # one file could not be analysed
    rep = json.loads(r.stdout)
    assert rep["files"] == 5 and rep["analysed"] == 4 and rep["rows"] == 4 and not rep["cancelled"]
    assert [os.path.basename(f["path"]) for f in rep["failed"]] == ["notes.mp3"] and "text file" in r.stderr
    assert not (tmp_path / "archive.parquet.parts").exists()

    table = pq.read_table(out)
    rows = {os.path.basename(x["path"]): x for x in table.to_pylist()}
    assert set(rows) == {os.path.basename(s) for s in songs}
    first = rows["01 song 0.flac"]
    assert (first["title"], first["artist"], first["album"], first["year"]) == ("Song 0", "The Testers",
                                                                               "Archive Tapes", 1999)
    assert len(first["features_mfcc"]) == 273 and len(first["embedding_msd"]) == 200
    assert 0 <= first["danceability"] <= 1 and first["tempo"] > 0
    assert json.loads(first["attributes"])["tempo"]["provenance"]
    tempos = {round(x["tempo"]) for x in rows.values()}
    assert len(tempos) > 1

    r = run_cli("catalog", "import", str(out), "--name", "tapes", home=home)
    assert r.returncode == 0, r.stderr
    assert "catalog 'tapes' (musicrec): 4 tracks imported" in r.stdout
    r = run_cli("similar", songs[2], "--source", "catalog", "--top", "4", "--json", home=home)
    assert r.returncode == 0, r.stderr
    hits = json.loads(r.stdout)
    assert len(hits) == 4 and {h["catalog"] for h in hits} == {"tapes"}
    assert hits[0]["title"] == "Song 2" and hits[0]["score"] > 0.99  # its own row, by its attributes
    assert hits[0]["album"] == "Archive Tapes" and hits[0]["artist"] == "The Testers"
    # The plain listing names rows as a user knows them, the untagged file by what its name says;
    # the content hash that identifies a built catalog's row is in the JSON only, for scripts.
    by_file = {os.path.basename(x["path"]): x["external_id"] for x in table.to_pylist()}
    assert {h["external_id"] for h in hits} == set(by_file.values())
    untagged = next(h for h in hits if h["external_id"] == by_file["04 song 3.flac"])["name"]
    assert untagged.endswith("song 3"), untagged
    r = run_cli("similar", songs[2], "--source", "catalog", "--top", "4", home=home)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 4 and "The Testers – Song 2  (Archive Tapes)  in catalog tapes" in lines[0]
    assert sum(f"{untagged}  (" in x and "in catalog tapes" in x for x in lines) == 1, lines
    assert not any(h in r.stdout for h in by_file.values()), r.stdout


def test_an_interrupted_build_is_finished_by_running_it_again(tmp_path, monkeypatch):
    from musicrec_engine.engine import Engine

    monkeypatch.setenv("MUSICREC_LISTEN_PATCHES", "1")
    songs = _archive(tmp_path / "archive")
    out = tmp_path / "cat.parquet"
    cancel = threading.Event()
    first = Engine.build_catalog([tmp_path / "archive"], out, jobs=1, cancel=cancel,
                                 on_result=lambda r: cancel.set())  # stopped after the first file
    assert first.cancelled and first.analysed == 1 and not out.exists()
    assert len(list((tmp_path / "cat.parquet.parts").glob("*.parquet"))) == 1  # what was done is on disk

    again = Engine.build_catalog([tmp_path / "archive"], out, jobs=1)
    assert (again.held, again.analysed, again.rows, again.cancelled) == (1, 3, 4, False)
    assert pq.read_table(out).num_rows == 4 and not (tmp_path / "cat.parquet.parts").exists()

    write(songs[3], music(3.0, key=5, bpm=150, seed=9))  # a changed file is analysed again, in place
    third = Engine.build_catalog([tmp_path / "archive"], out, jobs=1)
    assert (third.held, third.analysed, third.rows) == (3, 1, 4)
    paths = pq.read_table(out, columns=["path"]).column("path").to_pylist()
    assert sorted(paths) == sorted(os.path.abspath(s) for s in songs)

    r = run_cli("catalog", "build", str(tmp_path / "archive"), "--out", str(out), "--window", "30s")
    assert r.returncode == 1 and "analysed with other settings" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_parquet_import_reads_plain_columns_and_refuses_what_it_cannot_trust(tmp_path, eng):
    from musicrec_engine.library.catalogs import CatalogError

    # any of the CSV schemas' columns stored as Parquet
    table = pa.table({"track_id": ["a1", "a2"], "artists": ["X;Y", "Z"], "album_name": ["Al", "Bl"],
                      "track_name": ["One", "Two"], "track_genre": ["pop", "rock"],
                      **{c: [0.5, 0.25] for c in ("danceability", "energy", "loudness", "speechiness", "acousticness",
                                                   "instrumentalness", "liveness", "valence")},
                      "key": [1, 2], "mode": [1, 0], "tempo": [120.0, 90.0]})
    pq.write_table(table, tmp_path / "spotify.parquet")
    rep = eng.import_catalog(tmp_path / "spotify.parquet")
    assert rep.schema == "spotify-114k" and rep.imported == 2
    rows = {r["external_id"]: r for r in eng.catalog_tracks("spotify")}
    assert rows["a1"]["artist"] == "X" and rows["a1"]["key"] == 1 and rows["a2"]["tempo"] == 90.0

    class Opaque(pa.ExtensionType):  # an extension column: never rebuilt from the file
        def __init__(self):
            super().__init__(pa.int64(), "musicrec.test.opaque")

        def __arrow_ext_serialize__(self):
            return b""

        @classmethod
        def __arrow_ext_deserialize__(cls, storage_type, serialized):
            return cls()

    pa.register_extension_type(Opaque())
    try:
        odd = table.append_column("blob", pa.ExtensionArray.from_storage(Opaque(), pa.array([1, 2])))
        pq.write_table(odd, tmp_path / "odd.parquet")
        with pytest.raises(CatalogError, match="extension type"):
            eng.import_catalog(tmp_path / "odd.parquet")
    finally:
        pa.unregister_extension_type("musicrec.test.opaque")

    (tmp_path / "broken.parquet").write_bytes(b"PAR1" + b"\0" * 100)
    with pytest.raises(CatalogError, match="cannot be read as Parquet"):
        eng.import_catalog(tmp_path / "broken.parquet")
    pq.write_table(pa.table({"x": [1]}), tmp_path / "other.parquet")
    with pytest.raises(CatalogError, match="unknown catalog format"):
        eng.import_catalog(tmp_path / "other.parquet")
    assert [c["name"] for c in eng.catalogs() if c["complete"]] == ["spotify"]


@pytest.mark.skipif(not (SHARED_DATA / "album-recommender").is_dir(), reason="shared data folder not present")
def test_the_album_recommenders_csv_as_parquet_imports_the_same_rows(tmp_path, eng):
    import pandas as pd

    csv = SHARED_DATA / "album-recommender" / "liked_and_disliked_tracks_with_acoustic_and_music_brainz_features.csv"
    pd.read_csv(csv).to_parquet(tmp_path / "ab.parquet")  # its text columns come out as large_string
    a = eng.import_catalog(csv, name="from-csv")
    b = eng.import_catalog(tmp_path / "ab.parquet", name="from-parquet")
    assert (b.schema, b.imported, b.duplicates) == (a.schema, a.imported, a.duplicates) == ("acousticbrainz", 1425, 92)
    rows = {n: {r["external_id"]: r for r in eng.catalog_tracks(n)} for n in ("from-csv", "from-parquet")}
    one = next(iter(rows["from-csv"]))
    x, y = rows["from-csv"][one], rows["from-parquet"][one]
    assert {k: x[k] for k in ("mbid", "key", "mode", "tempo", "album", "artist")} == \
        {k: y[k] for k in ("mbid", "key", "mode", "tempo", "album", "artist")}
    assert eng.library.catalog_extra(x["id"]) == pytest.approx(eng.library.catalog_extra(y["id"]))


def test_the_writer_merges_parts_and_the_newest_row_of_a_file_wins(tmp_path, monkeypatch):
    """Many analysed files: the one-row parts are merged as they pile up; a file analysed again
    (changed since) keeps only its newest row; parts a kill left behind after merging them are
    dropped by the next run."""
    import numpy as np

    from musicrec_engine.analysis.pipeline import AnalysisResult
    from musicrec_engine.attributes import Attribute
    from musicrec_engine.cluster import catalog_file

    monkeypatch.setattr(catalog_file, "COMPACT_EVERY", 3)

    def result(i: int, tempo: float) -> AnalysisResult:
        f = tmp_path / "files" / f"{i}.flac"
        f.parent.mkdir(exist_ok=True)
        f.write_bytes(b"x" * (i + 1 + int(tempo)))  # the writer only looks at its size and time
        return AnalysisResult(path=str(f), status="ok", duration=60.0, content_hash=f"hash{i}-{tempo}",
                              features={"mfcc": np.full(273, float(i), np.float32)},
                              attributes={"tempo": Attribute(tempo, "measured", 0.9)})

    out = tmp_path / "cat.parquet"
    w = catalog_file.CatalogWriter(out)
    for i in range(7):
        w.add(result(i, 100.0 + i), {"title": f"T{i}"})
    names = sorted(p.name for p in (tmp_path / "cat.parquet.parts").glob("*.parquet"))
    assert [n.split("-")[1] for n in names] == ["batch.parquet", "batch.parquet", "part.parquet"]
    # as if killed after merging parts 1-3 but before deleting them: an old row of file 2 is left
    stale = tmp_path / "cat.parquet.parts" / "00000002-part.parquet"
    pq.write_table(pq.read_table(tmp_path / "cat.parquet.parts" / names[0]).slice(2, 1), stale)
    w = catalog_file.CatalogWriter(out)  # the next run
    assert not stale.exists()
    w.add(result(2, 150.0), {"title": "T2 again"})  # changed and analysed again
    assert catalog_file.CatalogWriter(out).holds(str(tmp_path / "files" / "2.flac"))
    assert w.finish() == 7
    rows = {r["title"]: r for r in pq.read_table(out).to_pylist()}
    assert sorted(rows) == ["T0", "T1", "T2 again", "T3", "T4", "T5", "T6"]
    assert rows["T2 again"]["tempo"] == 150.0 and rows["T6"]["features_mfcc"][0] == 6.0
    assert not (tmp_path / "cat.parquet.parts").exists()
