"""The library's schema, as an ordered list of migrations.

Each entry moves the database from version i to i+1 and runs inside one transaction together
with the bump of `schema_version`, so a crash mid-migration leaves the previous version intact.
Append new migrations; never edit one that has shipped.

Tables of the same shape (ratings and predictions of library tracks and of catalog rows; catalog
rows and their staging copy) are written out in full in each migration on purpose, not built
from shared column lists: a migration records what one version of the schema was, and a shared
list edited later would silently change what an old migration creates on a fresh database while
leaving existing ones as they were.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

MIGRATIONS: list[str] = [
    # 1: the first schema
    """
    CREATE TABLE tracks (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        content_hash TEXT,
        size INTEGER,
        mtime REAL,
        title TEXT, artist TEXT, album TEXT, album_artist TEXT,
        track_no INTEGER, disc_no INTEGER, year INTEGER, genre TEXT,
        mb_recording_id TEXT, mb_track_id TEXT, mb_release_id TEXT, mb_release_group_id TEXT,
        mb_artist_id TEXT, mb_album_artist_id TEXT,
        duration REAL,
        status TEXT NOT NULL DEFAULT 'ok',
        error TEXT,
        missing INTEGER NOT NULL DEFAULT 0,
        added_at REAL NOT NULL,
        analysed_at REAL
    );
    CREATE INDEX tracks_hash ON tracks(content_hash);
    CREATE INDEX tracks_recording ON tracks(mb_recording_id);

    CREATE TABLE feature_schemas (
        schema_hash TEXT PRIMARY KEY,
        pipeline TEXT NOT NULL,
        names TEXT NOT NULL
    );
    CREATE TABLE features (
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        pipeline TEXT NOT NULL,
        schema_hash TEXT NOT NULL REFERENCES feature_schemas(schema_hash),
        vector BLOB NOT NULL,
        PRIMARY KEY (track_id, pipeline)
    );
    CREATE TABLE attributes (
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        value REAL,
        provenance TEXT NOT NULL,
        confidence REAL,
        PRIMARY KEY (track_id, name)
    );
    CREATE TABLE ratings (
        track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
        value INTEGER NOT NULL CHECK (value IN (0, 1)),
        rated_at REAL NOT NULL
    );
    CREATE TABLE predictions (
        track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
        prob REAL NOT NULL,
        predicted_at REAL NOT NULL
    );

    CREATE TABLE catalogs (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        schema TEXT NOT NULL,
        source_path TEXT,
        row_count INTEGER NOT NULL DEFAULT 0,
        generation INTEGER NOT NULL DEFAULT 0,
        complete INTEGER NOT NULL DEFAULT 0,
        imported_at REAL
    );
    CREATE TABLE catalog_tracks (
        id INTEGER PRIMARY KEY,
        catalog_id INTEGER NOT NULL REFERENCES catalogs(id) ON DELETE CASCADE,
        external_id TEXT NOT NULL,
        generation INTEGER NOT NULL,
        title TEXT, artist TEXT, artists TEXT, album TEXT, album_id TEXT,
        year INTEGER, genre TEXT, duration REAL, track_no INTEGER, mbid TEXT,
        danceability REAL, energy REAL, valence REAL, acousticness REAL, instrumentalness REAL,
        liveness REAL, speechiness REAL, loudness REAL, tempo REAL, key INTEGER, mode INTEGER,
        extra TEXT
    );
    CREATE UNIQUE INDEX catalog_tracks_ext ON catalog_tracks(catalog_id, external_id);
    CREATE INDEX catalog_tracks_album ON catalog_tracks(catalog_id, album_id);
    CREATE INDEX catalog_tracks_mbid ON catalog_tracks(mbid);
    CREATE TABLE catalog_ratings (
        catalog_track_id INTEGER PRIMARY KEY REFERENCES catalog_tracks(id) ON DELETE CASCADE,
        value INTEGER NOT NULL CHECK (value IN (0, 1)),
        rated_at REAL NOT NULL
    );
    CREATE TABLE catalog_predictions (
        catalog_track_id INTEGER PRIMARY KEY REFERENCES catalog_tracks(id) ON DELETE CASCADE,
        prob REAL NOT NULL,
        predicted_at REAL NOT NULL
    );

    -- Albums of the library (catalog_id NULL) and of catalogs, for aggregation and enrichment.
    CREATE TABLE albums (
        id INTEGER PRIMARY KEY,
        catalog_id INTEGER REFERENCES catalogs(id) ON DELETE CASCADE,
        album_key TEXT NOT NULL,
        title TEXT, artist TEXT, year INTEGER,
        mb_release_group_id TEXT,
        track_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX albums_key ON albums(COALESCE(catalog_id, 0), album_key);

    -- Ratings waiting for their track: restored after a fresh start, or given by mbid before the
    -- catalog holding that recording was imported. Attached when a matching track appears.
    CREATE TABLE pending_ratings (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        path TEXT, content_hash TEXT, mbid TEXT, catalog TEXT, external_id TEXT,
        value INTEGER NOT NULL CHECK (value IN (0, 1)),
        rated_at REAL NOT NULL
    );
    CREATE INDEX pending_ratings_hash ON pending_ratings(content_hash);
    CREATE INDEX pending_ratings_mbid ON pending_ratings(mbid);

    CREATE TABLE http_cache (
        key TEXT PRIMARY KEY,
        value BLOB NOT NULL,
        stored_at REAL NOT NULL,
        expires_at REAL NOT NULL
    );
    """,
    # 2: Spotify catalogs have no MusicBrainz ids: a partial index costs nothing for their rows
    """
    DROP INDEX catalog_tracks_mbid;
    CREATE INDEX catalog_tracks_mbid ON catalog_tracks(mbid) WHERE mbid IS NOT NULL;
    """,
    # 3: a re-import loads into a staging table and replaces the catalog's rows in one transaction
    # at the end, so a cancelled or killed re-import never hides rows (or the ratings on them)
    """
    CREATE TABLE catalog_staging (
        catalog_id INTEGER NOT NULL REFERENCES catalogs(id) ON DELETE CASCADE,
        external_id TEXT NOT NULL,
        title TEXT, artist TEXT, artists TEXT, album TEXT, album_id TEXT,
        year INTEGER, genre TEXT, duration REAL, track_no INTEGER, mbid TEXT,
        danceability REAL, energy REAL, valence REAL, acousticness REAL, instrumentalness REAL,
        liveness REAL, speechiness REAL, loudness REAL, tempo REAL, key INTEGER, mode INTEGER,
        extra TEXT,
        PRIMARY KEY (catalog_id, external_id)
    );
    """,
    # 4: saved playlists: a name, when it was made, the rules that made it (JSON, so it can be
    # made again) and its tracks in order, each with the reason it is there. A track removed from
    # the library leaves its playlists (ON DELETE CASCADE); positions may then have gaps.
    """
    CREATE TABLE playlists (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        rules TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE playlist_tracks (
        playlist_id INTEGER NOT NULL REFERENCES playlists(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        why TEXT,
        PRIMARY KEY (playlist_id, position)
    ) WITHOUT ROWID;
    CREATE INDEX playlist_tracks_track ON playlist_tracks(track_id);
    """,
    # 5: what the listening model (MusiCNN) hears: tag probabilities of both vocabularies per
    # track, and the settings they were computed with (its embeddings go to `features` under the
    # pipelines musicnn-msd and musicnn-mtt). Attributes say what produced them and what their
    # confidence rests on.
    """
    CREATE TABLE track_tags (
        track_id INTEGER NOT NULL REFERENCES tracks(id) ON DELETE CASCADE,
        vocabulary TEXT NOT NULL,
        tag TEXT NOT NULL,
        prob REAL NOT NULL,
        PRIMARY KEY (track_id, vocabulary, tag)
    ) WITHOUT ROWID;
    CREATE INDEX track_tags_tag ON track_tags(tag COLLATE NOCASE, prob);
    CREATE TABLE track_listening (
        track_id INTEGER PRIMARY KEY REFERENCES tracks(id) ON DELETE CASCADE,
        schema TEXT NOT NULL
    );
    ALTER TABLE attributes ADD COLUMN source TEXT;
    ALTER TABLE attributes ADD COLUMN basis TEXT;
    """,
    # 6: the compilation flag of a track's file (ID3 TCMP, MP4 cpil, Vorbis COMPILATION): 1 when
    # set, 0 when cleared, NULL when the file does not say (and for tracks stored before this).
    """
    ALTER TABLE tracks ADD COLUMN compilation INTEGER;
    """,
]

# Indexes a bulk catalog import drops while it loads and builds again at the end (a sort is far
# cheaper than keeping them up to date row by row); Library re-creates any that a killed import
# left missing.
BULK_INDEXES = {
    "catalog_tracks_album": "CREATE INDEX IF NOT EXISTS catalog_tracks_album ON catalog_tracks(catalog_id, album_id)",
}

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(c: sqlite3.Connection, too_new: Callable[[int], Exception]) -> None:
    """Bring the database (autocommit connection) to SCHEMA_VERSION.

    The version is read inside the same write transaction that applies the migrations: two
    processes opening a fresh file at once would otherwise both see version 0 and the second
    would fail on "table tracks already exists". The second one waits (busy timeout) and then
    finds nothing left to do. An up-to-date database costs a read and no write lock."""
    if _version(c) != SCHEMA_VERSION:
        c.execute("BEGIN IMMEDIATE")
        try:
            c.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            version = _version(c)
            if version > SCHEMA_VERSION:
                raise too_new(version)
            for script in MIGRATIONS[version:]:
                for stmt in _statements(script):
                    c.execute(stmt)
            if version < SCHEMA_VERSION:
                c.execute("DELETE FROM schema_version")
                c.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
    for sql in BULK_INDEXES.values():
        c.execute(sql)


def _version(c: sqlite3.Connection) -> int:
    try:
        row = c.execute("SELECT version FROM schema_version").fetchone()
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return 0
        raise
    return row[0] if row else 0


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (sqlite3 executescript would commit on its own)."""
    out, buf = [], []
    for line in script.splitlines():
        if line.strip().startswith("--"):
            continue
        buf.append(line)
        text = "\n".join(buf)
        if text.strip().endswith(";") and sqlite3.complete_statement(text):
            out.append(text.strip())
            buf = []
    if "\n".join(buf).strip():
        out.append("\n".join(buf).strip())
    return out
