"""What the listening model heard, in the library: tag probabilities and embeddings per track.

Tags of both MusiCNN vocabularies ("msd": Last.fm tags of the Million Song Dataset, "mtt":
MagnaTagATune) go to `track_tags`, one row per (track, vocabulary, tag); the settings they were
computed with (the listening schema: weights' hashes and patch count) to `track_listening`. The
two 200-value embeddings are ordinary feature vectors in `features`, under the pipelines
`musicnn-msd` and `musicnn-mtt` with the listening schema as their schema hash, so the sound space
reads them like any other vector and never mixes two settings.

A track "has" a tag when the tag is among the few most probable of its vocabulary for that track
(SHOWN per vocabulary), or is simply likely (probability >= LIKELY). Tag probabilities are
sigmoid outputs of multi-label models: most tags of most tracks sit near zero, and the top ones
of a clearly tagged track are rarely above 0.6, so a fixed threshold alone would tag little.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable

import numpy as np

VOCABULARIES = ("msd", "mtt")
EMBEDDING_PIPELINES = {"msd": "musicnn-msd", "mtt": "musicnn-mtt"}
SHOWN = 5  # tags per vocabulary that a track is said to have (and the app shows)
LIKELY = 0.5


def embedding_schema_hash(schema: str, vocabulary: str) -> str:
    """The `features.schema_hash` of one model's embedding computed with listening `schema`."""
    return "musicnn-" + hashlib.sha256(f"{schema}|{vocabulary}|embedding".encode()).hexdigest()[:16]


def write(c: sqlite3.Connection, track_id: int, tags: dict | None, embeddings: dict | None,
          schema: str | None) -> None:
    """Replace one track's tags and embeddings inside the caller's transaction (store_analysis has
    already removed its old feature rows)."""
    c.execute("DELETE FROM track_tags WHERE track_id=?", (track_id,))
    c.execute("DELETE FROM track_listening WHERE track_id=?", (track_id,))
    if not tags or not schema:
        return
    c.executemany("INSERT INTO track_tags VALUES (?,?,?,?)",
                  [(track_id, vocab, tag, float(p)) for vocab, probs in tags.items() for tag, p in probs.items()])
    c.execute("INSERT INTO track_listening VALUES (?,?)", (track_id, schema))
    for vocab, vec in (embeddings or {}).items():
        pipeline = EMBEDDING_PIPELINES.get(vocab)
        if pipeline is None or vec is None:
            continue
        vec = np.asarray(vec, dtype=np.float32).ravel()
        sh = embedding_schema_hash(schema, vocab)
        c.execute("INSERT OR IGNORE INTO feature_schemas VALUES (?,?,?)",
                  (sh, pipeline, json.dumps([f"{vocab}_emb_{i}" for i in range(len(vec))])))
        c.execute("INSERT OR REPLACE INTO features VALUES (?,?,?,?)", (track_id, pipeline, sh, vec.tobytes()))


def track_tags(lib, track_id: int) -> dict[str, dict[str, float]]:
    """{"msd": {tag: prob}, "mtt": {...}} of one track ({} when it has not been listened to)."""
    out: dict[str, dict[str, float]] = {}
    for vocab, tag, p in lib.query("SELECT vocabulary, tag, prob FROM track_tags WHERE track_id=?", (int(track_id),)):
        out.setdefault(vocab, {})[tag] = p
    return out


def listening_schema(lib, track_id: int) -> str | None:
    row = lib.query("SELECT schema FROM track_listening WHERE track_id=?", (int(track_id),))
    return row[0][0] if row else None


def shown_tags(lib, ids: Iterable[int] | None = None, per_vocabulary: int = SHOWN) -> dict[int, list[dict]]:
    """track id -> the tags it has, most probable first: [{"tag", "prob", "vocabulary"}], the top
    `per_vocabulary` of each vocabulary, a tag both vocabularies name given once (higher probability)."""
    where, params = "", []
    if ids is not None:
        ids = [int(i) for i in ids]
        if not ids:
            return {}
        where = f"WHERE track_id IN ({','.join('?' * len(ids))})"
        params = ids
    rows = lib.query(f"SELECT track_id, vocabulary, tag, prob FROM (SELECT track_id, vocabulary, tag, prob, "
                  f"ROW_NUMBER() OVER (PARTITION BY track_id, vocabulary ORDER BY prob DESC) AS rank "
                  f"FROM track_tags {where}) WHERE rank<=? OR prob>=? ORDER BY track_id, prob DESC",
                  [*params, int(per_vocabulary), LIKELY])
    out: dict[int, list[dict]] = {}
    seen: dict[int, set] = {}
    for tid, vocab, tag, p in rows:
        key = tag.casefold()
        if key in seen.setdefault(tid, set()):
            continue
        seen[tid].add(key)
        out.setdefault(tid, []).append({"tag": tag, "prob": round(float(p), 4), "vocabulary": vocab})
    return out


def tracks_with_tag(lib, tag: str, per_vocabulary: int = SHOWN) -> set[int]:
    """Ids of the tracks that have `tag` (case-insensitive, either vocabulary; see the module doc)."""
    rows = lib.query("SELECT track_id FROM (SELECT track_id, tag, prob, ROW_NUMBER() OVER (PARTITION BY track_id, "
                  "vocabulary ORDER BY prob DESC) AS rank FROM track_tags) WHERE tag=? COLLATE NOCASE "
                  "AND (rank<=? OR prob>=?)", (tag.strip(), int(per_vocabulary), LIKELY))
    return {r[0] for r in rows}


def split_terms(text: str | None) -> tuple[list[str], list[str]]:
    """A filter text's `tag:NAME` terms (NAME folded, "_" for a space: "tag:hard_rock") and its other words."""
    tags, words = [], []
    for w in (text or "").split():
        if w.casefold().startswith("tag:") and len(w) > 4:
            tags.append(w[4:].replace("_", " ").casefold())
        else:
            words.append(w)
    return tags, words


def has_tags(track: dict, wanted: list[str]) -> bool:
    """Whether a track (as Library.tracks() gives it) has every one of the `wanted` tags (folded names)."""
    have = {str(t["tag"]).casefold() for t in track.get("tags") or []}
    return all(w in have for w in wanted)


def vocabulary() -> dict[str, list[str]]:
    """Every tag each vocabulary can give, in model order (for completion and validation)."""
    from musicrec_engine.listening.vocab import TAGS

    return {k: list(v) for k, v in TAGS.items()}
