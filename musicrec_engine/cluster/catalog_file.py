"""Writing a catalog file (Parquet) from analysis results, so that an interrupted build loses at
most the file in flight and a re-run skips what the output already holds.

Each analysed file becomes one small part file in FILE.parquet.parts/ (written to a temporary
name and renamed, so a part is whole or absent); every COMPACT_EVERY parts are merged into one.
`finish` streams the existing FILE.parquet (a finished earlier build) and the parts into a new
file, the newest row of each path winning, renames it over FILE.parquet and removes the parts.
Every part records how its rows were analysed (window, feature schemas, listening settings); an
output analysed otherwise is refused rather than mixed. The columns a catalog row takes are
named in library/catalog_parquet.py, which reads these files.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from musicrec_engine import __version__, features
from musicrec_engine.analysis import listening_step
from musicrec_engine.errors import MusicRecError
from musicrec_engine.library.catalog_parquet import FORMAT_VERSION, METADATA_KEY
from musicrec_engine.library.store import CATALOG_ATTRS
from musicrec_engine.listening.vocab import TAGS

COMPACT_EVERY = 256  # parts merged into one file: a big archive leaves hundreds, not millions, behind
ROW_GROUP = 1024  # rows per row group of the finished file: the importer reads a group at a time
TEXT = ["title", "artist", "album", "album_artist", "album_id", "genre", "mbid"]


class CatalogFileError(MusicRecError):
    """The output cannot be written or continued (pyarrow missing, analysed with other settings)."""


def analysis_settings(window: str) -> dict:
    """What decides a row's values: rows analysed under other settings must not share a file."""
    return {"window": window, "listening": listening_step.schema(),
            "features": {p: features.schema(p, window).hash for p in features.PIPELINES}}


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise CatalogFileError("writing a catalog file needs pyarrow: pip install 'musicrec[cluster]'") from None
    return pa, pq


def arrow_schema(window: str):
    pa, _ = _pyarrow()
    vec = pa.list_(pa.float32())
    fields = [("external_id", pa.string()), ("path", pa.string()), ("size", pa.int64()), ("mtime_ns", pa.int64()),
              *[(c, pa.string()) for c in TEXT], ("year", pa.int32()), ("track_no", pa.int32()),
              ("duration", pa.float64()), *[(a, pa.float64()) for a in CATALOG_ATTRS], ("attributes", pa.string()),
              *[(f"features_{p}", vec) for p in features.PIPELINES],
              *[(f"tags_{v}", vec) for v in TAGS], *[(f"embedding_{v}", vec) for v in TAGS]]
    meta = {"format": FORMAT_VERSION, "musicrec": __version__, **analysis_settings(window),
            "feature_names": {p: list(features.schema(p, window).names) for p in features.PIPELINES},
            "tag_names": {v: list(names) for v, names in TAGS.items()}}
    return pa.schema(fields, metadata={METADATA_KEY: json.dumps(meta).encode()})


def catalog_row(result, tags: dict, path: str, st: os.stat_result) -> dict:
    """One analysed file as a row: facts and tags, the catalog attributes as plain numbers, every
    attribute with its provenance (JSON), the feature vectors, tag probabilities and embeddings."""
    attrs = result.attributes
    artist, album = tags.get("artist"), tags.get("album")
    row = {"external_id": result.content_hash, "path": path, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
           "title": tags.get("title"), "artist": artist, "album": album, "album_artist": tags.get("album_artist"),
           "album_id": f"{tags.get('album_artist') or artist or ''}|{album}" if album else None,
           "genre": tags.get("genre"), "mbid": tags.get("mb_recording_id"), "year": _int(tags.get("year")),
           "track_no": _int(tags.get("track_no")), "duration": float(result.duration),
           "attributes": json.dumps({k: a.to_dict() for k, a in attrs.items()}, default=float)}
    for a in CATALOG_ATTRS:
        row[a] = float(attrs[a].value) if a in attrs and attrs[a].value is not None else None
    for p in features.PIPELINES:
        row[f"features_{p}"] = _floats(result.features.get(p))
    for v, names in TAGS.items():
        probs = result.tags.get(v)
        row[f"tags_{v}"] = [float(probs[t]) for t in names] if probs else None
        row[f"embedding_{v}"] = _floats(result.embeddings.get(v))
    return row


def _seq(f: Path) -> int:
    return int(f.name.split("-")[0])


def _int(v) -> int | None:
    try:
        return int(v) if v is not None else None
    except (TypeError, ValueError):
        return None


def _floats(v) -> list[float] | None:
    return None if v is None else [float(x) for x in v]


class CatalogWriter:
    """The output of one build: what it holds already, new rows as parts, and the finished file."""

    def __init__(self, out: str | os.PathLike, window: str = "full"):
        self.pa, self.pq = _pyarrow()
        self.out = Path(out)
        self.parts = self.out.with_name(self.out.name + ".parts")
        self.window = window
        self.schema = arrow_schema(window)
        self.settings = analysis_settings(window)
        self.held: dict[str, tuple[int, int]] = {}  # path -> (size, mtime_ns) of its newest row
        self._seq = 0
        self._drop_merged_parts()
        for src in self._sources():
            self._check(src)
            t = self.pq.read_table(src, columns=["path", "size", "mtime_ns"])
            for p, size, mtime in zip(*(t.column(c).to_pylist() for c in ("path", "size", "mtime_ns")), strict=True):
                self.held[p] = (size, mtime)
        parts = self._part_files()
        self._seq = max((_seq(f) for f in parts), default=0)

    def _drop_merged_parts(self) -> None:
        """One-row parts numbered at or below a merged file's number are in it (a merge takes every
        part there is): a kill between the merge and their deletion left them; delete them now."""
        files = self._part_files()
        merged = max((_seq(f) for f in files if f.name.endswith("-batch.parquet")), default=0)
        for f in files:
            if f.name.endswith("-part.parquet") and _seq(f) <= merged:
                f.unlink()

    def _sources(self) -> list[Path]:
        """The finished file (from an earlier build), then the parts, oldest first."""
        return ([self.out] if self.out.is_file() else []) + self._part_files()

    def _part_files(self) -> list[Path]:
        return sorted(self.parts.glob("*.parquet")) if self.parts.is_dir() else []

    def _check(self, src: Path) -> None:
        try:
            meta = self.pq.read_schema(src).metadata or {}
            theirs = json.loads(meta.get(METADATA_KEY, b"{}"))
        except (OSError, ValueError, self.pa.ArrowException) as e:
            raise CatalogFileError(f"{src} is not a catalog file this build can continue ({e}); choose another "
                                   "--out, or delete it to start afresh") from None
        mine = {k: theirs.get(k) for k in self.settings}
        if mine != self.settings:
            raise CatalogFileError(f"{self.out} holds tracks analysed with other settings (another --window or "
                                   "MusicRec version); choose another --out, or delete it to start afresh")

    def holds(self, path: str) -> bool:
        """Whether the output has this file's row, analysed from the file as it is now."""
        try:
            st = os.stat(path)
        except OSError:
            return False
        return self.held.get(os.path.abspath(path)) == (st.st_size, st.st_mtime_ns)

    def add(self, result, tags: dict) -> None:
        """One analysed file, on disk at once (a kill after this loses nothing of it)."""
        path = os.path.abspath(result.path)
        st = os.stat(path)
        table = self.pa.Table.from_pylist([catalog_row(result, tags, path, st)], schema=self.schema)
        self.parts.mkdir(parents=True, exist_ok=True)
        self._seq += 1
        self._write(table, self.parts / f"{self._seq:08d}-part.parquet")
        self.held[path] = (st.st_size, st.st_mtime_ns)
        small = [f for f in self._part_files() if f.name.endswith("-part.parquet")]
        if len(small) >= COMPACT_EVERY:
            self._compact(small)

    def _write(self, table, dest: Path) -> None:
        tmp = dest.with_name(dest.name + ".tmp")
        self.pq.write_table(table, tmp, row_group_size=ROW_GROUP)
        os.replace(tmp, dest)

    def _compact(self, small: list[Path]) -> None:
        """Many one-row parts into one file named after the last of them, which keeps the order;
        a kill between the rename and the deletions leaves copies that the next writer deletes."""
        merged = self.pa.concat_tables([self.pq.read_table(f, schema=self.schema) for f in small])
        self._write(merged, self.parts / f"{small[-1].name.split('-')[0]}-batch.parquet")
        for f in small:
            f.unlink()

    def finish(self) -> int:
        """The finished file, atomically in place of the old one; returns its number of rows."""
        sources = self._sources()
        if sources == [self.out]:  # nothing new since it was finished
            return self.pq.ParquetFile(self.out).metadata.num_rows
        newest: dict[str, tuple[int, int]] = {}  # path -> (source, row) of its newest row
        for i, src in enumerate(sources):
            for j, p in enumerate(self.pq.read_table(src, columns=["path"]).column("path").to_pylist()):
                newest[p] = (i, j)
        keep = set(newest.values())
        tmp = self.out.with_name(self.out.name + ".tmp")
        rows = 0
        with self.pq.ParquetWriter(tmp, self.schema) as w:
            for i, src in enumerate(sources):
                start = 0
                for batch in self.pq.ParquetFile(src).iter_batches(batch_size=ROW_GROUP):
                    mask = [(i, start + j) in keep for j in range(batch.num_rows)]
                    start += batch.num_rows
                    table = self.pa.Table.from_batches([batch]).filter(self.pa.array(mask))
                    if table.num_rows:
                        w.write_table(table.cast(self.schema), row_group_size=ROW_GROUP)
                        rows += table.num_rows
        os.replace(tmp, self.out)
        shutil.rmtree(self.parts, ignore_errors=True)
        return rows
