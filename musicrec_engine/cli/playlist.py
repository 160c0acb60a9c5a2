"""`musicrec playlist`: make playlists from seeds, taste, a path or a filter; keep, show, export them.

    musicrec playlist from FILE... | taste | path FILE FILE | filter EXPR   [--size N | --minutes M]
    musicrec playlist list | show NAME | export NAME FILE | delete NAME
"""

from __future__ import annotations

import sys

from musicrec_engine.cli.common import emit_json, rows_to_print
from musicrec_engine.errors import UsageError


def _options(p) -> None:
    size = p.add_mutually_exclusive_group()
    size.add_argument("--size", type=int, metavar="N", help="number of tracks (default 30)")
    size.add_argument("--minutes", type=float, metavar="M", help="total length instead of a number of tracks")
    p.add_argument("--diversity", type=float, metavar="X", default=0.2,
                   help="0 = most alike only, 1 = as varied as possible (maximal marginal relevance; default 0.2)")
    p.add_argument("--artist-gap", type=int, metavar="N",
                   help="no artist twice within N tracks (default: 2 where the library allows it)")
    p.add_argument("--include-disliked", action="store_true", help="let tracks you disliked in")
    p.add_argument("--unrated-only", action="store_true", help="leave out tracks you have already rated")
    p.add_argument("--no-smooth", action="store_true", help="keep the ranking order instead of smoothing "
                                                              "tempo and key from track to track")
    p.add_argument("--harmonic", action="store_true", help="DJ order: prefer harmonic-mixing (Camelot) neighbours")
    p.add_argument("--discover", type=int, default=10, metavar="N",
                   help="catalog tracks to list 'to discover' (not playable; default 10, 0 for none)")
    p.add_argument("--save", metavar="NAME", help="save the playlist in the library under NAME")
    p.add_argument("--replace", action="store_true", help="with --save: overwrite a playlist of that name")
    p.add_argument("--out", metavar="FILE", help="also write it as FILE.m3u8 or FILE.xspf")
    p.add_argument("--relative", action="store_true", help="with --out: paths relative to the playlist file")
    p.add_argument("--json", action="store_true")


def register(sub) -> None:
    p = sub.add_parser("playlist", help="Make, keep and export playlists",
                       description="Playlists from your library: like some tracks, from your taste, a path from "
                                   "one track to another, or a filter. Each track says why it is there. Catalog "
                                   "tracks cannot be played, so they are listed apart, 'to discover'.")
    ps = p.add_subparsers(dest="playlist_command", metavar="ACTION", parser_class=type(p))
    f = ps.add_parser("from", help="more like these tracks (files or library ids)")
    f.add_argument("seeds", nargs="+", metavar="FILE")
    _options(f)
    f.set_defaults(func=run_make, kind="seeds")
    t = ps.add_parser("taste", help="taste radio: the tracks your taste model expects you to like")
    _options(t)
    t.set_defaults(func=run_make, kind="taste")
    pa = ps.add_parser("path", help="a path from one track to another, step by step through the sound space")
    pa.add_argument("start", metavar="FILE")
    pa.add_argument("end", metavar="FILE")
    _options(pa)
    pa.set_defaults(func=run_make, kind="path")
    fi = ps.add_parser("filter", help="tracks matching an expression, e.g. 'tag:jazz energy<0.4 year>=1990'")
    fi.add_argument("expression", metavar="EXPR", nargs="+")
    _options(fi)
    fi.set_defaults(func=run_make, kind="filter")
    ls = ps.add_parser("list", help="saved playlists")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(func=run_list)
    sh = ps.add_parser("show", help="a saved playlist's tracks and why each is there")
    sh.add_argument("name", metavar="NAME")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=run_show)
    ex = ps.add_parser("export", help="write a saved playlist as .m3u8 or .xspf")
    ex.add_argument("name", metavar="NAME")
    ex.add_argument("file", metavar="FILE")
    ex.add_argument("--relative", action="store_true", help="paths relative to the playlist file")
    ex.add_argument("--json", action="store_true")
    ex.set_defaults(func=run_export)
    de = ps.add_parser("delete", help="delete a saved playlist (the music files are not touched)")
    de.add_argument("name", metavar="NAME")
    de.set_defaults(func=run_delete)
    p.set_defaults(func=lambda args, where: (p.print_help(sys.stderr), 2)[1])


def _engine(args):
    from musicrec_engine.engine import Engine

    return Engine(args.home)


def _fmt_time(seconds) -> str:
    s = int(round(seconds or 0))
    return f"{s // 60}:{s % 60:02d}"


def run_make(args, where) -> int:
    if args.out:
        from pathlib import Path

        if Path(args.out).suffix.lower() not in (".m3u8", ".m3u", ".xspf"):
            raise UsageError(f"--out {args.out}: a playlist file ends in .m3u8 or .xspf")
    if args.replace and not args.save:
        raise UsageError("--replace goes with --save NAME")
    options = {"size": args.size if args.size is not None else (None if args.minutes else 30),
               "minutes": args.minutes, "diversity": args.diversity, "artist_gap": args.artist_gap,
               "exclude_disliked": not args.include_disliked, "exclude_rated": args.unrated_only,
               "smooth": not args.no_smooth, "harmonic": args.harmonic, "discover": args.discover}
    eng = _engine(args)
    try:
        pl = eng.make_playlist(args.kind, seeds=getattr(args, "seeds", ()), start=getattr(args, "start", None),
                               end=getattr(args, "end", None),
                               expression=" ".join(getattr(args, "expression", []) or []) or None, **options)
        if args.save:
            saved = eng.save_playlist(args.save, pl, replace=args.replace)
            pl["saved"] = {"id": saved["id"], "name": saved["name"]}
        if args.out:
            pl["exported"] = eng.export_playlist({**pl, "name": args.save or f"MusicRec {args.kind} playlist"},
                                                 args.out, relative=args.relative)
    finally:
        eng.close()
    if args.json:
        emit_json(pl)
        return 0
    _print_tracks(pl["tracks"])
    print(f"{len(pl['tracks'])} tracks, {_fmt_time(pl['seconds'])} ({pl['space']} space)")
    for n in pl["notes"]:
        print(f"note: {n}")
    if pl["discover"]:
        print("\nTo discover (in your catalogs, not on disk):")
        for d in pl["discover"]:
            print(f"  {d.get('name') or d['title']}  [{d['catalog']}]  {'; '.join(d['why'])}")
    if pl.get("saved"):
        print(f"saved as {pl['saved']['name']!r}")
    if pl.get("exported"):
        _print_export(pl["exported"])
    return 0


def _print_tracks(tracks) -> None:
    for n, t in enumerate(tracks, 1):
        print(f"{n:3d}. {t['artist'] or '?'} - {t['title'] or '?'}  ({_fmt_time(t['duration'])})")
        for w in t.get("why") or []:
            print(f"       {w}")


def _print_export(rep) -> None:
    print(f"wrote {rep['written']} tracks to {rep['file']}")
    for s in rep["skipped"]:
        print(f"left out (file not found): {s}", file=sys.stderr)


def run_list(args, where) -> int:
    eng = _engine(args)
    try:
        lists = eng.playlists()
    finally:
        eng.close()
    for p in rows_to_print(lists, args.json, "no saved playlists yet: make one with 'musicrec playlist from FILE "
                                             "--save NAME'"):
        print(f"{p['name']}  {p['count']} tracks, {_fmt_time(p['seconds'])}  ({p['rules'].get('mode', '?')})")
    return 0


def run_show(args, where) -> int:
    eng = _engine(args)
    try:
        p = eng.playlist(args.name)
    finally:
        eng.close()
    if args.json:
        emit_json(p)
        return 0
    print(f"{p['name']}: {p['count']} tracks, {_fmt_time(p['seconds'])}")
    _print_tracks(p["tracks"])
    gone = [t["path"] for t in p["tracks"] if not t["exists"]]
    for g in gone:
        print(f"missing on disk: {g}", file=sys.stderr)
    return 0


def run_export(args, where) -> int:
    eng = _engine(args)
    try:
        rep = eng.export_playlist(args.name, args.file, relative=args.relative)
    finally:
        eng.close()
    if args.json:
        emit_json(rep)
    else:
        _print_export(rep)
    return 0


def run_delete(args, where) -> int:
    from musicrec_engine.errors import MusicRecError

    eng = _engine(args)
    try:
        if not eng.delete_playlist(args.name):
            raise MusicRecError(f"no playlist named {args.name!r}")
    finally:
        eng.close()
    print(f"deleted playlist {args.name!r}")
    return 0
