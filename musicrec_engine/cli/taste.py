"""`musicrec taste`: train, explain, benchmark or show the state of the taste model.

  taste train [--ab-csv FILE [--ratings CSV]] [hyper-parameters] [--json]
      without --ab-csv: from the ratings in the library (library and catalog tracks);
      with it: from seed 004's AcousticBrainz feature CSV (saved as a separate model).
  taste explain [--ab] [--out DIR] [--json]   seed 004's CSV files and a readable summary
  taste bench --ab-csv FILE [--ratings CSV] [--cv both|stratified|artist] [--folds 5] [--repeats 5]
              [--baseline] [--tune] [--json]
  taste status [--json]
"""

from __future__ import annotations

import sys
import threading

from musicrec_engine.cli.common import emit_json
from musicrec_engine.errors import UsageError

AB_SLOT = "acousticbrainz"


def register(sub) -> None:
    p = sub.add_parser("taste", help="Train, explain or benchmark the taste model")
    p.add_argument("action", choices=["train", "explain", "bench", "status"])
    p.add_argument("--ab-csv", metavar="FILE", help="seed 004's AcousticBrainz feature CSV (train, bench)")
    p.add_argument("--ratings", metavar="CSV", help="mbid, liked CSV to label the --ab-csv rows (default: its "
                                                    "own liked column)")
    p.add_argument("--ab", action="store_true", help="explain: the model trained with --ab-csv")
    p.add_argument("--out", metavar="DIR", help="explain: folder for the CSV files (default: in the data folder)")
    p.add_argument("--cv", choices=["both", "stratified", "artist"], default="both",
                   help="bench: 'artist' = folds grouped by primary artist (new artists), 'stratified' = scored "
                        "on artists rated in training, 'both' (default)")
    p.add_argument("--repeats", type=int, default=5, help="bench: cross-validation repeats with different "
                                                          "split seeds (default 5)")
    p.add_argument("--folds", type=int, default=5, help="bench: number of folds (default 5)")
    p.add_argument("--baseline", action="store_true", help="bench: also score gradient boosting on the same folds")
    p.add_argument("--tune", action="store_true", help="bench: choose hyper-parameters inside each training fold")
    hp = p.add_argument_group("hyper-parameters (seed 004's names)")
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
        from musicrec_engine.taste.context import FIELDS

        ctx = () if args.context.strip().lower() == "none" else \
            tuple(c.strip().lower() for c in args.context.split(",") if c.strip())
        if set(ctx) - set(FIELDS):
            raise UsageError(f"--context takes some of {','.join(FIELDS)} or 'none', not '{args.context}'")
        d["context"] = ctx
    return d


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _progress(done: int, total: int, message: str) -> None:
    _say(f"[{done}/{total}] {message}")


def run(args, where) -> int:
    from musicrec_engine.engine import Engine

    if args.action != "bench" and (args.cv != "both" or args.baseline or args.tune or args.repeats != 5):
        raise UsageError("--cv, --repeats, --baseline and --tune belong to 'taste bench'")
    if args.repeats < 1:
        raise UsageError("--repeats must be at least 1")
    if args.action == "bench" and not args.ab_csv:
        raise UsageError("taste bench needs --ab-csv FILE (seed 004's AcousticBrainz feature CSV)")
    if args.ratings and not args.ab_csv:
        raise UsageError("--ratings labels the rows of --ab-csv; to import ratings into the library use "
                         "'musicrec rate --csv FILE'")
    if args.folds < 2:
        raise UsageError("--folds must be at least 2")
    eng = Engine(args.home)
    try:
        return {"train": _train, "explain": _explain, "bench": _bench, "status": _status}[args.action](eng, args)
    finally:
        eng.close()


def _report_problems(problems: list[str]) -> None:
    for msg in problems[:10]:
        _say(f"musicrec: {msg}")
    if len(problems) > 10:
        _say(f"musicrec: ... and {len(problems) - 10} more")


def _train(eng, args) -> int:
    cancel = threading.Event()
    if args.ab_csv:
        from musicrec_engine.taste.model import TasteModel
        from musicrec_engine.taste.ratings import load_ab_training

        data = load_ab_training(args.ab_csv, args.ratings)
        _report_problems(data.problems)
        model = TasteModel.train(data.enc, data.y, _params(args), artists=data.artists, source=str(args.ab_csv),
                                 progress=_progress, cancel=cancel)
        folder = eng.taste_store.save(model, AB_SLOT)
        out = {"mode": model.mode, "description": model.describe(), "accuracy": model.accuracy,
               "ratings": int(len(data.y)), "model": str(folder), "left_out": len(data.problems)}
    else:
        out = eng.train_taste(progress=_progress, cancel=cancel, params=_params(args))
    if args.json:
        emit_json(out)
    else:
        print(out["description"])
    return 0


def _explain(eng, args) -> int:
    out_dir = args.out or (eng.paths.data / "taste-explain" / (AB_SLOT if args.ab else eng.TASTE_SLOT))
    if args.ab:
        from musicrec_engine.errors import MusicRecError

        model = eng.taste_store.load(AB_SLOT)
        if model is None:
            raise MusicRecError("no AcousticBrainz taste model yet: run 'musicrec taste train --ab-csv FILE'")
        expl = model.explain()
        expl.write_csvs(out_dir)
    else:
        expl = eng.explain_taste(out_dir)
    if args.json:
        emit_json({**expl.to_dict(), "files": [str(p) for p in expl.written]})
    else:
        print(expl.summary())
        print(f"CSV files in {out_dir}")
    return 0


def _bench(eng, args) -> int:
    from musicrec_engine.taste.bench import bench
    from musicrec_engine.taste.net import TasteParams
    from musicrec_engine.taste.ratings import load_ab_training

    data = load_ab_training(args.ab_csv, args.ratings)
    _report_problems(data.problems)
    res = bench(data.enc.rows(), data.y, data.artists, args.cv, args.folds, TasteParams.from_dict(_params(args)),
                baseline=args.baseline, tune=args.tune, repeats=args.repeats, progress=_progress, log=_say)
    if args.json:
        emit_json(res)
        return 0
    ctx = f" + {', '.join(res['context'])}" if res["context"] else ""
    print(f"{res['rows']} rated tracks ({res['likes']} likes), {res['features']} features{ctx}, "
          f"{args.repeats} x {args.folds}-fold cross-validation; mean [95% interval]")
    print(f"{'model':<6} {'for':<22} {'accuracy':>22} {'ROC AUC':>22} {'majority':>8} {'scored':>7}")
    for key in sorted(k for k in res if k.startswith(("net", "gbm"))):
        r = res[key]
        lo, hi = r["accuracy_ci95"]
        rlo, rhi = r["roc_auc_ci95"]
        print(f"{key.split('_')[0]:<6} {r['kind']:<22} {r['accuracy_mean']:>8.3f} [{lo:.3f}, {hi:.3f}] "
              f"{r['roc_auc_mean']:>8.3f} [{rlo:.3f}, {rhi:.3f}] {r['majority_accuracy']:>8.3f} {r['rows_scored']:>7}")
    return 0


def _status(eng, args) -> int:
    st = eng.taste_status()
    if args.json:
        emit_json(st)
    else:
        from musicrec_engine.taste.model import describe_accuracy

        print(f"{st['state']}: {st['ratings']} ratings")
        for who, key in (("artists you have rated", "rated_artists"), ("artists you have not rated", "new_artists")):
            summary = (st.get("accuracy") or {}).get(key)
            print(f"  accuracy {describe_accuracy(summary, who)}" if summary else
                  f"  accuracy for {who}: not enough ratings yet to measure it")
    return 0
