"""How a long job talks to its caller: one progress callback type and one cancellation error.

A job takes `progress(done, total, message)` (total 0 when unknown) and a `cancel`
threading.Event it checks between items. A job that can hand back what it did so far returns a
report with `cancelled=True`; a job whose half-done result would be wrong (training a model, a
MusicBrainz search in flight) raises `Cancelled`, leaving the last good state in place.
"""

from __future__ import annotations

from collections.abc import Callable

from musicrec_engine.errors import MusicRecError

Progress = Callable[[int, int, str], None]


class Cancelled(MusicRecError):
    """The user cancelled the job; nothing half-done was kept."""

    exit_code = 130  # as for an interrupted command
