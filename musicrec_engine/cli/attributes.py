"""`musicrec attributes`: train the learned-attribute models, and say which models are in use.

    musicrec attributes train --labels CSV [--audio DIR] [--budget N] [--report DIR] [--json]
    musicrec attributes status [--json]
"""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from pathlib import Path

from musicrec_engine.cli.common import emit_json, progress, rows_to_print
from musicrec_engine.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("attributes", help="Train the learned-attribute models, or show which are used")
    act = p.add_subparsers(dest="action", metavar="ACTION")
    t = act.add_parser("train", help="train the stacking ensemble on a label file (Spotify audio-feature columns)")
    t.add_argument("--labels", required=True, metavar="CSV",
                   help="label file: a 'path' column, or artist + title columns matched to tracks; Spotify "
                        "audio-feature columns (energy, valence, ..., key, mode, tempo)")
    t.add_argument("--audio", metavar="DIR", help="folder with the labelled audio (else: the analysed library)")
    t.add_argument("--budget", type=int, default=None, metavar="N",
                   help="Bayesian search evaluations per base model (default 4; 0 keeps default parameters)")
    t.add_argument("--report", metavar="DIR", help="where to write comparison.csv/png (default: DATA/reports/...)")
    t.add_argument("--json", action="store_true", help="print the manifest as JSON on stdout")
    t.set_defaults(func=run_train)
    s = act.add_parser("status", help="which attribute models are used, and why any is refused")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=run_status)
    p.set_defaults(func=lambda args, where: (p.print_help(sys.stderr), 2)[1])


def _fmt(v) -> str:
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def run_train(args, where) -> int:
    from musicrec_engine.engine import Engine

    if args.budget is not None and args.budget < 0:
        raise UsageError("--budget must be 0 or more")
    labels_path = Path(args.labels).expanduser()
    audio = Path(args.audio).expanduser() if args.audio else None
    if audio is not None and not audio.is_dir():
        raise UsageError(f"--audio {audio} is not a folder")

    def prog(done, total, message):
        progress(f"[{done}/{total}] {message}")

    report = Path(args.report) if args.report else where.data / "reports" / datetime.now().strftime(
        "attributes-%Y%m%d-%H%M%S")
    engine = Engine(args.home)
    try:
        m = engine.train_attributes(labels_path, audio, args.budget, prog, threading.Event(), report,
                                    warn=lambda w: progress(w if w.startswith("training on") else f"warning: {w}"))
    finally:
        engine.close()
    path, warnings, report_files = m.pop("model"), m.pop("warnings"), m.pop("report")
    if args.json:
        emit_json(dict(m, model=path, report=report_files))
    else:
        print(f"Held-out metrics ({m['rows']['test']} tracks held out, {m['rows']['train']} trained on):")
        print(f"{'group':<12} {'attribute':<17} {'R2':>7} {'accuracy':>9} {'F1-w':>7}")
        for name, g in m["metrics"]["groups"].items():
            print(f"{name:<12} {'(group)':<17} {_fmt(g.get('r2', '-')):>7} {_fmt(g.get('accuracy', '-')):>9} "
                  f"{_fmt(g.get('f1_weighted', '-')):>7}")
            for t in g["targets"]:
                a = m["metrics"]["attributes"].get(t, {})
                print(f"{'':<12} {t:<17} {_fmt(a.get('r2', '-')):>7} {_fmt(a.get('accuracy', '-')):>9} "
                      f"{_fmt(a.get('f1_weighted', '-')):>7}")
        print(f"model: {path}")
        plots = [f for f in report_files if f.endswith(".png")]
        print(f"comparison report: {', '.join(report_files)}"
              + ("" if plots else " (plots need matplotlib, which is not installed: CSV only)"))
    return 1 if any("could not be used" in w for w in warnings) else 0


def run_status(args, where) -> int:
    from musicrec_engine.engine import Engine

    with Engine(args.home) as engine:
        st = engine.attribute_models()
    for s in rows_to_print(st, args.json, "no learned-attribute model found: attributes are measured or estimated"):
        if s["used"]:
            print(f"used: {s['path']} ({', '.join(s['attributes'])}; trained {s['created']})")
        else:
            print(f"refused: {s['path']}: {s['reason']}")
    return 0
