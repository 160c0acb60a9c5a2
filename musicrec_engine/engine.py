"""The facade: the one object the desktop app and the CLI talk to.

It owns the data folders and the library connection and delegates each job to the module that
knows how to do it. Long jobs take `progress(done, total, message)` and a `cancel`
threading.Event, and never raise for one bad input: per-item failures come back as results.
Each section below belongs to one area of the engine; keep methods thin.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from musicrec_engine import paths as _paths

Progress = Callable[[int, int, str], None]


class Engine:
    def __init__(self, home: str | Path | None = None):
        self.paths = _paths.resolve(home).ensure()
        self._lock = threading.RLock()
        self._library = None

    # --- library (issue 6) -------------------------------------------------------------
    @property
    def library(self):
        with self._lock:
            if self._library is None:
                from musicrec_engine.library import Library

                self._library = Library(self.paths.library_db)
            return self._library

    def close(self) -> None:
        with self._lock:
            if self._library is not None:
                self._library.close()
                self._library = None

    # --- analysis (issue 3) ------------------------------------------------------------

    # --- similarity (issue 6) ----------------------------------------------------------

    # --- taste (issue 7) ---------------------------------------------------------------

    # --- albums and MusicBrainz (issue 8) ----------------------------------------------

    # --- demo library (issue 9) ----------------------------------------------------------
    def make_demo_library(self, progress: Progress | None = None, cancel: threading.Event | None = None):
        """Generate a few short tagged tracks in the data folder and analyse them (yields results)."""
        from musicrec_engine import demo

        return demo.make_library(self, progress=progress, cancel=cancel)
