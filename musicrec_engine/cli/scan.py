"""`musicrec scan FOLDER...`: bring the library up to date with music folders — new and changed
files analysed, moved files followed, gone files marked missing (their ratings kept)."""

from __future__ import annotations

import sys

from musicrec_engine.cli.common import ProgressReport, emit_json, positive_int, progress


def register(sub) -> None:
    p = sub.add_parser("scan", help="Add music folders to the library, or bring it up to date with them",
                       description="Incremental: unchanged files are skipped, new and changed files analysed, "
                                   "moved files keep their ratings, files that are gone are marked missing "
                                   "(never deleted, so an unplugged drive loses nothing).")
    p.add_argument("folders", nargs="+", metavar="FOLDER", help="music folders (or single files)")
    p.add_argument("--jobs", type=positive_int, help="worker processes (default: number of cores)")
    p.add_argument("--json", action="store_true", help="one JSON summary on stdout")
    p.add_argument("--each", action="store_true",
                   help="one JSON line per analysed file as it is stored, then one line {\"summary\": ...}")
    p.set_defaults(func=run)


def run(args, where) -> int:
    from musicrec_engine.engine import Engine

    bar = ProgressReport()
    with Engine(args.home) as eng:
        try:
            each = (lambda r: emit_json(r.to_json())) if args.each else None
            rep = eng.scan(args.folders, progress=bar, jobs=args.jobs, on_result=each)
        finally:
            bar.close()
    for m in rep.messages:
        progress(f"musicrec: {m}")
    for f in rep.failed:
        progress(f"musicrec: {f['path']}: {f['error']}")
    if rep.cancelled:
        progress("musicrec: the scan was stopped; run it again to finish (what was done is kept)")
    if args.each:
        emit_json({"summary": rep.to_dict()})
    elif args.json:
        emit_json(rep.to_dict())
    else:
        print(rep.summary(), file=sys.stdout)
    return 1 if rep.failed or rep.messages or rep.cancelled else 0
