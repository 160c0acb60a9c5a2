"""`musicrec features`: print one file's feature vector."""

from musicrec_engine.cli.common import not_yet


def register(sub) -> None:
    p = sub.add_parser("features", help="Print one file's feature vector")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--pipeline", choices=["mfcc", "stats"], default="mfcc")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=not_yet("features"))
