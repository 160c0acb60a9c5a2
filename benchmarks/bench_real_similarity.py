"""Same-album precision@5 on REAL recordings (Debian's free game-music and song packages, see
benchmarks/realmusic.py): for each track, of its 5 nearest other tracks how many come from its own
album, averaged over the tracks of albums with >= 6 tracks (tracks of smaller albums still stand
as neighbours). Nothing in the set was made or tuned on by the project.

Spaces compared, all in the same run on the same files:
  (a) the product's sound space: the files are analysed into a temporary library (`--home`) with
      the product's own analysis (Engine.analyze), and each track's 5 neighbours are what
      Engine.similar(track_id=..., source="library") returns;
  (b) the audio recommender's method: cosine over z-scored MFCC-273 (Engine.features(path, "mfcc"));
  (c) other embeddings: musicrec_engine.listening's MusiCNN (MSD, MTT, both concatenated, and
      each combined with the sound space) when that package is present, and any
      `--embedder module:function` (function(path) -> 1-D vector).
Also the instrumentalness attribute against tracks known to be sung, when the set has any.
95% intervals: percentile bootstrap over albums (precision) or tracks (AUC).

    .venv/bin/python benchmarks/bench_real_similarity.py [--limit-per-album 8] [--format mp3] [--home DIR]
"""

from __future__ import annotations

import argparse
import importlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import realmusic  # noqa: E402

Embedder = Callable[[str], np.ndarray]


# --- the spaces ------------------------------------------------------------------------------------
def unit(x: np.ndarray) -> np.ndarray:
    x = np.nan_to_num(np.asarray(x, np.float64))
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def zscore_unit(x: np.ndarray) -> np.ndarray:
    """Seed 000's plain method: z-score each column over the set, then cosine."""
    x = np.asarray(x, np.float64)
    sd = x.std(axis=0)
    return unit((x - x.mean(axis=0)) / np.where(sd > 1e-9, sd, 1.0))


def neighbours(vecs: np.ndarray, k: int) -> np.ndarray:
    """Leave-one-out cosine top-k over unit rows: (n, k) indices, best first."""
    s = vecs @ vecs.T
    np.fill_diagonal(s, -np.inf)
    return np.argsort(-s, axis=1, kind="stable")[:, :k]


def _embedding_of(out, model: str) -> np.ndarray | None:
    """Tolerant reader of listen()'s result: out[model] / out.model, an array or a dict with an
    'embedding'; frame-wise embeddings are averaged over time."""
    table = getattr(out, "embeddings", None)
    if isinstance(table, dict):  # musicrec_engine.listening.Listening
        v = table.get(model)
    else:
        v = out.get(model) if isinstance(out, dict) else getattr(out, model, None)
    if isinstance(v, dict):
        v = v.get("embedding", v.get("embeddings"))
    elif v is not None and hasattr(v, "embedding"):
        v = v.embedding
    if v is None:
        return None
    v = np.asarray(v, np.float64)
    return v.mean(axis=0) if v.ndim == 2 else v.ravel()


def listening_embedders(n_patches: int | None = None, store: Path | None = None) -> dict[str, Embedder]:
    """MusiCNN MSD and MTT embeddings from musicrec_engine.listening, when it has landed; kept in
    `store` (a pickle keyed by path, size, mtime and the models' schema) so a re-run skips them."""
    try:
        listening = importlib.import_module("musicrec_engine.listening")
    except ImportError:
        return {}
    listen = getattr(listening, "listen", None)
    if listen is None:
        return {}
    import pickle

    from musicrec_engine.audio.decode import decode

    kw = {"n_patches": n_patches} if n_patches else {}
    memo: dict = {}
    if store is not None and store.exists():
        try:
            memo = pickle.loads(store.read_bytes())
        except Exception:  # noqa: BLE001
            memo = {}

    def run(path: str):
        st = os.stat(path)
        key = (os.path.realpath(path), st.st_size, int(st.st_mtime), n_patches)
        if key not in memo:
            d = decode(path)
            out = listen(d.y, d.sr, **kw)
            memo[key] = {m: _embedding_of(out, m) for m in ("msd", "mtt")} | {"schema": getattr(out, "schema", "")}
            if store is not None:
                store.write_bytes(pickle.dumps(memo))
        return memo[key]

    return {"MusiCNN MSD": lambda p: run(p)["msd"], "MusiCNN MTT": lambda p: run(p)["mtt"]}


def _copy_db(src: Path, dst: Path) -> None:
    import sqlite3

    a, b = sqlite3.connect(str(src)), sqlite3.connect(str(dst))
    try:
        a.backup(b)
    finally:
        a.close()
        b.close()


def load_embedder(spec: str) -> tuple[str, Embedder]:
    mod, _, fn = spec.partition(":")
    return spec, getattr(importlib.import_module(mod), fn or "embed")


# --- statistics --------------------------------------------------------------------------------------
def precision(nb: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return (labels[nb] == labels[:, None]).mean(axis=1)


def album_bootstrap(per_track: dict[str, np.ndarray], groups: list[np.ndarray], reps: int, seed: int) -> dict:
    """Mean over the tracks of resampled albums; the same resamples for every method (paired)."""
    rng = np.random.default_rng(seed)
    draws = [rng.integers(0, len(groups), len(groups)) for _ in range(reps)]
    idx = [np.concatenate([groups[g] for g in d]) for d in draws]
    out = {}
    for name, p in per_track.items():
        boots = np.array([p[i].mean() for i in idx])
        out[name] = (float(p[np.concatenate(groups)].mean()), *np.percentile(boots, [2.5, 97.5]).tolist(), boots)
    return out


def print_rows(boot: dict, ref: str) -> None:
    """Table rows of album_bootstrap's results: mean, interval, and the paired difference from `ref`."""
    for name, (m, lo, hi, b) in boot.items():
        d = b - boot[ref][3]
        diff = "" if name == ref else f"{m - boot[ref][0]:+.3f} [{np.percentile(d, 2.5):+.3f}, " \
                                      f"{np.percentile(d, 97.5):+.3f}]"
        print(f"| {name} | {m:.3f} | [{lo:.3f}, {hi:.3f}] | {diff} |")


def auc(score: np.ndarray, positive: np.ndarray) -> float:
    from scipy.stats import rankdata

    r = rankdata(score)
    n1, n0 = int(positive.sum()), int((~positive).sum())
    return float((r[positive].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


# --- the run -----------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Same-album precision@5 on real recordings")
    ap.add_argument("--cache", default=str(realmusic.DEFAULT_CACHE), help="materialized audio (outside the repo)")
    ap.add_argument("--home", default=None, help="library home to analyse into, used as it is (default: a new "
                    "temporary one whose analysis cache is seeded from --keep)")
    ap.add_argument("--keep", default=str(realmusic.DEFAULT_CACHE.parent / "real-work"),
                    help="folder keeping the analysis cache and MusiCNN embeddings between runs ('' for none)")
    ap.add_argument("--format", default=None, choices=sorted(realmusic.FORMATS),
                    help="run on converted copies (written to the cache first) instead of the files as shipped")
    ap.add_argument("--limit-per-album", type=int, default=0, help="first N tracks of each album (quick run)")
    ap.add_argument("--min-album", type=int, default=6, help="albums with at least this many tracks are queried")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--boot", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--embedder", action="append", default=[], metavar="MODULE:FUNCTION",
                    help="an extra embedding: FUNCTION(path) -> 1-D vector (repeatable)")
    ap.add_argument("--no-listening", action="store_true", help="skip musicrec_engine.listening even if present")
    ap.add_argument("--patches", type=int, default=0, help="MusiCNN patches per track (default: the product's)")
    ns = ap.parse_args(argv)
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             check=False).stdout.strip()
    except OSError:
        rev = "?"
    print(f"# bench_real_similarity {' '.join(sys.argv[1:] if argv is None else argv)}")
    print(f"# commit {rev}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; args {vars(ns)}")

    found = realmusic.albums(ns.cache)
    if not found:
        print(realmusic.INSTALL_HINT)
        return 2
    if ns.limit_per_album:
        for a in found:
            a.items = a.items[: ns.limit_per_album]
    t0 = time.time()
    counts = realmusic.materialize(ns.cache, [ns.format] if ns.format else (), found)
    if ns.format:
        found = realmusic.albums(ns.cache, fmt=ns.format)
        if ns.limit_per_album:
            for a in found:
                a.items = a.items[: ns.limit_per_album]
    print(f"# materialize: {counts} ({time.time() - t0:.0f} s)")

    pairs = realmusic.all_tracks(found)
    names = [a.name for a in found]
    labels = np.array([names.index(a.name) for a, _ in pairs])
    paths = [str(t.path) for _, t in pairs]
    minutes = sum(t.seconds for _, t in pairs) / 60
    print(f"\n## The set: {len(found)} albums, {len(pairs)} tracks, {minutes:.0f} min of audio "
          f"({ns.format or 'as shipped'})\n")
    print("| album | composer / artist | package | licence | tracks | min |")
    print("|---|---|---|---|---:|---:|")
    for a in found:
        print(f"| {a.name} | {a.artist} | {a.package} | {a.licence} | {len(a.items)} | "
              f"{sum(t.seconds for t in a.items) / 60:.1f} |")

    # (a) the product: analyse into a library, ask it for neighbours
    from musicrec_engine.engine import Engine

    tmp = None
    keep = Path(ns.keep).expanduser() if ns.keep else None
    if ns.home is None:  # a new library holding exactly this set; analyses re-used by content
        tmp = tempfile.TemporaryDirectory(prefix="musicrec-real-")
        ns.home = tmp.name
        if keep is not None and (keep / "features.sqlite3").exists():
            (Path(ns.home) / "cache").mkdir(parents=True, exist_ok=True)
            _copy_db(keep / "features.sqlite3", Path(ns.home) / "cache" / "features.sqlite3")
    eng = Engine(home=ns.home)
    t0 = time.time()
    failed = {}
    for r in eng.analyze(paths, jobs=ns.jobs):
        if r.status != "ok":
            failed[r.path] = r.error
    print(f"\n# analysis: {len(paths) - len(failed)} ok, {len(failed)} failed, {time.time() - t0:.0f} s wall "
          f"({ns.jobs} jobs)")
    for p, why in failed.items():
        print(f"#   failed {p}: {why}")
    if keep is not None and tmp is not None:
        keep.mkdir(parents=True, exist_ok=True)
        _copy_db(Path(ns.home) / "cache" / "features.sqlite3", keep / "features.sqlite3")
    lib = {os.path.realpath(t["path"]): t for t in eng.tracks()}
    rows = [lib.get(os.path.realpath(p)) for p in paths]
    stored = np.array([r is not None for r in rows])
    if not stored.all():  # a failed file leaves every space
        pairs = [p for p, k in zip(pairs, stored, strict=True) if k]
        paths = [p for p, k in zip(paths, stored, strict=True) if k]
        labels, rows = labels[stored], [r for r in rows if r is not None]
    pos = {r["id"]: i for i, r in enumerate(rows)}
    k = ns.k
    nbs: dict[str, np.ndarray] = {}
    product = np.full((len(rows), k), -1)
    extra = len(lib) - len(rows)  # library tracks outside the set (only with an explicit --home)
    for i, r in enumerate(rows):
        res = eng.similar(track_id=r["id"], top=k + extra, source="library")
        got = [pos[x["id"]] for x in res if x["id"] in pos][:k]
        if len(got) < k:
            raise SystemExit(f"Engine.similar gave {len(got)} neighbours for {r['path']}")
        product[i] = got
        if i == 0:
            space_name = res[0]["space"] if res else "?"
    nbs[f"(a) product sound space [Engine.similar, {space_name} space]"] = product
    short = {next(iter(nbs)): "(a) product"}

    sound = None
    try:  # the sound space's vectors, for the combinations below (not part of the facade's contract)
        ids, mat, _ = eng.similarity.sound_space()
        at = {int(t): j for j, t in enumerate(ids)}
        sound = unit(np.stack([mat[at[r["id"]]] for r in rows]))
    except Exception as e:  # noqa: BLE001
        print(f"# sound-space vectors not reachable ({type(e).__name__}: {e}); combinations skipped")

    # (b) the audio recommender's method: z-scored MFCC-273, cosine
    mfcc = np.stack([np.asarray(eng.features(p, "mfcc")["values"], np.float64) for p in paths])
    nbs[f"(b) seed: z-scored MFCC-{mfcc.shape[1]}, cosine"] = neighbours(zscore_unit(mfcc), k)
    short[f"(b) seed: z-scored MFCC-{mfcc.shape[1]}, cosine"] = "(b) MFCC"

    # (a0) the signal-feature sound space alone (the product's sound space before it took in the
    # listening model's embeddings; still what a library analysed without them uses)
    try:
        from musicrec_engine.search.similarity import SoundSpace

        stats = [eng.features(p, "stats") for p in paths]
        names = list(eng.features(paths[0], "mfcc")["names"]) + list(stats[0]["names"])
        raw = np.hstack([mfcc, np.stack([np.asarray(f["values"], np.float64) for f in stats])])
        sig = SoundSpace(names=names).fit(raw)
        label = "(a0) signal features only: whitened MFCC + statistical (SoundSpace)"
        nbs[label], short[label] = neighbours(unit(sig.transform(raw)), k), "(a0) signal"
    except Exception as e:  # noqa: BLE001
        print(f"# (a0) signal-feature space not reachable ({type(e).__name__}: {e})")

    # (c) other embeddings
    store = (keep or Path(ns.home)) / f"listening-{ns.patches or 'default'}.pickle"
    embedders: dict[str, Embedder] = {} if ns.no_listening else listening_embedders(ns.patches or None, store)
    embedders.update(dict(load_embedder(s) for s in ns.embedder))
    if not embedders:
        print("# (c) no other embedding: musicrec_engine.listening is not on this branch and no --embedder given")
    mats: dict[str, np.ndarray] = {}
    for name, fn in embedders.items():
        t0 = time.time()
        try:
            mats[name] = zscore_unit(np.stack([np.asarray(fn(p), np.float64).ravel() for p in paths]))
        except Exception as e:  # noqa: BLE001
            print(f"# (c) {name} failed: {type(e).__name__}: {e}")
            continue
        print(f"# (c) {name}: {mats[name].shape[1]} dims, {time.time() - t0:.0f} s")
    if "MusiCNN MSD" in mats and "MusiCNN MTT" in mats:
        mats["MusiCNN MSD+MTT"] = unit(np.hstack([mats["MusiCNN MSD"], mats["MusiCNN MTT"]]))
    for name, m in list(mats.items()):
        nbs[f"(c) {name}"] = neighbours(m, k)
        short[f"(c) {name}"] = name.replace("MusiCNN ", "")
        if sound is not None:  # equal weight: the mean of the two cosines
            nbs[f"(c) sound space + {name}"] = neighbours(unit(np.hstack([sound, m])), k)
            short[f"(c) sound space + {name}"] = "(a)+" + name.replace("MusiCNN ", "")
    if sound is not None:
        check = neighbours(sound, k)
        same = float(np.mean([set(a) == set(b) for a, b in zip(check, product, strict=True)]))
        print(f"# check: the sound-space vectors give Engine.similar's neighbour sets for {same:.0%} of tracks")

    # precision@k with album-bootstrap intervals
    groups = [np.flatnonzero(labels == j) for j in range(len(found)) if (labels == j).sum() >= ns.min_album]
    queried = np.concatenate(groups)
    per_track = {name: precision(nb, labels) for name, nb in nbs.items()}
    sizes = np.bincount(labels, minlength=len(found))
    chance = (sizes[labels] - 1) / (len(labels) - 1)
    per_track["chance (random neighbours)"] = chance
    boot = album_bootstrap(per_track, groups, ns.boot, ns.seed)
    first = next(iter(nbs))
    print(f"\n## Same-album precision@{k}: {len(queried)} query tracks in {len(groups)} albums with >= "
          f"{ns.min_album} tracks; neighbours from all {len(labels)} tracks\n")
    print(f"| space | precision@{k} | 95% CI (bootstrap over albums) | minus (a), 95% CI |")
    print("|---|---:|---|---|")
    print_rows(boot, first)

    print(f"\n## Per album (precision@{k}, mean over the album's tracks)\n")
    print("| album | tracks | " + " | ".join(short[n] for n in nbs) + " |")
    print("|---|---:|" + "---:|" * len(nbs))
    for g in groups:
        print(f"| {found[labels[g[0]]].name} | {len(g)} | "
              + " | ".join(f"{per_track[n][g].mean():.2f}" for n in nbs) + " |")

    # instrumentalness
    inst = np.array([(r["attributes"] or {}).get("instrumentalness") for r in rows], dtype=object)
    inst = np.array([np.nan if v is None else float(v["value"] if isinstance(v, dict) else v) for v in inst])
    sung = np.array([t.sung for _, t in pairs], dtype=object)
    known = np.array([s is not None for s in sung]) & ~np.isnan(inst)
    n_sung = int(sum(1 for s, kn in zip(sung, known, strict=True) if kn and s))
    n_inst = int(known.sum()) - n_sung
    print("\n## Instrumentalness\n")
    if n_sung >= 5 and n_inst >= 5:
        pos_ = np.array([bool(s) for s in sung[known]])
        sc = inst[known]
        a = auc(-sc, pos_)
        rng = np.random.default_rng(ns.seed)
        ip, ineg = np.flatnonzero(pos_), np.flatnonzero(~pos_)
        bs = [auc(-sc[np.r_[rng.choice(ip, len(ip)), rng.choice(ineg, len(ineg))]],
                  np.r_[np.ones(len(ip), bool), np.zeros(len(ineg), bool)]) for _ in range(ns.boot)]
        print(f"sung-versus-instrumental ROC AUC of (1 - instrumentalness): {a:.3f} "
              f"[{np.percentile(bs, 2.5):.3f}, {np.percentile(bs, 97.5):.3f}] ({n_sung} sung, {n_inst} instrumental)")
    else:
        print(f"No ROC AUC: the set has {n_sung} tracks known to be sung (listening-free evidence: a vocals stem or "
              "the package's own word) — none of these packages documents vocals, so sung-versus-instrumental "
              "cannot be measured on it. What can be: every track here is presumed instrumental game music, so "
              "the share the attribute calls instrumental is its true-negative rate on this set.")
    ok = ~np.isnan(inst)
    if ok.any():
        hi_share = inst >= 0.5
        rng = np.random.default_rng(ns.seed)
        g_ok = [g[ok[g]] for g in [np.flatnonzero(labels == j) for j in range(len(found))] if ok[g].any()]
        bs = [np.mean(hi_share[np.concatenate([g_ok[i] for i in rng.integers(0, len(g_ok), len(g_ok))])])
              for _ in range(ns.boot)]
        print(f"\ninstrumentalness over {int(ok.sum())} tracks: median {np.median(inst[ok]):.2f}, "
              f"share >= 0.5: {hi_share[ok].mean():.3f} [{np.percentile(bs, 2.5):.3f}, {np.percentile(bs, 97.5):.3f}] "
              "(bootstrap over albums)")
        low = np.argsort(inst)[: min(5, int(ok.sum()))]
        print("lowest: " + "; ".join(f"{pairs[i][1].key} {inst[i]:.2f}" for i in low))
    eng.close()
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
