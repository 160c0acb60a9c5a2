"""Fit the quantile maps of the tag-grounded attributes (attributes/grounded.py) and say what they rest on.

Reads the real recordings' listening outputs that benchmarks/real_listening_cache.py saved (the
product's patch placement, PATCHES patches), computes each recipe's raw score per track, and maps
the raw scores' quantiles onto the Spotify sample's quantiles of the same attribute:

- every album weighs the same (UFO:AI's 48 tracks must not outvote Asc's 3);
- instrumentalness: sung tracks (Frets on Fire songs, which ship a vocals stem) and the rest
  (game soundtracks, instrumental) are weighted to the Spotify sample's share of tracks with
  instrumentalness >= 0.5, so the mapped values follow Spotify's mix of sung and instrumental music.

Confidence: for instrumentalness the ROC AUC of the raw score separating the sung tracks from the
rest; for the others, which have no ground truth among these recordings, a fixed 0.5 and a basis
that says so.

    PYTHONPATH=. .venv/bin/python benchmarks/fit_grounded.py [--cache DIR] [--patches 4] [--write]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))

SPOTIFY = Path("/work/shared/data/spotify-sample/tracks_features_sample_1k.csv")
LEVELS = np.linspace(0, 1, 41)


def load_rows(cache: Path, patches: int) -> list[dict]:
    """One dict per cached track: album, sung, tags {"msd": {...}, "mtt": {...}}, attrs, descriptors,
    embeddings, features."""
    from musicrec_engine.attributes import estimated
    from musicrec_engine.listening.vocab import TAGS

    names = estimated.descriptor_names()
    index = json.loads((cache / "index.json").read_text())
    rows = []
    for item in index:
        f = cache / item["file"]
        if item.get("error") or not f.exists():
            continue
        d = np.load(f)
        if f"p{patches}_msd_probs" not in d:
            continue
        tags = {m: dict(zip(TAGS[m], d[f"p{patches}_{m}_probs"].mean(axis=0).tolist(), strict=True)) for m in TAGS}
        rows.append({"album": item["album"], "key": item["key"], "sung": bool(item.get("sung")) or "Frets on Fire" in item["album"], "tags": tags,
                     "attrs": json.loads(str(d["attributes"])),
                     "descriptors": dict(zip(names, d["descriptors"].tolist(), strict=False)),
                     "file": f})
    return rows


def weighted_quantiles(x: np.ndarray, w: np.ndarray, levels: np.ndarray) -> np.ndarray:
    order = np.argsort(x)
    x, w = x[order], w[order]
    cw = (np.cumsum(w) - 0.5 * w) / w.sum()
    return np.interp(levels, cw, x)


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    s = np.concatenate([pos, neg])
    r = np.argsort(np.argsort(s)) + 1.0
    return float((r[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def fit(rows: list[dict]) -> dict:
    import pandas as pd

    from musicrec_engine.attributes import grounded

    spot = pd.read_csv(SPOTIFY)
    albums = sorted({r["album"] for r in rows})
    per_album = {a: sum(r["album"] == a for r in rows) for a in albums}
    w_album = np.array([1.0 / per_album[r["album"]] for r in rows])
    sung = np.array([r["sung"] for r in rows])
    raw = {n: np.array([grounded.RAW[n](r["tags"], r["attrs"], r["descriptors"]) for r in rows])
           for n in grounded.ATTRIBUTES}
    share_instr = float((spot["instrumentalness"] >= 0.5).mean())
    out = {"source": (f"raw scores of {len(rows)} real recordings in {len(albums)} albums "
                      f"({int(sung.sum())} sung) from benchmarks/realmusic.py, every album weighted equally; "
                      f"targets: quantiles of {SPOTIFY.name} ({len(spot)} tracks)"),
           "attributes": {}}
    for name in grounded.ATTRIBUTES:
        w = w_album.copy()
        if name == "instrumentalness" and sung.any() and (~sung).any():
            w[sung] *= (1 - share_instr) / w[sung].sum()
            w[~sung] *= share_instr / w[~sung].sum()
        raw_q = weighted_quantiles(raw[name], w, LEVELS)
        target_q = np.quantile(spot[name].to_numpy(float), LEVELS)
        if name == "instrumentalness":
            a = auc(raw[name][~sung], raw[name][sung])
            basis = (f"real-music tags: separates {int((~sung).sum())} instrumental game-soundtrack tracks from "
                     f"{int(sung.sum())} sung rock songs at ROC AUC {a:.2f}; scale matched to Spotify's "
                     f"({share_instr:.0%} instrumental)")
            conf = round(max(0.0, 2 * a - 1), 3) if a == a else 0.5
        else:
            basis = ("real-music tags mapped onto the Spotify sample's spread; no real recordings with "
                     f"known {name} to check it against")
            conf = 0.5
        out["attributes"][name] = {"levels": LEVELS.round(4).tolist(), "raw_q": raw_q.round(5).tolist(),
                                   "target_q": target_q.round(5).tolist(), "confidence": conf, "basis": basis}
    return out


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", default=str(Path("~/.cache/musicrec-bench/listening").expanduser()))
    ap.add_argument("--patches", type=int, default=4)
    ap.add_argument("--write", action="store_true", help="write resources/models/grounded_calibration.json")
    ns = ap.parse_args()
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    print(f"fit_grounded.py {' '.join(sys.argv[1:])}  (git {rev})")
    rows = load_rows(Path(ns.cache), ns.patches)
    cal = fit(rows)
    cal["patches"] = ns.patches
    print(cal["source"])
    for name, c in cal["attributes"].items():
        print(f"{name:17s} confidence {c['confidence']:.2f}  {c['basis']}")
    if ns.write:
        from musicrec_engine.attributes import grounded

        grounded.CALIBRATION_FILE.write_text(json.dumps(cal, indent=1) + "\n")
        print(f"wrote {grounded.CALIBRATION_FILE}")
