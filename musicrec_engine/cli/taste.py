"""`musicrec taste`: train, explain or show the state of the taste model.

  taste train [--ab-csv FILE [--ratings CSV]] [hyper-parameters] [--json]
      without --ab-csv: from the ratings in the library (library and catalog tracks);
      with it: from the album recommender's AcousticBrainz feature CSV (saved as a separate model).
  taste explain [--ab] [--out DIR] [--json]   the model's CSV files and a readable summary
  taste status [--json]

(Cross-validating the net on the AcousticBrainz CSV is a development tool: python -m tools.taste_bench.)
"""

from __future__ import annotations

import sys
import threading

from musicrec_engine.cli.common import emit_json
from musicrec_engine.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("taste", help="Train or explain the taste model, or show its state")
    p.add_argument("action", choices=["train", "explain", "status"])
    p.add_argument("--ab-csv", metavar="FILE", help="train: the album recommender's AcousticBrainz feature CSV")
    p.add_argument("--ratings", metavar="CSV", help="mbid, liked CSV to label the --ab-csv rows (default: its "
                                                    "own liked column)")
    p.add_argument("--ab", action="store_true", help="explain: the model trained with --ab-csv")
    p.add_argument("--out", metavar="DIR", help="explain: folder for the CSV files (default: in the data folder)")
    hp = p.add_argument_group("hyper-parameters (the album recommender's names)")
    hp.add_argument("--test-size", type=float, help="share of the training ratings held out for early stopping")
    hp.add_argument("--epochs", type=int)
    hp.add_argument("--batch-size", type=int)
    hp.add_argument("--learning-rate", type=float)
    hp.add_argument("--weight-decay", type=float)
    hp.add_argument("--evaluate-every", type=int)
    hp.add_argument("--target-accuracy", type=float, help="stop a net once its validation accuracy reaches this")
    hp.add_argument("--ensemble", type=int, help="number of nets averaged (default 5)")
    hp.add_argument("--hidden", help="hidden layer sizes, e.g. 64 or 128,64")
    hp.add_argument("--dropout", type=float)
    hp.add_argument("--context", help="which of artist,label,genre the net may use, when known "
                                      "(default all three; 'none' for sound and year only)")
    hp.add_argument("--artist-dropout", type=float, help="share of training ratings shown as a new artist "
                                                         "(default 0.3)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run)


def _params(args) -> dict:
    names = ["test_size", "epochs", "batch_size", "learning_rate", "weight_decay", "evaluate_every",
             "target_accuracy", "ensemble", "dropout", "artist_dropout"]
    d = {n: getattr(args, n) for n in names if getattr(args, n) is not None}
    if args.hidden:
        try:
            d["hidden"] = tuple(int(h) for h in args.hidden.split(","))
        except ValueError:
            raise UsageError(f"--hidden takes sizes like 64 or 128,64, not '{args.hidden}'") from None
    if args.context:
        from musicrec_engine.engine import Engine

        d["context"] = Engine.parse_taste_context(args.context)
    return d


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _progress(done: int, total: int, message: str) -> None:
    _say(f"[{done}/{total}] {message}")


def run(args, where) -> int:
    from musicrec_engine.engine import Engine

    if args.ratings and not args.ab_csv:
        raise UsageError("--ratings labels the rows of --ab-csv; to import ratings into the library use "
                         "'musicrec rate --csv FILE'")
    eng = Engine(args.home)
    try:
        return {"train": _train, "explain": _explain, "status": _status}[args.action](eng, args)
    finally:
        eng.close()


class _Problems:
    """Rows left out of a training file: the first ten said as they come, then how many more."""

    SHOWN = 10

    def __init__(self):
        self.count = 0

    def __call__(self, msg: str) -> None:
        self.count += 1
        if self.count <= self.SHOWN:
            _say(f"musicrec: {msg}")

    def close(self) -> None:
        if self.count > self.SHOWN:
            _say(f"musicrec: ... and {self.count - self.SHOWN} more")


def _train(eng, args) -> int:
    cancel = threading.Event()
    if args.ab_csv:
        problems = _Problems()
        out = eng.train_taste_on_ab_csv(args.ab_csv, args.ratings, _params(args), progress=_progress, cancel=cancel,
                                        warn=problems)
        problems.close()
    else:
        out = eng.train_taste(progress=_progress, cancel=cancel, params=_params(args))
    if args.json:
        emit_json(out)
    else:
        print(out["description"])
    return 0


def _explain(eng, args) -> int:
    slot = eng.AB_SLOT if args.ab else eng.TASTE_SLOT
    out_dir = args.out or (eng.paths.data / "taste-explain" / slot)
    expl = eng.explain_taste(out_dir, slot=slot)
    if args.json:
        emit_json({**expl.to_dict(), "files": [str(p) for p in expl.written]})
    else:
        print(expl.summary())
        print(f"CSV files in {out_dir}")
    return 0


def _status(eng, args) -> int:
    st = eng.taste_status()
    if args.json:
        emit_json(st)
    else:
        print(f"{st['state']}: {st['ratings']} ratings")
        for who, key in (("artists you have rated", "rated_artists"), ("artists you have not rated", "new_artists")):
            summary = (st.get("accuracy") or {}).get(key)
            print(f"  accuracy {eng.describe_taste_accuracy(summary, who)}" if summary else
                  f"  accuracy for {who}: not enough ratings yet to measure it")
    return 0
