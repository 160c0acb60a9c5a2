"""The `musicrec` command: the engine from a terminal.

JSON goes to stdout; progress and logs go to stderr. Exit 0 when everything succeeded, 1 when
some inputs failed (the rest still done), 2 for a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from musicrec_engine import __version__, logs, paths
from musicrec_engine.errors import MusicRecError

log = logging.getLogger("musicrec.cli")

# One module per command, each with register(subparsers); a command's module owns its options.
COMMANDS = ["scan", "tracks", "analyze", "features", "similar", "rate", "taste", "catalog", "albums", "attributes",
            "playlist", "tags"]


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> Parser:
    p = Parser(prog="musicrec", description="MusicRec: analyse your music, learn your taste, find more.")
    p.add_argument("--version", action="version", version=f"musicrec {__version__}")
    p.add_argument("--home", metavar="DIR", help="data folder (default: $MUSICREC_HOME or your user folders)")
    p.add_argument("-v", "--verbose", action="store_true", help="print debug logs to stderr")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for name in COMMANDS:
        importlib.import_module(f"musicrec_engine.cli.{name}").register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    # A file name that is not valid UTF-8 is printed as its own bytes, whatever the locale, rather
    # than ending the run with UnicodeEncodeError halfway through a batch.
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="surrogateescape")
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return 2
    where = paths.resolve(args.home).ensure()
    if args.home:  # so worker processes and modules that resolve paths themselves see the same folder
        os.environ[paths.ENV_HOME] = str(where.data)
    logs.setup(where.logs, verbose=args.verbose)
    log.debug("musicrec %s: %s", __version__, argv if argv is not None else sys.argv[1:])
    try:
        return int(args.func(args, where) or 0)
    except MusicRecError as e:
        print(f"musicrec: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("musicrec: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # the log keeps the traceback; the user gets one line
        log.exception("unexpected error")
        print(f"musicrec: unexpected error: {e} (details in {where.logs / 'musicrec.log'})", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
