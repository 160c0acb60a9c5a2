"""How much of the notated metrical level the audio decides: a learned level chooser against the rules.

The tempo method finds the pulse family of a piece almost always (Accuracy2 0.98 on independent
audio) and then has to say which level of it the notation calls the beat. Its rules read that from
the folded onset pattern (tempo.py, steps 3-6). This benchmark asks how much better any chooser
could do from the same kind of evidence, and from more of it: each candidate level of a file is
described by its onset pattern in the method's three bands and in six narrower ones (how strong the
onsets half and a third of the way through its beat, its half and its third are against those on
it), by the comb's salience and off-beat ratio at it and at its relatives, and by its tempo. A
logistic regression and gradient-boosted trees (scikit-learn, a dev dependency) learn which
candidate is the notated beat:

  * leave one family out: trained on the other families' files, scored on this one's (a new
    generator, as the maintainers' corpus is to this project);
  * within the family, five folds by piece: trained on the same generator's other pieces (its
    styles and its notation habits seen), plus the other families ("family seen") or alone;
  * the candidates' coverage: how often the truth is among them at all (the ceiling of any chooser).

If even the chooser that has seen a generator's other pieces stays well below 0.85 on it, the level
is not in this evidence: it is the notation's convention (a polka's oom-pah as eighths at 59 BPM or
as quarters at 118; reggae at 190 or 95) and only the score tells. The learned chooser is a
measuring instrument here, not a product part: it does not beat the rules on a family it has not
seen, and the rules carry their reasons.

    PYTHONPATH=. OMP_NUM_THREADS=1 .venv/bin/python benchmarks/tempo_level_ceiling.py \\
        --family generated=/work/dev/tune-seed0,/work/fresh/heldout-seed19 \\
        --family soundfonts=/work/blind/seed1,/work/blind/seed2 --family synthesised=/work/blind2/seed1

Each corpus is a folder with truth.csv (path, piece, tempo; tools/corpus and benchmarks/blind both
write one). The evidence of each corpus is cached as JSON in --cache (decoded once).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import provenance  # noqa: E402
from benchmarks.bench_attributes import acc1, bootstrap, decode  # noqa: E402
from musicrec_engine.attributes.measured import tempo  # noqa: E402
from musicrec_engine.features.spectrum import Spectrum  # noqa: E402

CACHE = Path.home() / ".cache" / "musicrec-tempo-ceiling"
# Narrower bands than the method's three, so a chooser can tell a snare (broadband) from a
# chord (mid only) or a kick from a bass note on the same beat.
FINE_EDGES_HZ = (0.0, 100.0, 200.0, 500.0, 2000.0, 4000.0, tempo.FLUX_MAX_HZ)
RELATIVES = {"": 1.0, "x2": 2.0, "x3": 3.0, "d2": 0.5, "d3": 1 / 3}
SURE = 0.8
EVIDENCE_VERSION = "1"


def pattern(env: np.ndarray, period: float) -> tuple[float, float, float]:
    """(half, third, contrast) of the envelope folded at `period`: tempo.subdivision_parts, and how
    far the strongest point of the fold stands out from its mean."""
    half, third = tempo.subdivision_parts(env, period)
    h = tempo.fold(env, period)
    return half, third, float((h.max() - h.min()) / (h.mean() + 1e-9))


def candidate_levels(sal: np.ndarray) -> list[float]:
    """The metrical levels the method weighs (tempo.levels): every FAMILY relative of the strongest
    comb pulses, here without the tatum bound, between 38 and 230 BPM, each at its local peak."""
    out: list[float] = []
    for ref in tempo.reference_pulses(sal):
        for r in tempo.FAMILY:
            if not 38.0 <= ref * r <= 230.0:
                continue
            b = float(tempo.GRID[peak_near(sal, ref * r)])
            if all(abs(c / b - 1) >= 0.02 for c in out):
                out.append(b)
    return out


def peak_near(sal: np.ndarray, bpm: float) -> int:
    """tempo.peak_index, or the nearest grid tempo where the grid has none within 2 % (beyond its ends)."""
    j = tempo.peak_index(sal, bpm)
    return j if j is not None else int(np.argmin(np.abs(tempo.GRID - bpm)))


def evidence(spec: Spectrum) -> dict:
    """The method's answer and, for each candidate level, the features a chooser may learn from."""
    est = tempo.estimate(spec)
    fps = spec.sr / spec.hop
    bands = tempo.band_envelopes(spec)
    fine = tempo.flux_in_bands(spec, FINE_EDGES_HZ)
    k = max(1, int(round(fps)))
    fine = np.maximum(fine - np.stack([np.convolve(c, np.ones(k) / k, mode="same") for c in fine.T], 1), 0)
    fine /= np.maximum(fine.mean(axis=0), 1e-9)
    envs = {"low": bands[:, 0], "mid": bands[:, 1], "high": bands[:, 2], "all": bands.sum(axis=1)}
    envs.update({f"fine{i}": fine[:, i] for i in range(fine.shape[1])})
    sal, ratio = tempo.combs(tempo._acf(envs["all"]), fps, tempo.GRID)
    band_sal = {nm: tempo.combs(tempo._acf(envs[nm]), fps, tempo.GRID)[0] for nm in ("low", "mid", "high")}
    smax = max(float(sal.max()), 1e-9)
    cands = []
    for b in candidate_levels(sal):
        f = {"bpm": b, "log_bpm": float(np.log2(b / 120.0))}
        f["log_bpm_sq"] = f["log_bpm"] ** 2
        for nm, e in envs.items():
            for mult in (1, 2, 3):
                f[f"{nm}_half{mult}"], f[f"{nm}_third{mult}"], f[f"{nm}_contrast{mult}"] = pattern(e, 60.0 * fps * mult / b)
        for tag, r in RELATIVES.items():
            j = peak_near(sal, b * r)
            f[f"sal{tag}"], f[f"ratio{tag}"] = float(sal[j]) / smax, float(ratio[j])
            for nm, s in band_sal.items():
                f[f"{nm}_sal{tag}"] = float(s[j])
        cands.append(f)
    return {"bpm": est.bpm, "confidence": est.confidence, "candidates": cands}


def load_corpus(folder: Path, cache: Path) -> list[dict]:
    """One record per file of `folder`'s truth.csv: truth, the method's answer, the candidates."""
    truth = folder / "truth.csv"
    # the method's answer is part of the evidence: a change to tempo.py is a new cache, and so is a
    # change to the features here (bump EVIDENCE_VERSION)
    code = Path(tempo.__file__).read_bytes() + EVIDENCE_VERSION.encode()
    tag = hashlib.sha1(str(folder.resolve()).encode() + truth.read_bytes() + code).hexdigest()[:12]
    path = cache / f"{folder.name}-{tag}.json"
    if path.exists():
        return json.loads(path.read_text())
    records = []
    rows = list(csv.DictReader(truth.open(newline="")))
    for i, r in enumerate(rows):
        y, _ = decode(folder / r["path"])
        spec = Spectrum(y)
        if spec.duration < 3.0:
            continue
        rec = evidence(spec)
        # a work drawn twice (the repertoire draws share a few) or a piece's degraded copies are one
        # piece: they fall in the same fold and are resampled together
        rec.update(corpus=folder.name, piece=r.get("source") or f"{folder.name}/{r['piece']}", path=r["path"],
                   truth=float(r["tempo"]))
        records.append(rec)
        print(f"  {folder.name}: {i + 1}/{len(rows)}", file=sys.stderr, end="\r")
    print(file=sys.stderr)
    cache.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(records))
    return records


class Chooser:
    """A classifier over candidate levels; a file's answer is its most probable candidate."""

    def __init__(self, kind: str, names: list[str]):
        self.kind, self.names = kind, names

    def matrix(self, rec: dict) -> np.ndarray:
        return np.array([[c[n] for n in self.names] for c in rec["candidates"]], float)

    def fit(self, records: list[dict]) -> Chooser:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        x = np.vstack([self.matrix(r) for r in records])
        y = np.concatenate([[acc1(c["bpm"], r["truth"]) for c in r["candidates"]] for r in records])
        self.model = (make_pipeline(StandardScaler(), LogisticRegression(C=0.3, max_iter=3000)) if self.kind == "linear"
                      else HistGradientBoostingClassifier(max_depth=3, max_iter=150, learning_rate=0.05, random_state=0))
        self.model.fit(x, y)
        return self

    def choose(self, rec: dict) -> tuple[float, float]:
        """(bpm, probability) of the most probable candidate."""
        p = self.model.predict_proba(self.matrix(rec))[:, 1]
        i = int(np.argmax(p))
        return rec["candidates"][i]["bpm"], float(p[i])


def cross_validated(recs: list[dict], others: list[dict], kind: str, names: list[str], k: int) -> list[dict]:
    """Each fold of `recs` answered by a chooser trained on the other folds and on `others`."""
    from sklearn.model_selection import GroupKFold

    answers: list = [None] * len(recs)
    groups = [r["piece"] for r in recs]  # a work's copies and repeats stay in one fold
    for _, fold in GroupKFold(n_splits=k, shuffle=True, random_state=0).split(recs, groups=groups):
        held = set(fold.tolist())
        model = Chooser(kind, names).fit(others + [r for i, r in enumerate(recs) if i not in held])
        for i in fold:
            answers[i] = model.choose(recs[i])
    return scored(recs, answers)


def scored(records: list[dict], answers: list[tuple[float, float]]) -> list[dict]:
    return [{"piece": r["piece"], "right": acc1(b, r["truth"]), "p": p} for r, (b, p) in zip(records, answers, strict=True)]


def interval(res: list[dict]) -> str:
    m, lo, hi = bootstrap(res, "right")
    return f"{m:.3f} [{lo:.2f}, {hi:.2f}]"


def sure_share(res: list[dict]) -> str:
    sure = [r["right"] for r in res if r["p"] >= SURE]
    return f"{np.mean(sure):.2f} ({len(sure)})" if sure else "— (0)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--family", action="append", required=True, metavar="NAME=DIR[,DIR...]",
                    help="a family of corpora made the same way (one generator); give two or more")
    ap.add_argument("--cache", type=Path, default=CACHE)
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    provenance.announce(args)
    data: dict[str, list[dict]] = {}
    for spec in args.family:
        name, _, dirs = spec.partition("=")
        data[name] = [rec for d in dirs.split(",") for rec in load_corpus(Path(d), args.cache)]
    names = [n for n in data[next(iter(data))][0]["candidates"][0] if n != "bpm"]
    print(f"# {len(names)} features per candidate level; 95 % intervals resample pieces")
    print("\n| family | files | rules | linear, family unseen | trees, family unseen | linear, family seen "
          "| trees, family seen | trees, this family alone | truth among the candidates |")
    print("|---|---|---|---|---|---|---|---|---|")
    sure_rows = []
    for fam, recs in data.items():
        others = [r for f, rs in data.items() if f != fam for r in rs]
        rules = [{"piece": r["piece"], "right": acc1(r["bpm"], r["truth"]), "p": r["confidence"]} for r in recs]
        unseen, seen = {}, {}
        for kind in ("linear", "trees"):
            model = Chooser(kind, names).fit(others)
            unseen[kind] = scored(recs, [model.choose(r) for r in recs])
            seen[kind] = cross_validated(recs, others, kind, names, args.folds)
        alone = cross_validated(recs, [], "trees", names, args.folds)
        cover = np.mean([any(acc1(c["bpm"], r["truth"]) for c in r["candidates"]) for r in recs])
        print(f"| {fam} | {len(recs)} | {interval(rules)} | {interval(unseen['linear'])} | {interval(unseen['trees'])} "
              f"| {interval(seen['linear'])} | {interval(seen['trees'])} | {interval(alone)} | {cover:.3f} |", flush=True)
        sure_rows.append(f"| {fam} | {sure_share(rules)} | {sure_share(unseen['linear'])} | {sure_share(unseen['trees'])} "
                         f"| {sure_share(seen['trees'])} | {sure_share(alone)} |")
    print(f"\nRight among the sure answers (confidence or probability >= {SURE}; how many in parentheses):\n")
    print("| family | rules | linear, family unseen | trees, family unseen | trees, family seen | trees, this family alone |")
    print("|---|---|---|---|---|---|")
    print("\n".join(sure_rows))


if __name__ == "__main__":
    main()
