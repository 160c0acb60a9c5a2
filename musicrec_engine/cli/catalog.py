"""`musicrec catalog`: import a catalog of tracks with attributes, list or remove catalogs, attach
likes given by MusicBrainz id, and start a damaged library afresh (keeping ratings)."""

from __future__ import annotations

import sys
import time

from musicrec_engine.cli.common import emit_json, print_rating_import, progress
from musicrec_engine.errors import UsageError

ACTIONS = {
    "import": "import CSV [--name NAME]: a Spotify 1.2M / 114k, Exportify or AcousticBrainz CSV",
    "list": "list the imported catalogs",
    "remove": "remove NAME: remove a catalog (its ratings are kept aside)",
    "ratings": "ratings CSV: likes/dislikes by MusicBrainz id (columns mbid, liked)",
    "reset-library": "set a damaged library file aside and start afresh, keeping your ratings",
}


def register(sub) -> None:
    p = sub.add_parser("catalog", help="Import a catalog of tracks with attributes",
                       description="; ".join(f"{k}: {v}" for k, v in ACTIONS.items()))
    p.add_argument("action", choices=list(ACTIONS))
    p.add_argument("csv", metavar="CSV|NAME", nargs="?")
    p.add_argument("--name", help="catalog name (default: the file name)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.set_defaults(func=run)


class _Throttled:
    """Progress lines at most twice a second, so a 1.2M-row import does not flood the terminal."""

    def __init__(self):
        self.last = 0.0

    def __call__(self, done: int, total: int, message: str) -> None:
        now = time.monotonic()
        if now - self.last >= 0.5 or (total and done >= total):
            self.last = now
            pct = f"{100 * done / total:3.0f}% " if total else ""
            progress(f"{pct}{message}")


def run(args, where) -> int:
    from musicrec_engine.engine import Engine

    if args.action == "reset-library":
        info = Engine(args.home).reset_library()
        if args.json:
            emit_json(info)
        else:
            print(f"the old library is kept as {info['set_aside']}; {info['ratings_saved']} ratings saved to "
                  f"{info['ratings_file']} and restored (library tracks get theirs back when their folders are "
                  "scanned again)")
        return 0
    if args.action in ("import", "remove", "ratings") and not args.csv:
        raise UsageError(f"'catalog {args.action}' needs {'a NAME' if args.action == 'remove' else 'a CSV file'}")
    eng = Engine(args.home)
    try:
        if args.action == "list":
            cats = eng.catalogs()
            if args.json:
                emit_json(cats)
            for c in [] if args.json else cats:
                state = "" if c["complete"] else "  (import interrupted: import it again to finish)"
                print(f"{c['id']:3d}  {c['name']}  {c['schema']}  {c['row_count']} tracks{state}")
            return 0
        if args.action == "remove":
            if not eng.remove_catalog(args.csv):
                raise UsageError(f"no catalog named {args.csv!r} (see 'musicrec catalog list')")
            print(f"removed catalog {args.csv}", file=sys.stderr)
            return 0
        if args.action == "ratings":
            return print_rating_import(eng.rate_by_mbid_csv(args.csv), args.csv, args.json)
        rep = eng.import_catalog(args.csv, name=args.name, progress=_Throttled())
        for m in rep.messages:
            progress(m)
        if args.json:
            emit_json(rep.__dict__)
        else:
            print(rep.summary())
        if rep.cancelled:
            return 1
        return 1 if rep.rows_read and not rep.imported else 0
    finally:
        eng.close()
