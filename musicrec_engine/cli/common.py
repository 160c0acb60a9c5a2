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
