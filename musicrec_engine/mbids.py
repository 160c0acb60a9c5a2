"""MusicBrainz identifiers (MBIDs): one rule for what counts as one, used by tag reading, rating
files, the MusicBrainz client and the cover-art cache."""

from __future__ import annotations

import re

_MBID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def is_mbid(text: str | None) -> bool:
    """True for a MusicBrainz id written as a hyphenated UUID (either case, no spaces around it)."""
    return bool(text) and _MBID.fullmatch(text) is not None


def find_mbid(text: str | None) -> str | None:
    """The first MBID inside `text` (e.g. a tag holding a URL or extra words), lower-cased, or None."""
    m = _MBID.search(text or "")
    return m.group(0).lower() if m else None
