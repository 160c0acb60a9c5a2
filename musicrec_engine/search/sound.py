"""The sound space: library tracks compared by what they sound like.

Mostly what the listening model (MusiCNN) hears: its two 200-value embeddings (MSD and MTT
models), each z-scored over the library so neither model's scale dominates, joined with a smaller
share (1 - EMBEDDING_SHARE) of the older signal-feature space: the MFCC-273 and statistical vectors,
z-scored and whitened with a regularised PCA fitted on the library (so that no group of correlated
features, e.g. 40 mel bands that move together, dominates the cosine). On real recordings the
embeddings alone find same-album neighbours a little more often than the signal features, and the
mix clearly more often than either (docs/BENCHMARKS.md, "Listening ... on real recordings"). A
library analysed before the listening model has no embeddings: it keeps the signal-feature space
until re-analysed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from threadpoolctl import threadpool_limits

from musicrec_engine.features import PIPELINES
from musicrec_engine.search import encoding

SOUND_PIPELINES = tuple(PIPELINES)  # the signal features: every pipeline of features/
LISTENING_PIPELINES = ("musicnn-msd", "musicnn-mtt")
# The embeddings' share of the sound space's cosine; the signal features have the rest. Chosen on
# the real recordings of benchmarks/bench_listening_real.py (see its table of shares).
EMBEDDING_SHARE = 0.65


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


def whitening(z: np.ndarray, k: int, shrink: float) -> np.ndarray:
    """(d, k): the top k principal directions of the centred z, each divided by the square root of
    its variance plus `shrink` times the median of the k variances.

    From the eigenvectors of the d x d Gram matrix z'z rather than an SVD of z itself: the same
    directions and variances (the SVD's squared singular values) without the n x d left factor
    the SVD also computes, several times faster for a 10,000-track library (tests compare the two).
    A direction's sign may differ from the SVD's, which no cosine sees."""
    # One BLAS thread: on a busy machine OpenBLAS's threads wait on each other, and this step for
    # 10,000 tracks took several times longer with them than on one (docs/BENCHMARKS.md).
    with threadpool_limits(limits=1, user_api="blas"):
        w, v = np.linalg.eigh(z.T @ z)
    top = np.argsort(w)[::-1][:k]
    eig = np.clip(w[top], 0.0, None) / max(1, len(z) - 1)
    return (v[:, top] / np.sqrt(eig + shrink * np.median(eig))).astype(np.float64)


class SoundSpace:
    """z-score -> regularised PCA whitening -> unit length, fitted on the library's own tracks.

    Settings chosen on the development set of benchmarks/bench_similarity_quality.py only."""

    def __init__(self, shrink: float = 1.0, max_components: int = 16, names: list[str] | None = None):
        self.shrink = shrink  # added to each eigenvalue as a share of their median: tames noise directions
        self.max_components = max_components
        self.names = names

    def fit(self, x: np.ndarray) -> SoundSpace:
        self._fit(x)
        return self

    def fit_transform(self, x: np.ndarray) -> np.ndarray:
        """fit(x) then transform(x), with x z-scored once (for a 10,000-track library that took as
        long as the rest of the transform)."""
        return self._project(self._fit(x))

    def _fit(self, x: np.ndarray) -> np.ndarray:
        """Fit on x; returns x's z-scores (the columns used)."""
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
            return z
        self.proj = whitening(z, k, self.shrink)
        return z

    @property
    def dim(self) -> int:
        return int(self.cols.size)

    def transform(self, x: np.ndarray) -> np.ndarray:
        return self._project((np.asarray(x, np.float64)[:, self.cols] - self.mean) / self.std)

    def _project(self, z: np.ndarray) -> np.ndarray:
        if self.proj is not None:
            z = z @ self.proj
        return encoding.normalise(np.nan_to_num(z).astype(np.float32))

    def state(self, prefix: str = "") -> dict[str, np.ndarray]:
        """The fitted numbers as plain arrays (np.savez, read back without pickle by from_state)."""
        return {f"{prefix}cols": self.cols, f"{prefix}mean": self.mean, f"{prefix}std": self.std,
                f"{prefix}proj": self.proj if self.proj is not None else np.zeros((0, 0))}

    @classmethod
    def from_state(cls, arrays, prefix: str = "") -> SoundSpace:
        space = cls()
        space.cols = np.asarray(arrays[f"{prefix}cols"], bool)
        space.mean, space.std = np.asarray(arrays[f"{prefix}mean"]), np.asarray(arrays[f"{prefix}std"])
        proj = np.asarray(arrays[f"{prefix}proj"])
        space.proj = proj if proj.size else None
        return space


class ListeningSpace:
    """The product's sound space: z-scored MusiCNN embeddings (both models) with EMBEDDING_SHARE of
    the cosine, the signal-feature SoundSpace with the rest. `fit` and `transform` take
    {pipeline: matrix} with LISTENING_PIPELINES and SOUND_PIPELINES (features in that order)."""

    def __init__(self, names: list[str] | None = None, share: float = EMBEDDING_SHARE):
        self.names, self.share = names, share

    def fit(self, parts: Mapping[str, np.ndarray]) -> ListeningSpace:
        self.stats = {}
        self._fit_embeddings(parts)
        self.signal = SoundSpace(names=self.names).fit(signal_matrix(parts)) if self.share < 1 else None
        return self

    def _fit_embeddings(self, parts: Mapping[str, np.ndarray]) -> None:
        for p in LISTENING_PIPELINES:
            x = np.asarray(parts[p], np.float64)
            if len(x) < MIN_TRACKS_TO_CENTRE:
                # too few tracks to centre on: the embeddings come batch-normalised (about zero mean,
                # unit spread over the models' training music), so they compare as they are
                self.stats[p] = (np.zeros(x.shape[1]), np.ones(x.shape[1]))
            else:
                std = x.std(axis=0)
                self.stats[p] = (x.mean(axis=0), np.where(std > 1e-9, std, 1.0))

    def fit_transform(self, parts: Mapping[str, np.ndarray]) -> np.ndarray:
        """fit(parts) then transform(parts), joining the signal features into one matrix once."""
        self.stats = {}
        self._fit_embeddings(parts)
        if self.share >= 1:
            self.signal = None
            return self._join(parts, None)
        self.signal = SoundSpace(names=self.names)
        return self._join(parts, self.signal.fit_transform(signal_matrix(parts)))

    @property
    def dim(self) -> int:
        return int(self.signal.dim) if self.signal is not None else 0

    def transform(self, parts: Mapping[str, np.ndarray]) -> np.ndarray:
        return self._join(parts, None if self.signal is None else self.signal.transform(signal_matrix(parts)))

    def _join(self, parts: Mapping[str, np.ndarray], sig: np.ndarray | None) -> np.ndarray:
        blocks = []
        for p in LISTENING_PIPELINES:
            mean, std = self.stats[p]
            blocks.append(encoding.normalise(np.nan_to_num((np.asarray(parts[p], np.float64) - mean) / std)
                                             .astype(np.float32)))
        emb = encoding.normalise(np.hstack(blocks))
        if sig is None:
            return emb
        return encoding.normalise(np.hstack([np.sqrt(self.share) * emb, np.sqrt(1 - self.share) * sig]))

    def state(self) -> dict[str, np.ndarray]:
        out = {"share": np.array(self.share)}
        for p in LISTENING_PIPELINES:
            out[f"{p}/mean"], out[f"{p}/std"] = self.stats[p]
        return {**out, **(self.signal.state("signal/") if self.signal is not None else {})}

    @classmethod
    def from_state(cls, arrays) -> ListeningSpace:
        space = cls(share=float(arrays["share"]))
        space.stats = {p: (np.asarray(arrays[f"{p}/mean"]), np.asarray(arrays[f"{p}/std"]))
                       for p in LISTENING_PIPELINES}
        space.signal = SoundSpace.from_state(arrays, "signal/") if "signal/cols" in arrays else None
        return space


def signal_matrix(parts: Mapping[str, np.ndarray]) -> np.ndarray:
    return np.hstack([np.asarray(parts[p], np.float64) for p in SOUND_PIPELINES])


def zscore_cosine_space(x: np.ndarray) -> np.ndarray:
    """The audio recommender's plain method, kept as the benchmark baseline: cosine over z-scored features."""
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
