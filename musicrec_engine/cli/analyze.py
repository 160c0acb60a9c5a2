"""`musicrec analyze`: analyse audio files or folders (cached by content; bad files reported, not fatal),
in local worker processes or, with --cluster, on a Dask cluster's workers."""

from __future__ import annotations

import sys

from musicrec_engine.cli.common import (
    ProgressReport,
    add_cluster_options,
    add_window_option,
    check_cluster_options,
    emit_json,
    key_text,
    positive_int,
    progress,
)


def register(sub) -> None:
    p = sub.add_parser("analyze", help="Analyse audio files or folders")
    p.add_argument("paths", nargs="+", metavar="PATH", help="audio files or folders")
    p.add_argument("--jobs", type=positive_int, default=None, help="worker processes (default: number of cores)")
    p.add_argument("--json", action="store_true", help="one JSON line per file on stdout")
    add_cluster_options(p)
    add_window_option(p)
    p.set_defaults(func=run)


def run(args, where) -> int:
    from musicrec_engine.engine import Engine

    check_cluster_options(args)
    engine = Engine(args.home)
    failed = done = 0
    bar = ProgressReport()
    to_terminal = sys.stdout.isatty() and not args.json

    last = (0, 0, "")

    def on_progress(i: int, total: int, path: str) -> None:
        nonlocal last
        last = (i, total, f"analysed {path}")
        bar(*last)

    try:
        for r in engine.analyze(args.paths, jobs=args.jobs, progress=on_progress, window=args.window,
                                cluster=args.cluster, path_map=args.path_map):
            done += 1
            failed += r.status != "ok"
            if to_terminal:  # the result line goes where the bar is: take the bar away first
                bar.clear()
            if args.json:
                emit_json(r.to_json())
            elif r.status == "ok":
                attrs = r.attributes
                tempo = f"{float(attrs['tempo'].value):.0f} BPM" if "tempo" in attrs else ""
                key = key_text(engine.KEY_NAMES, *(attrs[n].value if n in attrs else None for n in ("key", "mode")))
                print(f"ok     {_mmss(r.duration)}  {tempo:>8}  {key:<9}  {'(cached) ' if r.cached else ''}{r.path}",
                      flush=True)
            else:
                print(f"error  {r.path}: {r.error}", flush=True)
            if to_terminal:  # the bar again, under the line, until the next file
                bar(*last)
    finally:
        bar.close()
        engine.close()
    if done == 0:
        progress("musicrec: no audio files found in the given paths")
        return 1
    if failed:
        progress(f"musicrec: {failed} of {done} files could not be analysed")
    return 1 if failed else 0


def _mmss(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    return f"{m:d}:{s:02d}"
