"""`musicrec catalog`: import a catalog of tracks with attributes (CSV or Parquet), build a catalog
file from an archive of audio files (locally or on a Dask cluster), list or remove catalogs, attach
likes given by MusicBrainz id, and start a damaged library afresh (keeping ratings)."""

from __future__ import annotations

import sys
import time

from musicrec_engine.cli import common
from musicrec_engine.cli.common import emit_json, print_rating_import, progress
from musicrec_engine.errors import UsageError

ACTIONS = {
    "import": "import FILE [--name NAME]: a Spotify 1.2M / 114k, Exportify or AcousticBrainz CSV, or a Parquet "
              "catalog file",
    "build": "build DIR --out FILE.parquet [--cluster ADDRESS] [--jobs N]: analyse an archive's audio files into "
             "a catalog file for 'catalog import' (run it again to finish an interrupted build)",
    "list": "list the imported catalogs",
    "remove": "remove NAME: remove a catalog (its ratings are kept aside)",
    "ratings": "ratings CSV: likes/dislikes by MusicBrainz id (columns mbid, liked)",
    "reset-library": "set a damaged library file aside and start afresh, keeping your ratings",
}


def register(sub) -> None:
    p = sub.add_parser("catalog", help="Import a catalog of tracks with attributes",
                       description="; ".join(f"{k}: {v}" for k, v in ACTIONS.items()))
    p.add_argument("action", choices=list(ACTIONS))
    p.add_argument("csv", metavar="FILE|NAME|DIR", nargs="?")
    p.add_argument("--name", help="catalog name (default: the file name)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    p.add_argument("--out", metavar="FILE.parquet", help="build: the catalog file to write (or finish)")
    p.add_argument("--jobs", type=common.positive_int, help="build: local worker processes (default: number of cores)")
    common.add_cluster_options(p)
    common.add_window_option(p)
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
    needs = {"remove": "a NAME", "import": "a CSV or Parquet file", "ratings": "a CSV file", "build": "a folder"}
    if args.action in needs and not args.csv:
        raise UsageError(f"'catalog {args.action}' needs {needs[args.action]}")
    if args.action == "build":
        return _build(args)
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


def _build(args) -> int:
    from pathlib import Path

    from musicrec_engine.engine import Engine

    common.check_cluster_options(args)
    if not args.out:
        raise UsageError("'catalog build' needs --out FILE.parquet")
    if Path(args.out).is_dir():
        raise UsageError(f"--out {args.out} is a folder; give the catalog file's name, e.g. {args.out}/catalog.parquet")
    if not Path(args.csv).exists():
        raise UsageError(f"{args.csv}: no such folder")
    bar = common.ProgressReport()
    try:
        rep = Engine.build_catalog([args.csv], args.out, jobs=args.jobs, window=args.window, cluster=args.cluster,
                                   path_map=args.path_map, progress=lambda i, n, path: bar(i, n, f"analysed {path}"))
    except KeyboardInterrupt:  # every file analysed so far is on disk beside the output
        bar.close()
        progress(f"musicrec: the build was stopped; run the same command again to finish {args.out}")
        return 130
    finally:
        bar.close()
    for f in rep.failed[:50]:
        progress(f"musicrec: {f['path']}: {f['error']}")
    if len(rep.failed) > 50:
        progress(f"musicrec: ... and {len(rep.failed) - 50} more files could not be analysed")
    if args.json:
        emit_json(rep.to_dict())
    else:
        print(rep.summary())
    if rep.files == 0:
        progress("musicrec: no audio files found in the given folder")
    return 1 if rep.failed or rep.cancelled or rep.files == 0 else 0
