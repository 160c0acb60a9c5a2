"""Analyse the real recordings once and keep what the listening benchmarks read (dev only).

For every track of benchmarks/realmusic.py: the product's decode (one decode), today's feature
vectors and attributes, and both MusiCNN models' per-patch outputs for several patch counts
(exactly as `listening.listen` places them), saved per track as .npz under the cache folder
(outside the repository). Re-running skips tracks already done.

    PYTHONPATH=. .venv/bin/python benchmarks/real_listening_cache.py [--cache DIR] [--patches 1,2,4,8]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path and "musicrec_engine" not in sys.modules:
    sys.path.append(str(ROOT))  # after PYTHONPATH, so a benchmark can run another tree's engine

DEFAULT_OUT = Path("~/.cache/musicrec-bench/listening").expanduser()


def track_file(out: Path, key: str) -> Path:
    return out / (hashlib.sha1(key.encode()).hexdigest()[:16] + ".npz")


def analyse(path: Path, patch_counts: list[int]) -> dict:
    from musicrec_engine import features, listening
    from musicrec_engine.attributes import estimated
    from musicrec_engine.attributes.compute import compute_all
    from musicrec_engine.audio import decode as audio

    t0 = time.process_time()
    dec = audio.decode(path)
    t_dec = time.process_time() - t0
    spec = features.Spectrum(dec.y)
    spec.extras["channels"] = dec.channels
    vecs = features.extract(spec)
    attrs = compute_all(spec, vecs)
    desc = estimated.descriptor_vector(spec)
    t_feat = time.process_time() - t0 - t_dec
    out = {"mfcc": vecs["mfcc"], "stats": vecs["stats"], "descriptors": np.asarray(desc, np.float64),
           "duration": dec.duration, "t_decode": t_dec, "t_features": t_feat,
           "attributes": json.dumps({k: float(a.value) for k, a in attrs.items()})}
    for n in patch_counts:
        t1 = time.process_time()
        x, starts = listening._patches(dec.y, dec.sr, n)
        for m in listening.MODELS:
            net = listening.load(m)
            outs = [net(x[i:i + 1]) for i in range(len(x))]
            out[f"p{n}_{m}_probs"] = np.concatenate([p for p, _ in outs]).astype(np.float32)
            out[f"p{n}_{m}_emb"] = np.concatenate([e for _, e in outs]).astype(np.float32)
        out[f"p{n}_starts"] = np.asarray(starts)
        out[f"t_listen_p{n}"] = time.process_time() - t1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=str(DEFAULT_OUT))
    ap.add_argument("--patches", default="1,2,4,8")
    ap.add_argument("--share", default="0/1", metavar="I/N",
                    help="do every N-th track starting at I, so N processes can share the work")
    ap.add_argument("--realmusic", default=str(ROOT / "benchmarks"), help="folder holding realmusic.py")
    ns = ap.parse_args()
    sys.path.insert(0, ns.realmusic)
    import realmusic

    out = Path(ns.cache)
    out.mkdir(parents=True, exist_ok=True)
    counts = [int(c) for c in ns.patches.split(",")]
    found = realmusic.albums()
    # round robin over albums: a partial run already covers every album
    tracks = [(a, a.items[i]) for i in range(max(len(a.items) for a in found)) for a in found if i < len(a.items)]
    index = [{"album": a.name, "key": t.key, "path": str(t.path), "sung": t.sung, "file": track_file(out, t.key).name}
             for a, t in tracks]
    (out / "index.json").write_text(json.dumps(index, indent=1))  # written first: readers skip missing files
    first, every = (int(x) for x in ns.share.split("/"))
    for (_, t), item in list(zip(tracks, index, strict=True))[first::every]:
        f = out / item["file"]
        if f.exists():
            continue
        try:
            data = analyse(t.path, counts)
        except Exception as e:  # noqa: BLE001 - a bad file is reported and skipped
            print(f"skip {t.key}: {e}", file=sys.stderr, flush=True)
            continue
        np.savez(f, **data)
        print(f"{t.key}: {data['duration']:.0f} s, listen {[round(data[f't_listen_p{n}'], 2) for n in counts]}",
              file=sys.stderr, flush=True)

if __name__ == "__main__":
    main()
