"""The taste space: one encoding for library tracks and catalog rows alike (the audio recommender's recipe).

Continuous attributes are z-scored with fixed reference statistics (measured on the Spotify
1.2M-track catalog sample), so a track encodes the same way whichever catalog is loaded and the
taste model never sees a shifting scale. Tempo is z-scored on a log scale (a half/double-time
error is then one constant step) and also one-hot binned in the audio recommender's six tempo bins; key and
mode are one-hot. Each attribute has a weight (the audio recommender's "feature weighting"); a one-hot group
is scaled by weight/sqrt(2) so that a mismatch costs as much distance as one standard deviation
of a continuous attribute at the same weight. Missing values encode as the reference mean
(zeros), i.e. "no information".
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from musicrec_engine.attributes import KEY_NAMES, TEMPO_BIN_EDGES

# (mean, std) over tracks_features_sample_1k.csv (1,000 rows of the 1.2M catalog); tempo is log(BPM).
REFERENCE = {
    "danceability": (0.479, 0.189), "energy": (0.518, 0.302), "valence": (0.412, 0.267),
    "acousticness": (0.428, 0.383), "instrumentalness": (0.278, 0.372), "liveness": (0.198, 0.177),
    "speechiness": (0.093, 0.133), "loudness": (-11.882, 7.164), "tempo": (4.736, 0.263),
}
CONTINUOUS = list(REFERENCE)
DEFAULT_WEIGHTS = {**dict.fromkeys(CONTINUOUS, 1.0), "key": 0.5, "mode": 0.5, "tempo_bin": 0.5}
CLIP = 4.0  # z beyond this is an outlier or a parsing slip, not 10x more different


def feature_names() -> list[str]:
    return ([*CONTINUOUS] + [f"key={k}" for k in KEY_NAMES] + ["mode=minor", "mode=major"]
            + [f"tempo_bin={i}" for i in range(len(TEMPO_BIN_EDGES) + 1)])


def groups() -> dict[str, slice]:
    """Attribute name -> its columns in the encoded vector."""
    n = len(CONTINUOUS)
    out = {a: slice(i, i + 1) for i, a in enumerate(CONTINUOUS)}
    out["key"] = slice(n, n + 12)
    out["mode"] = slice(n + 12, n + 14)
    out["tempo_bin"] = slice(n + 14, n + 14 + len(TEMPO_BIN_EDGES) + 1)
    return out


DIM = len(feature_names())


def columns(rows_or_df) -> dict[str, np.ndarray]:
    """Attribute columns as float arrays from a DataFrame, a dict of arrays, or a list of dicts
    (flat `{"energy": 0.5}` or library-style `{"attributes": {"energy": {"value": 0.5}}}`)."""
    names = [*CONTINUOUS, "key", "mode"]
    if hasattr(rows_or_df, "columns") and hasattr(rows_or_df, "__getitem__"):  # DataFrame
        return {a: (rows_or_df[a].to_numpy(dtype=float, na_value=np.nan) if a in rows_or_df.columns
                    else np.full(len(rows_or_df), np.nan)) for a in names}
    if isinstance(rows_or_df, Mapping):
        n = len(next(iter(rows_or_df.values()))) if rows_or_df else 0
        return {a: np.asarray(rows_or_df[a], dtype=float) if a in rows_or_df else np.full(n, np.nan)
                for a in names}
    rows = list(rows_or_df)
    return {a: np.array([_value(r, a) for r in rows], dtype=float) for a in names}


def _value(row: Mapping, name: str) -> float:
    v = row.get(name) if name in row else (row.get("attributes") or {}).get(name)
    if isinstance(v, Mapping):
        v = v.get("value")
    elif v is not None and hasattr(v, "value"):  # an Attribute
        v = v.value
    try:
        return float(v) if v is not None else math.nan
    except (TypeError, ValueError):
        return math.nan


def encode(rows_or_df, weights: Mapping[str, float] | None = None) -> np.ndarray:
    """(n, DIM) float32, C-contiguous."""
    w = {**DEFAULT_WEIGHTS, **(weights or {})}
    cols = columns(rows_or_df)
    n = len(cols["energy"])
    out = np.zeros((n, DIM), dtype=np.float32)
    g = groups()
    for a in CONTINUOUS:
        x = cols[a]
        if a == "tempo":
            with np.errstate(divide="ignore", invalid="ignore"):
                x = np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)
        mean, std = REFERENCE[a]
        z = np.clip((x - mean) / std, -CLIP, CLIP)
        out[:, g[a].start] = np.nan_to_num(z, nan=0.0) * w[a]
    _one_hot(out, g["key"], cols["key"], 12, w["key"])
    _one_hot(out, g["mode"], cols["mode"], 2, w["mode"])
    tempo = cols["tempo"]
    bins = np.where(np.isfinite(tempo) & (tempo > 0), np.searchsorted(TEMPO_BIN_EDGES, np.nan_to_num(tempo),
                                                                        side="right"), -1)
    _one_hot(out, g["tempo_bin"], bins.astype(float), len(TEMPO_BIN_EDGES) + 1, w["tempo_bin"])
    return out


def _one_hot(out: np.ndarray, cols: slice, values: np.ndarray, k: int, weight: float) -> None:
    v = np.nan_to_num(values, nan=-1).astype(np.int64)
    ok = (v >= 0) & (v < k)
    out[np.nonzero(ok)[0], cols.start + v[ok]] = weight / math.sqrt(2)


def normalise(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero), for cosine as a dot product."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.where(norms > 0, norms, 1.0), dtype=np.float32)


def contributions(query: np.ndarray, other: np.ndarray) -> dict[str, float]:
    """How much each attribute adds to the cosine between two encoded vectors (they sum to it)."""
    q, o = np.asarray(query, np.float64), np.asarray(other, np.float64)
    denom = (np.linalg.norm(q) * np.linalg.norm(o)) or 1.0
    return {a: float(np.dot(q[s], o[s]) / denom) for a, s in groups().items()}


def closest_attributes(query: np.ndarray, other: np.ndarray, top: int = 3) -> list[str]:
    """The attributes that made two tracks close: largest positive shares of their cosine."""
    c = contributions(query, other)
    return [a for a, v in sorted(c.items(), key=lambda kv: -kv[1]) if v > 0][:top]


def weights_from(settings: Mapping[str, float] | None) -> dict[str, float]:
    """User weights merged over the defaults; unknown names are ignored, negatives become 0."""
    w = dict(DEFAULT_WEIGHTS)
    for k, v in (settings or {}).items():
        if k in w:
            w[k] = max(0.0, float(v))
    return w


def iter_chunks(n: int, size: int) -> Iterable[slice]:
    for i in range(0, n, size):
        yield slice(i, min(n, i + size))
