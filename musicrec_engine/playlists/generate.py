"""Playlist generation over the library: more like these seeds, taste radio, a path from one track
to another, or every track a filter lets through; then diversity, artist spacing, length and a
smooth order, and for each track the reason it is there.

It works on a Pool: the library's playable tracks with one unit vector each, in the sound space
(whitened audio features) when the library's audio has been analysed, else in the attribute
space. Everything here is numpy over that matrix, so a playlist from 10,000 tracks takes
milliseconds once the pool is built; building the pool is the engine's job (engine/playlists.py).

Selection and order are two steps. Selection ranks candidates by relevance, re-ranked by maximal
marginal relevance (MMR) when diversity > 0: each next pick maximises
(1 - diversity) * relevance - diversity * (highest similarity to a track already picked).
Sequencing then walks that ranking, taking each track whose artist is not among the last
`artist_gap` tracks until the size or duration is reached, and (with smooth order) puts those
tracks in the order with the smoothest tempo and key steps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from musicrec_engine.errors import MusicRecError, UsageError
from musicrec_engine.playlists import expr, order
from musicrec_engine.search import encoding
from musicrec_engine.taste.artists import primary_artist

DEFAULT_GAP = 2
# How a similarity in the attribute space is explained to the user (playlist reasons).
BY_ATTRIBUTES = "by attributes such as tempo, energy and mood"


@dataclass
class Options:
    size: int | None = 30
    minutes: float | None = None  # when given, wins over size
    diversity: float = 0.2  # 0 = most relevant only; 1 = as different from each other as possible
    # No artist twice within this many tracks. None: 2 where the library allows it (a library of one
    # artist, like the demo, still makes a playlist); a number the user gave is a strict rule.
    artist_gap: int | None = None
    exclude_disliked: bool = True
    exclude_rated: bool = False  # taste radio: only tracks the user has not rated yet
    smooth: bool = True  # order for smooth tempo and key transitions
    harmonic: bool = False  # DJ mode: prefer Camelot neighbours strongly
    discover: int = 10  # catalog rows to list "to discover" (they cannot be played)

    def check(self) -> Options:
        if self.minutes is not None:
            if not (0 < self.minutes <= 24 * 60):
                raise UsageError("--minutes must be between 0 and 1440")
        elif self.size is None or not (1 <= self.size <= 10_000):
            raise UsageError("--size must be between 1 and 10000")
        if not (0.0 <= self.diversity <= 1.0):
            raise UsageError("--diversity must be between 0 and 1")
        if self.artist_gap is not None and not (0 <= self.artist_gap <= 50):
            raise UsageError("--artist-gap must be between 0 and 50")
        if not (0 <= self.discover <= 500):
            raise UsageError("discover must be between 0 and 500")
        return self

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Pool:
    """Playable library tracks, each with a unit vector (rows of `vecs`) in one space."""
    tracks: list[dict]
    vecs: np.ndarray  # (n, d) float32, unit rows
    space: str  # "sound" or "attributes"
    attr_vecs: np.ndarray | None = None  # (n, encoding.DIM): for "close in tempo, energy" reasons
    row_of: dict[int, int] = field(default_factory=dict)
    _attr_rows: dict[int, np.ndarray] = field(default_factory=dict, repr=False)

    def __post_init__(self):
        self.row_of = {t["id"]: i for i, t in enumerate(self.tracks)}
        artists: dict[tuple, str | None] = {}  # a library has far fewer artists than tracks
        for t in self.tracks:  # what sequencing compares, computed once per pool
            if "_artist" not in t:
                who = (t.get("artist") or t.get("album_artist"), t.get("mb_artist_id"))
                if who not in artists:
                    artists[who] = primary_artist(*who)
                t["_artist"] = artists[who] or f"#{t['id']}"
            t.setdefault("tempo", expr.number(t, "tempo"))
            t.setdefault("camelot", order.camelot(expr.number(t, "key"), expr.number(t, "mode")))
        self.columns = expr.Columns(self.tracks)  # what filters compare, kept with the pool
        codes: dict[str, int] = {}
        self.artist_codes = np.array([codes.setdefault(t["_artist"], len(codes)) for t in self.tracks], dtype=np.int64)

    def __len__(self) -> int:
        return len(self.tracks)

    def attr_vec(self, row: int) -> np.ndarray:
        """One track's attribute vector, encoded when first asked for: a playlist explains about 30
        tracks, and encoding all of a 10,000-track pool up front cost its first playlist a second."""
        if self.attr_vecs is not None:
            return self.attr_vecs[row]
        v = self._attr_rows.get(row)
        if v is None:
            v = self._attr_rows[row] = encoding.encode([self.tracks[row]])[0]
        return v

    def row(self, track_id: int) -> int:
        try:
            return self.row_of[int(track_id)]
        except (KeyError, ValueError, TypeError):
            raise MusicRecError(f"track {track_id} is not a playable, analysed library track") from None


def _title(t: dict) -> str:
    return f"“{t.get('title') or 'untitled'}”" + (f" by {t['artist']}" if t.get("artist") else "")


def _allowed(pool: Pool, opts: Options, keep: set[int] = frozenset()) -> np.ndarray:
    rating = np.array([-1 if t.get("rating") is None else t["rating"] for t in pool.tracks])
    ok = np.ones(len(pool), dtype=bool)
    if opts.exclude_disliked:
        ok &= rating != 0
    if opts.exclude_rated:
        ok &= rating == -1
    for tid in keep:
        if tid in pool.row_of:
            ok[pool.row_of[tid]] = True
    return ok


def _close_in(pool: Pool, i: int, j: int) -> str:
    names = encoding.closest_attributes(pool.attr_vec(i), pool.attr_vec(j), top=2)
    names = ["tempo" if n == "tempo_bin" else n for n in names]
    return f"; close in {' and '.join(dict.fromkeys(names))}" if names else ""


# --- selection -----------------------------------------------------------------------------------
def mmr(vecs: np.ndarray, relevance: np.ndarray, allowed: np.ndarray, k: int, diversity: float) -> list[int]:
    """Rows in maximal-marginal-relevance order, up to k. Relevance is rescaled to 0..1 first, so
    the diversity weight means the same whatever the scale of the relevance."""
    idx = np.flatnonzero(allowed)
    if idx.size == 0:
        return []
    rel = relevance[idx].astype(np.float64)
    lo, hi = float(np.min(rel)), float(np.max(rel))
    rel = (rel - lo) / (hi - lo) if hi > lo else np.ones_like(rel)
    k = min(k, idx.size)
    if diversity <= 0:
        return idx[np.argsort(-rel, kind="stable")[:k]].tolist()
    v = vecs[idx]
    max_sim = np.full(idx.size, -1.0)
    taken = np.zeros(idx.size, dtype=bool)
    out = []
    for _ in range(k):
        score = (1 - diversity) * rel - diversity * np.maximum(max_sim, 0.0)
        score[taken] = -np.inf
        j = int(np.argmax(score))
        taken[j] = True
        out.append(int(idx[j]))
        max_sim = np.maximum(max_sim, v @ v[j])
    return out


def sequence(pool: Pool, ranked: list[int], opts: Options, fixed_first: int | None = None) -> tuple[list[int], list[str]]:
    """Rows in playing order. Which tracks: the ranking walked under the artist gap until the size
    or duration is reached. In what order (with smooth order): from the first, each next track is
    the one with the smoothest tempo and key step that keeps the artist gap; the ranking decides
    who is in, smoothness only the order. Returns (rows, notes)."""
    want_seconds = opts.minutes * 60 if opts.minutes is not None else None
    gap = DEFAULT_GAP if opts.artist_gap is None else opts.artist_gap
    out: list[int] = []
    remaining = [r for r in ranked if r != fixed_first]
    if fixed_first is not None:
        out.append(fixed_first)
    seconds = sum(pool.tracks[r].get("duration") or 0 for r in out)
    notes: list[str] = []

    def full() -> bool:
        return seconds >= want_seconds if want_seconds is not None else len(out) >= opts.size

    while remaining and not full():
        eligible = [r for r in remaining if _spaced(pool, out, r, gap)]
        if not eligible and opts.artist_gap is None:
            eligible = remaining  # the gap was only a preference
            if not notes:
                notes.append(f"the same artist comes back within {gap} tracks from track {len(out) + 1} on: "
                             "there are not enough other artists")
        if not eligible:
            notes.append(f"stopped at {len(out)} tracks: every other candidate is by an artist heard within the "
                         f"last {gap} tracks")
            break
        pick = eligible[0]
        out.append(pick)
        remaining.remove(pick)
        seconds += pool.tracks[pick].get("duration") or 0
    if not full() and not any(n.startswith("stopped") for n in notes):
        notes.append(f"only {len(out)} tracks could be chosen: that is all the library has that fits "
                     "(tracks you disliked are left out)" if opts.exclude_disliked else
                     f"only {len(out)} tracks could be chosen: that is all the library has that fits")
    if opts.smooth and len(out) > 2:
        out = smooth_order(pool, out, gap, opts.artist_gap is not None, opts.harmonic) or out
    return out, notes


def _spaced(pool: Pool, placed: list[int], r: int, gap: int) -> bool:
    return not gap or pool.tracks[r]["_artist"] not in {pool.tracks[p]["_artist"] for p in placed[-gap:]}


def smooth_order(pool: Pool, rows: list[int], gap: int, strict: bool, harmonic: bool = False) -> list[int] | None:
    """The same tracks, first one first, then greedily the smoothest next step that keeps the
    artist gap; None when the greedy walk corners itself under a strict gap (the caller keeps the
    ranking order, which keeps it)."""
    out, left = [rows[0]], list(rows[1:])
    while left:
        ok = [r for r in left if _spaced(pool, out, r, gap)] or ([] if strict else left)
        if not ok:
            return None
        prev = pool.tracks[out[-1]]
        nxt = min(ok, key=lambda r: order.transition_cost(prev, pool.tracks[r], harmonic))
        out.append(nxt)
        left.remove(nxt)
    return out


def _entries(pool: Pool, rows: list[int], why: dict[int, list[str]], score: dict[int, float], opts: Options) -> list[dict]:
    out = []
    for n, r in enumerate(rows):
        t = pool.tracks[r]
        reasons = list(why.get(r, []))
        if opts.smooth and n > 0:
            step = order.describe(pool.tracks[rows[n - 1]], t)
            if step:
                reasons.append(f"after the previous track: {step}")
        out.append({"id": t["id"], "path": t.get("path"), "title": t.get("title"), "artist": t.get("artist"),
                    "album": t.get("album"), "duration": t.get("duration"), "rating": t.get("rating"),
                    "predicted_like": t.get("predicted_like"), "tempo": t.get("tempo"),
                    "key": order.camelot_label(expr.number(t, "key"), expr.number(t, "mode")),
                    "score": None if score.get(r) is None else round(float(score[r]), 4), "why": reasons})
    return out


def _count(opts: Options, pool: Pool) -> int:
    """How many tracks the size or duration asks for (a duration is read with the library's
    typical track length)."""
    if opts.minutes is None:
        return opts.size
    durs = [t.get("duration") or 0 for t in pool.tracks if t.get("duration")]
    typical = float(np.median(durs)) if durs else 200.0
    return int(opts.minutes * 60 / max(typical, 1.0)) + 1


def _want(opts: Options, pool: Pool) -> int:
    """How many candidates to rank: enough for the playlist, with room for the artist gap."""
    return min(len(pool), 3 * _count(opts, pool) + 20)


def _result(mode: str, pool: Pool, rows: list[int], why, score, opts: Options, notes: list[str], **rules) -> dict:
    tracks = _entries(pool, rows, why, score, opts)
    return {"mode": mode, "space": pool.space, "rules": {"mode": mode, **rules, "options": opts.to_dict()},
            "tracks": tracks, "seconds": round(sum(t["duration"] or 0 for t in tracks), 1), "notes": notes,
            "discover": []}


# --- the four kinds ------------------------------------------------------------------------------
def from_seeds(pool: Pool, seed_ids: list[int], opts: Options) -> dict:
    """More like these: relevance is the similarity to the closest seed, averaged with the mean
    similarity to all seeds (so a track near every seed beats one near a single seed)."""
    opts.check()
    if not seed_ids:
        raise UsageError("give at least one seed track")
    rows = [pool.row(s) for s in seed_ids]
    sims = pool.vecs @ pool.vecs[rows].T  # (n, seeds)
    rel = 0.5 * sims.max(axis=1) + 0.5 * sims.mean(axis=1)
    allowed = _allowed(pool, opts, keep=set(seed_ids))
    allowed[rows] = False
    ranked = mmr(pool.vecs, rel, allowed, _want(opts, pool), opts.diversity)
    order_rows, notes = sequence(pool, [rows[0], *ranked], opts, fixed_first=rows[0])
    why: dict[int, list[str]] = {rows[0]: ["the seed you chose"]}
    for r in order_rows[1:]:
        best = int(np.argmax(sims[r]))
        by = "by sound" if pool.space == "sound" else BY_ATTRIBUTES
        why[r] = [f"sounds like {_title(pool.tracks[rows[best]])} (similarity {sims[r, best]:.2f} {by})"
                  + _close_in(pool, rows[best], r)]
    return _result("seeds", pool, order_rows, why, {r: rel[r] for r in order_rows}, opts, notes,
                   seeds=[int(s) for s in seed_ids])


def taste_radio(pool: Pool, opts: Options) -> dict:
    """Likely likes: relevance is the taste model's p(like); tracks the user disliked never come,
    and with exclude_rated neither do the ones already rated."""
    opts.check()
    p = np.array([np.nan if t.get("predicted_like") is None else float(t["predicted_like"]) for t in pool.tracks])
    if not np.isfinite(p).any():
        raise MusicRecError("the taste model has not scored any track yet: rate some tracks, then train it "
                            "(musicrec taste train)")
    allowed = _allowed(pool, opts) & np.isfinite(p)
    ranked = mmr(pool.vecs, np.nan_to_num(p), allowed, _want(opts, pool), opts.diversity)
    order_rows, notes = sequence(pool, ranked, opts)
    liked_by: dict[str, int] = {}
    for t in pool.tracks:
        if t.get("rating") == 1:
            liked_by[t["_artist"]] = liked_by.get(t["_artist"], 0) + 1
    why = {}
    for r in order_rows:
        t = pool.tracks[r]
        reasons = [f"your taste model gives it {p[r]:.0%} chance of a like"]
        if t.get("rating") == 1:
            reasons.append("you liked it")
        n = liked_by.get(t["_artist"], 0) - (t.get("rating") == 1)
        if n > 0 and t.get("artist"):
            reasons.append(f"you liked {n} other track{'s' if n > 1 else ''} by {t['artist']}")
        why[r] = reasons
    return _result("taste", pool, order_rows, why, {r: p[r] for r in order_rows}, opts, notes)


def path(pool: Pool, start_id: int, end_id: int, opts: Options) -> dict:
    """From one track to another: each step takes the unused track closest to a point that moves
    evenly from start to end along the sphere (slerp), with a pull toward the previous track so the
    walk stays smooth. The two ends stay in place whatever the other options say."""
    opts.check()
    a, b = pool.row(start_id), pool.row(end_id)
    if a == b:
        raise UsageError("a path needs two different tracks")
    n = _count(opts, pool) + (1 if opts.minutes is not None else 0)
    n = max(2, min(n, len(pool)))
    va, vb = pool.vecs[a].astype(np.float64), pool.vecs[b].astype(np.float64)
    omega = float(np.arccos(np.clip(va @ vb, -1.0, 1.0)))
    allowed = _allowed(pool, opts, keep={start_id, end_id})
    allowed[[a, b]] = False
    out, why, score = [a], {a: ["where the path starts"]}, {}
    seconds = pool.tracks[a].get("duration") or 0
    for i in range(1, n - 1):
        t = i / (n - 1)
        if omega < 1e-6:
            target = va
        else:
            target = (np.sin((1 - t) * omega) * va + np.sin(t * omega) * vb) / np.sin(omega)
        to_target = pool.vecs @ target.astype(np.float32)
        smooth = pool.vecs @ pool.vecs[out[-1]]
        s = to_target + 0.3 * smooth
        ok = allowed.copy()
        gap = DEFAULT_GAP if opts.artist_gap is None else opts.artist_gap
        if gap:
            codes = pool.artist_codes
            spaced = ok & ~np.isin(codes, codes[out[-gap:]])
            # the end track must not break the gap either, on the last steps
            if n - 1 - i <= gap:
                spaced &= codes != codes[b]
            ok = spaced if (spaced.any() or opts.artist_gap is not None) else ok
        if not ok.any():
            break
        s = np.where(ok, s, -np.inf)
        j = int(np.argmax(s))
        out.append(j)
        allowed[j] = False
        score[j] = float(to_target[j])
        why[j] = [f"step {i} of {n - 1} from {_title(pool.tracks[a])} to {_title(pool.tracks[b])}: "
                  f"{t:.0%} of the way, {to_target[j]:.2f} like that point"]
        seconds += pool.tracks[j].get("duration") or 0
        if opts.minutes is not None and seconds + (pool.tracks[b].get("duration") or 0) >= opts.minutes * 60:
            break
    out.append(b)
    why[b] = ["where the path ends"]
    notes = [] if len(out) == n or opts.minutes is not None else [f"only {len(out)} tracks could be placed"]
    seq_opts = Options(**{**opts.to_dict(), "smooth": False})  # the path is the order
    res = _result("path", pool, out, why, score, seq_opts, notes, start=int(start_id), end=int(end_id))
    res["rules"]["options"] = opts.to_dict()
    return res


def filtered(pool: Pool, expression: str, opts: Options) -> dict:
    """Every track the expression lets through, best liked first (by the taste model when it has
    scored them), thinned for diversity and spaced by artist."""
    opts.check()
    terms = expr.parse(expression)
    allowed = _allowed(pool, opts) & expr.mask(terms, pool.columns)
    if not allowed.any():
        raise MusicRecError(f"no playable track matches {expression!r}")
    p = np.array([0.5 if t.get("predicted_like") is None else float(t["predicted_like"]) for t in pool.tracks])
    ranked = mmr(pool.vecs, p, allowed, _want(opts, pool), opts.diversity)
    order_rows, notes = sequence(pool, ranked, opts)
    why = {}
    for r in order_rows:
        t = pool.tracks[r]
        why[r] = [expr.describe(terms, t)]
        if t.get("predicted_like") is not None:
            why[r].append(f"your taste model gives it {t['predicted_like']:.0%} chance of a like")
    return _result("filter", pool, order_rows, why, {r: p[r] for r in order_rows}, opts, notes, filter=expression)
