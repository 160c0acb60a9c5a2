"""Helpers shared by the command modules."""

from __future__ import annotations

import json
import sys
from typing import Any

from musicrec_engine.errors import NotAvailableYet


def emit_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, default=_jsonable) + "\n")
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
