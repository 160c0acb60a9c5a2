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
"""

from __future__ import annotations

import operator
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass

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


@dataclass
class Term:
    text: str  # as the user typed it, for the reasons
    test: Callable[[dict], bool]
    negated: bool = False

    def __call__(self, track: dict) -> bool:
        return self.test(track) != self.negated


def _key_term(value: str) -> Callable[[dict], bool]:
    v = value.strip()
    mode = 1.0 if v.lower().endswith("maj") else 0.0 if v.endswith("m") else None
    root = v[:-3] if mode == 1.0 else v[:-1] if mode == 0.0 else v
    root = root[:1].upper() + root[1:].replace("b", "B")
    root = _FLATS.get(root.upper(), root)
    if root not in KEY_NAMES:
        raise UsageError(f"filter: {value!r} is not a key (try key:C, key:F#, key:Am, key:Ebmaj)")
    k = float(KEY_NAMES.index(root))
    return lambda t: number(t, "key") == k and (mode is None or number(t, "mode") == mode)


def _parse_term(raw: str) -> Term:
    neg = raw.startswith("-") and len(raw) > 1 and not raw[1].isdigit()
    body = raw[1:] if neg else raw
    low = body.lower()
    m = _COMPARE.match(low)
    if m:
        name, op, val = m.group(1), _OPS[m.group(2)], float(m.group(3))
        if name not in NUMERIC:
            raise UsageError(f"filter: unknown attribute {name!r} in {raw!r} (one of: {', '.join(NUMERIC)})")

        def cmp(t, name=name, op=op, val=val):
            x = number(t, name)
            return x is not None and op(x, val)

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
            return Term(raw, lambda t: any(want == n or want in n.split() for n in track_tags(t)), neg)
        if field in FIELDS:
            return Term(raw, lambda t: want in fold(str(t.get(field) or "")), neg)
        if field == "key":
            return Term(raw, _key_term(value), neg)
        raise UsageError(f"filter: unknown field {field!r} in {raw!r} (tag, artist, album, title, genre, key)")
    if low in ("major", "minor"):
        mode = 1.0 if low == "major" else 0.0
        return Term(raw, lambda t: number(t, "mode") == mode, neg)
    if low in ("liked", "disliked", "unrated"):
        want_rating = {"liked": 1, "disliked": 0, "unrated": None}[low]
        return Term(raw, lambda t: t.get("rating") == want_rating, neg)
    word = fold(body)
    return Term(raw, lambda t: word in fold(" ".join(str(t.get(f) or "") for f in (*FIELDS, "path"))), neg)


def parse(expression: str) -> list[Term]:
    """The terms of an expression; UsageError for one that cannot be read."""
    try:
        words = shlex.split(expression or "")
    except ValueError as e:
        raise UsageError(f"filter: {e} in {expression!r}") from None
    if not words:
        raise UsageError("filter: the expression is empty (try tag:jazz energy<0.4)")
    return [_parse_term(w) for w in words]


def matches(terms: list[Term], track: dict) -> bool:
    return all(term(track) for term in terms)


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
