"""`musicrec taste`: train, explain or benchmark the taste model."""

from musicrec_engine.cli.common import not_yet


def register(sub) -> None:
    p = sub.add_parser("taste", help="Train, explain or benchmark the taste model")
    p.add_argument("action", choices=["train", "explain", "bench"])
    p.set_defaults(func=not_yet("taste"))
