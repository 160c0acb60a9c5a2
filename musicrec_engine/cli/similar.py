"""`musicrec similar`: tracks that sound like FILE (or like a library / catalog track)."""

from __future__ import annotations

from musicrec_engine.cli.common import rows_to_print
from musicrec_engine.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("similar", help="Tracks that sound like FILE",
                       description="Cosine top-N: the library in the sound space (analysed audio), catalogs in the "
                                   "attribute space. Up to N results from each source.")
    p.add_argument("file", metavar="FILE", nargs="?")
    p.add_argument("--track", type=int, metavar="ID", help="a library track id instead of FILE")
    p.add_argument("--catalog-track", type=int, metavar="ID", help="a catalog track id instead of FILE")
    p.add_argument("--top", type=int, default=10, metavar="N")
    p.add_argument("--source", choices=["library", "catalog", "all"], default="all")
    p.add_argument("--catalog", metavar="NAME", help="search only this catalog")
    p.add_argument("--exclude-artist", action="store_true", help="leave out the query's artist")
    p.add_argument("--exclude-album", action="store_true", help="leave out the query's album")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def run(args, where) -> int:
    given = [x is not None for x in (args.file, args.track, args.catalog_track)]
    if sum(given) != 1:
        raise UsageError("give exactly one of FILE, --track ID or --catalog-track ID")
    if args.top < 1:
        raise UsageError("--top must be at least 1")
    from musicrec_engine.engine import Engine

    with Engine(args.home) as eng:
        results = eng.similar(file=args.file, track_id=args.track, catalog_track_id=args.catalog_track, top=args.top,
                              source=args.source, catalog=args.catalog, exclude_artist=args.exclude_artist,
                              exclude_album=args.exclude_album)
    for r in rows_to_print(results, args.json, "nothing to compare with yet: analyse some music or import a catalog "
                                               "first"):
        # a catalog row's id (a content hash for a built catalog) is for scripts: in --json only
        where_ = r["path"] or f"in catalog {r['catalog']}"
        why = ", ".join(b["attribute"] for b in r["because"])
        shared = ", ".join(r.get("shared_tags") or [])
        print(f"{r['score']:.3f}  [{r['source']}/{r['space']}]  {r['name']}"
              f"  ({r['album'] or '-'})  {where_}" + (f"  close in: {why}" if why else "")
              + (f"  both sound: {shared}" if shared else ""))
    return 0
