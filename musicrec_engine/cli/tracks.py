"""`musicrec tracks [--filter TEXT]`: the library as the app's table shows it, searched the same way
(every word of TEXT must appear in the title, artist, album, key, mode, genre, year or path)."""

from __future__ import annotations

from musicrec_engine.cli.common import key_text, rows_to_print


def register(sub) -> None:
    p = sub.add_parser("tracks", help="List or search the library")
    p.add_argument("--filter", metavar="TEXT", default="",
                   help="only tracks matching every word (title, artist, album, key, mode, genre, year, path)")
    p.add_argument("--missing", action="store_true", help="also list tracks whose file is gone")
    p.add_argument("--json", action="store_true", help="one JSON list on stdout: every field of each track")
    p.set_defaults(func=run)


def _value(track: dict, name: str):
    a = (track.get("attributes") or {}).get(name)
    return a.get("value") if a else None


def run(args, where) -> int:
    from musicrec_engine.engine import Engine

    with Engine(args.home) as eng:
        tracks = eng.tracks(filter=args.filter, include_missing=args.missing)
        keys = eng.KEY_NAMES
    empty = "no tracks match" if args.filter else "the library is empty: musicrec scan FOLDER adds music"
    for t in rows_to_print(tracks, args.json, empty):
        tempo, key, mode = _value(t, "tempo"), _value(t, "key"), _value(t, "mode")
        key_txt = key_text(keys, key, mode)
        like = f"{t['predicted_like']:.0%}" if t.get("predicted_like") is not None else ""
        rating = {1: "liked", 0: "disliked"}.get(t.get("rating"), "")
        status = " (missing)" if t.get("missing") else "" if t.get("status") == "ok" else f" ({t.get('status')})"
        print(f"{t['id']:5d}  {t.get('artist') or '?'} - {t.get('title') or t['path']}"
              f"{'  [' + t['album'] + ']' if t.get('album') else ''}  {key_txt}"
              f"{f'  {tempo:.0f} BPM' if tempo else ''}{'  like ' + like if like else ''}"
              f"{'  ' + rating if rating else ''}{status}")
    return 0
