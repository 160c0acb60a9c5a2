"""`musicrec rate`: like or dislike a track."""

from musicrec_engine.cli.common import not_yet


def register(sub) -> None:
    p = sub.add_parser("rate", help="Like or dislike a track")
    p.add_argument("path", metavar="PATH")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--like", action="store_true")
    g.add_argument("--dislike", action="store_true")
    g.add_argument("--clear", action="store_true")
    p.set_defaults(func=not_yet("rate"))
