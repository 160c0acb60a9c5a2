"""Parquet catalog files: the ones `musicrec catalog build` makes from an archive of audio files
(features, attributes, tags and embeddings per track, with path, title, artist and album from the
files' tags), and any of the CSV schemas' columns stored as Parquet.

The file's format is named here (the columns a catalog row takes, and the metadata key under which
the builder records how the rows were analysed); the rows go through the same conversion, staging
table and generations as a CSV import (library/catalogs.py), so a cancelled or killed import of a
Parquet file leaves the previous rows visible too. pyarrow is imported only here, when a Parquet
file is imported.
"""

from __future__ import annotations

import threading
from pathlib import Path

from musicrec_engine.jobs import Progress
from musicrec_engine.library.catalogs import (
    CHUNK_ROWS,
    SCHEMAS,
    CatalogError,
    ImportReport,
    Schema,
    convert_chunk,
    detect,
    normalised_columns,
    run_import,
    store_chunk,
)
from musicrec_engine.library.store import CATALOG_ATTRS, Library

METADATA_KEY = b"musicrec.catalog"  # JSON: format version, window, feature schemas and names, tag names
FORMAT_VERSION = 1

# The columns of a catalog file that a catalog row takes (musicrec_engine/cluster/catalog_file.py
# writes them, with the feature vectors, tags and embeddings beside them, which catalogs do not use).
MUSICREC = Schema("musicrec", "a catalog file made by 'musicrec catalog build' (Parquet)",
                  ["external_id", "path", "title", "artist", "album", *CATALOG_ATTRS],
                  {"external_id": "external_id", "title": "title", "album": "album", "album_id": "album_id",
                   "artist": "artist", "genre": "genre", "year": "year", "duration": "duration",
                   "track_no": "track_no", "mbid": "mbid", **{a: a for a in CATALOG_ATTRS}},
                  id_col="external_id")


def import_parquet(lib: Library, path: str | Path, name: str | None = None, progress: Progress | None = None,
                   cancel: threading.Event | None = None, chunk_rows: int = CHUNK_ROWS) -> ImportReport:
    """A Parquet catalog: one made by `musicrec catalog build`, or any of the CSV schemas' columns
    stored as Parquet. Read a row group's worth at a time, into the same staging and generations
    as a CSV. Plain columns only: a column of a Python extension type (which pyarrow would rebuild
    by unpickling) is refused, so nothing in the file is ever unpickled."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise CatalogError("reading a Parquet catalog needs pyarrow: pip install 'musicrec[cluster]'") from None
    path = Path(path)
    try:
        pf = pq.ParquetFile(path)
        arrow_schema = pf.schema_arrow
    except (OSError, pa.ArrowException) as e:
        raise CatalogError(f"{path}: cannot be read as Parquet ({str(e).splitlines()[0]})") from None
    odd = [f.name for f in arrow_schema if isinstance(f.type, pa.ExtensionType)]
    if odd:
        raise CatalogError(f"{path}: columns of an extension type ({', '.join(odd[:5])}) are not read")
    columns = list(arrow_schema.names)
    schema = detect(columns, [MUSICREC, *SCHEMAS])
    colmap = normalised_columns(columns, schema)
    # What a catalog row holds (never the vectors of a built catalog), and for a schema that keeps
    # its other numbers (the album recommender's model reads them) every plain column.
    wanted = {colmap[n] for n in schema.fields.values() if n in colmap}
    if schema.extra_numeric:
        wanted |= {f.name for f in arrow_schema if _plain(pa, f.type)}
    wanted = [c for c in columns if c in wanted]
    total = pf.metadata.num_rows

    def load(lib, catalog_id, gen, staged, rep) -> None:
        for batch in pf.iter_batches(batch_size=chunk_rows, columns=wanted):
            if cancel is not None and cancel.is_set():
                rep.cancelled = True
                return
            chunk = pa.Table.from_batches([batch]).to_pandas(ignore_metadata=True)
            store_chunk(lib, convert_chunk(chunk, schema, colmap, rep), catalog_id, gen, staged)
            rep.rows_read += len(chunk)
            if progress:
                progress(rep.rows_read, total, f"{rep.rows_read} rows read")

    try:
        return run_import(lib, path, name, schema, load, progress, total)
    except (OSError, pa.ArrowException) as e:
        raise CatalogError(f"{path}: cannot be read as Parquet ({str(e).splitlines()[0]})") from None


def _plain(pa, t) -> bool:
    """A number, a flag or text: a column the conversion can read as a cell per row."""
    text = pa.types.is_string(t) or pa.types.is_large_string(t) or getattr(pa.types, "is_string_view", bool)(t)
    return text or pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
