"""Logging: a rotating file in the user's log folder, and stderr when asked to be verbose."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _QuietFileHandler(logging.handlers.RotatingFileHandler):
    """The log is best effort: a full disk must not print a traceback for every line logged."""

    def handleError(self, record) -> None:  # noqa: N802 - logging's name
        pass


def setup(log_dir: Path, verbose: bool = False) -> Path | None:
    """The log file, or None when it cannot be written (a read-only or full data folder): then
    the command runs without one rather than failing before it starts."""
    log_file = log_dir / "musicrec.log"
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_musicrec", False):
            root.removeHandler(h)
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        file_handler = _QuietFileHandler(
            log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8",
            errors="backslashreplace",  # a file name that is not UTF-8 is logged, not a logging error
        )
    except OSError:
        file_handler, log_file = None, None
        quiet = logging.NullHandler()  # else logging's last resort prints tracebacks on stderr
        quiet._musicrec = True
        root.addHandler(quiet)
    if file_handler is not None:
        file_handler.setFormatter(logging.Formatter(LOG_FORMAT))
        file_handler.setLevel(logging.DEBUG)
        file_handler._musicrec = True
        root.addHandler(file_handler)
    if verbose:
        err = logging.StreamHandler()
        err.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        err.setLevel(logging.DEBUG)
        err._musicrec = True
        root.addHandler(err)
    root.setLevel(logging.DEBUG)
    for noisy in ("matplotlib", "urllib3", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return log_file
