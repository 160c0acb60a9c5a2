"""`musicrec catalog`: import a catalog of tracks with attributes."""

from musicrec_engine.cli.common import not_yet


def register(sub) -> None:
    p = sub.add_parser("catalog", help="Import a catalog of tracks with attributes")
    p.add_argument("action", choices=["import"])
    p.add_argument("csv", metavar="CSV")
    p.add_argument("--name")
    p.set_defaults(func=not_yet("catalog"))
