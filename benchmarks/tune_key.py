"""Dev harness for the key method: cache each file's key evidence once, then score ideas in seconds.

    PYTHONPATH=. .venv/bin/python benchmarks/tune_key.py cache --corpus /work/corpora/tune-seed0 [...] \
        [--real --real-packages asc-music drascula-music fretsonfire-songs-muldjord fretsonfire-songs-sectoid]
    PYTHONPATH=. .venv/bin/python benchmarks/tune_key.py eval --seeds 0 10 11 20 21 ... [--by-set] [--blocks ...]
    PYTHONPATH=. .venv/bin/python benchmarks/tune_key.py fit --seeds 0 10 11 20 21 ...  # writes the trial weights (benchmarks/key_weights.json)

`cache` decodes every file of the given TUNING corpora (never a held-out one: the harness refuses
a directory whose name says heldout), computes the shared spectrum once and stores, per file, the
evidence the key method reads — the track's pitch-class distribution, the bass line's, the
half-second segment chroma (from which chords are picked) — plus the hand-set method's answer
and Essentia's (KeyExtractor, EDMA profile, on the same samples at 44.1 kHz). The cache is an .npz
of floats and ints per corpus (no pickle) under --cache-dir.

`eval` compares, on exactly the same files: the hand-set method (recomputed from the cached
evidence, so a change to its constants shows at once), the learned scorer with LEAVE-ONE-SEED-OUT
training (each seed is scored by weights fitted on all the others), and a blend of the two; with
95 % bootstrap intervals that resample pieces, paired differences, the confidence reliability,
and the agreement with Essentia on the cached real recordings. `--by-set` trains on one set
(composed pieces or chorales) and scores the other: a change of style.

`fit` fits the weights on every given seed and writes benchmarks/key_weights.json, with the
confidence's logistic fitted on leave-one-seed-out margins (docs/BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import bench_attributes as ba  # noqa: E402
from benchmarks import key_learned as kl  # noqa: E402
from musicrec_engine.attributes.measured import key as key_mod  # noqa: E402
from musicrec_engine.features.spectrum import Spectrum  # noqa: E402
from tools import corpus  # noqa: E402

CACHE = Path("/work/tmp/keycache")


def evidence(y: np.ndarray, channels: int) -> dict:
    spec = Spectrum(y)
    spec.extras["channels"] = channels
    est = key_mod.decide(key_mod.track_chroma(spec), key_mod.bass_chroma(spec), key_mod.segment_chroma(spec),
                         spec.duration)
    return {"vec": key_mod.track_chroma(spec), "bass": key_mod.bass_chroma(spec), "seg": key_mod.segment_chroma(spec),
            "duration": spec.duration, "est": [est.key, est.mode, est.confidence, est.mode_confidence]}


def _save(path: Path, items: list[dict], meta: list[dict]) -> None:
    segs = [it["seg"] for it in items]
    np.savez(path, vec=np.array([it["vec"] for it in items]), bass=np.array([it["bass"] for it in items]),
             seg=np.concatenate(segs) if segs else np.zeros((0, 12)),
             seg_off=np.cumsum([0] + [len(s) for s in segs]), duration=np.array([it["duration"] for it in items]),
             est=np.array([it["est"] for it in items], float))
    path.with_suffix(".json").write_text(json.dumps(meta))


def load(path: Path) -> tuple[dict, list[dict]]:
    z = np.load(path, allow_pickle=False)
    d = {k: z[k] for k in z.files}
    return d, json.loads(path.with_suffix(".json").read_text())


def cache_corpus(cdir: Path, out: Path, with_essentia: bool) -> None:
    if "heldout" in cdir.name:
        raise SystemExit(f"{cdir}: held-out corpora are never read by the tuning harness")
    rows = corpus.read_truth(cdir / corpus.TRUTH_CSV)
    ess = ba.Essentia(out.parent / f"{cdir.name}-essentia.json") if with_essentia else None
    items, meta = [], []
    t0 = time.process_time()
    for i, r in enumerate(rows):
        y, ch = ba.decode(r["file"])
        items.append(evidence(y, ch))
        e = ess(y, r["file"]) if ess else {"key": -2, "mode": -1}
        spec = json.loads(r["source"]) if r["set"] == "composed" else {}
        meta.append({"path": r["path"], "piece": f"{cdir.name}/{r['piece']}", "set": r["set"], "variant": r["variant"],
                     "key": r["key"], "mode": r["mode"], "ess": [e["key"], e["mode"]],
                     "progression": spec.get("progression"), "minor": spec.get("minor_scale")})
        if (i + 1) % 24 == 0:
            print(f"  {cdir.name}: {i + 1}/{len(rows)} ({time.process_time() - t0:.0f} CPU-s)", file=sys.stderr, flush=True)
    _save(out / f"{cdir.name}.npz", items, meta)


def cache_real(out: Path, packages: list[str] | None) -> None:
    from musicrec_engine.audio import decode as audio

    ess = ba.Essentia(out / "real-essentia.json")
    items, meta = [], []
    for name, files, _chart in ba.real_tracks(packages):
        parts = [audio.decode(f) for f in files]
        y = np.zeros(max(len(d.y) for d in parts), np.float32)
        for d in parts:
            y[:len(d.y)] += d.y
        y /= max(1.0, float(np.abs(y).max()))
        items.append(evidence(y, max(d.channels for d in parts)))
        e = ess(y, files[0])
        meta.append({"path": name, "piece": name, "set": "real", "variant": "clean", "key": e["key"], "mode": e["mode"],
                     "ess": [e["key"], e["mode"]]})
        print(f"  {name}", file=sys.stderr, flush=True)
    _save(out / "real.npz", items, meta)


# ---------------------------------------------------------------- evaluation


class Files:
    """The cached files of one or more corpora, with what every method needs precomputed."""

    def __init__(self, parts: list[tuple[dict, list[dict]]], group: list[str]):
        self.meta, self.vec, self.bass, self.seg, self.dur, self.group = [], [], [], [], [], []
        for (d, meta), g in zip(parts, group, strict=True):
            off = d["seg_off"]
            for i, m in enumerate(meta):
                self.meta.append(m)
                self.vec.append(d["vec"][i])
                self.bass.append(d["bass"][i])
                self.seg.append(d["seg"][off[i]:off[i + 1]])
                self.dur.append(float(d["duration"][i]))
                self.group.append(g)
        self.group = np.array(self.group)
        self.ch = [key_mod.chords(s) for s in self.seg]
        self.hand = [key_mod.components(v, b, c) for v, b, c in zip(self.vec, self.bass, self.ch, strict=True)]
        self.X = np.array([kl.features(v, b, c, h) for v, b, c, h in zip(self.vec, self.bass, self.ch, self.hand, strict=True)])
        self.y = np.array([m["key"] + (0 if m["mode"] == 1 else 12) if m["key"] >= 0 else -1 for m in self.meta])
        self.piece = np.array([m["piece"] for m in self.meta])

    def __len__(self):
        return len(self.meta)


def fit(X: np.ndarray, y: np.ndarray, lam: float) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic over the 24 keys with one weight vector per mode; returns (W, b) in
    the raw feature units (the standardisation folded in)."""
    from scipy.optimize import minimize

    n, _, d = X.shape
    mu, sd = X.reshape(-1, d).mean(0), X.reshape(-1, d).std(0) + 1e-9
    Xs = (X - mu) / sd
    Y = np.zeros((n, 24))
    Y[np.arange(n), y] = 1

    def f(theta):
        W, b1 = theta[:2 * d].reshape(2, d), theta[-1]
        S = np.concatenate([Xs[:, :12] @ W[0], Xs[:, 12:] @ W[1] + b1], axis=1)
        S -= S.max(1, keepdims=True)
        logp = S - np.log(np.exp(S).sum(1, keepdims=True))
        G = (np.exp(logp) - Y) / n
        loss = -(Y * logp).sum() / n + lam * (W ** 2).sum()
        gW = np.stack([np.einsum("nk,nkd->d", G[:, :12], Xs[:, :12]), np.einsum("nk,nkd->d", G[:, 12:], Xs[:, 12:])])
        gW += 2 * lam * W
        return loss, np.r_[gW.ravel(), G[:, 12:].sum()]

    r = minimize(f, np.zeros(2 * d + 1), jac=True, method="L-BFGS-B", options={"maxiter": 500})
    W = r.x[:2 * d].reshape(2, d) / sd
    b = np.array([0.0, r.x[-1]]) - W @ mu
    return W, b


def loso_scores(X: np.ndarray, y: np.ndarray, groups: np.ndarray, lam: float) -> np.ndarray:
    """Learned scores of every file from weights fitted on the other groups only."""
    S = np.zeros((len(X), 24))
    for g in np.unique(groups):
        tr, te = groups != g, groups == g
        W, b = fit(X[tr], y[tr], lam)
        S[te] = np.array([kl.scores(x, W, b) for x in X[te]])
    return S


def columns(blocks: list[str]) -> np.ndarray:
    offs = np.cumsum([0, *kl.BLOCKS.values()])
    return np.concatenate([np.arange(offs[i], offs[i + 1]) for i, n in enumerate(kl.BLOCKS) if n in blocks])


def mirex_row(pred: int, truth: int) -> float:
    return ba.mirex(pred % 12 if pred >= 0 else -1, int(pred < 12), truth % 12, int(truth < 12))


def outcomes(pred: np.ndarray, truth: np.ndarray) -> dict[str, np.ndarray]:
    return {"mirex": np.array([mirex_row(p, t) for p, t in zip(pred, truth, strict=True)]),
            "mode": np.array([(p >= 0) and ((p < 12) == (t < 12)) for p, t in zip(pred, truth, strict=True)], float),
            "exact": (pred == truth).astype(float)}


def boot(values: np.ndarray, piece: np.ndarray, reps: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """Mean and 95 % interval resampling pieces (a piece's clean and degraded copies together)."""
    names, inv = np.unique(piece, return_inverse=True)
    sums, counts = np.bincount(inv, weights=values), np.bincount(inv)
    idx = np.random.default_rng(seed).integers(0, len(names), size=(reps, len(names)))
    means = sums[idx].sum(1) / counts[idx].sum(1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(values.mean()), float(lo), float(hi)


def fmt(t: tuple[float, float, float]) -> str:
    return f"{t[0]:.3f} [{t[1]:.2f}, {t[2]:.2f}]"


def hand_predict(F: Files, idx) -> tuple[np.ndarray, np.ndarray]:
    out, conf = [], []
    for i in idx:
        e = key_mod.decide(F.vec[i], F.bass[i], F.seg[i], F.dur[i])
        out.append(-1 if e.key < 0 else e.key + (0 if e.mode else 12))
        srt = np.sort(e.scores)
        conf.append(srt[-1] - srt[-2])
    return np.array(out), np.array(conf)


def z24(s: np.ndarray) -> np.ndarray:
    return (s - s.mean(-1, keepdims=True)) / (s.std(-1, keepdims=True) + 1e-12)


def calibrate(margin: np.ndarray, right: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """P(right | margin) by a logistic on the margin, fitted on the other groups (out of sample)."""
    from sklearn.linear_model import LogisticRegression

    out = np.zeros(len(margin))
    for g in np.unique(groups):
        tr = groups != g
        if right[tr].min() == right[tr].max():
            out[~tr] = right[tr][0]
            continue
        m = LogisticRegression(C=100.0).fit(margin[tr, None], right[tr])
        out[~tr] = m.predict_proba(margin[~tr, None])[:, 1]
    return out


def reliability(conf: np.ndarray, right: np.ndarray) -> str:
    cells = []
    for lo, hi in ba.BANDS:
        sel = (conf >= lo) & (conf < hi)
        cells.append(f"{lo:.1f}-{min(hi, 1):.1f}: {right[sel].mean() if sel.any() else float('nan'):.3f} (n={sel.sum()})")
    return "; ".join(cells)


def run_eval(args) -> None:
    seeds = args.seeds
    parts = [load(args.cache_dir / f"tune-seed{s}.npz") for s in seeds]
    F = Files(parts, [str(s) for s in seeds])
    print(f"{len(F)} files from seeds {seeds}; features {F.X.shape[-1]} per key", flush=True)
    truth = F.y
    all_idx = np.arange(len(F))
    hand, hand_conf = hand_predict(F, all_idx)
    est = np.concatenate([p[0]["est"] for p in parts])
    cached = np.where(est[:, 0] < 0, -1, est[:, 0] + np.where(est[:, 1] == 1, 0, 12)).astype(int)
    print(f"hand method recomputed from the cache agrees with the cached answer on {np.mean(hand == cached):.3f} of files")
    methods: dict[str, np.ndarray] = {"hand": hand}
    confs: dict[str, np.ndarray] = {"hand": hand_conf}
    X = F.X[:, :, columns(args.blocks)]
    # Leave one seed out, or (--by-set) train on the composed pieces and score the chorales and back.
    groups = np.array([m["set"] for m in F.meta]) if args.by_set else F.group
    ess = np.array([m["ess"][0] + (0 if m["ess"][1] == 1 else 12) if m["ess"][0] >= 0 else -1 for m in F.meta])
    has_ess = (ess >= 0) if (np.array([m["ess"][0] for m in F.meta]) != -2).all() else None
    tonal = hand >= 0
    Hs = np.array([key_mod.hand_scores(F.vec[i], F.bass[i], F.ch[i]) for i in all_idx])

    def add(name, scores, neighbour=False):
        pred = scores.argmax(1)
        if neighbour:
            pred = np.array([key_mod.neighbour_check(sc, v) for sc, v in zip(scores, F.vec, strict=True)])
        srt = np.sort(scores, 1)
        methods[name] = np.where(tonal, pred, -1)
        confs[name] = srt[:, -1] - srt[:, -2]

    real_path = args.cache_dir / "real.npz"
    R = Files([load(real_path)], ["real"]) if real_path.exists() else None
    real_rows = []
    if R is not None:
        real_rows.append(("hand", hand_predict(R, range(len(R)))[0]))
        HR = z24(np.array([key_mod.hand_scores(R.vec[i], R.bass[i], R.ch[i]) for i in range(len(R))]))
        rtonal = real_rows[0][1] >= 0
    for lam in args.lam:
        if R is not None:
            W, b = fit(X, truth, lam)
            SR = np.array([kl.scores(x, W, b) for x in R.X[:, :, columns(args.blocks)]])
            real_rows.append((f"learned lam={lam}", np.where(rtonal, SR.argmax(1), -1)))
            for a in args.blend:
                real_rows.append((f"blend lam={lam} a={a}", np.where(rtonal, (HR + a * z24(SR)).argmax(1), -1)))
        S = loso_scores(X, truth, groups, lam)
        add(f"learned lam={lam}", S)
        if args.neighbour:
            add(f"learned lam={lam} +nb", S, True)
        for a in args.blend:
            B = z24(Hs) + a * z24(S)
            add(f"blend lam={lam} a={a}", B)
            if args.neighbour:
                add(f"blend lam={lam} a={a} +nb", B, True)
    if has_ess is not None:
        methods["Essentia"] = ess
        confs["Essentia"] = np.zeros(len(F))
    if R is not None:
        print("\nReal recordings, agreement with Essentia (weights fitted on all the given seeds):\n")
        print("| method | n | key same | MIREX-weighted | mode same | a fourth above Essentia |")
        print("|---|---|---|---|---|---|")
        for name, pred in real_rows:
            sel = (pred >= 0) & (R.y >= 0)
            o = outcomes(pred[sel], R.y[sel])
            up = sum((p < 12) == (t < 12) and (p - t) % 12 == 5 for p, t in zip(pred[sel], R.y[sel], strict=True))
            print(f"| {name} | {sel.sum()} | {o['exact'].mean():.3f} | {o['mirex'].mean():.3f} | {o['mode'].mean():.3f} | {up} |")
    base = outcomes(hand, truth)
    print("\n| method | group | n | MIREX | mode | exact | MIREX - hand (paired) |")
    print("|---|---|---|---|---|---|---|")
    for name, pred in methods.items():
        o = outcomes(pred, truth)
        for g in [*np.unique(groups), "all"]:
            sel = np.ones(len(F), bool) if g == "all" else groups == g
            if g != "all" and not args.per_seed:
                continue
            diff = boot(o["mirex"][sel] - base["mirex"][sel], F.piece[sel])
            print(f"| {name} | {g} | {sel.sum()} | {fmt(boot(o['mirex'][sel], F.piece[sel]))} | "
                  f"{fmt(boot(o['mode'][sel], F.piece[sel]))} | {fmt(boot(o['exact'][sel], F.piece[sel]))} | "
                  f"{diff[0]:+.3f} [{diff[1]:+.3f}, {diff[2]:+.3f}] |")
    print()
    for name, pred in methods.items():
        right = (pred == truth).astype(float)
        cal = calibrate(confs[name], right, groups)
        hi = cal >= 0.8
        kinds = {}
        for p, t in zip(pred, truth, strict=True):
            e = ba.key_error(p % 12 if p >= 0 else -1, int(p < 12), t % 12, int(t < 12))
            kinds[e or "right"] = kinds.get(e or "right", 0) + 1
        print(f"{name}: calibrated conf>=0.8 right {right[hi].mean() if hi.any() else float('nan'):.3f} of {hi.sum()}; {kinds}")
        if args.reliability:
            print("   ", reliability(cal, right))


def run_score(args) -> None:
    """The learned blend (weights file as it is) against the hand-set method on seeds no choice
    was made on: a fresh look, not a leave-one-seed-out estimate."""
    F = Files([load(args.cache_dir / f"tune-seed{s}.npz") for s in args.seeds], [str(s) for s in args.seeds])
    hand, _ = hand_predict(F, range(len(F)))
    model = kl.load_weights()
    ests = [kl.decide(F.vec[i], F.bass[i], F.seg[i], F.dur[i], model) for i in range(len(F))]
    shipped = np.array([-1 if k < 0 else k + (0 if m else 12) for k, m, _ in ests])
    conf = np.array([c for _, _, c in ests])
    ess = np.array([m["ess"][0] + (0 if m["ess"][1] == 1 else 12) if m["ess"][0] >= 0 else -1 for m in F.meta])
    base = outcomes(hand, F.y)
    print(f"{len(F)} files from seeds {args.seeds}\n")
    print("| method | MIREX | mode | exact | MIREX - hand-set (paired) |\n|---|---|---|---|---|")
    for name, pred in (("hand-set", hand), ("learned blend", shipped), ("Essentia", ess)):
        o = outcomes(pred, F.y)
        d = boot(o["mirex"] - base["mirex"], F.piece)
        print(f"| {name} | {fmt(boot(o['mirex'], F.piece))} | {fmt(boot(o['mode'], F.piece))} | "
              f"{fmt(boot(o['exact'], F.piece))} | {d[0]:+.3f} [{d[1]:+.3f}, {d[2]:+.3f}] |")
    right = (shipped == F.y).astype(float)
    print("\nlearned blend confidence:", reliability(conf, right))


def run_fit(args) -> None:
    """Fit the trial weights on every given seed; the confidence's logistic on the blended
    score's margin is fitted on leave-one-seed-out scores, so it describes unseen files."""
    from sklearn.linear_model import LogisticRegression

    F = Files([load(args.cache_dir / f"tune-seed{s}.npz") for s in args.seeds], [str(s) for s in args.seeds])
    cols = columns(args.blocks)
    X, y = F.X[:, :, cols], F.y
    Hs = z24(np.array([key_mod.hand_scores(F.vec[i], F.bass[i], F.ch[i]) for i in range(len(F))]))
    S = loso_scores(X, y, F.group, args.lam)
    B = args.hand_weight * Hs + args.blend * z24(S)
    srt = np.sort(B, 1)
    right = (B.argmax(1) == y).astype(int)
    margin = srt[:, -1] - srt[:, -2]
    cal = LogisticRegression(C=100.0).fit(margin[:, None], right)
    c0, c1 = float(cal.intercept_[0]), float(cal.coef_[0, 0])
    # Conservative for music unlike the tuning corpus: the old confidence's files at >= 0.8 were
    # right 97 % of the time on the tuning part but 89.7 % on a held-out seed, so the margin at
    # which confidence reaches 0.8 is moved up until the tuning files above it are right
    # --strict-at-08 of the time (leave-one-seed-out answers).
    order = np.argsort(-margin)
    acc_above = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    ok = np.nonzero(acc_above >= args.strict_at_08)[0]
    m_star = margin[order][ok[-1]] if len(ok) else margin.max()
    c0 = min(c0, float(np.log(0.8 / 0.2) - c1 * m_star))
    conf = 1 / (1 + np.exp(-(c0 + c1 * margin)))
    print(f"calibration: margin {m_star:.3f} -> 0.8; files at >= 0.8: {(conf >= 0.8).sum()} of {len(conf)}, "
          f"right {right[conf >= 0.8].mean():.3f}; " + reliability(conf, right.astype(float)))
    W, b = fit(X, y, args.lam)
    Wfull = np.zeros((2, F.X.shape[-1]))
    Wfull[:, cols] = W
    from benchmarks import provenance

    out = {"about": "Key scorer weights (benchmarks/key_learned.py), fitted by "
                    "benchmarks/tune_key.py fit on the tuning part of the generated corpus",
           "command": " ".join(sys.argv), "revision": provenance.revision(),
           "seeds": args.seeds, "files": len(F), "lambda": args.lam, "layout": kl.BLOCKS, "blocks_used": args.blocks,
           "hand_weight": args.hand_weight, "learned_weight": args.blend,
           "calibration": [c0, c1],
           "W": np.round(Wfull, 6).tolist(), "b": np.round(b, 6).tolist()}
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}: {len(F)} files; calibration {out['calibration']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cache")
    c.add_argument("--corpus", type=Path, nargs="*", default=[])
    c.add_argument("--real", action="store_true")
    c.add_argument("--real-packages", nargs="+")
    c.add_argument("--no-essentia", action="store_true")
    c.add_argument("--cache-dir", type=Path, default=CACHE)
    e = sub.add_parser("eval")
    e.add_argument("--seeds", type=int, nargs="+", required=True)
    e.add_argument("--cache-dir", type=Path, default=CACHE)
    e.add_argument("--lam", type=float, nargs="+", default=[0.01])
    e.add_argument("--blend", type=float, nargs="*", default=[1.0])
    e.add_argument("--per-seed", action="store_true")
    e.add_argument("--neighbour", action="store_true", help="also each method with the neighbour check on top")
    e.add_argument("--by-set", action="store_true", help="train on one set (composed / chorales), score the other")
    e.add_argument("--blocks", nargs="+", default=list(kl.BLOCKS), choices=list(kl.BLOCKS))
    e.add_argument("--reliability", action="store_true")
    sc = sub.add_parser("score")
    sc.add_argument("--seeds", type=int, nargs="+", required=True)
    sc.add_argument("--cache-dir", type=Path, default=CACHE)
    f = sub.add_parser("fit")
    f.add_argument("--seeds", type=int, nargs="+", required=True)
    f.add_argument("--cache-dir", type=Path, default=CACHE)
    f.add_argument("--lam", type=float, default=0.1)
    f.add_argument("--blend", type=float, default=1.0, help="weight of the learned scores (z-scored)")
    f.add_argument("--hand-weight", type=float, default=1.0, help="weight of the hand-set scores (z-scored)")
    f.add_argument("--blocks", nargs="+", default=list(kl.BLOCKS), choices=list(kl.BLOCKS))
    f.add_argument("--strict-at-08", type=float, default=0.97,
                   help="accuracy the tuning files at confidence >= 0.8 must reach (leave-one-seed-out)")
    f.add_argument("--out", type=Path, default=kl.WEIGHTS_FILE)
    args = ap.parse_args()
    args.cache_dir.mkdir(parents=True, exist_ok=True)
    if args.cmd == "cache":
        for cdir in args.corpus:
            cache_corpus(cdir, args.cache_dir, not args.no_essentia)
        if args.real:
            cache_real(args.cache_dir, args.real_packages)
    elif args.cmd == "score":
        run_score(args)
    elif args.cmd == "fit":
        run_fit(args)
    else:
        run_eval(args)


if __name__ == "__main__":
    main()
