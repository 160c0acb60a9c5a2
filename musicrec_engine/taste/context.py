"""Who made a track and how it is filed: artist, record label and genre tags as taste-model inputs.

A listener's ratings cluster by artist far more than by sound (in the album-recommender's ratings
nearly every artist is all-liked or all-disliked), and label and genre tags carry taste across artists. The net
sees them as numbers learnt from the training ratings only:

  artist        share of the artist's *other* training ratings that are likes (smoothed towards
                the overall share) and how many there are. Training rows get out-of-fold values
                (5 folds), and a share of them (`artist_dropout`) are shown as "artist not rated
                yet", so the net also learns to judge a new artist by sound, label and genre;
  label, genre  the same share, counted over *other artists'* ratings only, so the value says what
                the label or tag means beyond the artist already counted;
  genre words   yes/no for each word of the genre tag seen at least `min_count` times ("rock",
                "folk", "hop"...), learnt by the net like any input.

Everything is fitted inside whichever rows the model trains on (a cross-validation fold included)
and saved as plain arrays with the model. A row without context (a catalog row, or a caller that
passes a bare matrix) gets "unknown": the overall share, a count of zero, no genre words.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from musicrec_engine.taste.artists import primary_artists

FIELDS = ("artist", "label", "genre")
SMOOTH = 2.0  # pseudo-ratings at the overall share: one liked track of an artist is not "100 %"
INNER_FOLDS = 5
_SEP = "\x1f"


def clean(values, n: int) -> np.ndarray:
    """Lower-case stripped strings; '' for unknown (None, NaN, empty)."""
    if values is None:
        return np.full(n, "", dtype=object)
    s = pd.Series(np.asarray(values, dtype=object)).fillna("").astype(str).str.strip().str.lower()
    return s.replace({"nan": "", "none": ""}).to_numpy(dtype=object)


@dataclass
class Rows:
    """A feature matrix with optional per-row context strings, sliceable like the matrix."""

    X: np.ndarray
    context: dict[str, np.ndarray] | None = None

    def __len__(self) -> int:
        return len(self.X)

    def __getitem__(self, idx) -> Rows:
        ctx = None if self.context is None else {k: v[idx] for k, v in self.context.items()}
        return Rows(self.X[idx], ctx)


def as_rows(data) -> Rows:
    return data if isinstance(data, Rows) else Rows(np.asarray(data, np.float32))


def genre_words(genres: np.ndarray) -> list[set[str]]:
    return [set(re.findall(r"[a-z0-9]+", g)) for g in genres]


class _Stats:
    """Likes and ratings per value, and per (value, artist) for the leave-artist-out share."""

    def __init__(self, keys: np.ndarray, y: np.ndarray):
        ok = keys != ""
        s = pd.DataFrame({"k": keys[ok], "y": y[ok]}).groupby("k").y.agg(["sum", "count"])
        self.keys, self.likes, self.count = s.index.to_numpy(dtype=str), s["sum"].to_numpy(float), \
            s["count"].to_numpy(float)

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = pd.Index(self.keys).get_indexer(keys.astype(str))
        hit = pos >= 0
        likes = np.where(hit, self.likes[np.maximum(pos, 0)] if len(self.keys) else 0.0, 0.0)
        count = np.where(hit, self.count[np.maximum(pos, 0)] if len(self.keys) else 0.0, 0.0)
        return likes, count

    def state(self, prefix: str) -> dict[str, np.ndarray]:
        return {f"{prefix}/keys": self.keys.astype(str), f"{prefix}/likes": self.likes, f"{prefix}/count": self.count}

    @classmethod
    def from_state(cls, s: dict[str, np.ndarray], prefix: str) -> _Stats:
        self = cls.__new__(cls)
        self.keys = np.asarray(s[f"{prefix}/keys"]).astype(str)
        self.likes, self.count = np.asarray(s[f"{prefix}/likes"], float), np.asarray(s[f"{prefix}/count"], float)
        return self


def _context(context: dict[str, np.ndarray] | None, n: int) -> dict[str, np.ndarray]:
    """The context columns, cleaned; the artist as its primary-artist key, the same key that
    artist-grouped cross-validation splits by, so "X feat. Y" counts as X's rating."""
    ctx = {f: clean((context or {}).get(f), n) for f in FIELDS}
    ctx["artist"] = primary_artists(ctx["artist"])
    return ctx


def _artist_keys(artist: np.ndarray, offset: int = 0) -> np.ndarray:
    # a track without an artist is its own "artist": leaving it out leaves out only itself
    return np.array([a if a else f"#{offset + i}" for i, a in enumerate(artist)], dtype=object)


class ContextEncoder:
    def __init__(self, fields=FIELDS, artist_dropout: float = 0.3, min_count: int | None = None, seed: int = 0):
        self.fields = tuple(f for f in FIELDS if f in fields)
        self.artist_dropout = artist_dropout
        self.min_count = min_count
        self.seed = seed

    # --- fitting ----------------------------------------------------------------------------------
    def fit_transform(self, context: dict[str, np.ndarray] | None, y: np.ndarray) -> np.ndarray:
        """Fit on the training rows and return their columns (out-of-fold / leave-artist-out)."""
        y = np.asarray(y, float)
        n = len(y)
        ctx = _context(context, n)
        self.prior = float(y.mean()) if n else 0.5
        art = _artist_keys(ctx["artist"])
        self.stats: dict[str, _Stats] = {}
        cols = []
        rng = np.random.default_rng(self.seed)
        if "artist" in self.fields:
            self.stats["artist"] = _Stats(ctx["artist"], y)
            fold = rng.permutation(n) % INNER_FOLDS
            rate, cnt = np.full(n, self.prior), np.zeros(n)
            for q in range(INNER_FOLDS):
                s = _Stats(ctx["artist"][fold != q], y[fold != q])
                lk, c = s.lookup(ctx["artist"][fold == q])
                rate[fold == q], cnt[fold == q] = self._share(lk, c), c
            unseen = rng.random(n) < self.artist_dropout
            rate[unseen], cnt[unseen] = self.prior, 0.0
            cols += [rate, np.log1p(cnt)]
        for f in ("label", "genre"):
            if f in self.fields:
                self.stats[f] = _Stats(ctx[f], y)
                pair = np.where(ctx[f] != "", ctx[f] + _SEP + art, "")
                self.stats[f + "+artist"] = _Stats(pair, y)
                cols += self._leave_artist_out(f, ctx[f], pair)
        if "genre" in self.fields:
            words = genre_words(ctx["genre"])
            counts = Counter(w for ws in words for w in ws)
            need = self.min_count if self.min_count is not None else max(3, n // 100)
            self.vocab = np.array(sorted(w for w, c in counts.items() if c >= need), dtype=str)
            cols += list(self._words(words).T)
        else:
            self.vocab = np.array([], dtype=str)
        return np.column_stack(cols).astype(np.float32) if cols else np.zeros((n, 0), np.float32)

    def _share(self, likes: np.ndarray, count: np.ndarray) -> np.ndarray:
        return (likes + SMOOTH * self.prior) / (count + SMOOTH)

    def _leave_artist_out(self, f: str, values: np.ndarray, pair: np.ndarray) -> list[np.ndarray]:
        lk, c = self.stats[f].lookup(values)
        lk2, c2 = self.stats[f + "+artist"].lookup(pair)
        lk, c = lk - lk2, c - c2
        return [self._share(lk, c), np.log1p(c)]

    def _words(self, words: list[set[str]]) -> np.ndarray:
        return np.array([[w in ws for w in self.vocab] for ws in words], np.float32).reshape(len(words),
                                                                                          len(self.vocab))

    # --- new rows ---------------------------------------------------------------------------------
    def transform(self, context: dict[str, np.ndarray] | None, n: int) -> np.ndarray:
        ctx = _context(context, n)
        cols = []
        if "artist" in self.fields:
            lk, c = self.stats["artist"].lookup(ctx["artist"])
            cols += [self._share(lk, c), np.log1p(c)]
        art = _artist_keys(ctx["artist"], offset=10**9)  # never a training key
        for f in ("label", "genre"):
            if f in self.fields:
                pair = np.where(ctx[f] != "", ctx[f] + _SEP + art, "")
                cols += self._leave_artist_out(f, ctx[f], pair)
        if "genre" in self.fields:
            cols += list(self._words(genre_words(ctx["genre"])).T)
        return np.column_stack(cols).astype(np.float32) if cols else np.zeros((n, 0), np.float32)

    def names(self) -> list[str]:
        out = []
        for f in ("artist", "label", "genre"):
            if f in self.fields:
                out += [f"{f}_like_share", f"{f}_ratings"]
        return out + [f"genre_word={w}" for w in self.vocab]

    def groups(self, start: int) -> dict[str, list[int]]:
        out, j = {}, start
        for f in ("artist", "label", "genre"):
            if f in self.fields:
                out[f] = [j, j + 1]
                j += 2
        if len(self.vocab):
            out.setdefault("genre", []).extend(range(j, j + len(self.vocab)))
        return out

    # --- files ------------------------------------------------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        s = {"fields": np.array(self.fields, dtype=str), "prior": np.array(self.prior), "vocab": self.vocab,
             "artist_dropout": np.array(self.artist_dropout)}
        for k, st in self.stats.items():
            s.update(st.state(k))
        return s

    @classmethod
    def from_state(cls, s: dict[str, np.ndarray]) -> ContextEncoder:
        self = cls([str(f) for f in s["fields"]], float(s["artist_dropout"]))
        self.prior = float(s["prior"])
        self.vocab = np.asarray(s["vocab"]).astype(str)
        self.stats = {}
        for f in self.fields:
            self.stats[f] = _Stats.from_state(s, f)
            if f != "artist":
                self.stats[f + "+artist"] = _Stats.from_state(s, f + "+artist")
        return self
