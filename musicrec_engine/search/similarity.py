"""Cosine top-N over two spaces, and why each result is close.

Attribute (taste) space: the encoding in encoding.py, for anything with Spotify-style attributes
(catalog rows and analysed library tracks). A catalog's vectors live on disk (catalog_index.py),
unit-normalised so cosine is a dot product, memory-mapped on load and built once per catalog
import (and weight setting).

Sound space (sound.py): for library tracks whose audio was analysed — the listening model's
embeddings with a share of the signal features. Kept in memory and updated incrementally: only
tracks not seen before are read from the database.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musicrec_engine.jobs import Progress
from musicrec_engine.library.store import Library, display_name
from musicrec_engine.search import encoding
from musicrec_engine.search.catalog_index import (
    CatalogIndex,
    best_indices,
    build_catalog_index,
    load_catalog_index,
)
from musicrec_engine.search.sound import (
    EMBEDDING_SHARE,
    LISTENING_PIPELINES,
    MIN_TRACKS_TO_CENTRE,
    NOT_SOUND,
    SOUND_PIPELINES,
    ListeningSpace,
    SoundSpace,
    signal_matrix,
    sound_parts,
    sound_vector,
    zscore_cosine_space,
)

log = logging.getLogger("musicrec.similarity")

__all__ = ["CatalogIndex", "ListeningSpace", "Query", "Similarity", "SoundSpace", "build_catalog_index",
           "zscore_cosine_space"]


def _top(mat: np.ndarray, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(row indices, scores) of the k best cosines, best first."""
    if len(mat) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    scores = mat @ q.astype(np.float32)
    k = min(k, len(scores))
    idx = best_indices(scores, k)
    return idx, scores[idx]


def _top_masked(mat: np.ndarray, q: np.ndarray, mask: np.ndarray, k: int,
                chunk: int = 262_144) -> tuple[np.ndarray, np.ndarray]:
    """Cosine over the query's known attributes only. Without this, a query missing (say)
    valence would favour rows that are extreme along the attributes it has, since every row's
    valence still inflates its norm. Chunked so a 1.2M-row memory map is never copied whole."""
    if len(mat) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    cols = np.nonzero(mask)[0]
    qm = q[cols].astype(np.float32)
    qn = float(np.linalg.norm(qm)) or 1.0
    scores = np.empty(len(mat), np.float32)
    for start in range(0, len(mat), chunk):
        part = np.asarray(mat[start:start + chunk])[:, cols]
        norms = np.linalg.norm(part, axis=1)
        scores[start:start + len(part)] = (part @ qm) / (qn * np.where(norms > 0, norms, 1.0))
    k = min(k, len(scores))
    idx = best_indices(scores, k)
    return idx, scores[idx]


@dataclass
class Query:
    """What to look for: a library track, a catalog track, or an analysed file not in the library."""
    track_id: int | None = None
    catalog_track_id: int | None = None
    features: Mapping[str, np.ndarray] | None = None
    attributes: Mapping | None = None  # name -> value / {"value": ...} / Attribute
    artist: str | None = None
    album: str | None = None
    content_hash: str | None = None
    # the tags the listening model gave it: [{"tag", "prob", ...}] as Library.tracks() shows them,
    # or {"msd": {tag: prob}, "mtt": {...}} straight from an analysis
    tags: list | Mapping | None = None


class Similarity:
    def __init__(self, lib: Library, index_dir: str | Path, weights: Mapping[str, float] | None = None):
        self.lib = lib
        self.index_dir = Path(index_dir)
        self.weights = encoding.weights_from(weights)
        self._lock = threading.RLock()
        self._catalogs: dict[int, CatalogIndex] = {}
        self._sound_raw: dict[int, np.ndarray] = {}
        self._sound_schema: tuple | None = None
        self._sound: tuple[np.ndarray, np.ndarray, SoundSpace] | None = None
        self._stamps: dict[int, float | None] = {}  # when each track in the sound space was analysed

    # indexes
    def catalog_index(self, catalog_id: int, progress: Progress | None = None,
                      cancel: threading.Event | None = None) -> CatalogIndex | None:
        with self._lock:
            cat = self.lib.catalog(catalog_id)
            idx = self._catalogs.get(catalog_id)
            if idx is not None and cat and idx.generation == cat["generation"]:
                return idx  # (a re-import, even by another process, brings a new generation)
            idx = load_catalog_index(self.lib, catalog_id, self.index_dir, self.weights)
            if idx is None:
                idx = build_catalog_index(self.lib, catalog_id, self.index_dir, self.weights, progress, cancel)
            if idx is not None:
                self._catalogs[catalog_id] = idx
            return idx

    def forget_catalog(self, catalog_id: int) -> None:
        with self._lock:
            self._catalogs.pop(catalog_id, None)

    def sound_space(self) -> tuple[np.ndarray, np.ndarray, SoundSpace | ListeningSpace] | None:
        """(track ids, unit vectors, fitted space) over the library; reads only new tracks' vectors.
        The listening space when every track with signal features also has embeddings, else the
        signal-feature space alone (a library analysed before the listening model)."""
        with self._lock:
            all_pipes = SOUND_PIPELINES + LISTENING_PIPELINES
            index = {p: self.lib.feature_index(p) for p in all_pipes}
            # one schema per pipeline (the most common): vectors of an older version never mix
            schema = {p: max(set(ix.values()), key=list(ix.values()).count) if ix else None
                      for p, ix in index.items()}
            members = {p: {i for i, h in index[p].items() if h == schema[p]} for p in all_pipes}
            signal = set.intersection(*[members[p] for p in SOUND_PIPELINES])
            heard = signal & set.intersection(*[members[p] for p in LISTENING_PIPELINES])
            pipes = all_pipes if heard and heard == signal else SOUND_PIPELINES
            common = heard if pipes == all_pipes else signal
            key = tuple((p, schema[p]) for p in pipes)
            if key != self._sound_schema:
                self._sound_raw, self._sound_schema, self._sound = {}, key, None
            if not common:
                return None
            stamps = self.lib.analysed_stamps()
            changed = {i for i in common if self._stamps.get(i) != stamps.get(i)}
            if self._sound is not None and set(self._sound[0].tolist()) == common and not changed:
                return self._sound
            self._stamps = {i: stamps.get(i) for i in common}
            saved_as = _space_key(key, self._stamps)
            if self._sound is None:  # a fresh engine: the space fitted on this very library, if saved
                self._sound = self._load_space(saved_as, pipes)
                if self._sound is not None:
                    return self._sound
            new = sorted((common - set(self._sound_raw)) | changed)
            if new:
                parts = {p: self.lib.features(p, ids=new) for p in pipes}
                self._sound_names = [n for p in SOUND_PIPELINES for n in parts[p][2]]
                rows = {p: dict(zip(part[0].tolist(), part[1], strict=True)) for p, part in parts.items()}
                for i in new:
                    if all(i in r for r in rows.values()):
                        self._sound_raw[i] = {p: rows[p][i] for p in pipes}
            self._sound_raw = {i: v for i, v in self._sound_raw.items() if i in common}
            ids = np.array(sorted(self._sound_raw), dtype=np.int64)
            raw = {p: np.stack([self._sound_raw[i][p] for i in ids]) for p in pipes}
            names = getattr(self, "_sound_names", None)
            if pipes == SOUND_PIPELINES:
                space = SoundSpace(names=names)
                self._sound = (ids, space.fit_transform(signal_matrix(raw)), space)
            else:
                space = ListeningSpace(names=names)
                self._sound = (ids, space.fit_transform(raw), space)
            self._save_space(saved_as, *self._sound)
            return self._sound

    # The fitted sound space is kept on disk beside the catalog indexes, named by what it was fitted
    # on (each track's vectors' schema and analysis time), so the next engine on an unchanged
    # library (the app started again, each `musicrec` command) reads it instead of reading every
    # track's vectors and fitting again (seconds for 10,000 tracks). Plain arrays, read without pickle.
    def _space_file(self) -> Path:
        return self.index_dir / "sound-space.npz"

    def _load_space(self, key: str, pipes) -> tuple | None:
        try:
            with np.load(self._space_file(), allow_pickle=False) as f:
                if str(f["key"]) != key:
                    return None
                arrays = {k: f[k] for k in f.files}
        except (OSError, ValueError, KeyError) as e:  # none yet, or unreadable: fit afresh
            if not isinstance(e, FileNotFoundError):
                log.info("sound space not read from %s: %s", self._space_file(), e)
            return None
        space = ListeningSpace.from_state(arrays) if pipes != SOUND_PIPELINES else SoundSpace.from_state(arrays)
        return arrays["ids"], arrays["vecs"], space

    def _save_space(self, key: str, ids: np.ndarray, vecs: np.ndarray, space) -> None:
        path = self._space_file()
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp.npz")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            np.savez(tmp, key=np.array(key), ids=ids, vecs=vecs, **space.state())
            os.replace(tmp, path)  # whole or not at all, also with another process saving at once
        except OSError as e:  # a full or read-only disk: the next engine fits again
            log.info("sound space not saved to %s: %s", path, e)
            tmp.unlink(missing_ok=True)

    def library_attribute_space(self) -> tuple[np.ndarray, np.ndarray, list[dict]]:
        tracks = [t for t in self.lib.tracks() if t["attributes"]]
        ids = np.array([t["id"] for t in tracks], dtype=np.int64)
        return ids, encoding.normalise(encoding.encode(tracks, self.weights)), tracks

    # search
    def similar(self, query: Query, top: int = 10, source: str = "all", catalog: int | str | None = None,
                exclude_artist: bool = False, exclude_album: bool = False) -> list[dict]:
        """Up to `top` results from each requested source (library, catalog), best first within each."""
        if source not in ("all", "library", "catalog"):
            raise ValueError("source is one of: all, library, catalog")
        q = self._resolve(query)
        out: list[dict] = []
        if source in ("all", "library"):
            out += self._library_results(q, top, exclude_artist, exclude_album)
        if source in ("all", "catalog"):
            cats = self.lib.catalogs()
            if catalog is not None:
                cats = [c for c in cats if c["id"] == catalog or c["name"] == catalog or str(c["id"]) == str(catalog)]
            hits: list[dict] = []
            for cat in cats:
                if cat["complete"]:
                    hits += self._catalog_results(q, cat, top, exclude_artist, exclude_album)
            hits.sort(key=lambda r: -r["score"])
            out += hits[:top]
        return out

    def _resolve(self, query: Query) -> dict:
        q = {"features": query.features, "attributes": query.attributes, "artist": query.artist,
             "album": query.album, "track_id": query.track_id, "catalog_track_id": query.catalog_track_id,
             "content_hash": query.content_hash, "album_id": None, "external_id": None,
             "tags": _tag_names(query.tags)}
        if query.track_id is not None:
            t = self.lib.track(int(query.track_id))
            if t is None:
                raise ValueError(f"no library track with id {query.track_id}")
            q.update(attributes=t["attributes"], artist=t["album_artist"] or t["artist"], album=t["album"],
                     content_hash=t["content_hash"], title=t["title"], tags=_tag_names(t.get("tags")))
            q["artists"] = {_fold(t["artist"]), _fold(t["album_artist"])} - {""}
            q["all_artists"] = q["artists"]
        elif query.catalog_track_id is not None:
            rows = self.lib.catalog_tracks(ids=[int(query.catalog_track_id)])
            if not rows:
                raise ValueError(f"no catalog track with id {query.catalog_track_id}")
            t = rows[0]
            q.update(attributes=t["attributes"], artist=t["artist"], album=t["album"], album_id=t["album_id"],
                     external_id=t["external_id"], title=t["title"])
            q["artists"] = {_fold(t["artist"])} - {""}
            q["all_artists"] = ({_fold(a) for a in (t["artists"] or "").split(", ")} | q["artists"]) - {""}
        else:
            q["artists"] = q["all_artists"] = {_fold(query.artist)} - {""}
        q["attr_vec"] = encoding.encode([{"attributes": q["attributes"] or {}}], self.weights)[0]
        q["has_attrs"] = bool(q["attributes"])
        known = [a for a in [*encoding.CONTINUOUS, "key", "mode"] if _val(q["attributes"], a) is not None]
        q["mask"] = None
        if q["has_attrs"] and len(known) < len(encoding.CONTINUOUS) + 2:
            mask = np.zeros(encoding.DIM, dtype=bool)
            g = encoding.groups()
            for a in known + (["tempo_bin"] if "tempo" in known else []):
                mask[g[a]] = True
            q["mask"] = mask
        return q

    def _library_results(self, q: dict, top: int, exclude_artist: bool, exclude_album: bool) -> list[dict]:
        sound = self.sound_space()
        qvec, space, ids, mat = None, "sound", None, None
        if sound is not None:
            ids, mat, fitted = sound
            if q["track_id"] is not None and q["track_id"] in set(ids.tolist()):
                qvec = mat[int(np.searchsorted(ids, q["track_id"]))]
            elif q["features"] is not None:
                qvec = _query_vector(fitted, q["features"])
        if qvec is None:  # no audio for the query: fall back to the attribute space
            if not q["has_attrs"]:
                return []
            ids, mat, _ = self.library_attribute_space()
            qvec, space = encoding.normalise(q["attr_vec"][None, :])[0], "attributes"
        mask = q["mask"] if space == "attributes" else None
        want = top
        while True:
            n = min(len(ids), want * 4 + 8)
            idx, scores = _top(mat, qvec, n) if mask is None else _top_masked(mat, qvec, mask, n)
            cand = self.lib.tracks(ids=ids[idx].tolist())
            by_id = {t["id"]: t for t in cand}
            res = []
            for i, s in zip(idx, scores, strict=True):
                t = by_id.get(int(ids[i]))
                if t is None or self._is_query(q, t) or self._excluded(q, t, exclude_artist, exclude_album):
                    continue
                res.append(self._result(q, t, float(s), "library", space))
                if len(res) == top:
                    break
            if len(res) == top or len(idx) >= len(ids):
                return self._explain(q, res)
            want *= 4

    def _catalog_results(self, q: dict, cat: dict, top: int, exclude_artist: bool, exclude_album: bool) -> list[dict]:
        if not q["has_attrs"]:
            return []
        idx_obj = self.catalog_index(cat["id"])
        if idx_obj is None or len(idx_obj.ids) == 0:
            return []
        qvec = encoding.normalise(q["attr_vec"][None, :])[0]
        want = top
        while True:
            idx, scores = idx_obj.top(qvec, min(len(idx_obj.ids), want * 4 + 8), q["mask"])
            rows = {r["id"]: r for r in self.lib.catalog_tracks(ids=idx_obj.ids[idx].tolist())}
            res = []
            for i, s in zip(idx, scores, strict=True):
                r = rows.get(int(idx_obj.ids[i]))
                if r is None or self._is_query(q, r) or self._excluded(q, r, exclude_artist, exclude_album):
                    continue
                r["catalog"] = cat["name"]
                res.append(self._result(q, r, float(s), "catalog", "attributes"))
                if len(res) == top:
                    break
            if len(res) == top or len(idx) >= len(idx_obj.ids):
                return self._explain(q, res)
            want *= 4

    @staticmethod
    def _is_query(q: dict, t: dict) -> bool:
        if t["source"] == "library":
            return t["id"] == q["track_id"] or (q["content_hash"] is not None and t["content_hash"] == q["content_hash"])
        return t["id"] == q["catalog_track_id"]

    @staticmethod
    def _excluded(q: dict, t: dict, exclude_artist: bool, exclude_album: bool) -> bool:
        if exclude_artist and q["artists"]:
            # same main artist, or one side features the other's main artist; two tracks that
            # merely share a guest are kept
            main = {_fold(t.get("artist")), _fold(t.get("album_artist"))} - {""}
            credited = main | {_fold(a) for a in (t.get("artists") or "").split(", ")} - {""}
            if q["artists"] & credited or main & q["all_artists"]:
                return True
        if exclude_album and q["album"]:
            if t["source"] == "catalog" and q["album_id"] and t.get("album_id") == q["album_id"]:
                return True
            if _fold(t.get("album")) == _fold(q["album"]) and (not q["artists"] or q["artists"] & {
                    _fold(t.get("artist")), _fold(t.get("album_artist"))}):
                return True
        return False

    def _result(self, q: dict, t: dict, score: float, source: str, space: str) -> dict:
        return {"id": t["id"], "source": source, "space": space, "score": round(score, 4),
                "name": display_name(t, t.get("path")), "title": t.get("title"),
                "artist": t.get("artist"), "album": t.get("album"), "path": t.get("path"),
                "catalog": t.get("catalog"), "catalog_id": t.get("catalog_id"), "external_id": t.get("external_id"),
                "album_id": t.get("album_id"), "because": [], "_attributes": t.get("attributes") or {},
                "shared_tags": [x for x in _tag_names(t.get("tags")) if x in q["tags"]]}

    def _explain(self, q: dict, results: list[dict]) -> list[dict]:
        """Fill each result's `because`: the attributes with the largest shares of the cosine
        between query and result in the attribute space (one encode for the whole list)."""
        attrs = [r.pop("_attributes") for r in results]
        if not q["has_attrs"] or not results:
            return results
        vecs = encoding.encode([{"attributes": a} for a in attrs], self.weights)
        qv = q["attr_vec"] if q["mask"] is None else q["attr_vec"] * q["mask"]
        for r, a, v in zip(results, attrs, vecs, strict=True):
            if not a:
                continue
            if q["mask"] is not None:
                v = v * q["mask"]
            for name in encoding.closest_attributes(qv, v, top=3):
                name = "tempo" if name == "tempo_bin" else name
                if name not in (b["attribute"] for b in r["because"]):
                    r["because"].append({"attribute": name, "query": _val(q["attributes"], name),
                                         "result": _val(a, name)})
        return results


# Bump when the way the space is fitted changes, so spaces saved by older code are fitted again.
SPACE_VERSION = 2


def _space_key(schemas: tuple, stamps: Mapping[int, float | None]) -> str:
    """Names one fitted sound space: the code's settings, the vectors' schemas, and each track with
    when it was analysed (a track added, gone or analysed again makes another space)."""
    import hashlib

    fitter = SoundSpace()
    h = hashlib.sha256(repr((SPACE_VERSION, EMBEDDING_SHARE, NOT_SOUND, MIN_TRACKS_TO_CENTRE, fitter.shrink,
                             fitter.max_components, schemas)).encode())
    ids = np.array(sorted(stamps), dtype=np.int64)
    h.update(ids.tobytes())
    h.update(np.array([stamps[i] if stamps[i] is not None else np.nan for i in ids.tolist()], np.float64).tobytes())
    return h.hexdigest()


def _query_vector(fitted, features: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """A file's unit vector in the fitted sound space, or None when it lacks a vector the space needs."""
    if isinstance(fitted, ListeningSpace):
        parts = sound_parts(features, SOUND_PIPELINES + LISTENING_PIPELINES)
        if parts is None or (fitted.signal is not None and
                             parts["mfcc"].shape[1] + parts["stats"].shape[1] != fitted.signal.cols.size):
            return None
        return fitted.transform(parts)[0]
    v = sound_vector(features)
    return fitted.transform(v[None, :])[0] if v is not None and v.shape[0] == fitted.dim else None


def _tag_names(tags) -> list[str]:
    """The names of the tags a track has, most probable first: from Library.tracks()' shown list,
    or from an analysis' full probabilities (the same rule: heard_tags.SHOWN per vocabulary)."""
    if not tags:
        return []
    if isinstance(tags, Mapping):
        from musicrec_engine.library.heard_tags import LIKELY, SHOWN

        pairs = [(p, t) for probs in tags.values()
                 for i, (t, p) in enumerate(sorted(probs.items(), key=lambda kv: -kv[1])) if i < SHOWN or p >= LIKELY]
        tags = [{"tag": t, "prob": p} for p, t in sorted(pairs, reverse=True)]
    out: list[str] = []
    for d in tags:
        name = d["tag"] if isinstance(d, Mapping) else str(d)
        if name.casefold() not in (o.casefold() for o in out):
            out.append(name)
    return out


def _val(attrs: Mapping | None, name: str):
    v = (attrs or {}).get(name)
    if isinstance(v, Mapping):
        v = v.get("value")
    elif v is not None and hasattr(v, "value"):
        v = v.value
    return v


def _fold(s: str | None) -> str:
    return (s or "").strip().casefold()
