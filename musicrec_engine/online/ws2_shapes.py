"""The shape the album search relies on in MusicBrainz answers, checked before an answer is used
or cached: musicbrainzngs turns any well-formed XML into dicts, so a server (or a proxy, or a
future ws/2 change) can hand over records without ids, lists that are not lists or counts that
are not numbers. Each check fills in missing optional lists and raises Shape saying what is wrong.
"""

from __future__ import annotations


class Shape(Exception):
    """An answer without what the album search relies on; says what is wrong."""


def _items(d, key: str, what: str) -> list[dict]:
    if not isinstance(d, dict):
        raise Shape(f"{what} is not a record")
    v = d.setdefault(key, [])
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise Shape(f"{key} is not a list of records")
    return v


def _text(d: dict, key: str, what: str, required: bool = False) -> None:
    v = d.get(key)
    if (v is None and required) or (v is not None and not isinstance(v, str)):
        raise Shape(f"a {what} without a valid {key}")


def artists(value) -> dict:
    for a in _items(value, "artist-list", "the answer"):
        _text(a, "id", "artist", required=True)
        _text(a, "name", "artist")
    return value


def _tag_list(d: dict, what: str) -> None:
    for t in _items(d, "tag-list", what):
        _text(t, "name", "tag")
        try:
            float(t.get("count") or 1)
        except (TypeError, ValueError):
            raise Shape(f"a tag count of {t.get('count')!r}") from None


def artist(value) -> dict:
    """An artist look-up with its tags."""
    a = value.get("artist") if isinstance(value, dict) else None
    if not isinstance(a, dict):
        raise Shape("no artist in the answer")
    _text(a, "id", "artist", required=True)
    _text(a, "name", "artist")
    _tag_list(a, "the artist")
    return value


def release_groups(value) -> dict:
    for rg in _items(value, "release-group-list", "the answer"):
        _text(rg, "id", "release group", required=True)
        for key in ("title", "first-release-date", "artist-credit-phrase"):
            _text(rg, key, "release group")
        for r in _items(rg, "release-list", "a release group"):
            _text(r, "id", "release", required=True)
        _tag_list(rg, "a release group")
    return value


def release(value) -> dict:
    rel = value.get("release") if isinstance(value, dict) else None
    if not isinstance(rel, dict):
        raise Shape("no release in the answer")
    _text(rel, "id", "release", required=True)
    for key in ("title", "date", "artist-credit-phrase"):
        _text(rel, key, "release")
    for li in _items(rel, "label-info-list", "the release"):
        label = li.setdefault("label", {})
        if not isinstance(label, dict):
            raise Shape("a label that is not a record")
        _text(label, "name", "label")
    for m in _items(rel, "medium-list", "the release"):
        for t in _items(m, "track-list", "a medium"):
            rec = t.setdefault("recording", {})
            if not isinstance(rec, dict):
                raise Shape("a track whose recording is not a record")
            for key in ("id", "title", "artist-credit-phrase"):
                _text(rec, key, "recording")
            _text(t, "title", "track")
    return value
