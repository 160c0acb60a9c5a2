"""`musicrec rate`: like, dislike or clear library tracks, import seed 004's `mbid, liked` CSV, or
bring ratings back from a backup (`--restore [FILE]`, the newest by default)."""

from __future__ import annotations

import sys

from musicrec_engine.cli.common import emit_json
from musicrec_engine.errors import MusicRecError, UsageError


def register(sub) -> None:
    p = sub.add_parser("rate", help="Like or dislike tracks (or import a rating CSV)")
    p.add_argument("paths", nargs="*", metavar="PATH", help="library tracks, by file path or track id")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--like", action="store_true")
    g.add_argument("--dislike", action="store_true")
    g.add_argument("--clear", action="store_true", help="remove the rating")
    p.add_argument("--csv", metavar="FILE", help="import ratings from a CSV with the columns mbid, liked (0/1)")
    p.add_argument("--restore", nargs="?", const="", metavar="FILE",
                   help="bring ratings back from a backup (default: the newest in the data folder's ratings-backups)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args, where) -> int:
    from musicrec_engine.engine import Engine

    if args.restore is not None:
        if args.csv or args.paths:
            raise UsageError("--restore takes no track paths and no --csv")
        return _restore(args)
    if args.csv and args.paths:
        raise UsageError("give either track paths or --csv FILE, not both")
    if not args.csv and not args.paths:
        raise UsageError("give the tracks to rate (paths or ids), or --csv FILE")
    if args.paths and not (args.like or args.dislike or args.clear):
        raise UsageError("say --like, --dislike or --clear")
    eng = Engine(args.home)
    try:
        return _import_csv(eng, args) if args.csv else _rate(eng, args)
    finally:
        eng.close()


def _rate(eng, args) -> int:
    value = 1 if args.like else 0 if args.dislike else None
    word = {1: "liked", 0: "disliked", None: "cleared"}[value]
    failed = 0
    for p in args.paths:
        try:
            t = eng.rate(p, value)
        except MusicRecError as e:
            failed += 1
            print(f"musicrec: {e}", file=sys.stderr)
            if args.json:
                emit_json({"path": p, "status": "error", "error": str(e)})
            continue
        if args.json:
            emit_json({"path": t["path"], "id": t["id"], "status": "ok", "rating": value})
        else:
            print(f"{word}: {t.get('artist') or '?'} - {t.get('title') or t['path']}")
    if not args.json:
        _print_status(eng)
    return 1 if failed else 0


def _import_csv(eng, args) -> int:
    from musicrec_engine.taste.ratings import read_ratings_csv

    rf = read_ratings_csv(args.csv)
    for msg in rf.problems[:20]:
        print(f"musicrec: {args.csv}: {msg}", file=sys.stderr)
    if len(rf.problems) > 20:
        print(f"musicrec: ... and {len(rf.problems) - 20} more problems", file=sys.stderr)
    counts = eng.library.rate_by_mbid(rf.ratings) if rf.ratings else {"matched": 0, "unmatched": 0}
    out = {"ratings": len(rf.ratings), **counts, "problems": len(rf.problems)}
    if args.json:
        emit_json(out)
    else:
        print(f"{len(rf.ratings)} ratings read: {counts['matched']} attached to library or catalog tracks, "
              f"{counts['unmatched']} ids not found yet (kept: they attach when those tracks arrive)"
              + (f"; {len(rf.problems)} rows skipped" if rf.problems else ""))
        _print_status(eng)
    return 1 if rf.problems or not rf.ratings else 0


def _restore(args) -> int:
    from musicrec_engine.engine import Engine
    from musicrec_engine.library import ratings_backup

    eng = Engine(args.home)
    try:
        path = args.restore or ratings_backup.latest(eng.library.db_path)
        if not path:
            raise MusicRecError(f"no ratings backup yet in {ratings_backup.folder(eng.library.db_path)}")
        saved = ratings_backup.read(path)
        n = eng.library.restore_ratings(saved)
        out = {"file": str(path), "ratings": len(saved), "restored": n, "waiting": len(saved) - n}
        if args.json:
            emit_json(out)
        else:
            print(f"{n} ratings restored from {path}" + (f"; {len(saved) - n} wait for their tracks (they attach "
                                                          "when those files are scanned or catalogs imported)"
                                                          if len(saved) > n else ""))
            _print_status(eng)
        return 0
    finally:
        eng.close()


def _print_status(eng) -> None:
    st = eng.taste_status()
    if st["state"] == "stale":
        print("the taste model is out of date: run 'musicrec taste train'", file=sys.stderr)
