"""The shipped default model's held-out figures: how well each attribute detects the generated fact
it was trained on, with bootstrap intervals, on two kinds of held-out clips.

- seen generator: a new seed of the training pools (the same General MIDI programs, drum kits,
  espeak-ng voices and sentences, the same SoundFont): new melodies, mixes and rooms only;
- unseen generator: the other pool of every program, kit, voice and sentence, rendered with a
  SoundFont training never heard (tools/trainset.py).

Both are generated audio. Nothing here says how the model does on real recordings, and the
confidence shown with its values must not pretend otherwise (CONFIDENCE_CAP, basis()).
"""

from __future__ import annotations

import numpy as np

# Each attribute: the fact it detects (a label column of the clips), and the task in words.
TASKS = {
    "speechiness": ("speech_present", "speech present vs absent"),
    "acousticness": ("acousticness", "acoustic vs synthetic instruments"),
    "liveness": ("liveness", "audience + hall vs studio"),
    "instrumentalness": ("instrumentalness", "no voice or speech vs voice or speech"),
}
# Accuracy needs a yes/no: probabilities at 0.5; speechiness (a value on Spotify's scale) at 0.12,
# halfway between the generator's speech-free value (0.03) and its lowest with speech (0.21).
THRESHOLDS = {"speechiness": 0.12}
# A model checked on generated audio only earns at most half confidence, as the tag-grounded
# attributes do where no real recording could check them (resources/models/grounded_calibration.json):
# a generated-audio AUC says how well it hears the generator's facts, not real music's.
CONFIDENCE_CAP = 0.5
BOOTSTRAP = 1000


def bootstrap_interval(y: np.ndarray, score: np.ndarray, metric, n: int = BOOTSTRAP, seed: int = 0,
                       level: float = 0.95) -> tuple[float, float]:
    """Percentile interval of metric(y, score) over clips resampled with replacement (resamples
    with one class only are skipped, as their AUC is undefined)."""
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(n):
        i = rng.integers(0, len(y), len(y))
        if len(np.unique(y[i])) < 2:
            continue
        vals.append(metric(y[i], score[i]))
    lo, hi = np.quantile(vals, [(1 - level) / 2, (1 + level) / 2])
    return float(lo), float(hi)


def accuracy_at(threshold: float):
    return lambda y, s: float(np.mean((s > threshold) == (y == 1)))


def detection(attribute: str, truth: np.ndarray, score: np.ndarray) -> dict:
    """AUC and accuracy of one attribute's values against its generated fact, each with a 95%
    bootstrap interval; clips without the fact (NaN, e.g. acousticness of speech alone) left out."""
    from sklearn.metrics import roc_auc_score

    truth = np.asarray(truth, float)
    ok = ~np.isnan(truth)
    y, s = truth[ok].astype(int), np.asarray(score, float)[ok]
    acc = accuracy_at(THRESHOLDS.get(attribute, 0.5))
    auc_ci, acc_ci = bootstrap_interval(y, s, roc_auc_score), bootstrap_interval(y, s, acc)
    return {"rows": int(ok.sum()), "task": TASKS[attribute][1],
            "auc": round(float(roc_auc_score(y, s)), 4), "auc_ci": [round(auc_ci[0], 4), round(auc_ci[1], 4)],
            "accuracy": round(acc(y, s), 4), "accuracy_ci": [round(acc_ci[0], 4), round(acc_ci[1], 4)]}


def confidence(m: dict) -> float:
    """0..CONFIDENCE_CAP: the unseen-generator AUC's lower bound, rescaled (0.5 -> 0, 1 -> 1), halved."""
    return round(CONFIDENCE_CAP * max(0.0, 2 * m["auc_ci"][0] - 1), 3)


def basis(m: dict) -> str:
    """What a default-model value's confidence rests on, in words for the detail panel and --json."""
    lo, hi = m["auc_ci"]
    return (f"generated audio only: AUC {m['auc']:.2f} [{lo:.2f}, {hi:.2f}] ({m['task']}) on generated clips whose "
            "instruments, drum kits, voices, sentences and SoundFont training never heard; "
            "never checked against real recordings")
