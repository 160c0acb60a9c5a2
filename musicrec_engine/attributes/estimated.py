"""Estimated attributes: documented descriptor formulas after Spotify's published definitions.

Two things live here:

1. `descriptors(spec)`: a small named vector of signal descriptors computed from the shared
   Spectrum (no extra STFT, no HPSS, no pitch tracking; about 0.5 s of CPU on a 4-minute track). The
   estimates below read it, and the default learned model (resources/models/) uses it as input,
   so its schema hash (`DESCRIPTOR_SCHEMA`) is owned here.

2. `estimate(spec, features)`: one formula per attribute. Each formula combines descriptors
   into a raw score that follows the wording of Spotify's definition (quoted per function), then
   maps the raw score onto 0..1 with a monotone quantile map (`_CALIBRATION`): the raw score's
   quantiles over a calibration set of generated audio are sent to the quantiles of the same
   attribute over ../shared/data/spotify-sample (1,000 Spotify tracks). So over audio like the
   calibration set the estimates are distributed like Spotify's values; the ordering comes from
   the formula alone. The calibration is rebuilt by benchmarks/train_default_attributes.py
   (`--calibrate`) and written to resources/models/estimated_calibration.json. These are
   estimates, never learned predictions: provenance "estimated", low confidence.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache

import numpy as np

from musicrec_engine.attributes import Attribute
from musicrec_engine.features import dsp
from musicrec_engine.features.spectrum import Spectrum
from musicrec_engine.paths import SHIPPED_MODELS

CALIBRATION_FILE = SHIPPED_MODELS / "estimated_calibration.json"
_EPS = 1e-10
_BANDS = [(0, 150), (150, 800), (800, 3000), (3000, 8000), (8000, 11025)]
# Finer bands for how each register moves in time (see _band_dynamics).
_EDGES = [0, 60, 120, 250, 500, 1000, 2000, 3500, 6000, 11025]
_DYN_BANDS = list(zip(_EDGES[:-1], _EDGES[1:], strict=True))


def _db(x: np.ndarray) -> np.ndarray:
    return 10.0 * np.log10(np.maximum(x, _EPS))


def _stats(prefix: str, x: np.ndarray, out: dict) -> None:
    out[f"{prefix}_mean"] = float(np.mean(x)) if x.size else 0.0
    out[f"{prefix}_std"] = float(np.std(x)) if x.size else 0.0


def _modulation_share(env: np.ndarray, frame_rate: float, lo: float, hi: float) -> float:
    """Share of an envelope's modulation energy between lo and hi Hz (speech: ~2-8 Hz syllables)."""
    if env.size < 16:
        return 0.0
    e = env - env.mean()
    spec = np.abs(np.fft.rfft(e * np.hanning(e.size))) ** 2
    f = np.fft.rfftfreq(e.size, 1.0 / frame_rate)
    total = spec[(f > 0.25) & (f < 20)].sum() + _EPS
    return float(spec[(f >= lo) & (f <= hi)].sum() / total)


def _pulse_clarity(onset_env: np.ndarray, frame_rate: float) -> float:
    """Height of the onset envelope's autocorrelation peak at beat lags (0.3-1.5 s): a steady pulse."""
    if onset_env.size < int(3 * frame_rate):
        return 0.0
    e = onset_env - onset_env.mean()
    f = np.fft.rfft(e, 2 * e.size)
    ac = np.fft.irfft(np.abs(f) ** 2)[: e.size]
    if ac[0] <= 0:
        return 0.0
    ac = ac / ac[0]
    lo, hi = int(0.3 * frame_rate), min(int(1.5 * frame_rate), ac.size - 1)
    return float(np.clip(ac[lo:hi].max(), 0.0, 1.0)) if hi > lo else 0.0


def _count_peaks(env: np.ndarray, half: int = 5) -> int:
    """Local maxima over +-half frames standing above mean + std/2 (numpy only: librosa's
    peak_pick needs a numba compile on the first file, scipy.signal a slow import)."""
    if env.size < 2 * half + 1:
        return 0
    win = np.lib.stride_tricks.sliding_window_view(np.pad(env, half, mode="edge"), 2 * half + 1)
    is_max = (env >= win.max(axis=1)) & (env > env.mean() + 0.5 * env.std())
    return int(np.count_nonzero(is_max & np.r_[True, env[1:] != env[:-1]]))


def _band_dynamics(band_e: np.ndarray, band_flat: np.ndarray, total: np.ndarray, out: dict) -> None:
    """How each register's level moves from frame to frame, and how noisy it is.

    What separates acoustic from synthetic timbre in the training clips is mostly temporal: plucked
    and struck notes decay in every band, bowed and blown ones waver, while synth pads, organs and
    square/saw leads hold their level to a fraction of a dB and have clean spectra between partials.
    Summaries over the whole spectrum mix the registers of drums, bass, chords and lead; band by
    band they stay apart. Only sounding frames count (within 40 dB of the loudest, in the band too).
    On the development seed these raised the held-out acoustic-vs-synthetic AUC of the default model's
    pipelines from about 0.92 to 0.97 (docs/BENCHMARKS.md, learned and estimated attributes)."""
    tot_db = _db(total)
    sounding = tot_db > tot_db.max() - 40
    for j, (lo, hi) in enumerate(_DYN_BANDS):
        f = band_flat[j][sounding]
        out[f"bflat_{lo}_{hi}"] = float(np.median(f)) if f.size else 0.0
        e = _db(band_e[j])
        live = sounding & (e > e.max() - 40)
        d = np.diff(e)[live[1:] & live[:-1]]
        if d.size == 0:
            d = np.zeros(1)
        out[f"bdiff_{lo}_{hi}"] = float(np.median(np.abs(d)))  # dB per frame (23 ms)
        out[f"bdecay_{lo}_{hi}"] = float(np.mean((d < 0) & (d > -3)))  # gently falling: a decaying note
        out[f"bsteady_{lo}_{hi}"] = float(np.mean(np.abs(d) < 0.2))  # frozen: a sustained synthetic tone
        out[f"brise_{lo}_{hi}"] = float(np.mean(d > 3))  # attacks


def _compute(spec: Spectrum) -> dict[str, float]:
    out: dict[str, float] = {}
    freqs = spec.freqs
    frame_rate = spec.sr / spec.hop
    # Per-frame power sums, moments, band energies and flatness, one block of frames at a time:
    # whole-track power, magnitude+eps and log copies would each be 100+ MB on a 10-minute track.
    f32 = freqs.astype(np.float32)
    band_idx = [(np.searchsorted(freqs, lo, "left"), np.searchsorted(freqs, hi, "left")) for lo, hi in _BANDS]
    n = spec.magnitude.shape[1]
    total, m1, m2, flat = (np.empty(n, np.float32) for _ in range(4))
    band_sum = np.zeros(len(_BANDS))
    dyn_idx = [(np.searchsorted(freqs, lo, "left"), np.searchsorted(freqs, hi, "left")) for lo, hi in _DYN_BANDS]
    dyn_e, dyn_flat = np.empty((len(_DYN_BANDS), n), np.float32), np.empty((len(_DYN_BANDS), n), np.float32)
    for sl in spec.blocks():
        m = spec.magnitude[:, sl]
        p = m**2
        total[sl], m1[sl], m2[sl] = p.sum(axis=0), f32 @ p, (f32**2) @ p
        for j, (a, b) in enumerate(band_idx):  # freqs ascend: each band is a slice
            band_sum[j] += float(p[a:b].sum())
        for j, (a, b) in enumerate(dyn_idx):
            dyn_e[j, sl] = p[a:b].sum(axis=0)
        m = m + _EPS
        logm = np.log(m)
        flat[sl] = np.exp(np.mean(logm, axis=0)) / np.mean(m, axis=0)
        for j, (a, b) in enumerate(dyn_idx):
            dyn_flat[j, sl] = np.exp(np.mean(logm[a:b], axis=0)) / np.mean(m[a:b], axis=0)
        del logm
    total += _EPS

    rms_all = spec.rms
    rms_db_all = 20 * np.log10(np.maximum(rms_all, 1e-6))
    # Level statistics ignore digital silence (lead-in, gaps, fade-out tails below -80 dBFS), which
    # would otherwise dominate ranges and noise floors with meaningless -120 dB frames.
    sounding = rms_db_all > -80
    if sounding.sum() < 4:
        sounding = np.ones_like(sounding)
    rms, rms_db = rms_all[sounding], rms_db_all[sounding]
    loudest = np.percentile(rms_db, 95) if rms_db.size else 0.0
    out["rms_db_p95"] = float(loudest)
    out["rms_range_db"] = float(loudest - np.percentile(rms_db, 10)) if rms_db.size else 0.0
    out["rms_std_db"] = float(np.std(rms_db))
    out["silence_ratio"] = float(np.mean(rms_db_all < loudest - 30))
    out["low_energy_ratio"] = float(np.mean(rms < 0.5 * rms.mean())) if rms.size else 0.0
    d = np.diff(rms_db)
    out["decay_slope_db"] = float(np.median(d[d < 0])) if np.any(d < 0) else 0.0
    out["attack_slope_db"] = float(np.median(d[d > 0])) if np.any(d > 0) else 0.0

    centroid = m1 / total
    bandwidth = np.sqrt(np.maximum(m2 / total - centroid**2, 0.0))
    # Roll-off from the 40-band mel spectrum: a tenth of the cost of the full-resolution cumsum.
    mel_f = dsp.mel_frequencies(spec.mel.shape[0] + 2, fmax=spec.sr / 2)[1:-1]
    cum = np.cumsum(spec.mel, axis=0)
    rolloff = mel_f[np.argmax(cum >= 0.85 * cum[-1:, :], axis=0)]
    nyq = spec.sr / 2
    _stats("centroid", centroid / nyq, out)
    _stats("bandwidth", bandwidth / nyq, out)
    _stats("rolloff", rolloff / nyq, out)
    _stats("flatness", flat, out)
    flat_s = flat[: sounding.size][sounding[: flat.size]]
    quiet = rms_db < np.percentile(rms_db, 25) if rms_db.size else np.zeros(0, bool)
    out["flatness_quiet"] = float(np.mean(flat_s[quiet[: flat_s.size]])) if quiet.any() else 0.0
    grand = total.sum()
    for (lo, hi), e in zip(_BANDS, band_sum, strict=True):
        out[f"band_{lo}_{hi}"] = float(e / grand)
    # Noise floor: how far the quietest frames sit below the typical ones. Crowds and rooms fill gaps.
    frame_db = _db(total)[: sounding.size][sounding[: total.size]]
    out["floor_gap_db"] = float(np.median(frame_db) - np.percentile(frame_db, 5))

    log_mel = spec.log_mel
    rise = np.maximum(np.diff(log_mel, axis=1), 0)
    flux = rise.mean(axis=0)
    _stats("flux", flux, out)
    # Share of the spectral flux above 4 kHz, overall and at the strongest onsets: hammers, picks,
    # breath and bows put noise into attacks that most synthetic patches do not.
    hf = mel_f > 4000
    rise_hf = rise[hf].sum(axis=0) / (rise.sum(axis=0) + _EPS)
    out["flux_hf_share"] = float(np.mean(rise_hf)) if rise_hf.size else 0.0
    on = spec.onset_env[1:rise.shape[1] + 1]
    top = on > np.percentile(on, 90) if on.size else np.zeros(0, bool)
    out["attack_hf_share"] = float(np.mean(rise_hf[: top.size][top])) if top.any() else 0.0
    del rise
    mfcc = dsp.mfcc(log_mel, n_mfcc=13)
    # Means only: the per-coefficient spreads (and the 40 mel bands' means and spreads this list once
    # had) added dimensions that PCA(50) in the learned pipelines kept at the expense of the band
    # dynamics; the delta spreads below carry the motion.
    for i in range(13):
        out[f"mfcc{i}_mean"] = float(np.mean(mfcc[i]))
    dm = np.diff(mfcc[1:5], axis=1)
    out["mfcc_delta_std"] = float(np.std(dm)) if dm.size else 0.0
    dall = np.diff(mfcc, axis=1) if mfcc.shape[1] > 1 else np.zeros((13, 1))
    for i in range(13):
        out[f"dmfcc{i}_std"] = float(np.std(dall[i]))
    _band_dynamics(dyn_e, dyn_flat, total, out)
    lm = log_mel - log_mel.mean(axis=0, keepdims=True)
    num = (lm[:, 1:] * lm[:, :-1]).sum(axis=0)
    den = np.sqrt((lm[:, 1:] ** 2).sum(axis=0) * (lm[:, :-1] ** 2).sum(axis=0)) + _EPS
    out["frame_stability"] = float(np.mean(num / den)) if num.size else 1.0
    out["attack_p95_db"] = float(np.percentile(d, 95)) if d.size else 0.0
    crossings = np.abs(np.diff(np.signbit(spec.y).astype(np.int8)))
    n = crossings.size // spec.hop
    zcr = crossings[: n * spec.hop].reshape(n, spec.hop).mean(axis=1) if n else np.zeros(1)
    _stats("zcr", zcr, out)

    # Speech band envelope (mel bands ~300-3000 Hz): syllable-rate modulation is speech's signature.
    sb = (mel_f > 300) & (mel_f < 3000)
    speech_env = np.sqrt(np.maximum(spec.mel[sb].sum(axis=0), _EPS))
    out["mod_syllable"] = _modulation_share(speech_env, frame_rate, 2.0, 8.0)
    out["mod_slow"] = _modulation_share(speech_env, frame_rate, 0.25, 2.0)
    out["mod_rms_syllable"] = _modulation_share(rms, frame_rate, 2.0, 8.0)

    onset = spec.onset_env
    _stats("onset", onset, out)
    out["onset_rate"] = float(_count_peaks(onset) / max(spec.duration, 1e-3))
    out["pulse_clarity"] = _pulse_clarity(onset, frame_rate)

    chroma = spec.chroma
    cn = chroma / (chroma.sum(axis=0, keepdims=True) + _EPS)
    out["chroma_entropy"] = float(np.mean(-(cn * np.log(cn + _EPS)).sum(axis=0)) / np.log(12))
    out["chroma_peak"] = float(np.mean(cn.max(axis=0)))
    prof = cn.mean(axis=1)
    out["chroma_profile_peak"] = float(prof.max() / (prof.mean() + _EPS))

    from musicrec_engine.features.stats import spectral_contrast

    contrast = spectral_contrast(spec)  # librosa's values, block by block, shared with the stats pipeline
    for i, row in enumerate(contrast):
        out[f"contrast{i}_mean"] = float(np.mean(row))
        out[f"contrast{i}_std"] = float(np.std(row))
    return {k: (v if np.isfinite(v) else 0.0) for k, v in out.items()}


def descriptors(spec: Spectrum) -> dict[str, float]:
    """Named descriptors of one Spectrum, computed once and cached in spec.extras."""
    if "descriptors" not in spec.extras:
        if spec.y.size < spec.n_fft:
            raise ValueError("the audio is too short to describe (under 0.1 s)")
        spec.extras["descriptors"] = _compute(spec)
    return spec.extras["descriptors"]


def descriptor_vector(spec: Spectrum) -> np.ndarray:
    d = descriptors(spec)
    names = descriptor_names()
    return np.array([d[n] for n in names], dtype=np.float32)


@lru_cache(maxsize=1)
def _names_from_probe() -> tuple[str, ...]:
    t = np.arange(22050) / 22050.0
    y = (0.1 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    return tuple(_compute(Spectrum(y)).keys())


def descriptor_names() -> list[str]:
    return list(_names_from_probe())


# Bump when a descriptor's computation changes; names and signal parameters are hashed as well.
DESCRIPTOR_VERSION = "4"


def descriptor_schema_hash() -> str:
    """Changes whenever a descriptor is added, removed, renamed, reordered or recomputed."""
    from musicrec_engine.features import spectrum as sp

    blob = "|".join([DESCRIPTOR_VERSION, str(sp.SR), str(sp.N_FFT), str(sp.HOP), str(sp.N_MELS), *descriptor_names()])
    return "desc-" + hashlib.sha256(blob.encode()).hexdigest()[:16]


# ----------------------------------------------------------------------------------------------
# The formulas. Each returns a raw score; higher means more of the attribute. The raw scores are
# unitless and only their order matters, because the quantile map below sets the scale.


def _z(x: float, centre: float, scale: float) -> float:
    return (x - centre) / scale


def raw_energy(d: dict) -> float:
    """Spotify: "a perceptual measure of intensity and activity ... energetic tracks feel fast,
    loud, and noisy ... features contributing: dynamic range, perceived loudness, timbre, onset
    rate, and general entropy." Loud, compressed (small range), bright, many onsets, noisy.
    Loudness leads (Spotify's energy and loudness have a rank correlation of 0.86 over the 1,000-track
    sample); the timbre and onset cues are squashed with tanh so that one extreme cue cannot outvote
    the level: as plain sums, a dark sine timbre at a normal level (centroid ~350 Hz, flatness ~0)
    scored below every calibration clip, so all such tracks read 0.00."""
    return (2.0 * _z(d["rms_db_p95"], -20, 8) - 0.5 * _z(d["rms_range_db"], 25, 10)
            + np.tanh(_z(d["centroid_mean"], 0.12, 0.06)) + 0.7 * np.tanh(_z(d["onset_rate"], 3, 2))
            + 0.5 * np.tanh(_z(d["flux_mean"], 1.5, 1.0)) + 0.5 * np.tanh(_z(d["flatness_mean"], 0.05, 0.05)))


def raw_danceability(d: dict) -> float:
    """Spotify: "how suitable a track is for dancing based on ... tempo, rhythm stability, beat
    strength, and overall regularity." A clear periodic pulse with strong onsets and steady level."""
    return (1.5 * _z(d["pulse_clarity"], 0.3, 0.2) + _z(d["onset_mean"], 1.0, 0.6)
            + 0.7 * _z(d["band_0_150"], 0.2, 0.15) + 0.3 * _z(min(d["onset_rate"], 6.0), 3, 2))


def raw_valence(d: dict) -> float:
    """Spotify: "musical positiveness ... high valence sound more positive (happy, cheerful,
    euphoric)". No audio measure of mood is exact; this follows the music-psychology cues of bright
    timbre, fast articulation, clear tonality and pulse (valence correlates with energy and
    danceability in Spotify's own data)."""
    return (_z(d["centroid_mean"], 0.12, 0.06) + 0.7 * _z(d["onset_rate"], 3, 2) + 0.7 * _z(d["pulse_clarity"], 0.3, 0.2)
            + 0.5 * _z(d["chroma_profile_peak"], 1.5, 0.5) - 0.5 * _z(d["rms_range_db"], 25, 10))


def raw_acousticness(d: dict) -> float:
    """Spotify: "a confidence measure of whether the track is acoustic". Acoustic recordings have
    wide dynamics, little low-frequency synth energy, gentle highs and tonal (not flat) spectra."""
    return (_z(d["rms_range_db"], 25, 10) - _z(d["flatness_mean"], 0.05, 0.05) - _z(d["rms_db_p95"], -20, 8)
            - 0.5 * _z(d["band_8000_11025"], 0.01, 0.01) - 0.5 * _z(d["band_0_150"], 0.2, 0.15))


def raw_instrumentalness(d: dict) -> float:
    """Spotify: "predicts whether a track contains no vocals ... rap or spoken word tracks are
    clearly vocal". Voices put syllable-rate (2-8 Hz) modulation and fast formant motion into
    300-3000 Hz; instruments hold steadier timbres."""
    return -(2.0 * _z(d["mod_syllable"], 0.3, 0.15) + _z(d["mfcc_delta_std"], 5, 3) + _z(d["band_800_3000"], 0.2, 0.15))


def raw_liveness(d: dict) -> float:
    """Spotify: "detects the presence of an audience in the recording". Audience noise and a large
    room raise the floor between notes (small floor gap), flatten quiet frames and slow decays."""
    return (-_z(d["floor_gap_db"], 20, 10) + _z(d["flatness_quiet"], 0.05, 0.05) + _z(d["decay_slope_db"], -1.0, 0.5))


def raw_speechiness(d: dict) -> float:
    """Spotify: "detects the presence of spoken words ... the more exclusively speech-like the
    recording (talk show, audio book, poetry), the closer to 1.0". Speech alternates syllables and
    pauses at 2-8 Hz, lacks a steady pulse and a clear key."""
    return (2.0 * _z(d["mod_syllable"], 0.3, 0.15) + _z(d["silence_ratio"], 0.1, 0.1) + _z(d["zcr_std"], 0.05, 0.04)
            - _z(d["pulse_clarity"], 0.3, 0.2) - 0.5 * _z(d["chroma_profile_peak"], 1.5, 0.5))


RAW = {"energy": raw_energy, "valence": raw_valence, "danceability": raw_danceability,
       "acousticness": raw_acousticness, "instrumentalness": raw_instrumentalness,
       "liveness": raw_liveness, "speechiness": raw_speechiness}

# How much an estimate can be trusted, before any learned model: low, and stated.
ESTIMATE_CONFIDENCE = 0.25


@lru_cache(maxsize=1)
def _calibration() -> dict:
    try:
        return json.loads(CALIBRATION_FILE.read_text())
    except (OSError, ValueError):
        return {}


def _to_unit(name: str, raw: float) -> float:
    cal = _calibration().get(name)
    if cal:
        # Monotone piecewise-linear map: raw-score quantiles -> Spotify's quantiles.
        return float(np.clip(np.interp(raw, cal["raw_q"], cal["spotify_q"]), 0.0, 1.0))
    return float(1.0 / (1.0 + np.exp(-raw / 2.0)))  # uncalibrated fallback: a plain logistic


def raw_scores(spec: Spectrum) -> dict[str, float]:
    d = descriptors(spec)
    return {name: float(f(d)) for name, f in RAW.items()}


def estimate(spec: Spectrum, features: dict | None = None) -> dict[str, Attribute]:
    """The seven 0..1 attributes, and loudness/tempo as crude fallbacks (measured ones win)."""
    try:
        d = descriptors(spec)
    except ValueError:
        return {}
    out = {name: Attribute(_to_unit(name, f(d)), "estimated", ESTIMATE_CONFIDENCE) for name, f in RAW.items()}
    # Fallbacks used only when the measured values are missing (compute_all keeps measured first).
    # Loudness: RMS of the loud frames in dBFS, which tracks integrated LUFS within a few dB.
    out["loudness"] = Attribute(float(np.clip(d["rms_db_p95"] - 3.0, -60.0, 0.0)), "estimated", 0.2)
    out["tempo"] = Attribute(_rough_tempo(spec), "estimated", 0.1)
    key, mode = _rough_key(spec)
    out["key"] = Attribute(key, "estimated", 0.1)
    out["mode"] = Attribute(mode, "estimated", 0.1)
    return out


# Krumhansl-Kessler key profiles (C major / C minor).
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _rough_key(spec: Spectrum) -> tuple[int, int]:
    """Krumhansl-Schmuckler: the key profile best correlated with the mean chroma."""
    prof = spec.chroma.mean(axis=1)
    if not np.any(prof > 0) or np.std(prof) < 1e-6:
        return -1, 0
    best = max(((np.corrcoef(np.roll(p, k), prof)[0, 1], k, m) for m, p in ((1, _KK_MAJOR), (0, _KK_MINOR))
                for k in range(12)), key=lambda t: t[0])
    return int(best[1]), int(best[2])


def _rough_tempo(spec: Spectrum) -> float:
    """The onset envelope's strongest periodicity between 60 and 200 BPM, weighted towards 120."""
    env = spec.onset_env - spec.onset_env.mean()
    fr = spec.sr / spec.hop
    if env.size < int(4 * fr):
        return 0.0
    f = np.fft.rfft(env, 2 * env.size)
    ac = np.fft.irfft(np.abs(f) ** 2)[: env.size]
    lags = np.arange(int(fr * 60 / 200), int(fr * 60 / 60) + 1)
    bpm = 60 * fr / lags
    weight = np.exp(-0.5 * (np.log2(bpm / 120) / 0.9) ** 2)
    return float(round(bpm[np.argmax(ac[lags] * weight)], 2))
