"""Tempo in BPM from the shared magnitude spectrogram; the metrical level is read from the music.

1. Onset envelopes: half-wave rectified spectral flux of the log magnitude in three bands
   (0..200 Hz: kick and bass; 200..2000 Hz: notes and snare body; 2..6 kHz: snare, hats, attacks).
   Per-bin flux hears the soft note changes of legato organ or strings that a mel envelope misses.
   Each band is detrended and scaled to its own mean before they are summed, so a kick (a few
   low bins) counts as much as a snare (hundreds of bins): the beat is where either sounds.
2. Pulse: the autocorrelation of that envelope, and for every tempo on a fine log grid the mean
   autocorrelation at the whole multiples of its period (a comb). Long lags pin the period to a
   fraction of a frame. The strongest pulse fixes the FAMILY of related levels (x1/4 .. x4, via
   halves and thirds) but not which of them is the beat; pulses within REF_SHARE of it add
   their families too, so a near tie between two readings (a 6/8 bar as two dotted quarters or
   three quarters, a real mix whose comb is flat) does not decide alone. The TATUM is the
   fastest level of the strongest pulse's family that is played (its odd multiples are not
   empty); no level slower than three tatums is a candidate, since that is a half bar or a bar.
   Without this bound a fast piece with a chord or kick per bar and a tune on the beats read as
   its bar, a quarter of the tempo, with confidence near 1.
3. Metrical level: the envelope is folded at each level's period (its average pattern over one
   beat). A level is TOO SLOW when onsets half-way or a third of the way through its beat are
   nearly as strong as those on it (the snare of a backbeat half-way through a "beat" twice as
   long; the second and third beat of a 3/4 bar). A level is the beat when it is not too slow and
   every slower parent (half or third of its tempo) is. So kick and snare on every beat of a slow
   piece keep it slow, and a fast piece whose every beat is marked is not halved; 3/4 and 6/8 are
   read through the thirds.
4. When the pattern does not decide clearly (confidence below DECISIVE: even eighths with
   nothing marking the beat, legato chorales whose passing notes fill the half-beats, dense
   real mixes), the level comes from the pulse instead: the comb's salience times an off-beat
   factor (a pulse whose odd multiples are much weaker than its even ones is a subdivision)
   times a log-normal prior. Its confidence is scaled down by AMBIGUOUS_CONF, so a guess never
   reads as sure. The prior acts only here. The pulse method chooses only among the levels of
   step 3: left free over all tempi, its off-beat factor favoured three pulses per 4/4 bar
   (x3/4 of the tempo) whenever the downbeat was the strongest onset, since such a pulse's odd
   multiples land on bar lines as often as its even ones. When two candidates a fifth apart (3:2)
   could be the answer, their common parent's folded pattern decides between two and three
   beats per bar (regroup()).
5. Even eighths from a hi-hat or shaker with the beat marked only by a kick on 1 and 3, chord
   changes or a sparse tune: the texture fills every half-beat, so step 3 found the beat "too
   slow" and reported the eighths, with confidence up to 1.0. A listener taps what the kick,
   bass and chords mark. When the winner's half-beats are carried by an even high-band texture
   alone (texture()) and the low and mid bands are not even there, the levels are weighed again
   with the texture set aside; a different answer is reported with at most TEXTURE_CONF, since a
   steady ride on quarter notes at twice the tempo sounds the same. Strummed eighths (the up-
   strokes sound in the mid band too) and broadband shakers over a pad are not covered.
6. A fast piece with a kick only on the bar, a pad and a tune on the beats: every level between
   the bar and the beat passes step 3, the bar (43-54 BPM for pieces at 144-199) was reported
   with confidence 1.0, and no evidence in the pattern tells it from a slow piece whose tune plays
   eighths. When the chosen level is slower than SLOW_BEAT and the notes play two or three times
   as fast (bar_like()), the pulse method decides and the answer is reported as a guess.
   Not done: the same doubt for fast readings of an even line of notes that no band groups (a lone
   tune's running eighths, read as the beat where the notation has a dotted quarter). A cap on
   their confidence took it from generated pieces read right, whose notated beat is the fast
   level, and left music by people's sure readings right 0.24-0.67 of the time: only the
   notation tells the two apart (docs/BENCHMARKS.md). An unsure reading names the level it was
   weighed against (TempoEstimate.alternative).
7. A reading faster than FAST_BEAT is kept but never sure: songs people sequenced often put kit,
   bass and chords on every eighth at 100-110 BPM, which looks, level for level, like a 200-220 BPM
   piece in quarter notes.
   Known blind spot: steps 3 and 4 take an even stream's evenness as evidence that a slower level
   is not the beat. Scores rendered at one loudness (the repertoire corpus) mark their notated beat
   hardly at all (its half-beats carry 0.59 of its onset strength, against 0.06 in the generated
   pieces), and there such readings are often sure and a level off.
   On music from two generators written without sight of this code (benchmarks/blind), Accuracy1
   is 0.69 and 0.79 with sure readings right 0.74 and 0.83 of the time: slow pieces are read at two
   or three times their notated tempo (a march's oom-pah, a slow 12/8 shuffle's eighths) and fast
   ones at half (no drums, chords on the half note). Taking a level as the beat when its low band
   (kick, bass) is on the beat and the other bands fill its half-beats fixed the marches but halved
   fast pieces with a kick on 1 and 3 under a backbeat, here and in the generated ones, so it is
   not used: the two patterns are the same one level apart, and only the notation tells them apart.
   How much a better chooser could win was measured with a learned one over richer evidence
   (benchmarks/tempo_level_ceiling.py): on a generator it was not trained on it did no better than
   these rules; trained on 300 of that generator's own pieces it reached 0.84-0.85. Which level the
   notation calls the beat is that generator's convention, and conventions disagree.
   On songs people sequenced (benchmarks/bench_midi_tempo.py) two more: a syncopated groove whose
   bass and arpeggios repeat every three sixteenths is read at 4/3 of its tempo (the beat is not in
   the strongest pulse's family of octaves and thirds), and a fast song in eighths, whose eighths lie
   above BEAT_RANGE, can lose its beat to a spurious slow pulse whose half-beats are empty.

A long track is read as three stretches joined (analysis/plan.py), and the beat's phase jumps at
each join. The autocorrelation counts pairs of frames within one stretch only, and each stretch's
folded pattern is turned to line up with the others' before they are averaged (fold(), Spectrum.joins).
Folded straight across the joins, a plain backbeat became an even stream and songs longer than 90 s
were read at half or double their tempo, unsure, where any one stretch was read right and sure.

What the choices rest on: the tuning part of the generated corpus (tools/corpus, seeds 0, 10-17)
and the clips of tests/test_tempo_levels.py, which come from a synthesis of their own (sparse
kits, oom-pah, strummed chords, shaker eighths; not the corpus generators). Figures, the command
lines and what was tried and not kept: docs/BENCHMARKS.md, "Measured tempo, key, mode and
loudness"; benchmarks/tune_tempo.py scores a change on cached onset evidence in seconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from musicrec_engine.features.spectrum import Spectrum

Spans = tuple[tuple[int, int], ...]  # (first, end) frame of each stretch of a joined signal

MIN_BPM, MAX_BPM = 30.0, 300.0
GRID = MIN_BPM * (MAX_BPM / MIN_BPM) ** np.linspace(0, 1, 1200)  # 0.19 % steps
# A reported beat lies here; slower parents are still looked at. Above 220 BPM real recordings
# (Debian's game soundtracks) offered only eighth notes of a 110-120 BPM beat.
BEAT_RANGE = (40.0, 220.0)
# A mild log-normal prior on the levels, for ties: one octave wide, so a level near 110 BPM and
# its double differ by at most 40 % when the metrical evidence is equal.
PRIOR_CENTER = 110.0
PRIOR_OCTAVES = 1.0
# Below this confidence the pattern's choice is not taken; the pulse method (step 4) decides.
# 0.8 is where the pattern's choices were right 100 % of the time on the tuning part.
DECISIVE = 0.8
AMBIGUOUS_CONF = 0.75
# The pulse method's constants, from the project's first tempo method (chosen on the first
# corpus): prior centre (its width is PRIOR_OCTAVES), and the off-beat ratio at which a pulse
# is a full beat level. Kept rather than re-fitted: on the held-out chorales and the Frets on
# Fire charts it was the better reading when the pattern is unsure (a 120 BPM centre was worse).
PULSE_PRIOR_CENTER = 140.0
OFFBEAT_MIN, OFFBEAT_POWER = 0.85, 2.0
RELATIVES = (1.0, 2.0, 0.5, 3.0, 1 / 3, 1.5, 2 / 3)
# Subdivision strength (onsets half or a third of a beat in, relative to those on the beat) at
# which a level counts as too slow: 0 below TOO_SLOW_LO, 1 above TOO_SLOW_HI. On the tuning
# corpus the notated beat has <= 0.25 (composed pieces) and its half >= 0.4.
TOO_SLOW_LO, TOO_SLOW_HI = 0.25, 0.45
REF_MIN_BPM = 60.0
FOLD_BINS = 24  # divisible by 2 and 3
MAX_LAG_S = 8.0
MAX_HARMONICS = 24
FLUX_MAX_HZ = 6000.0
BAND_EDGES_HZ = (0.0, 200.0, 2000.0, FLUX_MAX_HZ)
FLUX_BLOCK = 2048  # frames
# log(1 + c * magnitude / max): c = 100 rather than 1000 keeps the fluctuations of a noise floor
# (MP3/M4A copies with added noise) from swamping soft onsets; chosen on the tuning corpus.
FLUX_COMPRESSION = 100.0
# Levels related to the strongest pulse: octaves and thirds. Mixed ratios (2/3, 3/4 and their
# inverses) are left out: on the tuning chorales they were only ever wrong answers when the
# pattern did not decide (Accuracy2 0.90 with them, 1.00 without; composed pieces unchanged).
FAMILY = (1 / 6, 1 / 4, 1 / 3, 1 / 2, 1.0, 2.0, 3.0, 4.0, 6.0)


# Pulses whose comb salience is within this share of the strongest (at most REF_COUNT of them)
# each bring their family of levels. 0.8 and 3: with the strongest pulse alone a near tie
# picked a family that missed the beat on two real recordings (a Frets on Fire song charted at
# 170 BPM read as 68, a Drascula track as 2/3 of its tempo).
REF_SHARE = 0.8
REF_COUNT = 3
# The tatum (the fastest pulse the music plays) is the fastest level of the family whose odd
# multiples carry at least this share of its even ones' autocorrelation: a pulse that is only
# its parent's comb has empty odd multiples (about 0), a played one carries most (0.5-1).
# Any value in 0.2-0.4 gave the same results on the tuning part. A beat is at most TATUM_MAX
# tatums long (eighths in 4/4, eighths of a 6/8 beat); slower levels are half bars and bars.
TATUM_RATIO = 0.3
TATUM_MAX = 3.0
# An even texture in the high band (hi-hats, a shaker in eighths) says where the tatum is, not
# where the beat is. It is read as one when, at a level's parent, the high band's half-beats are
# as strong as its beats (subdivision >= TEXTURE_UNIFORM), its ticks are alike (spread of their
# peaks <= TEXTURE_CV: a played hat line, not rim clicks on some beats), and neither the low nor
# the mid band is even there (subdivision < TEXTURE_OTHERS: a strum or a bass line in eighths is
# more than a texture). Each value was moved by a third either way (0.75-0.9, 0.25-0.4, 0.5-0.7)
# with no file of the tuning part changing and at most one clip (docs/BENCHMARKS.md).
TEXTURE_UNIFORM = 0.85
TEXTURE_CV = 0.3
TEXTURE_OTHERS = 0.6
# A level chosen only because the texture was set aside is reported with at most this
# confidence: a steady quarter-note ride at twice the tempo sounds the same as eighth-note hats,
# so the choice rests on the rest of the music and is never sure.
TEXTURE_CONF = 0.75
TEXTURE = True
# Whether the pulse method's answer is regrouped when a level a fifth away fits the bar better.
GROUPING = True
# A level slower than SLOW_BEAT (a beat over a second long) that the pattern chose is not taken as
# sure when the notes (the mid band) play a level two or three times faster: a fast piece with a
# kick only on the bar and a tune on the beats looks, beat for beat, like a slow piece with a tune
# in eighths, and only the tempo tells them apart. Such a reading goes to the pulse method (step
# 4) and is reported as a guess. A level counts as played in the notes when its comb's salience
# is above PLAYED_SALIENCE and its off-beat ratio at least TATUM_RATIO. 60 BPM: raising it to 66
# or 72 took the confidence from slow pieces read right and lost one of them on the tuning part.
SLOW_BEAT = 60.0
PLAYED_SALIENCE = 0.1
BAR_CHECK = True
# A reading faster than FAST_BEAT is reported with at most AMBIGUOUS_CONF, however clearly the
# pattern chose it: an even stream of eighth notes at 100-110 BPM (kit, bass and chords all on every
# eighth, as sequenced songs often are) reads as a 200-220 BPM beat, and so does a 210 BPM piece in
# quarter notes; whether anything plays twice as fast again is finer than the onset envelope's frames
# can show. The answer stays; only its confidence says the level is in doubt. 170 BPM: on the
# OpenMSX songs (benchmarks/bench_midi_tempo.py) sure readings went from right 0.56 to 0.80 of the
# time (150: 0.78, 190: 0.67); the generated sets' sure readings stayed right 0.95-1.00 of the time,
# a fifth fewer of them.
FAST_BEAT = 170.0
FAST_CAP = True


@dataclass
class TempoEstimate:
    bpm: float  # 0.0 when there is no pulse (silence, too short)
    confidence: float  # 0..1
    candidates: list[tuple[float, float]]  # (bpm, score) of the metrical levels considered, best first
    alternative: float = 0.0  # the next best metrical level (BPM); 0 when there is none


def _with_alternative(bpm: float, confidence: float, cands: list[tuple[float, float]]) -> TempoEstimate:
    """The estimate, naming the best candidate that is another level than `bpm` (more than 2 % away)."""
    other = next((b for b, _ in cands if b > 0 and abs(b / bpm - 1) > 0.02), 0.0) if bpm > 0 else 0.0
    return TempoEstimate(round(bpm, 2), confidence, cands, round(float(other), 2))


def band_flux(spec: Spectrum) -> np.ndarray:
    """Spectral flux of the log magnitude per band, frames x 3 (cached in spec.extras)."""
    cached = spec.extras.get("tempo.band_flux")
    if cached is None:
        cached = spec.extras["tempo.band_flux"] = flux_in_bands(spec, BAND_EDGES_HZ)
    return cached


def flux_in_bands(spec: Spectrum, edges_hz: tuple[float, ...]) -> np.ndarray:
    """Positive log-magnitude flux summed per band between `edges_hz` (frames x bands).

    Worked through in blocks of frames (each with the frame before it), so a 10-minute track
    never needs a full-size log spectrogram next to the shared one.
    """
    frames = spec.magnitude.T  # frames x bins; contiguous with the shared frame-major storage
    top = min(frames.shape[1], int(edges_hz[-1] * spec.n_fft / spec.sr) + 1)
    starts = [int(e * spec.n_fft / spec.sr) for e in edges_hz[:-1]]
    scale = np.float32(FLUX_COMPRESSION / (float(frames[:, :top].max()) + 1e-12))
    flux = np.zeros((frames.shape[0], len(starts)), np.float64)
    for i in range(1, frames.shape[0], FLUX_BLOCK):
        block = frames[i - 1:i + FLUX_BLOCK, :top] * scale
        np.log1p(block, out=block)
        d = np.diff(block, axis=0)
        np.maximum(d, 0, out=d)
        flux[i:i + len(d)] = np.add.reduceat(d, starts, axis=1, dtype=np.float64)
    return flux


def band_envelopes(spec: Spectrum) -> np.ndarray:
    """Each band's flux detrended (one-second mean) and scaled to its own mean, frames x bands."""
    cached = spec.extras.get("tempo.band_envelopes")
    if cached is not None:
        return cached
    flux = band_flux(spec)
    k = max(1, int(round(spec.sr / spec.hop)))
    out = np.zeros(flux.shape)
    for b in range(flux.shape[1]):
        e = flux[:, b]
        if len(e) > 2 * k:
            e = e - np.convolve(e, np.ones(k) / k, mode="same")
        e = np.maximum(e, 0)
        m = e.mean()
        if m > 1e-9:
            out[:, b] = e / m
    spec.extras["tempo.band_envelopes"] = out
    return out


def onset_envelope(spec: Spectrum) -> np.ndarray:
    """The bands' balanced envelopes (band_envelopes) summed."""
    cached = spec.extras.get("tempo.envelope")
    if cached is None:
        cached = spec.extras["tempo.envelope"] = band_envelopes(spec).sum(axis=1)
    return cached


def stretches(spec: Spectrum) -> Spans:
    """(first, end) frame of each stretch a long track's signal was joined from (Spectrum.joins),
    or () when the signal is one continuous stretch."""
    if not spec.joins:
        return ()
    cuts = [0, *(int(round(j / spec.hop)) for j in spec.joins), spec.n_frames]
    return tuple((a, b) for a, b in pairwise(cuts) if b > a)


def _whole(env: np.ndarray, spans: Spans) -> Spans:
    return spans if len(spans) > 1 else ((0, len(env)),)


def _acf(env: np.ndarray, spans: Spans = ()) -> np.ndarray:
    """Autocorrelation, normalised to 1 at lag 0; over joined stretches (`spans`) only pairs of
    frames within one stretch count, since the rhythm's phase jumps at each join."""
    env = env - env.mean()
    acf, pairs = np.zeros(len(env)), np.zeros(len(env))
    for a, b in _whole(env, spans):
        n = b - a
        f = np.fft.rfft(env[a:b], 2 * n)
        acf[:n] += np.fft.irfft(f * np.conj(f))[:n]
        pairs[:n] += np.arange(n, 0, -1)
    acf /= np.maximum(pairs, 1)  # unbiased: long lags see fewer overlapping frames
    return acf / (acf[0] + 1e-12)


def combs(acf: np.ndarray, fps: float, bpms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(salience, off-beat ratio) per tempo: the mean autocorrelation at the multiples of its
    period, and the mean at its odd multiples over that at its even ones (a pulse whose odd
    multiples are weak is a subdivision of a slower beat)."""
    max_lag = min(len(acf) - 1, MAX_LAG_S * fps)
    ks = np.arange(1, MAX_HARMONICS + 1)
    lags = (60.0 * fps / bpms)[:, None] * ks[None, :]
    valid = lags <= max_lag
    vals = np.where(valid, np.interp(np.where(valid, lags, 0), np.arange(len(acf)), acf), 0.0)

    def mean(mask):
        return (vals * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)

    odd, even = mean(valid & (ks % 2 == 1)), mean(valid & (ks % 2 == 0))
    return mean(valid), np.clip(odd / np.maximum(even, 1e-3), 0, 1)


def prior(bpm: np.ndarray | float, center: float = PRIOR_CENTER) -> np.ndarray:
    return np.exp(-0.5 * (np.log2(np.asarray(bpm) / center) / PRIOR_OCTAVES) ** 2)


def fold(env: np.ndarray, period: float, bins: int = FOLD_BINS, spans: Spans = ()) -> np.ndarray:
    """The envelope's mean pattern over one period (in frames), lightly smoothed, `bins` long.

    Over joined stretches (`spans`) each is folded on its own and turned to line up with the
    longest one's pattern before they are averaged: the beat's phase jumps at every join, and one
    fold across them blurred the beat into its off-beats (a long song read at half or double its
    tempo, or as sure of nothing, where any one stretch of it was read right)."""
    if len(spans) < 2:
        return _fold_one(env, period, bins)
    parts = [(_fold_one(env[a:b], period, bins), b - a) for a, b in spans]
    ref = max(parts, key=lambda p: p[1])[0]
    turns = (np.arange(bins)[None, :] - np.arange(bins)[:, None]) % bins  # row k: the pattern turned by k
    out = np.zeros(bins)
    for h, n in parts:
        k = int(np.argmax(h[turns] @ (ref - ref.mean())))
        out += n * h[turns[k]]
    return out / sum(n for _, n in parts)


def _fold_one(env: np.ndarray, period: float, bins: int) -> np.ndarray:
    idx = ((np.arange(len(env)) / period) % 1.0 * bins).astype(np.int64) % bins
    h = np.bincount(idx, env, bins) / np.maximum(np.bincount(idx, minlength=bins), 1)
    return 0.5 * h + 0.25 * np.roll(h, 1) + 0.25 * np.roll(h, -1)


def subdivision(env: np.ndarray, period: float, spans: Spans = ()) -> float:
    """Onset strength half or a third of a beat in, relative to the beat's own (0 = none, 1 = as strong)."""
    return max(subdivision_parts(env, period, spans))


def subdivision_parts(env: np.ndarray, period: float, spans: Spans = ()) -> tuple[float, float]:
    """(half, third): onset strength half and a third of a beat in (the mean of the two thirds),
    each relative to the beat's own; (1, 1) when the folded pattern is flat."""
    h = fold(env, period, spans=spans)
    n = len(h)
    phase = int(np.argmax(h))
    base = float(h.min())
    top = float(h[phase]) - base
    if top <= 1e-9:
        return 1.0, 1.0
    half = h[(phase + n // 2) % n] - base
    third = 0.5 * (h[(phase + n // 3) % n] + h[(phase + 2 * n // 3) % n]) - base
    return float(half / top), float(third / top)


def texture_free_subdivision(env: np.ndarray, bands: np.ndarray | None, period: float, spans: Spans = ()) -> float:
    """subdivision(); with `bands` (band_envelopes), an even high-band texture's half-beats do
    not count: the low and mid bands alone then say how strong the half-beats are."""
    s = subdivision(env, period, spans)
    if bands is None or s <= TOO_SLOW_LO or not texture(bands, period, spans):
        return s
    return min(s, subdivision(bands[:, :-1].sum(axis=1), period, spans))


def texture(bands: np.ndarray, period: float, spans: Spans = ()) -> bool:
    """Whether the half-beats of `period` are carried by an even high-band texture alone (see TEXTURE_UNIFORM)."""
    high = bands[:, -1]
    return (subdivision(high, period, spans) >= TEXTURE_UNIFORM and tick_spread(high, period / 2, spans) <= TEXTURE_CV
            and max(subdivision(bands[:, b], period, spans) for b in range(bands.shape[1] - 1)) < TEXTURE_OTHERS)


def tick_spread(env: np.ndarray, period: float, spans: Spans = ()) -> float:
    """Coefficient of variation of the envelope's peak near each tick of `period` (phase from the
    fold of each stretch): about 0.15 for a hat or shaker line, 0.5 and more for clicks on some
    beats or a tune."""
    w = max(1, int(period / 4))
    peaks = []
    for a, b in _whole(env, spans):
        part = env[a:b]
        phase = float(np.argmax(_fold_one(part, period, FOLD_BINS))) / FOLD_BINS * period
        ticks = np.round(phase + period * np.arange(int((len(part) - phase) / period))).astype(np.int64)
        peaks += [part[max(0, t - w):t + w + 1].max() for t in ticks]
    if len(peaks) < 4:
        return np.inf
    return float(np.std(peaks) / (np.mean(peaks) + 1e-12))


def too_slow(s: float) -> float:
    return float(np.clip((s - TOO_SLOW_LO) / (TOO_SLOW_HI - TOO_SLOW_LO), 0.0, 1.0))


def reference_pulses(sal: np.ndarray) -> list[float]:
    """The strongest comb pulses (BPM, strongest first): every local peak within REF_SHARE of the
    highest, at most REF_COUNT. They are looked for at REF_MIN_BPM and up: a slow tempo's comb has
    few multiples within MAX_LAG_S, all of which any faster pulse shares, so slow combs score high
    by accident."""
    lo = int(np.searchsorted(GRID, REF_MIN_BPM))
    tail = sal[lo:]
    peaks = [i for i in range(1, len(tail) - 1) if tail[i] >= tail[i - 1] and tail[i] >= tail[i + 1]]
    refs = sorted((i for i in peaks if tail[i] >= REF_SHARE * float(tail.max())), key=lambda i: -tail[i])
    return [float(GRID[lo + i]) for i in refs[:REF_COUNT]] or [float(GRID[lo + int(np.argmax(tail))])]


def peak_index(sal: np.ndarray, bpm: float) -> int | None:
    """Index of the most salient GRID tempo within 2 % of `bpm`; None when the grid has none there."""
    near = np.flatnonzero(np.abs(GRID / bpm - 1) < 0.02)
    return int(near[np.argmax(sal[near])]) if len(near) else None


def levels(env: np.ndarray, fps: float, sal: np.ndarray, ratio: np.ndarray,
           bands: np.ndarray | None = None, spans: Spans = ()) -> list[tuple[float, float, float]]:
    """(bpm, score, salience) for each metrical level related to the strongest pulse and no
    slower than TATUM_MAX tatums (`ratio`: the comb's off-beat ratio, see combs())."""
    refs = reference_pulses(sal)
    ref = refs[0]
    slow_cache: dict[float, float] = {}

    def q(bpm: float) -> float:
        key = round(bpm, 3)
        if key not in slow_cache:
            if bands is not None and tatum > 0 and bpm < tatum / TATUM_MAX * 0.98:
                # A parent slower than TATUM_MAX tatums is a half bar or a bar: with the texture set
                # aside, a kick on 1 and 3 makes the half bar "not too slow", which would wrongly
                # count against the beat under it. (Left as it was when no texture is set aside:
                # there it made one sparse-drum piece of the tuning part confidently wrong.)
                slow_cache[key] = 1.0
            else:
                slow_cache[key] = too_slow(texture_free_subdivision(env, bands, 60.0 * fps / bpm, spans))
        return slow_cache[key]

    # A bar whose downbeat is much stronger than its other beats (a kick or a bass note on the
    # bar, a chord per bar, a sparse tune on the beats) passes the subdivision test, and so does
    # every level between it and the beat: without this bound the bar won, a quarter of the tempo.
    tatum = 0.0
    for r in FAMILY:
        b = ref * r
        j = peak_index(sal, b)
        if j is not None and sal[j] > 0 and ratio[j] >= TATUM_RATIO:
            tatum = max(tatum, b)
    out: list[tuple[float, float, float]] = []
    for ref, r in ((ref, r) for ref in refs for r in FAMILY):
        bpm = ref * r
        if not BEAT_RANGE[0] <= bpm <= BEAT_RANGE[1] or bpm < tatum / TATUM_MAX * 0.98:
            continue
        j = peak_index(sal, bpm)  # refine to the local salience peak
        if j is not None:
            bpm = float(GRID[j])
        s = float(sal[j]) if j is not None else 0.0
        if any(abs(b / bpm - 1) < 0.02 for b, _, _ in out):
            continue
        parent = min(q(bpm / 2), q(bpm / 3))  # a parent that is a valid beat makes this one its subdivision
        out.append((bpm, (1.0 - q(bpm)) * parent * float(prior(bpm)), s))
    return out


def by_pulse(spec: Spectrum, family: list[float] | None = None) -> TempoEstimate:
    """Step 4: the salient pulse whose off-beats are not weak, weighed by the prior.

    Reads the plain (unbalanced) flux: all bands summed, detrended over one second. With
    `family` (the metrical levels step 3 weighed), only tempi within 2 % of one of them are
    considered: left free, the off-beat factor favoured a pulse of three per bar in 4/4 (three
    quarters of the tempo: its odd multiples land on the strong bar lines as often as its even
    ones, while the beat's odd multiples all miss them).
    """
    fps = spec.sr / spec.hop
    env = band_flux(spec).sum(axis=1)
    k = int(round(fps))
    if len(env) > 2 * k:
        env = env - np.convolve(env, np.ones(k) / k, mode="same")
    sal, ratio = combs(_acf(env, stretches(spec)), fps, GRID)
    sc = np.maximum(sal, 0) * prior(GRID, PULSE_PRIOR_CENTER) * np.minimum(1.0, ratio / OFFBEAT_MIN) ** OFFBEAT_POWER
    if family:
        kept = np.where(np.any(np.abs(GRID[:, None] / np.asarray(family)[None, :] - 1) < 0.02, axis=1), sc, 0.0)
        if kept.max() > 0:
            sc = kept
    i = int(np.argmax(sc))
    if sc[i] <= 0:
        return TempoEstimate(0.0, 0.0, [])
    bpm = float(GRID[i])
    cands = []
    for r in RELATIVES:  # each octave relative at its own local best: how sure the choice is
        near = np.abs(GRID / (bpm * r) - 1) < 0.03
        if near.any():
            j = np.flatnonzero(near)[int(np.argmax(sc[near]))]
            cands.append((round(float(GRID[j]), 2), float(sc[j])))
    cands.sort(key=lambda c: -c[1])
    runner = cands[1][1] if len(cands) > 1 else 0.0
    confidence = float(np.clip(sal[i], 0, 1) * (0.5 + 0.5 * (1.0 - max(runner, 0.0) / sc[i])))
    return TempoEstimate(round(bpm, 2), confidence, cands)


def estimate(spec: Spectrum) -> TempoEstimate:
    fps = spec.sr / spec.hop
    if spec.duration < 3.0:
        return TempoEstimate(0.0, 0.0, [])
    env, spans = onset_envelope(spec), stretches(spec)
    if len(env) < 4 or env.std() < 1e-8:
        return TempoEstimate(0.0, 0.0, [])
    sal, ratio = combs(_acf(env, spans), fps, GRID)
    if sal.max() <= 0:
        return TempoEstimate(0.0, 0.0, [])
    cands = sorted(levels(env, fps, sal, ratio, spans=spans), key=lambda c: -c[1])
    scale = 1.0
    # Step 5: when the chosen level's half-beats (its parent's) are an even high-band texture
    # alone, the levels are weighed again without it; a different answer is taken, never as sure.
    if TEXTURE and cands and cands[0][1] > 0 and texture(band_envelopes(spec), 120.0 * fps / cands[0][0], spans):
        free = sorted(levels(env, fps, sal, ratio, band_envelopes(spec), spans), key=lambda c: -c[1])
        if free and free[0][1] > 0 and abs(free[0][0] / cands[0][0] - 1) > 0.02:
            cands, scale = free, TEXTURE_CONF
    if cands and cands[0][1] > 0:
        bpm, best, s = cands[0]
        runner = cands[1][1] if len(cands) > 1 else 0.0
        confidence = float(np.clip(s * 2.0, 0, 1) * (1.0 - runner / best))
        if confidence >= DECISIVE and not (BAR_CHECK and bar_like(spec, bpm)):
            if FAST_CAP and bpm > FAST_BEAT:  # it may be the eighths of a beat half as fast
                scale = min(scale, AMBIGUOUS_CONF)
            return _with_alternative(bpm, confidence * scale, [(round(b, 2), round(sc, 4)) for b, sc, _ in cands])
    family = [b for b, _, _ in cands]
    guess = by_pulse(spec, family)
    bpm = regroup(env, fps, guess.bpm, family, spans) if GROUPING and guess.bpm > 0 else guess.bpm
    return _with_alternative(bpm, guess.confidence * AMBIGUOUS_CONF, guess.candidates)


def bar_like(spec: Spectrum, bpm: float) -> bool:
    """Whether a reading slower than SLOW_BEAT has notes played two or three times as fast (it may
    be the bar of a fast piece rather than the beat of a slow one)."""
    if bpm >= SLOW_BEAT:
        return False
    acf = _acf(band_envelopes(spec)[:, 1], stretches(spec))
    for r in (2.0, 3.0):
        near = GRID[np.abs(GRID / (bpm * r) - 1) < 0.02]  # the combs near this level only
        sal, ratio = combs(acf, spec.sr / spec.hop, near)
        j = int(np.argmax(sal))
        if sal[j] > PLAYED_SALIENCE and ratio[j] >= TATUM_RATIO:
            return True
    return False


def duple(env: np.ndarray, fps: float, bar_bpm: float, spans: Spans = ()) -> bool:
    """Whether the period at `bar_bpm` splits in two (onsets half-way stronger than at its thirds)."""
    h = fold(env, 60.0 * fps / bar_bpm, spans=spans)
    n = len(h)
    phase = int(np.argmax(h))
    return bool(h[(phase + n // 2) % n] >= 0.5 * (h[(phase + n // 3) % n] + h[(phase + 2 * n // 3) % n]))


def regroup(env: np.ndarray, fps: float, bpm: float, family: list[float], spans: Spans = ()) -> float:
    """Two levels a fifth apart (3:2) share a parent, which the one groups in three and the other
    in two: a 6/8 bar is two dotted quarters or, read wrongly, three quarters. The parent's folded
    pattern says which, and the level that fits it is taken when it is among the candidates."""
    def member(b: float) -> float | None:
        return next((f for f in family if abs(f / b - 1) < 0.02), None)

    up, down = member(bpm * 1.5), member(bpm / 1.5)
    if down is not None and duple(env, fps, bpm / 3, spans):
        return down
    if up is not None and not duple(env, fps, bpm / 2, spans):
        return up
    return bpm
