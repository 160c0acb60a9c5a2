"""The listening model on real recordings: same-album neighbours, cost by patch count, tags per
album, and the grounded attributes against the Spotify sample.

Reads what benchmarks/real_listening_cache.py saved for the tracks of benchmarks/realmusic.py
(Debian's game soundtracks and Frets on Fire songs): the product's decode, today's feature
vectors and attributes, and both MusiCNN models' outputs per patch for several patch counts,
placed exactly as `listening.listen` places them. Every space is computed here in the same run on
the same tracks, so the ratios are fair:

- seed baseline: cosine over z-scored MFCC-273 (the seed's method);
- today's sound space: MFCC + statistical features, sound columns, whitened (search.similarity);
- the MusiCNN embeddings (mean 200-value penultimate layer over the patches), each model and both;
- combinations of the embeddings with today's sound space.

Same-album precision@5: for every track, the share of its 5 nearest others that come from its own
album (albums with fewer than 6 tracks cap it below 1 for every method alike).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_listening_real.py [--cache DIR] [--patches 1,2,4,8]
    PYTHONPATH=. .venv/bin/python benchmarks/bench_listening_real.py --set heldout --patches 4,6,8

With --set heldout it reads the held-out packages' cache (real_listening_cache.py --set heldout):
measured once, with the embedding share, the grounded calibration and the patch count as on main.
Both sets also get 95% intervals: percentile bootstrap over albums (2,000 resamples, the same
resamples for every space, so differences are paired), with the tracks of albums of at least
--min-album tracks as queries and every track as a possible neighbour.
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
sys.path.insert(0, str(Path(__file__).resolve().parent))  # the other benchmarks, imported by name


def precision_at(v: np.ndarray, labels: np.ndarray, k: int = 5) -> float:
    s = v @ v.T
    np.fill_diagonal(s, -np.inf)  # the query itself is excluded
    top = np.argsort(-s, axis=1)[:, :k]
    return float(np.mean(labels[top] == labels[:, None]))


def load(cache: Path, patch_counts: list[int]) -> tuple[list[dict], dict]:
    index = json.loads((cache / "index.json").read_text())
    rows = []
    for item in index:
        f = cache / item["file"]
        if not f.exists():
            continue
        d = dict(np.load(f))
        if not all(f"p{n}_msd_emb" in d for n in patch_counts):
            continue
        d.update(item)
        d["sung"] = "Frets on Fire" in item["album"]  # the rock/metal songs (whether sung is not known)
        rows.append(d)
    return rows, {"tracks": len(rows), "albums": len({r["album"] for r in rows})}


def spaces(rows: list[dict], n: int) -> dict[str, np.ndarray]:
    """name -> unit vectors of every row, for patch count n."""
    from musicrec_engine.features import mfcc as mfcc_pipeline
    from musicrec_engine.features import stats as stats_pipeline
    from musicrec_engine.search import sound as sim
    from musicrec_engine.search.encoding import normalise

    mfcc = np.stack([r["mfcc"] for r in rows])
    both = np.hstack([mfcc, np.stack([r["stats"] for r in rows])])
    names = mfcc_pipeline.names() + stats_pipeline.names()
    today = sim.SoundSpace(names=names).fit(both).transform(both)
    emb = {m: np.stack([r[f"p{n}_{m}_emb"].mean(axis=0) for r in rows]) for m in ("msd", "mtt")}
    out = {"seed baseline: z-scored MFCC-273 cosine": sim.zscore_cosine_space(mfcc),
           "today's sound space (MFCC + stats, whitened)": today}
    for m in ("msd", "mtt"):
        out[f"{m.upper()} embedding, raw cosine"] = normalise(emb[m].astype(np.float32))
        out[f"{m.upper()} embedding, z-scored"] = sim.zscore_cosine_space(emb[m])
    cat = np.hstack([emb["msd"], emb["mtt"]])
    out["MSD+MTT embeddings, raw cosine"] = normalise(cat.astype(np.float32))
    zz = np.hstack([sim.zscore_cosine_space(emb["msd"]), sim.zscore_cosine_space(emb["mtt"])])
    out["MSD+MTT embeddings, z-scored per model"] = normalise(zz)
    out["MSD+MTT embeddings, whitened"] = sim.SoundSpace(max_components=32).fit(cat).transform(cat)
    parts = {"musicnn-msd": emb["msd"], "musicnn-mtt": emb["mtt"], "mfcc": mfcc, "stats": both[:, mfcc.shape[1]:]}
    out[f"product sound space (embeddings {sim.EMBEDDING_SHARE:.0%} + signal features)"] = \
        sim.ListeningSpace(names=names).fit(parts).transform(parts)
    for w in (0.2, 0.35, 0.5):
        out[f"embeddings z-scored + today's space (weight {w:.2f})"] = normalise(np.hstack(
            [np.sqrt(1 - w) * normalise(zz), np.sqrt(w) * today]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", default="tuning", choices=("tuning", "heldout"), dest="which")
    ap.add_argument("--cache", default=None, help="default: real_listening_cache.py's folder for the set")
    ap.add_argument("--plan", choices=("whole", "product"), default="whole",
                    help="the cache of whole-track reads, or of the product's analysis plan (real_listening_cache --plan)")
    ap.add_argument("--patches", default="1,2,4,8")
    ap.add_argument("--default", type=int, default=None,
                    help="patch count of the detailed tables (default: the product's)")
    ap.add_argument("--min-album", type=int, default=6, help="albums with this many tracks give the bootstrap's queries")
    ap.add_argument("--boot", type=int, default=2000)
    ap.add_argument("--against", default=None, metavar="CACHE",
                    help="another cache of the same tracks (e.g. the other --plan): paired differences, this minus it")
    ns = ap.parse_args()
    from real_listening_cache import default_cache

    from musicrec_engine.analysis import listening_step

    ns.default = ns.default or listening_step.DEFAULT_PATCHES
    ns.cache = ns.cache or str(default_cache(ns.which, ns.plan))
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    counts = [int(c) for c in ns.patches.split(",")]
    print(f"bench_listening_real.py --set {ns.which} --plan {ns.plan} --cache {ns.cache} --patches {ns.patches} --default {ns.default} "
          f"--min-album {ns.min_album} --boot {ns.boot}  (git {rev})")
    rows, info = load(Path(ns.cache), counts)
    labels = np.array([r["album"] for r in rows])
    print(f"{info['tracks']} real tracks in {info['albums']} albums "
          f"({sum(r['sung'] for r in rows)} Frets on Fire songs), {sum(float(r['duration']) for r in rows) / 60:.0f} min\n")

    print("## Same-album precision@5 by space and patch count")
    table = {n: {k: precision_at(v, labels) for k, v in spaces(rows, n).items()} for n in counts}
    names = list(table[counts[0]])
    base = table[counts[0]]["seed baseline: z-scored MFCC-273 cosine"]
    print("| space | " + " | ".join(f"{n} patches" for n in counts) + f" | vs seed ({ns.default} p.) |")
    print("|---|" + "---|" * (len(counts) + 1))
    for k in names:
        ref = table.get(ns.default, table[counts[-1]])[k]
        print(f"| {k} | " + " | ".join(f"{table[n][k]:.3f}" for n in counts) + f" | {ref / base:.2f}x |")

    intervals(rows, labels, counts, ns)
    if ns.against:
        against(rows, Path(ns.against), ns)

    print("\n## Cost of listening (both models), CPU-s per track on one core, by patch count")
    print("| patches | mean | max | per 4-min track |")
    print("|---|---|---|---|")
    for n in counts:
        t = np.array([float(r[f"t_listen_p{n}"]) for r in rows])
        t = t[t < np.median(t) * 4]  # the first track of a process also loads the models
        print(f"| {n} | {t.mean():.2f} | {t.max():.2f} | {t.mean():.2f} (length-independent) |")
    dec = np.array([float(r["t_decode"]) + float(r["t_features"]) for r in rows])
    dur = np.array([float(r["duration"]) for r in rows])
    print(f"reference in the same run: decode + features + today's attributes "
          f"{np.mean(dec / dur) * 240:.2f} CPU-s per 4-min track")

    from musicrec_engine.listening.vocab import TAGS

    print(f"\n## Tags per album (top 5 of each vocabulary, mean probability over its tracks, {ns.default} patches)")
    print("| album | tracks | MSD | MTT |")
    print("|---|---|---|---|")
    for album in sorted(set(labels)):
        sel = [r for r in rows if r["album"] == album]
        cells = []
        for m in ("msd", "mtt"):
            p = np.mean([r[f"p{ns.default}_{m}_probs"].mean(axis=0) for r in sel], axis=0)
            top = np.argsort(-p)[:5]
            cells.append(", ".join(f"{TAGS[m][i]} {p[i]:.2f}" for i in top))
        print(f"| {album} | {len(sel)} | {cells[0]} | {cells[1]} |")

    grounded_tables(rows, ns.default)


# The spaces the held-out comparison names (keys of spaces()).
PRODUCT = "product sound space"
COMPARED = {"today's sound space (MFCC + stats, whitened)": "signal features only",
            "seed baseline: z-scored MFCC-273 cosine": "seed: z-scored MFCC-273 cosine",
            "MSD+MTT embeddings, z-scored per model": "MSD+MTT embeddings alone (z-scored per model)"}


def intervals(rows: list[dict], labels: np.ndarray, counts: list[int], ns) -> None:
    """Precision@5 with album-bootstrap intervals: the product's space at every patch count, and the
    compared spaces at the default count, each with its paired difference from the product's."""
    from bench_real_similarity import album_bootstrap, neighbours, precision, print_rows

    sizes = {a: int(np.sum(labels == a)) for a in set(labels)}
    groups = [np.flatnonzero(labels == a) for a in sorted(sizes) if sizes[a] >= ns.min_album]
    if len(groups) < 2:
        print(f"\n(fewer than 2 albums of {ns.min_album}+ tracks: no intervals)")
        return
    per_track = {}
    for n in counts:
        sp = spaces(rows, n)
        prod = next(k for k in sp if k.startswith(PRODUCT))
        per_track[f"{PRODUCT}, {n} patches"] = precision(neighbours(sp[prod], 5), labels)
        if n == ns.default:
            for k, name in COMPARED.items():
                per_track[name] = precision(neighbours(sp[k], 5), labels)
    ref = f"{PRODUCT}, {ns.default} patches"
    boot = album_bootstrap(per_track, groups, ns.boot, seed=0)
    q = int(sum(len(g) for g in groups))
    print(f"\n## Same-album precision@5 with 95% intervals ({q} query tracks in {len(groups)} albums of "
          f"{ns.min_album}+ tracks; neighbours among all {len(labels)})")
    print(f"| space | precision@5 | 95% CI | minus {ref}, 95% CI |")
    print("|---|---|---|---|")
    print_rows(boot, ref)
    names = [ref, *COMPARED.values()]
    print("\n| album | tracks | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for g in groups:
        print(f"| {labels[g[0]]} | {len(g)} | " + " | ".join(f"{per_track[n][g].mean():.2f}" for n in names) + " |")


def against(rows: list[dict], other: Path, ns) -> None:
    """Precision@5 of the product's space and of the signal features in this cache and in `other`
    (the same tracks read another way), with the paired difference over the same album resamples."""
    from bench_real_similarity import album_bootstrap, neighbours, precision

    theirs = {r["key"]: r for r in load(other, [ns.default])[0]}
    mine = [r for r in rows if r["key"] in theirs]
    labels = np.array([r["album"] for r in mine])
    per_track = {}
    for tag, rs in (("this", mine), ("other", [theirs[r["key"]] for r in mine])):
        sp = spaces(rs, ns.default)
        prod = next(k for k in sp if k.startswith(PRODUCT))
        for name, k in (("product sound space", prod), ("signal features only", next(iter(COMPARED)))):
            per_track[f"{name}, {tag}"] = precision(neighbours(sp[k], 5), labels)
    sizes = {a: int(np.sum(labels == a)) for a in set(labels)}
    groups = [np.flatnonzero(labels == a) for a in sorted(sizes) if sizes[a] >= ns.min_album]
    boot = album_bootstrap(per_track, groups, ns.boot, seed=0)
    print(f"\n## This cache against {other} ({len(mine)} tracks in both, {ns.default} patches)")
    print("| space | this | other | this minus other, 95% CI |\n|---|---|---|---|")
    for name in ("product sound space", "signal features only"):
        a, b = boot[f"{name}, this"], boot[f"{name}, other"]
        d = a[3] - b[3]
        print(f"| {name} | {a[0]:.3f} | {b[0]:.3f} | {a[0] - b[0]:+.3f} "
              f"[{np.percentile(d, 2.5):+.3f}, {np.percentile(d, 97.5):+.3f}] |")


def grounded_tables(rows: list[dict], n: int) -> None:
    from musicrec_engine.attributes import estimated, grounded
    from musicrec_engine.listening.vocab import TAGS

    names = estimated.descriptor_names()
    sung = np.array([r["sung"] for r in rows])
    today, new = {}, {}
    for r in rows:
        tags = {m: dict(zip(TAGS[m], r[f"p{n}_{m}_probs"].mean(axis=0).tolist(), strict=True)) for m in TAGS}
        attrs = json.loads(str(r["attributes"]))
        g = grounded.attributes(tags, attrs, dict(zip(names, r["descriptors"].tolist(), strict=False)))
        for a in grounded.ATTRIBUTES:
            today.setdefault(a, []).append(attrs.get(a, np.nan))
            new.setdefault(a, []).append(g[a].value if a in g else np.nan)
    if not any(np.isfinite(v).any() for v in map(np.array, new.values())):
        print("\n(no grounded_calibration.json yet: grounded attributes not shown)")
        return
    inst = np.array(new["instrumentalness"], float)
    print(f"\n## Instrumentalness over {len(rows)} real recordings, none known to be sung")
    print(f"grounded: median {np.median(inst):.2f}, {np.mean(inst >= 0.5):.0%} at 0.5 or more; the generated-audio "
          f"model's: median {np.nanmedian(np.array(today['instrumentalness'], float)):.2f}")
    import pandas as pd
    from fit_grounded import SPOTIFY

    spot = pd.read_csv(SPOTIFY) if SPOTIFY.exists() else None
    inst_spot = spot[spot["instrumentalness"] >= 0.5] if spot is not None else None
    print("\n## Attributes over the real tracks: median [10th, 90th percentile] and share >= 0.95; the "
          "generated-audio models against the grounded ones, and the Spotify sample (all, and its "
          "instrumental tracks: instrumentalness >= 0.5)")
    print("| attribute | generated-audio models | >= 0.95 | grounded | >= 0.95 | Spotify sample | "
          "Spotify instrumental | FoF songs: before / grounded median |")
    print("|---|---|---|---|---|---|---|---|")

    def spread(x) -> str:
        x = np.asarray(x, float)
        x = x[np.isfinite(x)]
        return f"{np.median(x):.2f} [{np.percentile(x, 10):.2f}, {np.percentile(x, 90):.2f}]" if len(x) else "-"

    for a in grounded.ATTRIBUTES:
        t, g = np.array(today[a], float), np.array(new[a], float)
        fof = f"{np.nanmedian(t[sung]):.2f} / {np.nanmedian(g[sung]):.2f}" if sung.any() else "-"
        sp = spread(spot[a]) if spot is not None else "-"
        si = spread(inst_spot[a]) if inst_spot is not None else "-"
        print(f"| {a} | {spread(t)} | {np.nanmean(t >= 0.95):.0%} | {spread(g)} | {np.nanmean(g >= 0.95):.0%} | "
              f"{sp} | {si} | {fof} |")
    if spot is not None:
        print(f"(Spotify sample: {len(spot)} tracks, {len(inst_spot)} of them instrumental)")


if __name__ == "__main__":
    main()
