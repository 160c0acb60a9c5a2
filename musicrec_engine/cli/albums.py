"""`musicrec albums`: recommended albums; `musicrec albums search`: find more on MusicBrainz."""

from __future__ import annotations

import argparse
import re
import sys

from musicrec_engine.cli.common import emit_json, progress


def register(sub) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="one JSON document on stdout")
    g = common.add_argument_group("thresholds (the album recommender's defaults in brackets)")
    g.add_argument("--liked-probability", type=float, metavar="P", help="a track counts as liked from P (0.5)")
    g.add_argument("--liked-share", type=float, metavar="S", help="share of liked tracks to recommend (0.5)")
    g.add_argument("--min-tracks", type=int, metavar="N", help="albums need at least N tracks (5)")
    g.add_argument("--metadata-probability", type=float, metavar="P",
                   help="albums judged by metadata (artist, label, tags) need a like probability of P (0.65)")
    g.add_argument("--metadata-min-ratings", type=int, metavar="N",
                   help="...resting on at least N of your ratings (3)")
    g.add_argument("--min-coverage", type=float, metavar="C",
                   help="share of an album's tracks that need features to judge it (0.5)")
    common.add_argument("--all", action="store_true", help="also list albums that are not recommended")
    m = common.add_argument_group("MusicBrainz")
    m.add_argument("--contact", help="your e-mail or URL, sent to MusicBrainz (or $MUSICREC_CONTACT)")
    m.add_argument("--offline", action="store_true", default=None, help="answer from the cache only")

    p = sub.add_parser("albums", help="Recommended albums", parents=[common])
    p.add_argument("--source", choices=["library", "catalog", "musicbrainz", "all"], default="all",
                   help="where albums come from; 'all' adds MusicBrainz albums from the cache only")
    p.set_defaults(func=run_albums)
    s = p.add_subparsers(dest="albums_action", metavar="search")
    q = s.add_parser("search", help="Search MusicBrainz for albums and score them", parents=[common])
    q.add_argument("--artist", metavar="NAME")
    q.add_argument("--tag", metavar="TAG", help="a MusicBrainz tag or genre, e.g. 'shoegaze'")
    q.add_argument("--years", metavar="A-B", type=_years, help="first released between years A and B")
    q.set_defaults(func=run_search)


def _years(text: str) -> tuple[int, int]:
    m = re.fullmatch(r"\s*(\d{4})\s*(?:-\s*(\d{4}))?\s*", text)
    if not m:
        raise argparse.ArgumentTypeError(f"years must look like 1990-1999 or 1995, not {text!r}")
    a, b = int(m.group(1)), int(m.group(2) or m.group(1))
    if a > b:
        raise argparse.ArgumentTypeError(f"the year range {text!r} ends before it starts")
    return a, b


def _thresholds(args) -> dict:
    """The thresholds given on the command line, checked (Engine.album_thresholds fills in the rest)."""
    from musicrec_engine.engine import Engine

    return Engine.album_thresholds(**{k: getattr(args, k) for k in
                                      ("liked_probability", "liked_share", "min_tracks", "min_coverage",
                                       "metadata_probability", "metadata_min_ratings")})


def _progress(done: int, total: int, message: str) -> None:
    progress(f"[{done}/{total}] {message}" if total else message)


def _remember_contact(eng, args, going_online: bool) -> None:
    """A contact address given once (on the command line, or typed when asked at a terminal) is
    kept for the next runs and the app."""
    valid_contact = eng.valid_contact
    if args.contact and valid_contact(args.contact):
        eng.save_musicbrainz_settings(contact=args.contact.strip())
        return
    settings = eng.musicbrainz_settings(offline=args.offline)
    if going_online and not settings.offline and not valid_contact(settings.contact) and sys.stdin.isatty():
        sys.stderr.write("MusicBrainz asks every program for a contact address (e-mail or web page): ")
        sys.stderr.flush()
        typed = sys.stdin.readline().strip()
        if valid_contact(typed):
            eng.save_musicbrainz_settings(contact=typed)


def run_albums(args, where) -> int:
    from musicrec_engine.engine import Engine

    eng = Engine(args.home)
    _remember_contact(eng, args, going_online=args.source == "musicbrainz")
    try:
        report = eng.albums(args.source, _thresholds(args), progress=_progress, contact=args.contact,
                            offline=args.offline)
    finally:
        eng.close()
    return _print(report, args)


def run_search(args, where) -> int:
    from musicrec_engine.engine import Engine

    eng = Engine(args.home)
    _remember_contact(eng, args, going_online=True)
    try:
        report = eng.search_albums(args.artist, args.tag, args.years, _thresholds(args), progress=_progress,
                                   contact=args.contact, offline=args.offline)
    finally:
        eng.close()
    return _print(report, args)


def _print(report: dict, args) -> int:
    mb = report.get("musicbrainz")
    explicit = getattr(args, "source", "musicbrainz") != "all"  # `all` only peeks into the cache: no noise
    shown = report["albums"] if args.all else [a for a in report["albums"] if a["recommended"]]
    if args.json:
        emit_json({**report, "albums": shown})
    else:
        out = sys.stdout
        if not shown:
            out.write("No album passes the thresholds yet." if report["albums"] else "No albums found.")
            out.write(" (Use --all to see every album.)\n" if report["albums"] and not args.all else "\n")
        for a in shown:
            mark = "*" if a["recommended"] else " "
            year = f" ({a['year']})" if a.get("year") else ""
            basis = (f"by metadata: {', '.join(a['metadata']['kinds']) or 'nothing'}" if a.get("basis") == "metadata"
                     else f"{a['scored']}/{a['total']} tracks scored")
            share = "  meta" if a.get("basis") == "metadata" else f"{a['liked_share']:6.0%}"
            out.write(f"{mark}{share}  {a['mean_probability']:.2f}  {a['artist']} — {a['title']}"
                      f"{year}  [{a['source']}, {basis}]\n")
            for r in a["reasons"]:
                out.write(f"      {r}\n")
        if mb and (mb["albums"] or explicit):
            out.write(f"MusicBrainz: {mb['albums']} albums looked at, {mb['albums_with_enough_coverage']} with enough "
                      f"feature coverage ({mb['tracks_matched']} of {mb['tracks']} tracks matched)"
                      + (f", {mb['by_metadata']} judged by metadata" if mb.get("by_metadata") else "")
                      + (f", {mb['requests']} requests" if "requests" in mb else "") + "\n")
    if mb and mb.get("not_cached") and explicit:
        progress(f"musicrec: {mb['not_cached']} MusicBrainz answers are not in the cache yet (offline); "
                 "run again without --offline to fetch them")
    for e in report["errors"]:
        progress(f"musicrec: {e['item']}: {e['error']}")
    if report.get("cancelled"):
        progress("musicrec: cancelled; the albums above are the ones looked at so far")
    return 1 if report["errors"] else 0
