"""`python -m tools.corpus build DIR`: build an evaluation corpus with ground truth (truth.csv).

A development tool: the corpus is for measuring key and tempo, so it is not part of the product.
"""

from __future__ import annotations

import threading

from musicrec_engine.cli.common import emit_json, progress
from musicrec_engine.errors import MusicRecError
from tools.corpus import repertoire


def register(sub) -> None:
    p = sub.add_parser("corpus", help="Build an evaluation corpus with ground truth",
                       description="Compose and render audio with known key, mode and tempo, plus "
                                   "MP3/M4A copies with noise and gain changes; writes DIR/truth.csv.")
    p.add_argument("action", choices=["build"])
    p.add_argument("dir", metavar="DIR", help="output folder (created if missing)")
    p.add_argument("--part", choices=["tune", "heldout", "repertoire-tune", "repertoire-heldout"], default="tune",
                   help="tune: generator family a, FluidR3_GM, one half of the chorales; heldout: family b, "
                        "MuseScore_General, the other half; repertoire-tune / repertoire-heldout: COUNT pieces "
                        "by people from music21's corpus, split by composer (default tune)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same part and seed give the same corpus")
    p.add_argument("--count", type=_count, default=48, help="composed pieces (default 48: each key/mode twice)")
    p.add_argument("--music21", type=_count, default=24, metavar="N",
                   help="Bach chorales from the part's half of music21's corpus (default 24; 0 to skip)")
    p.add_argument("--not-in", nargs="+", default=[], metavar="CSV",
                   help="leave out the chorales and repertoire pieces these truth.csv files use: a set "
                        "none of whose scores was heard before (composed pieces are new with every seed)")
    p.add_argument("--tempo-of", choices=repertoire.TEMPO_OF, default=repertoire.TEMPO_OF[0],
                   help="repertoire: draw the tempo for the notated beat (default), or for the quarter note "
                        "as draws built before 2026-12-03 did (to rebuild them)")
    p.add_argument("--json", action="store_true", help="print a JSON summary on stdout")
    p.set_defaults(func=run)


def _count(text: str) -> int:
    import argparse

    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if n < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return n


def run(args) -> int:
    from tools import corpus

    def report(done: int, total: int, msg: str) -> None:
        progress(f"[{done}/{total}] {msg}")

    try:
        exclude = corpus.used_scores(args.not_in)
    except OSError as e:
        raise MusicRecError(f"cannot read {e.filename}: {e.strerror}") from e
    try:
        csv_path, failures = corpus.build(args.dir, part=args.part, seed=args.seed, count=args.count, music21=args.music21,
                                          progress=report, cancel=threading.Event(), exclude=exclude,
                                          tempo_of=args.tempo_of)
    except corpus.CorpusError as e:
        raise MusicRecError(str(e)) from e
    for f in failures:
        progress(f"failed: {f}")
    files = len(corpus.read_truth(csv_path))
    if args.json:
        emit_json({"truth": str(csv_path), "files": files, "failures": failures})
    else:
        progress(f"{files} files with ground truth in {csv_path}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    import sys

    from musicrec_engine.cli import Parser

    parser = Parser(prog="python -m tools.corpus")
    register(parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser))
    args = parser.parse_args(["corpus", *(sys.argv[1:] if argv is None else argv)])
    try:
        return args.func(args)
    except MusicRecError as e:
        print(f"corpus: {e}", file=sys.stderr)
        return 1
