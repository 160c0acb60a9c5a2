"""Text for display that Qt can always show (no Qt here: controllers and widgets both use it)."""

from __future__ import annotations

import os


def readable(text: str) -> str:
    """A file name as text Qt can show: a name that is not valid UTF-8 reaches Python with
    surrogate escapes, which are read as Latin-1 (the usual source of such names) for display."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        raw = os.fsencode(text)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("latin-1")


def count(n: int, noun: str, plural: str | None = None) -> str:
    """"1 album", "3 albums": a number with its noun in the right form."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def passes(n: int) -> str:
    """The verb after a count of n albums: "1 passes", "2 pass"."""
    return "passes" if n == 1 else "pass"
