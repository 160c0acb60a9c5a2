"""`musicrec analyze`: analyse audio files or folders."""

from musicrec_engine.cli.common import not_yet


def register(sub) -> None:
    p = sub.add_parser("analyze", help="Analyse audio files or folders")
    p.add_argument("paths", nargs="+", metavar="PATH", help="audio files or folders")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: number of cores)")
    p.add_argument("--json", action="store_true", help="one JSON line per file on stdout")
    p.set_defaults(func=not_yet("analyze"))
