"""Cosine top-N over two spaces.

Attribute (taste) space: the encoding in encoding.py, for anything with Spotify-style attributes
(catalog rows and analysed library tracks). A catalog's vectors live in one contiguous float32
matrix on disk, unit-normalised so cosine is a dot product, memory-mapped on load and built once
per catalog import (and weight setting).

Sound space: for library tracks whose audio was analysed. Mostly what the listening model
(MusiCNN) hears: its two 200-value embeddings (MSD and MTT models), each z-scored over the library
so neither model's scale dominates, joined with a smaller share (EMBEDDING_SHARE) of the older
signal-feature space: the MFCC-273 and statistical vectors, z-scored and whitened with a
regularised PCA fitted on the library (so that no group of correlated features, e.g. 40 mel bands
that move together, dominates the cosine). On real recordings the embeddings find same-album
neighbours far more often than the signal features, and the mix a little more often than the
embeddings alone (docs/BENCHMARKS.md, "Listening: same-album neighbours"). A library analysed
before the listening model has no embeddings: it keeps the signal-feature space until re-analysed.
Kept in memory and updated incrementally: only tracks not seen before are read from the database.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musicrec_engine.library.store import CATALOG_ATTRS, Library
from musicrec_engine.search import encoding

log = logging.getLogger("musicrec.similarity")
Progress = Callable[[int, int, str], None]
SOUND_PIPELINES = ("mfcc", "stats")
LISTENING_PIPELINES = ("musicnn-msd", "musicnn-mtt")
# The embeddings' share of the sound space's cosine; the signal features have the rest. Chosen on
# the real recordings of benchmarks/bench_listening_real.py (see its table of shares).
EMBEDDING_SHARE = 0.8
BUILD_CHUNK = 200_000


# --- sound space ---------------------------------------------------------------------------------
# Feature families that describe the notes (key, melody, pitch) rather than the sound: they
# change from track to track within one album, so they blur "sounds like". Also the MFCC
# delta-deltas, the noisiest third of the MFCC block.
NOT_SOUND = ("chroma_", "tonnetz", "f0_", "f0", "tristimulus", "inharmonicity", "ddmfcc")


def sound_columns(names: list[str] | None, n: int) -> np.ndarray:
    """Which feature columns the sound space uses (all when names are unknown)."""
    if not names:
        return np.ones(n, dtype=bool)
    return np.array([not n_.startswith(NOT_SOUND) for n_ in names], dtype=bool)


MIN_TRACKS_TO_CENTRE = 10


class SoundSpace:
    """z-score -> regularised PCA whitening -> unit length, fitted on the library's own tracks.

    Settings chosen on the development set of benchmarks/bench_similarity_quality.py only."""

    def __init__(self, shrink: float = 1.0, max_components: int = 16, names: list[str] | None = None):
        self.shrink = shrink  # added to each eigenvalue as a share of their median: tames noise directions
        self.max_components = max_components
        self.names = names

    def fit(self, x: np.ndarray) -> SoundSpace:
        x = np.asarray(x, np.float64)
        self.cols = sound_columns(self.names, x.shape[1])
        x = x[:, self.cols]
        if len(x) < MIN_TRACKS_TO_CENTRE:
            # Centring on a handful of tracks makes them mirror images (two tracks always score -1):
            # scale each column by its RMS instead and let the cosine compare raw profiles.
            self.mean = np.zeros(x.shape[1])
            std = np.sqrt(np.mean(np.square(x), axis=0))
        else:
            self.mean = x.mean(axis=0)
            std = x.std(axis=0)
        self.std = np.where(std > 1e-9, std, 1.0)
        z = (x - self.mean) / self.std
        n = len(z)
        # Whitening as many directions as there are tracks makes every pair equally far apart:
        # keep well under n.
        k = min(self.max_components, n // 3, z.shape[1])
        if k < 2 or n < MIN_TRACKS_TO_CENTRE:  # too few tracks to estimate a covariance
            self.proj = None
            return self
        _, s, vt = np.linalg.svd(z, full_matrices=False)
        eig = (s[:k] ** 2) / max(1, n - 1)
        self.proj = (vt[:k].T / np.sqrt(eig + self.shrink * np.median(eig))).astype(np.float64)
        return self

    @property
    def dim(self) -> int:
        return int(self.cols.size)

    def transform(self, x: np.ndarray) -> np.ndarray:
        z = (np.asarray(x, np.float64)[:, self.cols] - self.mean) / self.std
        if self.proj is not None:
            z = z @ self.proj
        return encoding.normalise(np.nan_to_num(z).astype(np.float32))


class ListeningSpace:
    """The product's sound space: z-scored MusiCNN embeddings (both models) with EMBEDDING_SHARE of
    the cosine, the signal-feature SoundSpace with the rest. `fit` and `transform` take
    {pipeline: matrix} with LISTENING_PIPELINES and SOUND_PIPELINES (features in that order)."""

    def __init__(self, names: list[str] | None = None, share: float = EMBEDDING_SHARE):
        self.names, self.share = names, share

    def fit(self, parts: Mapping[str, np.ndarray]) -> ListeningSpace:
        self.stats = {}
        for p in LISTENING_PIPELINES:
            x = np.asarray(parts[p], np.float64)
            if len(x) < MIN_TRACKS_TO_CENTRE:
                # too few tracks to centre on: the embeddings come batch-normalised (about zero mean,
                # unit spread over the models' training music), so they compare as they are
                self.stats[p] = (np.zeros(x.shape[1]), np.ones(x.shape[1]))
            else:
                std = x.std(axis=0)
                self.stats[p] = (x.mean(axis=0), np.where(std > 1e-9, std, 1.0))
        self.signal = SoundSpace(names=self.names).fit(_signal(parts)) if self.share < 1 else None
        return self

    @property
    def dim(self) -> int:
        return int(self.signal.dim) if self.signal is not None else 0

    def transform(self, parts: Mapping[str, np.ndarray]) -> np.ndarray:
        blocks = []
        for p in LISTENING_PIPELINES:
            mean, std = self.stats[p]
            blocks.append(encoding.normalise(np.nan_to_num((np.asarray(parts[p], np.float64) - mean) / std)
                                             .astype(np.float32)))
        emb = encoding.normalise(np.hstack(blocks))
        if self.signal is None:
            return emb
        sig = self.signal.transform(_signal(parts))
        return encoding.normalise(np.hstack([np.sqrt(self.share) * emb, np.sqrt(1 - self.share) * sig]))


def _signal(parts: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.hstack([np.asarray(parts[p], np.float64) for p in SOUND_PIPELINES])


def zscore_cosine_space(x: np.ndarray) -> np.ndarray:
    """Seed 000's plain method, kept as the benchmark baseline: cosine over z-scored features."""
    x = np.asarray(x, np.float64)
    std = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(std > 1e-9, std, 1.0)
    return encoding.normalise(z.astype(np.float32))


def sound_vector(features: Mapping[str, np.ndarray]) -> np.ndarray | None:
    parts = [np.asarray(features.get(p), np.float32).ravel() for p in SOUND_PIPELINES if features.get(p) is not None]
    return np.concatenate(parts) if len(parts) == len(SOUND_PIPELINES) else None


def sound_parts(features: Mapping[str, np.ndarray], pipelines) -> dict[str, np.ndarray] | None:
    """One track's vectors as (1, n) rows per pipeline, or None when one is missing."""
    if not all(features.get(p) is not None for p in pipelines):
        return None
    return {p: np.asarray(features[p], np.float32).reshape(1, -1) for p in pipelines}


# --- catalog index -------------------------------------------------------------------------------
N_CONT = len(encoding.CONTINUOUS)
ONE_HOT = ("key", "mode", "tempo_bin")


@dataclass
class CatalogIndex:
    """A catalog's unit vectors in a compact layout, memory-mapped: the continuous part as an
    (n, 9) float32 matrix; the one-hot groups (key, mode, tempo bin) as one int16 code per row
    naming the combination; and the row's 1/norm. Cosine = cont @ q_cont + inv * table[code]:
    the same numbers as the full 29-dimension dot product, reading 38 bytes a row instead of 116."""
    catalog_id: int
    ids: np.ndarray  # catalog_track ids, int64
    cont: np.ndarray  # (n, 9) float32: continuous part of each unit-length row
    inv: np.ndarray  # (n,) float32: 1 / norm of the encoded row (0 for an empty row)
    code: np.ndarray  # (n,) int16: combination of key, mode, tempo bin codes (see combine_codes)
    onehot_value: tuple[float, float, float]  # the encoded value of a set one-hot entry, per group
    generation: int = 0  # the catalog import it was built from

    def _table(self, q: np.ndarray, squares: bool = False, groups: tuple = ONE_HOT) -> np.ndarray:
        """Per combined code: the one-hot part's dot with q (or its squared norm, for `groups`)."""
        g = encoding.groups()
        parts = []
        for name, v in zip(ONE_HOT, self.onehot_value, strict=True):
            size = g[name].stop - g[name].start
            if squares:
                t = np.full(size + 1, v * v if name in groups else 0.0)
                t[size] = 0.0
            else:
                t = np.append(q[g[name]] * v, 0.0)
            parts.append(t)
        kt, mt, tt = parts
        return (kt[:, None, None] + mt[None, :, None] + tt[None, None, :]).ravel().astype(np.float32)

    def top(self, q: np.ndarray, k: int, mask: np.ndarray | None = None,
            chunk: int = 262_144) -> tuple[np.ndarray, np.ndarray]:
        """(row indices, scores) of the k best cosines, best first; with `mask`, the cosine only
        over the query's known attributes (see _top_masked)."""
        n = len(self.ids)
        if n == 0:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        q = np.asarray(q, np.float32) * (mask if mask is not None else 1)
        qn = float(np.linalg.norm(q)) or 1.0
        table = self._table(q)
        scores = self.cont @ (q[:N_CONT] / qn)
        scores += self.inv * (table[self.code] / qn)
        if mask is not None:
            g = encoding.groups()
            sq_table = self._table(q, squares=True, groups=tuple(a for a in ONE_HOT if mask[g[a]].any()))
            mc = mask[:N_CONT].astype(np.float32)
            for start in range(0, n, chunk):  # chunks: never a squared copy of the whole map
                sl = slice(start, min(n, start + chunk))
                part = self.cont[sl]
                norms = np.sqrt((part * part) @ mc + np.square(self.inv[sl]) * sq_table[self.code[sl]])
                scores[sl] /= np.where(norms > 0, norms, 1.0)
        k = min(k, n)
        idx = _best(scores, k)
        return idx, scores[idx]

    def vector(self, i: int) -> np.ndarray:
        """Row i as the full unit vector (for checks and explanations)."""
        out = np.zeros(encoding.DIM, np.float32)
        out[:N_CONT] = self.cont[i]
        g = encoding.groups()
        for name, c, v in zip(ONE_HOT, split_code(int(self.code[i])), self.onehot_value, strict=True):
            if c < g[name].stop - g[name].start:
                out[g[name].start + c] = v * self.inv[i]
        return out


_SIZES = (13, 3, 7)  # key 0..11, mode 0..1, tempo bin 0..5, each plus "none"


def combine_codes(key: np.ndarray, mode: np.ndarray, tbin: np.ndarray) -> np.ndarray:
    return (key.astype(np.int16) * (_SIZES[1] * _SIZES[2]) + mode.astype(np.int16) * _SIZES[2]
            + tbin.astype(np.int16)).astype(np.int16)


def split_code(c: int) -> tuple[int, int, int]:
    return c // (_SIZES[1] * _SIZES[2]), (c // _SIZES[2]) % _SIZES[1], c % _SIZES[2]


def _best(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k largest scores, best first (partitioning from the top end avoids
    negating, i.e. copying, a 1.2M-element array)."""
    idx = np.argpartition(scores, len(scores) - k)[len(scores) - k:]
    return idx[np.argsort(-scores[idx], kind="stable")]


def _top(mat: np.ndarray, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(row indices, scores) of the k best cosines, best first."""
    if len(mat) == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    scores = mat @ q.astype(np.float32)
    k = min(k, len(scores))
    idx = _best(scores, k)
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
    idx = _best(scores, k)
    return idx, scores[idx]


def _weights_tag(weights: Mapping[str, float]) -> str:
    return hashlib.sha1(json.dumps(sorted(weights.items())).encode()).hexdigest()[:8]


def _index_paths(base: Path) -> dict[str, Path]:
    return {k: Path(f"{base}.{k}.npy") for k in ("ids", "inv", "code", "cont")}


def build_catalog_index(lib: Library, catalog_id: int, index_dir: Path, weights: Mapping[str, float] | None = None,
                        progress: Progress | None = None, cancel: threading.Event | None = None) -> CatalogIndex | None:
    """Encode a catalog chunk by chunk straight into memory-mapped .npy files."""
    w = encoding.weights_from(weights)
    cat = lib.catalog(catalog_id)
    if cat is None:
        raise ValueError(f"no catalog {catalog_id}")
    base = index_dir / f"catalog-{cat['id']}-g{cat['generation']}-w{_weights_tag(w)}"
    index_dir.mkdir(parents=True, exist_ok=True)
    n = lib._q("SELECT COUNT(*) FROM catalog_tracks WHERE catalog_id=? AND generation=?",
               (cat["id"], cat["generation"]))[0][0]
    final = _index_paths(base)
    tmp = {k: p.with_name(p.name.replace(".npy", ".tmp.npy")) for k, p in final.items()}
    arrays = {
        "ids": np.lib.format.open_memmap(tmp["ids"], mode="w+", dtype=np.int64, shape=(n,)),
        "inv": np.lib.format.open_memmap(tmp["inv"], mode="w+", dtype=np.float32, shape=(n,)),
        "code": np.lib.format.open_memmap(tmp["code"], mode="w+", dtype=np.int16, shape=(n,)),
        "cont": np.lib.format.open_memmap(tmp["cont"], mode="w+", dtype=np.float32, shape=(n, N_CONT)),
    }
    g = encoding.groups()
    done, last = 0, -1
    while done < n:
        if cancel is not None and cancel.is_set():
            del arrays
            for p in tmp.values():
                p.unlink(missing_ok=True)
            return None
        # "+catalog_id": walk the rowid range instead of the album index and a sort (6x less CPU)
        rows = lib._q(f"SELECT id, {', '.join(CATALOG_ATTRS)} FROM catalog_tracks WHERE +catalog_id=? AND "
                      "generation=? AND id>? ORDER BY id LIMIT ?", (cat["id"], cat["generation"], last, BUILD_CHUNK))
        if not rows:
            break
        arr = np.array([r[1:] for r in rows], dtype=float)  # None -> nan
        enc = encoding.encode({a: arr[:, i] for i, a in enumerate(CATALOG_ATTRS)}, w)
        norms = np.linalg.norm(enc, axis=1)
        inv = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 0.0).astype(np.float32)
        sl = slice(done, done + len(rows))
        arrays["ids"][sl] = [r[0] for r in rows]
        arrays["inv"][sl] = inv
        arrays["cont"][sl] = enc[:, :N_CONT] * inv[:, None]
        per_group = []
        for name in ONE_HOT:
            block = enc[:, g[name]]
            per_group.append(np.where(block.any(axis=1), block.argmax(axis=1), block.shape[1]))
        arrays["code"][sl] = combine_codes(*per_group)
        done += len(rows)
        last = rows[-1][0]
        if progress:
            progress(done, n, f"indexing catalog '{cat['name']}': {done} of {n}")
    for a in arrays.values():
        a.flush()
    del arrays
    for k in ("ids", "inv", "code", "cont"):  # the continuous part appearing last marks the index complete
        tmp[k].replace(final[k])
    for old in index_dir.glob(f"catalog-{cat['id']}-*.npy"):
        if old not in final.values() and ".tmp." not in old.name:
            old.unlink(missing_ok=True)
    return load_catalog_index(lib, catalog_id, index_dir, weights)


def load_catalog_index(lib: Library, catalog_id: int, index_dir: Path,
                       weights: Mapping[str, float] | None = None) -> CatalogIndex | None:
    cat = lib.catalog(catalog_id)
    if cat is None:
        return None
    w = encoding.weights_from(weights)
    paths = _index_paths(index_dir / f"catalog-{cat['id']}-g{cat['generation']}-w{_weights_tag(w)}")
    if not all(p.exists() for p in paths.values()):
        return None
    a = {k: np.load(p, mmap_mode="r") for k, p in paths.items()}
    value = tuple(w[name] / math.sqrt(2) for name in ONE_HOT)
    return CatalogIndex(cat["id"], a["ids"], a["cont"], a["inv"], a["code"], value, cat["generation"])


# --- the search --------------------------------------------------------------------------------
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
                space = SoundSpace(names=names).fit(_signal(raw))
                self._sound = (ids, space.transform(_signal(raw)), space)
            else:
                space = ListeningSpace(names=names).fit(raw)
                self._sound = (ids, space.transform(raw), space)
            return self._sound

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
        return {"id": t["id"], "source": source, "space": space, "score": round(score, 4), "title": t.get("title"),
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
