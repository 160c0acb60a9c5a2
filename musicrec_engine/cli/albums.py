"""`musicrec albums`: recommended albums."""

from musicrec_engine.cli.common import not_yet


def register(sub) -> None:
    p = sub.add_parser("albums", help="Recommended albums")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=not_yet("albums"))
