"""Helpers shared by the command modules."""

from __future__ import annotations

import json
import sys
from typing import Any

from musicrec_engine.errors import NotAvailableYet


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
