"""`musicrec corpus`: build an evaluation corpus with ground truth."""

from musicrec_engine.cli.common import not_yet


def register(sub) -> None:
    p = sub.add_parser("corpus", help="Build an evaluation corpus with ground truth")
    p.add_argument("action", choices=["build"])
    p.add_argument("dir", metavar="DIR")
    p.set_defaults(func=not_yet("corpus"))
