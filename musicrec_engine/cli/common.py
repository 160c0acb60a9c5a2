"""Helpers shared by the command modules."""

from __future__ import annotations

import json
import sys
from typing import Any

from musicrec_engine.errors import NotAvailableYet, UsageError


def emit_json(obj: Any) -> None:
    """One JSON document per line, pure ASCII: a file name that is not valid UTF-8 (held by Python
    with surrogate escapes) goes out as "\\udcXX" escapes, which any strict reader accepts and
    os.fsencode turns back into the file's exact bytes; no locale can make the write fail."""
    sys.stdout.write(json.dumps(obj, ensure_ascii=True, default=_jsonable) + "\n")
    sys.stdout.flush()


def _jsonable(o: Any) -> Any:
    try:
        import numpy as np

        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
    except ImportError:
        pass
    return str(o)


def add_window_option(p) -> None:
    """--window: how much of each file the analysis reads."""
    p.add_argument("--window", choices=["full", "30s"], default="full",
                   help="analyse the whole track up to 10 min (default) or the audio recommender's first 30 s, padded")


def add_cluster_options(p) -> None:
    """--cluster and --path-map: analyse on a Dask cluster's workers instead of local processes."""
    p.add_argument("--cluster", metavar="ADDRESS",
                   help="analyse on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.5:8786); "
                        "see docs/CLUSTER.md")
    p.add_argument("--path-map", action="append", metavar="LOCAL=WORKER",
                   help="with --cluster: the workers see the folder LOCAL as WORKER (repeatable)")


def check_cluster_options(args) -> None:
    if args.path_map and not args.cluster:
        raise UsageError("--path-map only applies with --cluster ADDRESS")


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (e.g. --jobs)."""
    import argparse

    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {text!r}")
    return n


def rows_to_print(items: list, as_json: bool, empty: str) -> list:
    """A listing command's output: with --json the items go out as one JSON list and nothing is
    left to print; otherwise an empty listing says `empty`. Returns the items to print, one a line."""
    if as_json:
        emit_json(items)
        return []
    if not items:
        print(empty)
    return items


def key_text(names, key, mode) -> str:
    """"A minor" for pitch class 9 and mode 0, "no key" for -1 (drums, noise, speech), "" when
    none was measured."""
    if key is None:
        return ""
    if not 0 <= int(key) < 12:
        return "no key"
    return f"{names[int(key)]} {'major' if (mode or 0) >= 0.5 else 'minor'}"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def not_yet(what: str):
    def run(args, where):
        raise NotAvailableYet(f"'{what}' is not available in this version yet")

    return run


def print_rating_import(res: dict, csv_path, as_json: bool) -> int:
    """Report an `mbid, liked` import (Engine.rate_by_mbid_csv); exit 1 when rows were skipped or
    nothing could be read. Shared by `rate --csv` and `catalog ratings`."""
    problems = res["problems"]
    for msg in problems[:20]:
        progress(f"musicrec: {csv_path}: {msg}")
    if len(problems) > 20:
        progress(f"musicrec: ... and {len(problems) - 20} more problems")
    if as_json:
        emit_json({**res, "problems": len(problems)})
    else:
        print(f"{res['ratings']} ratings read: {res['matched']} attached to library or catalog tracks, "
              f"{res['unmatched']} ids not found yet (kept: they attach when those tracks arrive)"
              + (f"; {len(problems)} rows skipped" if problems else ""))
    return 1 if problems or not res["ratings"] else 0


class ProgressReport:
    """A job's progress(done, total, message) on stderr: one bar redrawn in place on a terminal;
    plain lines when stderr is piped or a file (every `every` items, the last one, and any message
    without a count), so a log stays short and a reading parent is never flooded."""

    WIDTH = 28

    def __init__(self, stream=None, every: int = 25):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.every = every
        self._drawn = False

    def __call__(self, done: int, total: int, message: str) -> None:
        if not self.tty:
            if not total or done == total or done % self.every == 0:
                counted = f"[{done}/{total}] " if total else ""
                print(f"{counted}{message}", file=self.stream, flush=True)
            return
        if total:
            filled = int(self.WIDTH * min(done, total) / total)
            head = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {done}/{total} "
        else:
            head = ""
        line = (head + message)[:110]
        self.stream.write("\r" + line.ljust(110))
        self.stream.flush()
        self._drawn = True

    def clear(self) -> None:
        """Take the bar off its line (on a terminal), for a line printed between two redraws."""
        if self._drawn:
            self.stream.write("\r" + " " * 110 + "\r")
            self.stream.flush()
            self._drawn = False

    def close(self) -> None:
        """End the bar's line, so what follows starts on a line of its own."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
