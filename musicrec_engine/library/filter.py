"""The library's text filter: the one the app's filter box and `musicrec tracks --filter` use.

A track matches when every word of the filter (case-insensitive) occurs somewhere in its title,
artist, album, album artist, key ("F#"), mode ("major"/"minor"), genre, year or file path — so
"bach minor" finds Bach's pieces in minor keys — and it has every `tag:NAME` the filter names (a
tag the listening model gave it, whole tag, any case, "_" for a space: "tag:hard_rock"). A view
with many rows keeps each row's `search_text` once and calls `matches_text` with the row's tags;
anything else calls `matches` or `apply`.
"""

from __future__ import annotations

import math

from musicrec_engine.attributes import KEY_NAMES
from musicrec_engine.library import heard_tags


def attribute_value(track: dict, name: str) -> float | None:
    """A track's attribute as a number (None when missing or not a number), from Library.tracks()'
    {"attributes": {name: {"value": ...}}} or a flat {name: value}."""
    a = (track.get("attributes") or {}).get(name)
    return as_number(a.get("value") if isinstance(a, dict) else a)


def as_number(v) -> float | None:
    try:
        v = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) else v


class TrackFilter:
    def __init__(self, text: str | None):
        tags, words = heard_tags.split_terms(text)
        self.tags = tags
        self.words = [w.casefold() for w in words]

    def __bool__(self) -> bool:
        return bool(self.tags or self.words)

    @staticmethod
    def search_text(track: dict) -> str:
        """Everything the filter's words look in, folded to lower case, as one string."""
        key, mode = attribute_value(track, "key"), attribute_value(track, "mode")
        key_name = KEY_NAMES[int(key)] if key is not None and 0 <= key < 12 else ""
        mode_name = "" if mode is None or not key_name else ("major" if mode >= 0.5 else "minor")
        fields = ("title", "artist", "album", "album_artist", "genre", "year", "path")
        return " ".join([*(str(track.get(f) or "") for f in fields), key_name, mode_name]).casefold()

    def matches_text(self, search_text: str, track: dict | None = None) -> bool:
        """The words against a row's search_text; the tag terms against the row's tags (`track`)."""
        if self.tags and not heard_tags.has_tags(track or {}, self.tags):
            return False
        return all(w in search_text for w in self.words)

    def matches(self, track: dict) -> bool:
        return not self or self.matches_text(self.search_text(track), track)

    def apply(self, tracks: list[dict]) -> list[dict]:
        return [t for t in tracks if self.matches(t)] if self else list(tracks)
