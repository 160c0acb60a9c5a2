"""`python -m app`: start MusicRec's main window."""

from __future__ import annotations

import argparse
import sys


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="musicrec-app")
    p.add_argument("--home", metavar="DIR", help="data folder (default: $MUSICREC_HOME or your user folders)")
    p.add_argument("--screenshot", metavar="FILE.png", help="render the main window to a PNG and exit")
    p.add_argument("--demo", action="store_true",
                   help="load the demo library of generated tracks when the library is empty")
    p.add_argument("--tab", metavar="NAME", help="with --screenshot: show this tab (Library, Albums, Taste)")
    # The .desktop file's "Exec=musicrec-app %F": "Open with MusicRec" in a file manager lands here.
    p.add_argument("paths", nargs="*", metavar="FILE_OR_FOLDER",
                   help="audio files or folders to add to the library, as if dropped on the window")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from app.main import run

    return run(args)


if __name__ == "__main__":
    sys.exit(main())
