"""`musicrec features`: print one file's named feature vector."""

from __future__ import annotations

from musicrec_engine.cli.common import add_window_option, emit_json


def register(sub) -> None:
    p = sub.add_parser("features", help="Print one file's feature vector")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--pipeline", choices=["mfcc", "stats"], default="mfcc",
                   help="mfcc: 13 MFCC + deltas, 7 statistics each (273); stats: spectral, rhythm, chroma, harmonic")
    p.add_argument("--json", action="store_true", help="print {pipeline, version, names, values} as JSON")
    add_window_option(p)
    p.set_defaults(func=run)


def run(args, where) -> int:
    from musicrec_engine.engine import Engine

    with Engine(args.home) as engine:
        out = engine.features(args.file, args.pipeline, window=args.window)
    if args.json:
        emit_json({k: out[k] for k in ("pipeline", "version", "schema_hash", "names", "values")})
    else:
        print(f"# {out['pipeline']} v{out['version']} schema {out['schema_hash']}: {len(out['values'])} features")
        for name, value in zip(out["names"], out["values"], strict=True):
            print(f"{name}\t{value:.6g}")
    return 0
