"""`musicrec rate`: like, dislike or clear library tracks, import the album recommender's `mbid, liked` CSV, or
bring ratings back from a backup (`--restore [FILE]`, the newest by default)."""

from __future__ import annotations

import sys

from musicrec_engine.cli.common import emit_json, print_rating_import
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
    code = print_rating_import(eng.rate_by_mbid_csv(args.csv), args.csv, args.json)
    if not args.json:
        _print_status(eng)
    return code


def _restore(args) -> int:
    from musicrec_engine.engine import Engine

    eng = Engine(args.home)
    try:
        out = eng.restore_ratings_backup(args.restore or None)
        path, n, saved = out["file"], out["restored"], out["ratings"]
        if args.json:
            emit_json(out)
        else:
            print(f"{n} ratings restored from {path}" + (f"; {saved - n} wait for their tracks (they attach "
                                                          "when those files are scanned or catalogs imported)"
                                                          if saved > n else ""))
            _print_status(eng)
        return 0
    finally:
        eng.close()


def _print_status(eng) -> None:
    st = eng.taste_status()
    if st["state"] == "stale":
        print("the taste model is out of date: run 'musicrec taste train'", file=sys.stderr)
