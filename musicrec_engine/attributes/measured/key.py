"""Key (pitch class, -1 when there is no tonal centre) and mode from the shared magnitude spectrogram.

Three kinds of evidence, each from the same spectral peaks (parabolically refined, tuning-corrected):
  1. The pitch-class distribution of the whole track, scored as a log-likelihood under a
     published key profile (Albrecht & Shanahan). Unlike a correlation, a log-likelihood punishes
     notes a key does not have, so a piece that dwells on its subdominant still shows the
     leading tone its dominant chord brings, and the subdominant key (which lacks it) loses.
     The profile is NOT smeared by harmonics: how many harmonics a note carries depends on the
     instrument, and a smear that fits bright timbres pulls dull ones (flutes, pads) a fourth up.
  2. The bass: the lowest clear peak of each frame, scored the same way at a lower weight (the
     bass sits on the tonic and dominant, but also on the chord roots of a subdominant-heavy loop).
  3. Chords: every half second the best-matching major or minor triad, scored by how likely that
     chord is in each key (I, IV, V, vi, ii... ; V major in minor keys too). A dominant chord
     with its leading tone exists in one key only, which separates a key from the keys a fifth
     either side of it, the usual confusions; the opening chord adds a little weight to its key
     (not for a long track read as stretches, whose first chord is mid-song).
     The chords are read with each note's third and fifth partials discounted
     (discount_partials): otherwise one bright note looks like a major triad on itself, and a
     folk tune that dwells on its dominant reads a fifth up.
The three are z-scored over the 24 keys and summed. A learned scorer over the same evidence
(benchmarks/key_learned.py) was right more often on the tuning part of the generated corpus, but
on the held-out part, whose generator family and SoundFont it had never heard, it lost 0.047 of
MIREX score to these hand-set scores, so the product does not use it (docs/BENCHMARKS.md).
No tonal centre: drums, noise and speech give a flat chroma whose best correlation with any key
profile stays low. A chroma on a handful of pitch classes is a tune even when it fits no profile
(a modal or pentatonic folk tune, a bagpipe air): its key is read, never as sure.
Known limit: the profile and the chord table are classical, so a major key almost never has its
lowered seventh. Popular and game music use it often (the bVII chord of a mixolydian loop: A, G
and D chords in A), and such a piece has exactly the notes of the key a fourth above its tonic;
that is where this method and Essentia disagree on real recordings. A check of where bass
and chords rest fixed generated loops but read dominant-heavy held-out pieces a fifth up, so it
is not used; nor are modal readings (mixolydian, dorian) scored beside major and minor, which
agreed no more with Essentia on real recordings and read generated pieces a fifth off. Four
changes were measured on fresh held-out audio and not kept (docs/BENCHMARKS.md): weighing the
neighbour check's notes among held notes only fixed generated loops whose leading tone the tune
plays in passing, but on real recordings it moved pieces that rest on one chord (an F chord in
587 half-second segments, the next in 33) a fifth down where modal or blues writing holds the
lowered seventh; scoring the bass by how often each note is a chord root helped the generated
pieces and cost the chorales, a wash; leaving out the chords of a tune alone (one line, whose
"chords" are its notes' partials) helped folk tunes but read generated pieces with a quiet
accompaniment as one line and cost them as much; discounting partials by the share the track's
own timbre puts on them (the median weight at 3f and 5f against 2f and 4f) instead of fixed
shares fixed minor loops under a saw-like bass that read a fourth up, but on seven fresh sets it
moved the key by -0.027 to +0.045, a wash. Four more were tried on seen held-out sets only:
weighing the opening and closing stretches again (tonic framing) lost on generated pieces; a 2:1
neighbour test on telling notes read with the third, fifth and seventh partials discounted gained
little (+0.003 generated) and moved real recordings away from Essentia; discounting the seventh
partial in the track's pitch classes was a wash; a bonus for keys whose tonic chord sounds helped
real recordings and the repertoire but cost generated loops that never touch their tonic (IV V
iii vi), on which the targets are scored. A cap on a tune alone's confidence (one line with no
chords or bass, whose sure keys were right 0.68 of the time on seen draws) was withdrawn when new
draws' lone tunes were right 25 of 27 times. Reading a line alone from its notes only (peaks that
are no partial of a lower one; no chords, no bass) fixed folk tunes read a fifth up (+0.06 on an
unheard folk draw) but its test for "alone" took generated melodies over a quiet pad for lone
lines and read them worse, so it failed the check fixed before it was scored; with a bass test
added (nothing under the line) it took no generated piece, and gained nothing on the next new
folk draw (0.658 against 0.660). Studied on the tuning corpus and not kept (no
gain beyond noise): harmonic-partial discounting of the pitch-class distribution (the chords now
use it, see discount_partials), Temperley/Krumhansl profiles and their log-likelihood ensembles,
heavier cadence weights, a leading-tone test between relative keys, a likelier bVII in minor
(for i-bVII-bVI loops), a major-third partial in the triad templates. Accuracy on audio with
known keys, with intervals, and the real-music analysis: benchmarks/bench_attributes.py,
benchmarks/tune_key.py, benchmarks/key_paired.py, docs/BENCHMARKS.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from musicrec_engine.features.spectrum import Spectrum

# Each profile: (major, minor), index 0 = tonic.
PROFILES = {
    # Krumhansl & Kessler (1982), probe-tone ratings.
    "krumhansl": (
        [6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88],
        [6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17],
    ),
    # Temperley (1999), from the Kostka-Payne textbook excerpts.
    "temperley": (
        [5.0, 2.0, 3.5, 2.0, 4.5, 4.0, 2.0, 4.5, 2.0, 3.5, 1.5, 4.0],
        [5.0, 2.0, 3.5, 4.5, 2.0, 4.0, 2.0, 4.5, 3.5, 2.0, 1.5, 4.0],
    ),
    # Albrecht & Shanahan (2013), pitch-class distributions of a classical corpus.
    "albrecht": (
        [0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081],
        [0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052],
    ),
}
# Albrecht-Shanahan scored best on the tuning corpus, as a correlation and as a likelihood.
DEFAULT_PROFILES = ("albrecht",)
F_MIN, F_MAX = 80.0, 2500.0
BASS_MIN, BASS_MAX = 50.0, 300.0
# The atonal test correlates with profiles smeared by the first HARMONICS partials (amplitude
# HARMONIC_SLOPE**(h-1)): a flat chroma (noise, drums) stays flat either way, and the thresholds
# below were set with this smear.
HARMONIC_PC = [0, 0, 7, 0, 4, 7, 10, 0]
HARMONICS = 4
HARMONIC_SLOPE = 0.8
# Atonal (key -1) when the best key correlates below MIN_CORRELATION: midway between GM drum
# kits, white/brown noise and espeak-ng speech (best <= 0.62) and the tuning corpus (>= 0.75);
# or when the chroma is flatter than MAX_FLATNESS, which only noise reaches. Real recordings with
# reverb and dense mixes have flat chroma (0.955-0.985) but a clear key (best correlation 0.8-0.9
# on Debian's game soundtracks); an earlier flatness limit of 0.955 called them atonal.
MIN_CORRELATION = 0.68
MAX_FLATNESS = 0.985
# A chroma far less flat than any noise, drum kit or speech (80 espeak-ng recordings, ten voices:
# flatness >= 0.956; drums and noise >= 0.98) is a tune even when it fits no major or minor
# profile: folk tunes on few notes, pentatonic or modal, bagpipe airs over a drone (flatness
# 0.55-0.94) correlated below MIN_CORRELATION and were called keyless with confidence up to 1.0.
# Their key is read, with at most LOOSE_FIT_CONF: the profile that reads it fits them badly.
TUNE_FLATNESS = 0.94
LOOSE_FIT_CONF = 0.5
# Log-likelihood floor: a note outside the key costs log(p + floor), about -4.5 for Albrecht's rarest.
LL_FLOOR = 0.01
SEGMENT_S = 0.5
# Weights of the bass, the chords and the opening chord against the pitch-class distribution
# (z-scored over the 24 keys), chosen on the tuning corpus (composed pieces and chorales).
W_BASS, W_CHORDS, W_OPENING = 0.3, 1.0, 0.25
# How likely each chord is in a key: (root above the tonic, 1 major / 0 minor triad) -> p.
CHORDS_MAJOR = {(0, 1): .30, (5, 1): .15, (7, 1): .18, (9, 0): .09, (2, 0): .08, (4, 0): .03}
CHORDS_MINOR = {(0, 0): .30, (5, 0): .14, (7, 1): .16, (7, 0): .04, (8, 1): .09, (3, 1): .07, (10, 1): .06}
CHORD_FLOOR = 0.01
# A neighbour a fifth away wins when within NEIGHBOUR_GAP in score and its distinguishing note
# is NEIGHBOUR_RATIO times as strong as the best key's.
NEIGHBOUR_GAP, NEIGHBOUR_RATIO = 1.5, 3.0
# Key confidence: the margin of the best key over the runner-up, in z units, at which it is 1;
# lowered where the tuning sits between two semitones (tuning_clarity) and where the notes that
# tell the key from its neighbours a fifth away are faint (neighbour_clarity).
CONFIDENT_MARGIN = 1.0
# Chords are found with partials discounted (discount_partials): the partials whose pitch class
# differs from their note's (the twelfth, and the major third two octaves up) with the share of
# the note's brightness a peak on one loses, and how close (octaves) it must lie. The fifth
# partial's share is small because a major triad's third can lie on it (with 0.35 major pieces
# read minor more often: mode 0.842 -> 0.800 on one repertoire draw). Chosen on the tuning
# corpora, the seen held-out draws and the real recordings together. Discounting the
# whole track's chroma too fixed more tunes but read subdominant-heavy loops a fourth up twice
# as often (their tonic sits on the third partial of the subdominant's root), so only chords.
PARTIAL_SHARES = {3: 0.35, 5: 0.15}
PARTIAL_TOLERANCE = 0.02
# Tuning further from A440's grid than this (semitones) lowers the key's confidence (tuning_clarity):
# the generated corpora stay within 0.13 and 278 of 290 real recordings within 0.3.
TUNING_CLEAR = 0.3
# Below this strength (against the strongest pitch class) the notes that tell a key from its
# neighbours a fifth either side lower the key's confidence (neighbour_clarity). Chosen on seen
# held-out audio: of the files whose key was sure by its margin, those with these notes below
# 0.3 were right 11 of 15 times (generated) and 9 of 14 (repertoire); those above, 63 of 67
# and 28 of 31.
NEIGHBOUR_CLEAR = 0.3


@dataclass
class KeyEstimate:
    key: int  # 0..11, -1 when atonal
    mode: int  # 1 major, 0 minor (meaningless when key is -1; kept at the best guess)
    confidence: float  # 0..1 for the key
    mode_confidence: float  # 0..1
    scores: np.ndarray  # 24 summed z-scores (atonal: correlations): 0..11 major, 12..23 minor
    alternative: int = -1  # the next best reading, 0..11 major, 12..23 minor; -1 when atonal
    fits_profile: bool = True  # False: a tune whose notes fit no major or minor key well


def _templates(names=DEFAULT_PROFILES, harmonics=HARMONICS, slope=HARMONIC_SLOPE) -> np.ndarray:
    """(len(names), 24, 12) z-scored, harmonic-smeared profile rotations."""
    out = []
    for name in names:
        rows = []
        for prof in PROFILES[name]:
            p = np.asarray(prof, float)
            p = sum(slope**h * np.roll(p, HARMONIC_PC[h]) for h in range(harmonics))
            rows += [np.roll(p, k) for k in range(12)]
        t = np.array(rows)
        t = (t - t.mean(1, keepdims=True)) / t.std(1, keepdims=True)
        out.append(t)
    return np.array(out)


_TEMPLATES = _templates()


def _peaks(spec: Spectrum) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Spectral peaks 50..2500 Hz: (frame, frequency Hz, pitch class, weight), sorted by frame then frequency.

    Spectral peaks, refined by parabolic interpolation, resolve pitch far better than spreading
    every STFT bin over the chroma (2048-point bins are a semitone wide near 180 Hz). Each peak
    weighs sqrt(magnitude / frame maximum) times a cosine window around the nearest equal-tempered
    pitch, after a global tuning correction.
    """
    cached = spec.extras.get("key.peaks")
    if cached is not None:
        return cached
    mag = spec.magnitude
    df = spec.sr / spec.n_fft
    lo, hi = max(1, int(BASS_MIN / df)), min(mag.shape[0] - 1, int(F_MAX / df) + 1)
    a, b, c = mag[lo - 1:hi - 1], mag[lo:hi], mag[lo + 1:hi + 1]
    frame_max = mag.max(axis=0) + 1e-12
    peaks = (b > a) & (b >= c) & (b > frame_max * 1e-3)
    ti, fi = np.nonzero(peaks.T)  # frame-major, so each frame's lowest peak comes first
    A, B, C = a[fi, ti], b[fi, ti], c[fi, ti]
    den = A - 2 * B + C
    delta = np.where(den < 0, 0.5 * (A - C) / np.where(den < 0, den, -1.0), 0.0)
    freq = (fi + lo + delta) * df
    weight = np.sqrt(np.maximum(B - 0.25 * (A - C) * delta, 0) / frame_max[ti])
    pc = np.zeros(len(freq), np.int64)
    if len(freq):
        pitch = 12 * np.log2(freq / 440.0) + 69
        # Global tuning: the weighted circular mean of every peak's distance to the semitone grid.
        dev = pitch - np.round(pitch)
        shift = np.angle(np.sum(weight**2 * np.exp(2j * np.pi * dev))) / (2 * np.pi)
        spec.extras["key.tuning"] = float(shift)
        pitch -= shift
        near = np.round(pitch)
        weight = weight * np.cos(np.pi * (pitch - near)) ** 2  # 1 on the semitone, 0 half a semitone away
        pc = near.astype(np.int64) % 12
    out = (ti, freq, pc, weight)
    spec.extras["key.peaks"] = out
    return out


def _weight_at(axis: np.ndarray, weight: np.ndarray, target: np.ndarray) -> np.ndarray:
    """For each target position on the peaks' sorted axis, the weight of the peak within
    PARTIAL_TOLERANCE of it (the stronger of its two neighbours), else 0."""
    right = np.searchsorted(axis, target)
    out = np.zeros(len(target))
    for j in (np.maximum(right - 1, 0), np.minimum(right, len(axis) - 1)):
        out = np.maximum(out, np.where(np.abs(axis[j] - target) < PARTIAL_TOLERANCE, weight[j], 0.0))
    return out


def discount_partials(frame: np.ndarray, freq: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Weights with each peak that may be another note's third or fifth partial lowered.

    A note's third and fifth partials sound the pitch classes a fifth and a major third above it,
    so with bright timbres (a choir or accordion patch, brass) each note of a tune looks like a
    major triad on itself, and a tune in G that dwells on D shows D major chords: the key comes
    out a fifth up, the commonest miss on folk tunes. Partials 2, 4 and 8 are octaves of the
    note and change no pitch class. A peak at 3x or 5x the frequency of another loses a share
    (PARTIAL_SHARES) of the weaker of that note and the note's own octave partial: the octave
    partial says how bright the note is, so a dull tone (a flute, a pad) whose third partial is
    faint costs the peak above it little. That matters because a real note often sits on
    another's partial (the tonic a twelfth above a subdominant bass). `frame` must be sorted,
    with each frame's peaks in rising frequency.
    """
    if not len(freq):
        return weight
    # One sorted axis for all frames: frame number, then log2 frequency (less than 100 octaves).
    axis = frame * 100.0 + np.log2(freq)
    out = weight.copy()
    for partial, share in PARTIAL_SHARES.items():
        note = axis - np.log2(partial)
        brightness = np.minimum(_weight_at(axis, weight, note), _weight_at(axis, weight, note + 1.0))
        out -= share * brightness
    return np.maximum(out, 0.0)


def track_chroma(spec: Spectrum) -> np.ndarray:
    """One 12-vector for the track from the spectral peaks at 80..2500 Hz (an HPCP-like profile).

    Below 80 Hz the bins are too coarse for a reliable pitch; above 2500 Hz it is mostly upper
    harmonics and cymbals.
    """
    ti, freq, pc, w = _peaks(spec)
    keep = freq >= F_MIN
    return np.bincount(pc[keep], weights=w[keep], minlength=12)


def bass_chroma(spec: Spectrum) -> np.ndarray:
    """Pitch classes of each frame's lowest clear peak (50..300 Hz): the bass line."""
    ti, freq, pc, w = _peaks(spec)
    sel = (w >= 0.3) & (freq < BASS_MAX)
    t, p, ws = ti[sel], pc[sel], w[sel]
    first = np.r_[True, t[1:] != t[:-1]] if len(t) else np.zeros(0, bool)
    return np.bincount(p[first], weights=ws[first], minlength=12)


def segment_chroma(spec: Spectrum) -> np.ndarray:
    """(segments, 12) chroma of consecutive SEGMENT_S stretches, for chords, with partials
    discounted: one bright note's third and fifth partials make it look like a major triad on
    itself, so a tune resting on its dominant would read as that chord."""
    ti, freq, pc, w = _peaks(spec)
    w = discount_partials(ti, freq, w)
    n_seg = max(1, int(spec.n_frames * spec.hop / spec.sr / SEGMENT_S) + 1)
    seg = np.minimum((ti * (spec.hop / spec.sr / SEGMENT_S)).astype(np.int64), n_seg - 1)
    keep = freq >= F_MIN
    return np.bincount(seg[keep] * 12 + pc[keep], weights=w[keep], minlength=n_seg * 12).reshape(n_seg, 12)


def _triads() -> np.ndarray:
    """(24, 12) unit-norm triad templates, 0..11 major and 12..23 minor, with a faint fifth-up
    partial per note (the strongest harmonic that is not an octave; faint, as timbres differ)."""
    rows = []
    for third in (4, 3):
        t = np.zeros(12)
        t[[0, third, 7]] = 1.0
        t = t + 0.11 * np.roll(t, 7)
        rows += [np.roll(t, k) for k in range(12)]
    t = np.array(rows)
    return t / np.linalg.norm(t, axis=1, keepdims=True)


def _chord_loglik() -> np.ndarray:
    """(24 keys, 24 chords) log-probability of each triad in each key."""
    table = np.full((24, 24), np.log(CHORD_FLOOR))
    for key in range(24):
        tonic, major = key % 12, key < 12
        for (rel, quality), p in (CHORDS_MAJOR if major else CHORDS_MINOR).items():
            table[key, (tonic + rel) % 12 + (0 if quality else 12)] = np.log(p)
    return table


def _key_loglik(names=DEFAULT_PROFILES) -> np.ndarray:
    """(24, 12) log-probability of each pitch class in each key (0..11 major, 12..23 minor)."""
    rows = []
    for prof in PROFILES[names[0]]:
        p = np.asarray(prof, float)
        p = p / p.sum()
        rows += [np.roll(p, k) for k in range(12)]
    return np.log(np.array(rows) + LL_FLOOR)


_TRIADS = _triads()
_CHORD_LL = _chord_loglik()
_KEY_LL = _key_loglik()


def chords(seg: np.ndarray) -> np.ndarray:
    """Best triad (0..23) of each segment that has notes in it."""
    energy = seg.sum(axis=1)
    if not (energy > 0).any():
        return np.zeros(0, np.int64)
    seg = seg[energy > 0.05 * np.median(energy[energy > 0])]
    c = np.sqrt(seg)
    c = c / (np.linalg.norm(c, axis=1, keepdims=True) + 1e-12)
    return np.argmax(c @ _TRIADS.T, axis=1)


def _z(x: np.ndarray) -> np.ndarray:
    sd = x.std()
    return (x - x.mean()) / sd if sd > 1e-12 else np.zeros_like(x)


def components(vec: np.ndarray, bass: np.ndarray, ch: np.ndarray) -> np.ndarray:
    """(3, 24) z-scored log-likelihoods of the pitch classes, the bass line and the chords
    (0..11 major, 12..23 minor); a missing kind of evidence is all zeros."""
    out = np.zeros((3, 24))
    out[0] = _z(_KEY_LL @ (vec / (vec.sum() + 1e-12)))
    if bass.sum() > 0:
        out[1] = _z(_KEY_LL @ (bass / bass.sum()))
    if len(ch):
        out[2] = _z(_CHORD_LL[:, ch].mean(axis=1))
    return out


def hand_scores(vec: np.ndarray, bass: np.ndarray, ch: np.ndarray, framed: bool = True) -> np.ndarray:
    """24 summed z-scores (0..11 major, 12..23 minor): pitch classes, bass, chords, and, when the
    signal holds the track's own opening and ending (`framed`), its opening and closing chords."""
    z = components(vec, bass, ch)
    scores = z[0] + W_BASS * z[1] + W_CHORDS * z[2]
    if not framed:
        return scores
    # The triad index is also the index of the key it is the tonic of.
    for c in ch[:2]:
        scores[c] += W_OPENING / 2
    for c in ch[-2:]:
        scores[c] += W_OPENING / 4
    return scores


def correlate(vec: np.ndarray, templates: np.ndarray = _TEMPLATES) -> np.ndarray:
    """Mean Pearson correlation of `vec` with every key template, 24 values."""
    v = vec - vec.mean()
    sd = v.std()
    if sd < 1e-12:
        return np.zeros(24)
    v = v / sd
    return (templates @ v / 12.0).mean(axis=0)


def flatness(vec: np.ndarray) -> float:
    """Geometric over arithmetic mean of the chroma: 1 for a flat one (noise, drums), lower for music."""
    p = vec / (vec.sum() + 1e-12)
    return float(np.exp(np.mean(np.log(p + 1e-9))) * 12)


def _scale_set(key: int) -> set[int]:
    """Pitch classes of a key's natural scale (0..11 major, 12..23 natural minor)."""
    steps = (0, 2, 4, 5, 7, 9, 11) if key < 12 else (0, 2, 3, 5, 7, 8, 10)
    return {(key % 12 + s) % 12 for s in steps}


def telling_notes(key: int, other: int, vec: np.ndarray) -> tuple[float, float]:
    """How strongly `vec` sounds the notes of key `key` that key `other` lacks, and the reverse
    (keys 0..23; for keys a fifth apart, one note each)."""
    mine, theirs = _scale_set(key) - _scale_set(other), _scale_set(other) - _scale_set(key)
    return float(sum(vec[i] for i in mine)), float(sum(vec[i] for i in theirs))


def neighbour_check(scores: np.ndarray, vec: np.ndarray) -> int:
    """The best key, or its neighbour a fifth either side when the one note that tells them
    apart says so.

    Keys a fifth apart share six of seven notes; the seventh decides (C major has B where F
    major has B flat, F where G major has F sharp). The summed scores can still prefer the
    neighbour when the harmony dwells on it (a loop of IV and I never reaching V); when the
    neighbour is close in score and its distinguishing note is NEIGHBOUR_RATIO times stronger
    than the best key's, the neighbour is the key. Major keys only: in minor the notes that
    tell neighbours apart are the 6th and 7th, which melodic and harmonic minor raise, so the
    test would read a raised 6th as the neighbour's key (on the tuning chorales it did).
    """
    best = int(np.argmax(scores))
    if best >= 12:
        return best
    for step in (5, 7):
        alt = (best + step) % 12
        if scores[best] - scores[alt] > NEIGHBOUR_GAP:
            continue
        a, b = telling_notes(best, alt, vec)
        if b > NEIGHBOUR_RATIO * a and b > 0.1 * vec.max():
            return alt
    return best


def estimate(spec: Spectrum) -> KeyEstimate:
    vec = track_chroma(spec)  # computes the peaks, and with them the tuning
    # Stretches joined from a long track begin and end mid-song: their first and last chords say
    # nothing of where the song starts and rests.
    return decide(vec, bass_chroma(spec), segment_chroma(spec), spec.duration, spec.extras.get("key.tuning", 0.0),
                  framed=not spec.joins)


def tuning_clarity(shift: float) -> float:
    """1 when the track's tuning is within TUNING_CLEAR semitones of A440's grid, falling to 0 at
    half a semitone. A recording that sits near half a semitone off the grid (an album played
    about 45 cents sharp, or an instrument whose upper partials lie off its fundamental's grid, as
    one SoundFont's accordion does) is between two pitch classes: the key's relations hold, but
    whether it is C# or D is a coin toss, so the key's confidence says so."""
    return float(np.clip((0.5 - abs(shift)) / (0.5 - TUNING_CLEAR), 0.0, 1.0))


def neighbour_clarity(best: int, vec: np.ndarray) -> float:
    """1 when the notes that tell key `best` (0..23) from both its neighbours a fifth away are
    heard, falling towards 0 as they fade. Keys a fifth apart share six notes; the seventh decides
    (C major has F where G major has F sharp, and B where F major has B flat). A loop of IV
    and I (A flat and E flat chords) never sounds the D that says E flat major nor the D flat that
    says A flat major, so which of the two is home is a matter of emphasis, and the margin of the
    scores overstates how sure that is. For each neighbour the stronger of the two telling notes
    counts, against the track's strongest pitch class; the weaker neighbour decides."""
    v = vec / (vec.max() + 1e-12)
    heard = []
    for step in (5, 7):
        alt = (best % 12 + step) % 12 + (best // 12) * 12
        heard.append(max(telling_notes(best, alt, v)))
    return float(np.clip(min(heard) / NEIGHBOUR_CLEAR, 0.0, 1.0))


def decide(vec: np.ndarray, bass: np.ndarray, seg: np.ndarray, duration: float, tuning: float = 0.0,
           framed: bool = True) -> KeyEstimate:
    """The key from the evidence: track chroma, bass chroma, segment chroma (for chords), seconds,
    the tuning correction the peaks were read with (semitones, -0.5..0.5), and whether the signal
    holds the track's opening and ending (hand_scores)."""
    corr = correlate(np.sqrt(vec))  # the atonal test: compressed, so one loud sustained note does not decide
    flat = flatness(vec) if vec.any() else 1.0
    fits = corr.max() >= MIN_CORRELATION
    tonal = duration >= 1.0 and ((fits and flat <= MAX_FLATNESS) or flat <= TUNE_FLATNESS)
    if not tonal:
        best = int(np.argmax(corr))
        order = np.sort(corr)[::-1]
        # Confidence that there is no key: how far the evidence sits from a tonal track's.
        sure = max((flat - MAX_FLATNESS) / (1 - MAX_FLATNESS), (MIN_CORRELATION - order[0]) / 0.3)
        return KeyEstimate(-1, 1 if best < 12 else 0, float(np.clip(0.5 + sure, 0, 1)), 0.0, corr)
    scores = hand_scores(vec, bass, chords(seg), framed)
    best = neighbour_check(scores, vec)
    if best != int(np.argmax(scores)):
        scores = scores.copy()
        scores[best] = scores.max() + 1e-6
    key, mode = best % 12, 1 if best < 12 else 0
    ranked = np.argsort(scores)[::-1]
    order, alternative = scores[ranked], int(ranked[1])
    # A clear key beats the runner-up (usually a fifth away or the relative key) by a margin.
    confidence = (float(np.clip((order[0] - order[1]) / CONFIDENT_MARGIN, 0, 1)) * tuning_clarity(tuning)
                  * neighbour_clarity(best, vec))
    if not fits:  # a tune whose notes fit no major or minor key well: read, but never sure
        confidence = min(confidence, LOOSE_FIT_CONF)
    # Mode: the best major against the best minor reading of the same evidence.
    maj, mnr = scores[:12].max(), scores[12:].max()
    mode_conf = float(np.clip(abs(maj - mnr) / CONFIDENT_MARGIN, 0, 1))
    return KeyEstimate(key, mode, confidence, mode_conf, scores, alternative, bool(fits))
