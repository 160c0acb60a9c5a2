"""`python -m tools.taste_bench --ab-csv FILE [--ratings CSV] [--cv both|stratified|artist] [--folds 5]
[--repeats 5] [--baseline] [--tune] [taste hyper-parameters] [--json]`: the taste net cross-validated on the album
recommender's AcousticBrainz feature CSV. JSON on stdout, problems and progress on stderr; exit 0
ok, 1 a file that cannot be used, 2 usage error."""

from __future__ import annotations

import argparse
import json
import sys

from musicrec_engine.errors import MusicRecError, UsageError


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m tools.taste_bench", description=__doc__.split(":", 1)[1].strip())
    p.add_argument("--ab-csv", metavar="FILE", required=True, help="the AcousticBrainz feature CSV")
    p.add_argument("--ratings", metavar="CSV", help="mbid, liked CSV labelling its rows (default: its liked column)")
    p.add_argument("--cv", choices=["both", "stratified", "artist"], default="both",
                   help="'artist' = folds grouped by primary artist (new artists), 'stratified' = scored on "
                        "artists rated in training, 'both' (default)")
    p.add_argument("--repeats", type=int, default=5, help="cross-validation repeats with different split seeds "
                                                          "(default 5)")
    p.add_argument("--folds", type=int, default=5, help="number of folds (default 5)")
    p.add_argument("--baseline", action="store_true", help="also score gradient boosting on the same folds")
    p.add_argument("--tune", action="store_true", help="choose hyper-parameters inside each training fold")
    p.add_argument("--ensemble", type=int, help="number of nets averaged (default 5)")
    p.add_argument("--epochs", type=int)
    p.add_argument("--context", help="which of artist,label,genre the net may use ('none': sound and year only)")
    p.add_argument("--json", action="store_true", help="one JSON document on stdout")
    return p


def _params(args) -> dict:
    from musicrec_engine.engine import Engine

    d = {n: getattr(args, n) for n in ("ensemble", "epochs") if getattr(args, n) is not None}
    if args.context:
        d["context"] = Engine.parse_taste_context(args.context)
    return d


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def run(args) -> int:
    from musicrec_engine.taste.net import TasteParams
    from musicrec_engine.taste.ratings import load_ab_training
    from tools.taste_bench import bench

    if args.folds < 2:
        raise UsageError("--folds must be at least 2")
    if args.repeats < 1:
        raise UsageError("--repeats must be at least 1")
    params = TasteParams.from_dict(_params(args))
    data = load_ab_training(args.ab_csv, args.ratings)
    for msg in data.problems[:10]:
        _say(f"taste_bench: {msg}")
    res = bench(data.enc.rows(), data.y, data.artists, args.cv, args.folds, params, baseline=args.baseline,
                tune=args.tune, repeats=args.repeats, progress=lambda d, t, m: _say(f"[{d}/{t}] {m}"), log=_say)
    if args.json:
        print(json.dumps(res))
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


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        return run(args)
    except MusicRecError as e:
        _say(f"taste_bench: {e}")
        return e.exit_code


if __name__ == "__main__":
    sys.exit(main())
