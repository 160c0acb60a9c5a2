"""`musicrec attributes`: train the learned-attribute models."""

from musicrec_engine.cli.common import not_yet


def register(sub) -> None:
    p = sub.add_parser("attributes", help="Train the learned-attribute models")
    p.add_argument("action", choices=["train"])
    p.set_defaults(func=not_yet("attributes"))
