"""A learned, transposition-equivariant key scorer over the evidence key.py computes: research
code for benchmarks/tune_key.py, not used by the product. Blended with the hand-set scores it won
leave-one-seed-out on the tuning part of the generated corpus (+0.020 MIREX), but on the held-out
part (another generator family and SoundFont) it lost 0.047 to the hand-set scores alone: what it
learnt was the tuning family's habits (docs/BENCHMARKS.md, "The learned key scorer").

The score of key k (tonic t, major or minor) is w_mode . f(evidence rotated so that t is 0) + b_mode:
one weight vector per mode over several kinds of evidence, each seen from the candidate tonic —
the track's pitch-class distribution (as proportions and as logs), the bass line's, the histogram
of half-second triads by root above the tonic and quality, the opening and closing triads, the
triads that lead into the tonic triad (cadences), and the three z-scored log-likelihoods of the
hand-set method (so the learned scorer can lean on them where they are right). Rotating the input
rotates every score the same way, so one weight set serves all twelve transpositions and training
on a piece is the same as training on all its transpositions.

The weights are a multinomial logistic regression over the 24 keys, fitted by
benchmarks/tune_key.py on the tuning part of the generated corpus and written to
benchmarks/key_weights.json (floats only). The opening, closing and cadence blocks are
computed for the dev harness's comparisons but carry zero weight in the shipped file: they helped
on the tuning seeds, yet what a piece opens and closes on is a habit of the generator that wrote
it. `decide` blends these scores with the hand-set ones as the trial did and turns the blended
margin into a confidence.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from musicrec_engine.attributes.measured import key as key_mod

WEIGHTS_FILE = Path(__file__).resolve().with_name("key_weights.json")
_ROT = (np.arange(12)[:, None] + np.arange(12)[None, :]) % 12  # _ROT[t, i] = pitch class i above tonic t
LOG_FLOOR = 0.02
# Feature blocks, in order: name -> width.
BLOCKS = {"chroma": 12, "chroma_log": 12, "bass": 12, "chords": 24, "opening": 24, "closing": 24,
          "cadence": 24, "hand": 3}


def _rot24(h: np.ndarray) -> np.ndarray:
    """(12 tonics, 24) triad histogram by root above the tonic: major triads 0..11, minor 12..23."""
    return np.concatenate([h[:12][_ROT], h[12:][_ROT]], axis=1)


def _hist(ch: np.ndarray) -> np.ndarray:
    return np.bincount(ch, minlength=24) / max(1, len(ch))


def features(vec: np.ndarray, bass: np.ndarray, ch: np.ndarray, hand: np.ndarray) -> np.ndarray:
    """(24 keys, D) features: row k for key k (0..11 major, 12..23 minor), every block seen from its tonic.

    `hand` is (3, 24): the hand-set method's z-scored pitch-class, bass and chord log-likelihoods.
    """
    p = vec / (vec.sum() + 1e-12)
    b = bass / bass.sum() if bass.sum() > 0 else np.full(12, 1 / 12)
    common = [p[_ROT], np.log(p + LOG_FLOOR)[_ROT], b[_ROT], _rot24(_hist(ch)),
              _rot24(_hist(ch[:2])), _rot24(_hist(ch[-2:]))]
    common = np.concatenate(common, axis=1)  # (12, .)
    # Arrivals: consecutive distinct triads a -> b, counted where b is the candidate's tonic triad.
    distinct = ch[np.r_[True, ch[1:] != ch[:-1]]] if len(ch) else ch
    trans = np.zeros((24, 24))
    np.add.at(trans, (distinct[:-1], distinct[1:]), 1.0)
    trans /= max(1, len(distinct) - 1)
    rows = []
    for major in (True, False):
        into = trans[:, np.arange(12) + (0 if major else 12)].T  # (12 tonics, 24 from-triads)
        cad = np.stack([_rot24(into[t])[t] for t in range(12)])
        rows.append(np.concatenate([common, cad], axis=1))
    return np.concatenate([np.concatenate(rows, axis=0), hand.T], axis=1)


@dataclass(frozen=True)
class Model:
    W: np.ndarray  # (2, D): major, minor
    b: np.ndarray  # (2,)
    hand_weight: float  # of the hand-set scores, z-scored over the 24 keys
    learned_weight: float  # of these scores, z-scored
    calibration: tuple[float, float]  # logistic on the blended scores' top-two margin


@lru_cache(maxsize=4)
def load_weights(path: Path = WEIGHTS_FILE) -> Model | None:
    """The shipped weights, read once; None when the file is missing (the hand-set method alone)."""
    try:
        d = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return Model(np.asarray(d["W"], float), np.asarray(d["b"], float), float(d["hand_weight"]),
                 float(d["learned_weight"]), tuple(d["calibration"]))


def scores(F: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """24 scores (0..11 major, 12..23 minor)."""
    return np.r_[F[:12] @ W[0] + b[0], F[12:] @ W[1] + b[1]]



def decide(vec: np.ndarray, bass: np.ndarray, seg: np.ndarray, duration: float, model: Model):
    """(key, mode, confidence) of the trial's blend: the hand-set and learned scores, z-scored and
    summed, the hand-set method's neighbour check, and the margin's logistic as the confidence.
    Atonal tracks are left to the hand-set method."""
    est = key_mod.decide(vec, bass, seg, duration)
    if est.key < 0:
        return est.key, est.mode, est.confidence
    ch = key_mod.chords(seg)
    learned = scores(features(vec, bass, ch, key_mod.components(vec, bass, ch)), model.W, model.b)
    blend = model.hand_weight * key_mod._z(key_mod.hand_scores(vec, bass, ch)) + model.learned_weight * key_mod._z(learned)
    best = key_mod.neighbour_check(blend, vec)
    blend = blend.copy()
    blend[best] = max(blend[best], blend.max() + 1e-6)
    order = np.sort(blend)[::-1]
    conf = float(1 / (1 + np.exp(-(model.calibration[0] + model.calibration[1] * (order[0] - order[1])))))
    return best % 12, 1 if best < 12 else 0, conf
