"""`musicrec similar`: tracks that sound like file."""

from musicrec_engine.cli.common import not_yet


def register(sub) -> None:
    p = sub.add_parser("similar", help="Tracks that sound like FILE")
    p.add_argument("file", metavar="FILE", nargs="?")
    p.add_argument("--top", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=not_yet("similar"))
