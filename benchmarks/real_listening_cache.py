"""Analyse the real recordings once and keep what the listening benchmarks read (dev only).

For every track of benchmarks/realmusic.py: the product's decode (one decode), today's feature
vectors and attributes, and both MusiCNN models' per-patch outputs for several patch counts
(exactly as `listening.listen` places them), saved per track as .npz under the cache folder
(outside the repository). Re-running skips tracks already done.

    PYTHONPATH=. .venv/bin/python benchmarks/real_listening_cache.py [--set heldout] [--cache DIR] \
        [--patches 1,2,4,8] [--relisten] [--plan product]

--set heldout reads realmusic's held-out packages into their own folder (listening-heldout), so
the tuning set's cache and index stay as they were. A track already cached that lacks a patch
count asked for gets only the listening outputs added (one decode, features kept); --relisten
recomputes the listening outputs of every count asked for, so their CPU times come from one run.
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


def analyse(path: Path, patch_counts: list[int], features_too: bool = True, planned: bool = False) -> dict:
    """What the benchmarks read for one file; with features_too=False only the listening outputs.
    planned: decode only the stretches analysis/plan.py picks, as the product's analysis does since
    tracks are read in segments; otherwise the whole track (up to the decoder's cap)."""
    from musicrec_engine.analysis import plan
    from musicrec_engine.audio import decode as audio

    t0 = time.process_time()
    dec = audio.decode(path, plan=plan.segments) if planned else audio.decode(path)
    t_dec = time.process_time() - t0
    out = _features(dec, t0, t_dec) if features_too else {}
    out.update(listen_outputs(dec, patch_counts))
    return out


def _features(dec, t0: float, t_dec: float) -> dict:
    from musicrec_engine import features
    from musicrec_engine.attributes import estimated
    from musicrec_engine.attributes.compute import compute_all

    spec = features.Spectrum(dec.y, joins=dec.joins)
    spec.extras["channels"] = dec.channels
    vecs = features.extract(spec)
    attrs = compute_all(spec, vecs)
    desc = estimated.descriptor_vector(spec)
    t_feat = time.process_time() - t0 - t_dec
    return {"mfcc": vecs["mfcc"], "stats": vecs["stats"], "descriptors": np.asarray(desc, np.float64),
            "duration": dec.duration, "t_decode": t_dec, "t_features": t_feat,
            "attributes": json.dumps({k: float(a.value) for k, a in attrs.items()})}


def listen_outputs(dec, patch_counts: list[int]) -> dict:
    """Both models' per-patch outputs for each patch count, placed as listening.listen places them,
    and the CPU time of each count (patch extraction and both models)."""
    from musicrec_engine import listening

    out = {}
    for n in patch_counts:
        t1 = time.process_time()
        x, starts = listening._patches(dec.y, dec.sr, n)
        nets = {m: listening.load(m) for m in listening.MODELS}
        for m, (probs, emb) in listening.patch_outputs(x, nets).items():  # as listening.listen runs them
            out[f"p{n}_{m}_probs"] = probs.astype(np.float32)
            out[f"p{n}_{m}_emb"] = emb.astype(np.float32)
        out[f"p{n}_starts"] = np.asarray(starts)
        out[f"t_listen_p{n}"] = time.process_time() - t1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="tuning", choices=("tuning", "heldout"), dest="which",
                    help="realmusic's set: the tuning set (default) or the held-out packages")
    ap.add_argument("--cache", default=None, help=f"default {DEFAULT_OUT}, or {DEFAULT_OUT}-heldout for --set heldout")
    ap.add_argument("--patches", default="1,2,4,8")
    ap.add_argument("--plan", choices=("whole", "product"), default="whole",
                    help="read each track whole (how the figures in docs/BENCHMARKS.md up to 2026-12-02 11:00 "
                         "were taken) or as the product's analysis plan reads it (its own cache folder)")
    ap.add_argument("--relisten", action="store_true",
                    help="recompute the listening outputs of every count asked for on tracks already cached")
    ap.add_argument("--share", default="0/1", metavar="I/N",
                    help="do every N-th track starting at I, so N processes can share the work")
    ap.add_argument("--realmusic", default=str(ROOT / "benchmarks"), help="folder holding realmusic.py")
    ns = ap.parse_args()
    sys.path.insert(0, ns.realmusic)
    import realmusic

    out = Path(ns.cache) if ns.cache else default_cache(ns.which, ns.plan)
    out.mkdir(parents=True, exist_ok=True)
    counts = [int(c) for c in ns.patches.split(",")]
    print(f"real_listening_cache.py --set {ns.which} --plan {ns.plan} --cache {out} --patches {ns.patches}"
          f"{' --relisten' if ns.relisten else ''}", file=sys.stderr, flush=True)
    found = realmusic.albums(which=ns.which)
    # round robin over albums: a partial run already covers every album
    tracks = [(a, a.items[i]) for i in range(max(len(a.items) for a in found)) for a in found if i < len(a.items)]
    index = [{"album": a.name, "key": t.key, "path": str(t.path), "sung": t.sung, "file": track_file(out, t.key).name}
             for a, t in tracks]
    (out / "index.json").write_text(json.dumps(index, indent=1))  # written first: readers skip missing files
    first, every = (int(x) for x in ns.share.split("/"))
    for (_, t), item in list(zip(tracks, index, strict=True))[first::every]:
        f = out / item["file"]
        have = dict(np.load(f)) if f.exists() else None
        todo = counts if (have is None or ns.relisten) else [n for n in counts if f"p{n}_msd_emb" not in have]
        if not todo:
            continue
        try:
            data = analyse(t.path, todo, features_too=have is None, planned=ns.plan == "product")
        except Exception as e:  # noqa: BLE001 - a bad file is reported and skipped
            print(f"skip {t.key}: {e}", file=sys.stderr, flush=True)
            continue
        if have is not None:
            data = {**have, **data}
        tmp = f.with_name(f.stem + ".part.npz")  # a kill mid-write must not leave half a file
        np.savez(tmp, **data)
        tmp.replace(f)
        print(f"{t.key}: {float(data['duration']):.0f} s, listen {[round(float(data[f't_listen_p{n}']), 2) for n in todo]}",
              file=sys.stderr, flush=True)


def default_cache(which: str, plan: str = "whole") -> Path:
    name = DEFAULT_OUT.name + ("" if which == "tuning" else "-heldout") + ("" if plan == "whole" else "-plan")
    return DEFAULT_OUT.with_name(name)

if __name__ == "__main__":
    main()
