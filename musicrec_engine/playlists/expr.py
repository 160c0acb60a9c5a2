"""The filter expression of `playlist filter` and the Playlists page: which tracks may be in a
playlist, in words a user can type.

    tag:jazz energy<0.4 year>=1990 -artist:"Kenny G" tempo>=90 minor liked

Terms are separated by spaces and all must hold. A term is

- `tag:WORD`: the track's listened tags (the listening model's, when the library has them) or,
  until then and for tracks without them, a word of the genre tag in the file;
- `artist:`, `album:`, `title:`, `genre:` + text: that field contains the text (case and
  accents ignored; quote text with spaces);
- NAME OP NUMBER with OP one of < <= > >= = != and NAME an attribute (energy, valence,
  danceability, acousticness, instrumentalness, liveness, speechiness, loudness, tempo) or
  year, duration (seconds), like (the taste model's p(like));
- `key:F#`, `key:Am`; `major`, `minor`; `liked`, `disliked`, `unrated`;
- any other word: found in the title, artist, album, genre or path;
- a leading `-` negates any term.

A term that cannot be read is a UsageError naming it, so a typo never silently matches nothing.

Terms are tested on a whole pool of tracks at once (`mask`): each reads columns that `Columns`
computes once per pool, so a filter over 10,000 tracks is a few numpy comparisons, not 10,000
Python calls per term.
"""

from __future__ import annotations

import operator
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from musicrec_engine.attributes import KEY_NAMES, UNIT_ATTRIBUTES
from musicrec_engine.errors import UsageError
from musicrec_engine.library.filter import as_number, attribute_value
from musicrec_engine.taste.artists import fold

NUMERIC = [*UNIT_ATTRIBUTES, "loudness", "tempo", "year", "duration", "like"]
FIELDS = ("artist", "album", "title", "genre")
_OPS = {"<=": operator.le, ">=": operator.ge, "!=": operator.ne, "<": operator.lt, ">": operator.gt,
        "=": operator.eq}
_COMPARE = re.compile(r"^([a-z_]+)\s*(<=|>=|!=|<|>|=)\s*(-?[0-9]*\.?[0-9]+)$")
_FLATS = {"DB": "C#", "EB": "D#", "GB": "F#", "AB": "G#", "BB": "A#"}


def number(track: dict, name: str) -> float | None:
    """A track's numeric field: attributes by value, plus year, duration and like (p(like))."""
    if name == "like":
        return as_number(track.get("predicted_like"))
    if name in ("year", "duration"):
        return as_number(track.get(name))
    return attribute_value(track, name)


def track_tags(track: dict) -> list[str]:
    """The words `tag:` looks at: listened tags when the library has them, else the genre tag's
    words (a file's "Jazz; Soul" gives jazz and soul)."""
    cached = track.get("_tag_words")
    if cached is not None:  # a pool's track dicts live on between playlists
        return cached
    heard = track.get("tags") or []
    names = [t.get("tag") if isinstance(t, dict) else str(t) for t in heard]
    names = [fold(n) for n in names if n]
    genre = track.get("genre") or ""
    names += [fold(g) for g in re.split(r"[;,/]|\s+-\s+", genre) if g.strip()]
    track["_tag_words"] = names
    return names


class Columns:
    """What terms compare, one entry per track, computed on first use and kept while the tracks
    are (a playlist pool's track dicts live on between playlists). Ratings and p(like) are read
    afresh every time: the pool's tracks get new ones before each playlist."""

    def __init__(self, tracks: list[dict]):
        self.tracks = tracks
        self._numbers: dict[str, np.ndarray] = {}
        self._texts: dict[str, list[str]] = {}
        self._tags: list[set[str]] | None = None

    def number(self, name: str) -> np.ndarray:
        """Floats, NaN where a track has no value."""
        if name == "like" or name not in self._numbers:
            col = np.array([np.nan if (x := number(t, name)) is None else x for t in self.tracks], dtype=float)
            if name == "like":
                return col
            self._numbers[name] = col
        return self._numbers[name]

    def text(self, field: str) -> list[str]:
        """A field folded for matching (case and accents ignored); "any" is the words a bare term
        searches: title, artist, album, genre and path."""
        if field not in self._texts:
            names = (*FIELDS, "path") if field == "any" else (field,)
            self._texts[field] = [fold(" ".join(str(t.get(f) or "") for f in names)) for t in self.tracks]
        return self._texts[field]

    def tags(self) -> list[set[str]]:
        """Each track's tag words: whole tags ("hip hop") and the words in them ("hip", "hop")."""
        if self._tags is None:
            self._tags = [{w for n in track_tags(t) for w in (n, *n.split())} for t in self.tracks]
        return self._tags

    def ratings(self) -> list:
        return [t.get("rating") for t in self.tracks]


@dataclass
class Term:
    text: str  # as the user typed it, for the reasons
    test: Callable[[Columns], np.ndarray]  # one bool per track
    negated: bool = False

    def mask(self, cols: Columns) -> np.ndarray:
        return np.asarray(self.test(cols), dtype=bool) != self.negated


def _flags(values) -> np.ndarray:
    return np.fromiter(values, dtype=bool)


def _key_term(value: str) -> Callable[[Columns], np.ndarray]:
    v = value.strip()
    mode = 1.0 if v.lower().endswith("maj") else 0.0 if v.endswith("m") else None
    root = v[:-3] if mode == 1.0 else v[:-1] if mode == 0.0 else v
    root = root[:1].upper() + root[1:].replace("b", "B")
    root = _FLATS.get(root.upper(), root)
    if root not in KEY_NAMES:
        raise UsageError(f"filter: {value!r} is not a key (try key:C, key:F#, key:Am, key:Ebmaj)")
    k = float(KEY_NAMES.index(root))
    return lambda c: (c.number("key") == k) & ((c.number("mode") == mode) if mode is not None else True)


def _parse_term(raw: str) -> Term:
    neg = raw.startswith("-") and len(raw) > 1 and not raw[1].isdigit()
    body = raw[1:] if neg else raw
    low = body.lower()
    m = _COMPARE.match(low)
    if m:
        name, op, val = m.group(1), _OPS[m.group(2)], float(m.group(3))
        if name not in NUMERIC:
            raise UsageError(f"filter: unknown attribute {name!r} in {raw!r} (one of: {', '.join(NUMERIC)})")

        def cmp(c, name=name, op=op, val=val):
            x = c.number(name)
            with np.errstate(invalid="ignore"):
                return ~np.isnan(x) & op(x, val)  # a track without the value never passes

        return Term(raw, cmp, neg)
    if any(o in low for o in ("<", ">", "=")):
        raise UsageError(f"filter: cannot read {raw!r} (write it like energy<0.4 or year>=1990)")
    if ":" in body:
        field, _, value = body.partition(":")
        field = field.lower()
        if not value:
            raise UsageError(f"filter: {raw!r} needs a value after the colon")
        want = fold(value)
        if field == "tag":
            return Term(raw, lambda c: _flags(want in words for words in c.tags()), neg)
        if field in FIELDS:
            return Term(raw, lambda c: _flags(want in s for s in c.text(field)), neg)
        if field == "key":
            return Term(raw, _key_term(value), neg)
        raise UsageError(f"filter: unknown field {field!r} in {raw!r} (tag, artist, album, title, genre, key)")
    if low in ("major", "minor"):
        mode = 1.0 if low == "major" else 0.0
        return Term(raw, lambda c: c.number("mode") == mode, neg)
    if low in ("liked", "disliked", "unrated"):
        want_rating = {"liked": 1, "disliked": 0, "unrated": None}[low]
        return Term(raw, lambda c: _flags(r == want_rating for r in c.ratings()), neg)
    word = fold(body)
    return Term(raw, lambda c: _flags(word in s for s in c.text("any")), neg)


def parse(expression: str) -> list[Term]:
    """The terms of an expression; UsageError for one that cannot be read."""
    try:
        words = shlex.split(expression or "")
    except ValueError as e:
        raise UsageError(f"filter: {e} in {expression!r}") from None
    if not words:
        raise UsageError("filter: the expression is empty (try tag:jazz energy<0.4)")
    return [_parse_term(w) for w in words]


def mask(terms: list[Term], cols: Columns) -> np.ndarray:
    """Which of the tracks pass every term."""
    ok = np.ones(len(cols.tracks), dtype=bool)
    for term in terms:
        ok &= term.mask(cols)
    return ok


def describe(terms: list[Term], track: dict) -> str:
    """Why a track passed: each term with the track's own value where it has one."""
    parts = []
    for term in terms:
        m = _COMPARE.match(term.text.lstrip("-").lower())
        if m and not term.negated:
            v = number(track, m.group(1))
            shown = f"{v:.0f}" if m.group(1) in ("year", "tempo", "duration") else f"{v:.2f}"
            parts.append(f"{m.group(1)} {shown} {m.group(2)} {m.group(3)}")
        elif term.text.lower().startswith("tag:") and not term.negated:
            parts.append(f"{term.text} ({', '.join(dict.fromkeys(track_tags(track)))})")
        else:
            parts.append(term.text)
    return "matches " + ", ".join(parts)
