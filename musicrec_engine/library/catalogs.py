"""Catalog import: big CSVs of tracks with Spotify-style attributes, streamed into the library.

Four schemas are recognised from the header: the Spotify 1.2M-track features dataset, the 114k
dataset (`track_genre`), Exportify playlist exports, and the album recommender's AcousticBrainz CSV
(and Parquet files: catalog_parquet.py, through the same steps). The file
is read in chunks (never whole) and each chunk is one transaction. A first import upserts rows
under a new generation that reads ignore until the catalog switches to it when the whole file is
in; a re-import of a catalog that has rows loads into a staging table instead and merges it in
one transaction at the end (same ids, so ratings stay on their rows). Either way a cancelled or
killed import leaves the previous rows and ratings visible, and running it again finishes the job
without duplicating anything. Within one file the first row of a duplicated id wins.
"""

from __future__ import annotations

import csv
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd

from musicrec_engine.attributes import KEY_NAMES, UNIT_ATTRIBUTES
from musicrec_engine.errors import MusicRecError
from musicrec_engine.jobs import Progress
from musicrec_engine.library.migrations import BULK_INDEXES
from musicrec_engine.library.store import CATALOG_ATTRS, Library

log = logging.getLogger("musicrec.catalogs")
CHUNK_ROWS = 50_000
IMPORT_CACHE_KIB = 256 * 1024


class CatalogError(MusicRecError):
    """The file cannot be imported at all (not found, unknown schema, unreadable)."""


@dataclass
class Schema:
    name: str
    description: str
    required: list[str]  # normalised column names that identify the schema
    fields: dict[str, str]  # our field -> normalised source column
    id_col: str
    artists: str = "plain"  # how the artist column lists several artists: pylist | semicolon | comma | plain
    extra_numeric: bool = False  # keep every other numeric column (the album recommender's model uses them)


_FEATURES = {a: a for a in CATALOG_ATTRS}
SCHEMAS = [
    Schema("spotify-1.2m", "Spotify 1.2M-track features (tracks_features.csv)",
           ["id", "name", "album", "album_id", "artists", "danceability", "energy", "key", "loudness", "mode",
            "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo"],
           {"external_id": "id", "title": "name", "album": "album", "album_id": "album_id", "artist": "artists",
            "track_no": "track_number", "year": "year", "duration": "duration_ms", **_FEATURES},
           id_col="id", artists="pylist"),
    Schema("spotify-114k", "Spotify 114k tracks with genres (dataset.csv, track_genre)",
           ["track_id", "artists", "album_name", "track_name", "track_genre", "danceability", "energy", "key",
            "loudness", "mode", "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo"],
           {"external_id": "track_id", "title": "track_name", "album": "album_name", "artist": "artists",
            "genre": "track_genre", "duration": "duration_ms", **_FEATURES},
           id_col="track_id", artists="semicolon"),
    Schema("acousticbrainz", "the album recommender's AcousticBrainz + MusicBrainz CSV (mbid, danceable, bpm, key_key, ...)",
           ["mbid", "artist", "recording_title", "release_title", "bpm", "key_key", "key_scale"],
           {"external_id": "mbid", "mbid": "mbid", "title": "recording_title", "album": "release_title",
            "artist": "artist", "genre": "genre", "year": "release_year", "duration": "duration",
            "tempo": "bpm", "key": "key_key", "mode": "key_scale"},
           id_col="mbid", extra_numeric=True),
    Schema("exportify", "Exportify playlist export (Track URI, Track Name, Artist Name(s), ...)",
           ["track_uri", "track_name", "artist_name_s", "album_name"],
           {"external_id": "track_uri", "title": "track_name", "artist": "artist_name_s", "album": "album_name",
            "album_id": "album_uri", "year": "album_release_date", "duration": "track_duration_ms",
            "track_no": "track_number", "genre": "artist_genres", **_FEATURES},
           id_col="track_uri", artists="comma"),
]
# Older Exportify versions used other headings for the same things.
_ALIASES = {"spotify_id": "track_uri", "release_date": "album_release_date", "duration_ms": "track_duration_ms",
            "genres": "artist_genres", "album_artist_name_s": "album_artist_name_s"}


@dataclass
class ImportReport:
    catalog_id: int | None = None
    name: str = ""
    schema: str = ""
    rows_read: int = 0
    imported: int = 0
    duplicates: int = 0
    skipped: int = 0  # rows without an id
    bad_values: int = 0  # cells that were not a valid number (kept as unknown)
    malformed: int = 0  # lines with more fields than the header: skipped, counted, first ones named
    cancelled: bool = False
    seconds: float = 0.0
    messages: list[str] = field(default_factory=list)

    def summary(self) -> str:
        s = (f"catalog '{self.name}' ({self.schema}): {self.imported} tracks imported from {self.rows_read} rows"
             f" in {self.seconds:.1f} s")
        extra = []
        if self.duplicates:
            extra.append(f"{self.duplicates} duplicate ids (first kept)")
        if self.skipped:
            extra.append(f"{self.skipped} rows without an id skipped")
        if self.bad_values:
            extra.append(f"{self.bad_values} values that were not valid numbers left unknown")
        if self.malformed:
            extra.append(f"{self.malformed} malformed lines (more fields than the header) skipped")
        return s + ("; " + ", ".join(extra) if extra else "")


def norm(col: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(col).strip().lower().lstrip("\ufeff")).strip("_")


def normalised_columns(columns, schema: Schema) -> dict[str, str]:
    """normalised name -> column as in the file."""
    aliases = _ALIASES if schema.name == "exportify" else {}
    return {aliases.get(norm(c), norm(c)): c for c in columns}


def detect(columns: list[str], schemas: list[Schema] | None = None) -> Schema:
    schemas = SCHEMAS if schemas is None else schemas
    for s in schemas:
        if all(r in normalised_columns(columns, s) for r in s.required):
            return s
    expected = "; ".join(f"{s.description}: {', '.join(s.required)}" for s in schemas)
    raise CatalogError(f"unknown catalog format (columns: {', '.join(list(columns)[:12])}"
                       f"{'...' if len(columns) > 12 else ''}); expected one of — {expected}")


def _sniff(path: Path) -> tuple[str, str, list[str]]:
    """(encoding, delimiter, header) from the first bytes."""
    try:
        with path.open("rb") as f:
            head = f.read(256 * 1024)
    except OSError as e:
        raise CatalogError(f"{path} cannot be read: {e.strerror or e}") from None
    if not head.strip():
        raise CatalogError(f"{path} is empty: no header and no rows")
    encoding = "utf-8-sig"
    try:
        text = head.decode(encoding)
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # not just a character cut at the end of the sample
            encoding = "cp1252"
        text = head.decode(encoding, errors="replace")
    first = text.splitlines()[0]
    delim = max([",", ";", "\t"], key=first.count)
    header = next(csv.reader([first], delimiter=delim))
    return encoding, delim, header


PARQUET_MAGIC = b"PAR1"


def import_file(lib: Library, path: str | Path, name: str | None = None, progress: Progress | None = None,
                cancel: threading.Event | None = None, chunk_rows: int = CHUNK_ROWS) -> ImportReport:
    """A catalog CSV, or a Parquet file (told by its first bytes, whatever its name)."""
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"{path}: no such file")
    try:
        with path.open("rb") as f:
            parquet = f.read(4) == PARQUET_MAGIC
    except OSError as e:
        raise CatalogError(f"{path} cannot be read: {e.strerror or e}") from None
    if parquet:
        from musicrec_engine.library.catalog_parquet import import_parquet as reader
    else:
        reader = import_csv
    return reader(lib, path, name=name, progress=progress, cancel=cancel, chunk_rows=chunk_rows)


def import_csv(lib: Library, path: str | Path, name: str | None = None, progress: Progress | None = None,
               cancel: threading.Event | None = None, chunk_rows: int = CHUNK_ROWS) -> ImportReport:
    path = Path(path)
    if not path.is_file():
        raise CatalogError(f"{path}: no such file")
    encoding, delim, header = _sniff(path)
    schema = detect(header)

    def load(lib, catalog_id, gen, staged, rep) -> None:
        try:
            _load(lib, path, header, schema, catalog_id, gen, staged, encoding, delim, rep, progress, cancel,
                  chunk_rows, total)
        except UnicodeDecodeError:
            # A stray non-UTF-8 byte deep in the file: read it again as Windows-1252 (what spreadsheet
            # programs write). Rows already in are upserted again, so nothing doubles.
            rep.messages.append("the file is not valid UTF-8; read it as Windows-1252")
            rep.rows_read = rep.skipped = rep.bad_values = rep.malformed = 0
            _load(lib, path, header, schema, catalog_id, gen, staged, "cp1252", delim, rep, progress, cancel,
                  chunk_rows, total)

    total = path.stat().st_size
    try:
        return run_import(lib, path, name, schema, load, progress, total)
    except (pd.errors.ParserError, ValueError) as e:
        raise CatalogError(f"{path}: cannot be read as CSV ({str(e).splitlines()[0]})") from None


def run_import(lib: Library, path: Path, name: str | None, schema: Schema, load, progress: Progress | None,
            total: int) -> ImportReport:
    """The steps every import shares around load(lib, catalog_id, generation, staged, report):
    indexes dropped while rows stream in and built again after, then the catalog switched over."""
    t0 = time.perf_counter()
    name = name or path.stem
    rep = ImportReport(name=name, schema=schema.name)
    catalog_id, gen, staged = _begin(lib, name, schema.name, path)
    rep.catalog_id = catalog_id
    with lib.batch() as c:
        for ix in BULK_INDEXES:
            c.execute(f"DROP INDEX IF EXISTS {ix}")
    # A page cache that holds the (catalog, id) index: random-order inserts into a 1.2M-row
    # index otherwise re-read its pages over and over (25 % of the import's CPU at 600k rows).
    old_cache = lib.query("PRAGMA cache_size")[0][0]
    lib.query(f"PRAGMA cache_size={-IMPORT_CACHE_KIB}")
    try:
        load(lib, catalog_id, gen, staged, rep)
    finally:
        with lib.batch() as c:
            for sql in BULK_INDEXES.values():
                c.execute(sql)
        lib.query(f"PRAGMA cache_size={int(old_cache)}")
    if rep.cancelled:
        rep.messages.append("import cancelled: the catalog keeps its previous contents; import again to finish")
        rep.seconds = time.perf_counter() - t0
        return rep
    _finish(lib, catalog_id, gen, staged, rep)
    if rep.rows_read == 0:
        rep.messages.append("the file has a header but no rows")
    rep.seconds = time.perf_counter() - t0
    if progress:
        progress(total, total, rep.summary())
    return rep


def _begin(lib: Library, name: str, schema: str, path: Path) -> tuple[int, int, bool]:
    """(catalog id, the new generation, whether to load through the staging table)."""
    with lib.batch() as c:
        row = c.execute("SELECT id, generation FROM catalogs WHERE name=?", (name,)).fetchone()
        if row is None:
            cur = c.execute("INSERT INTO catalogs (name, schema, source_path, generation, complete) "
                            "VALUES (?,?,?,0,0)", (name, schema, str(path.resolve())))
            return cur.lastrowid, 1, False
        c.execute("UPDATE catalogs SET complete=0 WHERE id=?", (row[0],))
        c.execute("DELETE FROM catalog_staging WHERE catalog_id=?", (row[0],))  # a killed re-import's rows
        # Rows the user can see now must stay visible until the new file is in: stage. A catalog
        # whose first import was killed shows nothing yet, so it continues straight into its rows.
        visible = c.execute("SELECT 1 FROM catalog_tracks WHERE catalog_id=? AND generation=? LIMIT 1",
                            (row[0], row[1])).fetchone()
        return row[0], row[1] + 1, visible is not None


_COLS = ["external_id", "title", "artist", "artists", "album", "album_id", "year", "genre", "duration",
         "track_no", "mbid", *CATALOG_ATTRS, "extra"]
_UPSERT = (f"INSERT INTO catalog_tracks (catalog_id, generation, {', '.join(_COLS)}) "
           f"VALUES (?, ?, {', '.join('?' * len(_COLS))}) ON CONFLICT(catalog_id, external_id) DO UPDATE SET "
           f"generation=excluded.generation, {', '.join(f'{c}=excluded.{c}' for c in _COLS[1:])} "
           "WHERE catalog_tracks.generation < excluded.generation")
_STAGE = (f"INSERT OR IGNORE INTO catalog_staging (catalog_id, {', '.join(_COLS)}) "
          f"VALUES (?, {', '.join('?' * len(_COLS))})")
_MERGE = (f"INSERT INTO catalog_tracks (catalog_id, generation, {', '.join(_COLS)}) "
          f"SELECT catalog_id, ?, {', '.join(_COLS)} FROM catalog_staging WHERE catalog_id=? "
          f"ON CONFLICT(catalog_id, external_id) DO UPDATE SET generation=excluded.generation, "
          f"{', '.join(f'{c}=excluded.{c}' for c in _COLS[1:])}")


def _load(lib, path, header, schema, catalog_id, gen, staged, encoding, delim, rep, progress, cancel, chunk_rows,
          total) -> None:
    with path.open("rb") as fh:
        id_column = normalised_columns(header, schema)[schema.id_col]
        reader = pd.read_csv(fh, sep=delim, encoding=encoding, chunksize=chunk_rows, dtype={id_column: str},
                             keep_default_na=False, na_values=["", "NA", "NaN", "nan", "null", "None"],
                             on_bad_lines="warn", engine="c")
        colmap = None
        for chunk in _counting_bad_lines(reader, rep):
            if cancel is not None and cancel.is_set():
                rep.cancelled = True
                return
            if colmap is None:
                colmap = normalised_columns(chunk.columns, schema)
            store_chunk(lib, convert_chunk(chunk, schema, colmap, rep), catalog_id, gen, staged)
            rep.rows_read += len(chunk)
            if progress:
                progress(min(fh.tell(), total), total, f"{rep.rows_read} rows read")


def store_chunk(lib: Library, cols: list[list], catalog_id: int, gen: int, staged: bool) -> None:
    with lib.batch() as c:
        if staged:
            c.executemany(_STAGE, zip(repeat(catalog_id), *cols))
        else:
            c.executemany(_UPSERT, zip(repeat(catalog_id), repeat(gen), *cols))


def _counting_bad_lines(reader, rep: ImportReport):
    """The reader's chunks; the lines pandas skips (it says so in a ParserWarning per chunk)
    are counted in the report, and the first few named, instead of vanishing."""
    import warnings

    it = iter(reader)
    while True:
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always", pd.errors.ParserWarning)
            chunk = next(it, None)
        for w in seen:
            lines = [x for x in str(w.message).splitlines() if x.startswith("Skipping line")]
            for x in lines[: max(0, 5 - rep.malformed)]:
                rep.messages.append(x.replace("Skipping line", "skipped malformed line").rstrip())
            rep.malformed += len(lines)
        if chunk is None:
            return
        yield chunk


def convert_chunk(chunk: pd.DataFrame, schema: Schema, colmap: dict[str, str], rep: ImportReport) -> list[list]:
    """The chunk as columns in _COLS order (None for unknown). Works column-wise on
    plain lists and numpy arrays: per-cell pandas calls would dominate a 1.2M-row import."""
    n = len(chunk)

    def col(field_name: str) -> pd.Series | None:
        src = schema.fields.get(field_name)
        return chunk[colmap[src]] if src in colmap else None

    ids = _texts(col("external_id"), n)
    ok = np.array([i is not None for i in ids], dtype=bool)
    rep.skipped += int(n - ok.sum())
    out: dict[str, list] = {"external_id": ids}
    for f in ("title", "album", "genre", "album_id", "mbid"):
        out[f] = _texts(col(f), n)
    firsts, joined = _split_artists(_texts(col("artist"), n), schema.artists)
    out["artist"], out["artists"] = firsts, joined
    # catalogs without album ids: an album is one artist's album title
    out["album_id"] = [aid if aid is not None else (f"{ar or ''}|{al}" if al is not None else None)
                       for aid, al, ar in zip(out["album_id"], out["album"], firsts, strict=True)]
    year = col("year")
    years = (pd.to_numeric(year.astype("string").str.slice(0, 4), errors="coerce").to_numpy(float, na_value=np.nan)
             if year is not None else np.full(n, np.nan))
    out["year"] = _ints(years)
    dur = _numbers(col("duration"), n)
    out["duration"] = _floats(dur / 1000.0 if schema.fields.get("duration", "").endswith("_ms") else dur)
    out["track_no"] = _ints(_numbers(col("track_no"), n))
    for a in CATALOG_ATTRS:
        s = col(a)
        if s is None:
            out[a] = [None] * n
            continue
        if a == "key" and schema.name == "acousticbrainz":
            v = np.array([float(KEY_NAMES.index(k)) if k in KEY_NAMES else np.nan for k in _texts(s, n)])
        elif a == "mode" and schema.name == "acousticbrainz":
            v = np.array([{"major": 1.0, "minor": 0.0}.get((k or "").lower(), np.nan) for k in _texts(s, n)])
        else:
            v = _numbers(s, n)
        given = s.notna().to_numpy()
        with np.errstate(invalid="ignore"):
            bad = (np.isnan(v) & given) | _out_of_range(a, v)
        rep.bad_values += int((bad & ok).sum())
        v = np.where(bad, np.nan, v)
        out[a] = _ints(v) if a in ("key", "mode") else _floats(v)
    if schema.extra_numeric:
        used = {colmap[c] for c in schema.fields.values() if c in colmap}
        nums = {c: pd.to_numeric(chunk[c], errors="coerce") for c in chunk.columns if c not in used}
        nums = {c: v for c, v in nums.items() if v.notna().any()}
        frame = pd.DataFrame(nums, index=chunk.index)
        out["extra"] = [json.dumps({k: v for k, v in rec.items() if v == v}) for rec in frame.to_dict("records")]
    else:
        out["extra"] = [None] * n
    cols = [out[c] for c in _COLS]
    if not ok.all():
        keep = np.nonzero(ok)[0].tolist()
        cols = [[c[i] for i in keep] for c in cols]
    return cols


def _texts(s: pd.Series | None, n: int) -> list:
    if s is None:
        return [None] * n
    return [v.strip() or None if isinstance(v, str) else (None if v is None or v != v else str(v))
            for v in s.tolist()]


def _numbers(s: pd.Series | None, n: int) -> np.ndarray:
    if s is None:
        return np.full(n, np.nan)
    if s.dtype.kind in "fiu":
        return s.to_numpy(dtype=float)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _floats(v: np.ndarray) -> list:
    o = v.astype(object)
    o[np.isnan(v)] = None
    return o.tolist()


def _ints(v: np.ndarray) -> list:
    nan = np.isnan(v)
    o = np.where(nan, 0, v).astype(np.int64).astype(object)
    o[nan] = None
    return o.tolist()


def _out_of_range(a: str, v: np.ndarray) -> np.ndarray:
    if a in UNIT_ATTRIBUTES:
        return (v < 0) | (v > 1)
    if a == "key":
        return (v < -1) | (v > 11) | (v != np.round(v))
    if a == "mode":
        return ~np.isin(v, [0, 1]) & ~np.isnan(v)
    if a == "tempo":
        return (v < 0) | (v > 400)
    if a == "loudness":
        return (v < -80) | (v > 10)
    return np.zeros(len(v), dtype=bool)


_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"")


def _split_artists(values: list, how: str) -> tuple[list, list]:
    """(first artist, all artists joined with ', ') per row."""
    firsts, joined = [], []
    sep = {"semicolon": ";", "comma": ","}.get(how)
    for s in values:
        if s is None:
            parts = None
        elif how == "pylist":  # "['A', \"B'C\"]" as written by the 1.2M dataset
            if s.startswith("['") and s.endswith("']") and '"' not in s and "\\" not in s:
                parts = s[2:-2].split("', '")
            else:
                parts = [(a or b).replace("\\'", "'") for a, b in _QUOTED.findall(s)] or [s]
        elif sep is not None:
            parts = [x.strip() for x in s.split(sep) if x.strip()]
        else:
            parts = [s]
        firsts.append(parts[0] if parts else None)
        joined.append(", ".join(parts) if parts else None)
    return firsts, joined


def _finish(lib: Library, catalog_id: int, gen: int, staged: bool, rep: ImportReport) -> None:
    with lib.batch() as c:
        if staged:  # the whole new file at once: existing ids keep their rows (and ratings)
            c.execute(_MERGE, (gen, catalog_id))
            c.execute("DELETE FROM catalog_staging WHERE catalog_id=?", (catalog_id,))
        # Rows gone from the new file: keep any rating they had, waiting by catalog id / mbid.
        c.execute("INSERT INTO pending_ratings (source, mbid, catalog, external_id, value, rated_at) "
                  "SELECT 'catalog', ct.mbid, k.name, ct.external_id, r.value, r.rated_at FROM catalog_ratings r "
                  "JOIN catalog_tracks ct ON ct.id=r.catalog_track_id JOIN catalogs k ON k.id=ct.catalog_id "
                  "WHERE ct.catalog_id=? AND ct.generation<?", (catalog_id, gen))
        c.execute("DELETE FROM catalog_tracks WHERE catalog_id=? AND generation<>?", (catalog_id, gen))
        rep.imported = c.execute("SELECT COUNT(*) FROM catalog_tracks WHERE catalog_id=?", (catalog_id,)).fetchone()[0]
        rep.duplicates = max(0, rep.rows_read - rep.skipped - rep.imported)
        c.execute("INSERT INTO albums (catalog_id, album_key, title, artist, year, track_count) "
                  "SELECT ?, album_id, MAX(album), MAX(artist), MAX(year), COUNT(*) FROM catalog_tracks "
                  "WHERE catalog_id=? AND album_id IS NOT NULL GROUP BY album_id "
                  "ON CONFLICT DO UPDATE SET title=excluded.title, artist=excluded.artist, year=excluded.year, "
                  "track_count=excluded.track_count", (catalog_id, catalog_id))
        c.execute("DELETE FROM albums WHERE catalog_id=? AND album_key NOT IN (SELECT album_id FROM "
                  "catalog_tracks WHERE catalog_id=? AND album_id IS NOT NULL)", (catalog_id, catalog_id))
        c.execute("UPDATE catalogs SET generation=?, complete=1, row_count=?, imported_at=? WHERE id=?",
                  (gen, rep.imported, time.time(), catalog_id))
    lib.claim_pending_catalog_ratings(catalog_id)
