"""The two feature pipelines: names, equivalence with librosa where it applies, and features that
measure what their names say on signals whose answer is known."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
from audio_fixtures import music

from musicrec_engine import features
from musicrec_engine.features import mfcc, stats
from musicrec_engine.features.spectrum import Spectrum

SR = 22050


def tone(f0: float, seconds: float = 3.0, harmonics: int = 8, decay: float = 0.6) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    y = sum(decay**k * np.sin(2 * np.pi * f0 * (k + 1) * t) for k in range(harmonics))
    return (0.5 * y / np.max(np.abs(y))).astype(np.float32)


def clicks(bpm: float, seconds: float = 12.0) -> np.ndarray:
    y = np.zeros(int(seconds * SR), np.float32)
    click = np.exp(-np.arange(400) / 40.0) * np.random.default_rng(0).standard_normal(400)
    for start in np.arange(0, seconds - 0.1, 60.0 / bpm):
        i = int(start * SR)
        y[i:i + 400] += click.astype(np.float32)
    return y


def named(y: np.ndarray, pipeline: str = "stats") -> dict[str, float]:
    vec = features.extract(Spectrum(y), (pipeline,))[pipeline]
    return dict(zip(features.schema(pipeline).names, vec, strict=True))


def test_schemas_name_every_value():
    m, s = features.schema("mfcc"), features.schema("stats")
    assert len(m) == 273 and len(set(m.names)) == 273
    assert len(s) >= 200 and len(set(s.names)) == len(s)
    v = features.extract(Spectrum(music(3.0)))
    assert v["mfcc"].shape == (273,) and v["stats"].shape == (len(s),)
    assert all(np.isfinite(x).all() for x in v.values())


def test_schema_hash_changes_with_version_window_and_parameters(monkeypatch):
    full, seed = features.schema("stats", "full"), features.schema("stats", "30s")
    assert full.hash != seed.hash != features.schema("mfcc", "full").hash
    monkeypatch.setattr(stats, "VERSION", "999")
    features.schema.cache_clear()
    try:
        assert features.schema("stats", "full").hash != full.hash
    finally:
        monkeypatch.undo()
        features.schema.cache_clear()
    assert features.schema("stats", "full").hash == full.hash


def test_spectrum_and_mfcc_equal_librosa_on_the_same_parameters():
    import librosa

    y = music(5.0, seed=7)
    spec = Spectrum(y)
    assert np.allclose(spec.magnitude, np.abs(librosa.stft(y, n_fft=2048, hop_length=512)), atol=1e-4)
    ref = librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13, n_mels=40, n_fft=2048, hop_length=512)
    got = named(y, "mfcc")
    for i in (0, 1, 5, 12):
        assert got[f"mfcc{i:02d}_mean"] == pytest.approx(float(ref[i].mean()), abs=1e-2)
        assert got[f"mfcc{i:02d}_q75"] == pytest.approx(float(np.percentile(ref[i], 75)), abs=1e-2)
    d1 = librosa.feature.delta(ref, order=1)
    assert got["dmfcc03_std"] == pytest.approx(float(d1[3].std()), rel=0.05)
    assert np.allclose(spec.rms, librosa.feature.rms(S=spec.magnitude)[0], rtol=1e-4, atol=1e-6)


def test_f0_tristimulus_and_inharmonicity_of_harmonic_tones():
    for f0 in (110.0, 220.0, 392.0):
        v = named(tone(f0))
        assert v["f0_median"] == pytest.approx(f0, rel=0.03), f0
        assert v["f0_voiced_fraction"] > 0.9
        assert v["inharmonicity_median"] < 0.02  # exact harmonics
    bright = named(tone(220.0, decay=0.95))
    dull = named(tone(220.0, decay=0.2))
    assert dull["tristimulus1_mean"] > 0.7 > bright["tristimulus1_mean"]
    assert bright["tristimulus3_mean"] > dull["tristimulus3_mean"]
    noise = np.random.default_rng(1).standard_normal(3 * SR).astype(np.float32) * 0.3
    assert named(noise)["f0_voiced_fraction"] < 0.2


def test_tempo_and_onsets_of_a_click_track():
    for bpm in (90.0, 128.0):
        v = named(clicks(bpm))
        assert v["tempo"] == pytest.approx(bpm, rel=0.03)
        assert v["onset_rate"] == pytest.approx(bpm / 60.0, rel=0.15)
        assert v["beat_strength_ratio"] > 2.0  # beats land on the clicks


def test_spectral_and_temporal_features_follow_the_signal():
    sine = named(tone(1000.0, harmonics=1))
    assert sine["spectral_centroid_median"] == pytest.approx(1000.0, rel=0.03)
    assert sine["zcr_median"] == pytest.approx(2 * 1000.0 / SR, rel=0.05)
    noise = named(np.random.default_rng(2).standard_normal(3 * SR).astype(np.float32) * 0.2)
    assert noise["spectral_flatness_median"] > 0.3 > sine["spectral_flatness_median"]
    assert noise["spectral_rolloff_median"] > 8000 > sine["spectral_rolloff_median"]
    ramp = tone(440.0, 4.0) * np.linspace(0, 1, 4 * SR, dtype=np.float32)
    v = named(ramp)
    assert v["attack_time"] > 3.0 and v["temporal_centroid_ratio"] > 0.6


def test_chroma_and_harmonic_percussive_balance():
    a = named(tone(440.0))
    chroma_means = {k: a[f"chroma_{k}_mean"] for k in stats.PITCH_CLASSES}
    assert max(chroma_means, key=chroma_means.get) == "A"
    tones_only = named(music(8.0, drums=False))
    band = named(music(8.0, drums=True))
    drums_only = named(clicks(120.0, 8.0))
    assert tones_only["hpr_db"] > band["hpr_db"] > drums_only["hpr_db"]
    assert tones_only["hpr_db"] > 3 and drums_only["hpr_db"] < -20
    assert tones_only["harmonic_fraction"] > 0.7 > 0.1 > drums_only["harmonic_fraction"]


def test_features_do_not_depend_on_block_boundaries(monkeypatch):
    """Block-wise computation (to bound memory) must give the same vector as one block."""
    from musicrec_engine.features import spectrum

    y = music(12.0, seed=4)  # 517 frames
    small = {}
    monkeypatch.setattr(spectrum, "BLOCK", 100)
    for p in ("mfcc", "stats"):
        small[p] = features.extract(Spectrum(y), (p,))[p]
    monkeypatch.setattr(spectrum, "BLOCK", 100_000)
    for p in ("mfcc", "stats"):
        assert np.allclose(features.extract(Spectrum(y), (p,))[p], small[p], rtol=1e-4, atol=1e-5), p
    assert mfcc.N_MFCC == 13


# --- features.dsp: librosa's values without librosa at run time -------------------------------
# Each function is compared with the librosa 0.11 call it replaces, on the signals the pipelines
# meet: music, digital silence, noise, and a tone 0.3 semitone sharp (tuning must be found).

def _signals() -> dict[str, np.ndarray]:
    t = np.arange(4 * SR) / SR
    return {"music": music(6.0, seed=3), "silence": np.zeros(3 * SR, np.float32),
            "noise": (0.1 * np.random.default_rng(0).standard_normal(3 * SR)).astype(np.float32),
            "sharp_tone": (0.5 * np.sin(2 * np.pi * 440 * 2 ** (0.3 / 12) * t)).astype(np.float32)}


SIGNALS = _signals()


def same(got, ref, what: str, scale: float | None = None) -> None:
    """float32-level agreement, relative to `scale` (default: the array's; zeros compare exactly)."""
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape and got.dtype == ref.dtype, what
    if scale is None:
        scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-6 * scale, err_msg=what)


def test_dsp_filter_banks_equal_librosa():
    import librosa

    from musicrec_engine.features import dsp

    for n_mels in (40, 128):
        same(dsp.mel_filters(sr=SR, n_fft=2048, n_mels=n_mels), librosa.filters.mel(sr=SR, n_fft=2048, n_mels=n_mels),
             f"mel {n_mels}")
    same(dsp.mel_frequencies(42, fmax=SR / 2), librosa.mel_frequencies(n_mels=42, fmax=SR / 2), "mel frequencies")
    for n_mels in (40, 128, 256):
        dense = np.zeros((n_mels, 1025), np.float32)
        for m, (lo, hi, w) in enumerate(dsp.mel_filter_spans(sr=SR, n_fft=2048, n_mels=n_mels)):
            dense[m, lo:hi] = w
        assert np.array_equal(dense, dsp.mel_filters(sr=SR, n_fft=2048, n_mels=n_mels)), n_mels
    for tuning in (0.0, 0.33, -0.17):
        same(dsp.chroma_filters(sr=SR, n_fft=2048, tuning=tuning),
             librosa.filters.chroma(sr=SR, n_fft=2048, tuning=tuning), f"chroma tuning {tuning}")


@pytest.mark.parametrize("name", list(SIGNALS))
def test_dsp_functions_equal_librosa(name):
    import librosa

    from musicrec_engine.features import dsp

    spec = Spectrum(SIGNALS[name])
    power = spec.magnitude**2
    mel = librosa.filters.mel(sr=SR, n_fft=2048, n_mels=40) @ power
    log_mel = librosa.power_to_db(mel)
    same(dsp.power_to_db(mel), log_mel, "power_to_db")
    same(spec.log_mel, log_mel, "Spectrum.log_mel")
    same(dsp.onset_strength(log_mel), librosa.onset.onset_strength(S=log_mel, sr=SR, hop_length=512), "onset")
    pitches, mags = librosa.piptrack(S=power, sr=SR)
    got_p, got_m = dsp.piptrack(power, sr=SR)
    same(got_p, pitches, "piptrack pitches")
    same(got_m, mags, "piptrack magnitudes")
    with warnings.catch_warnings():  # librosa warns when nothing is pitched (silence), dsp does not
        warnings.simplefilter("ignore", UserWarning)
        tuning = librosa.estimate_tuning(S=power[:, ::16], sr=SR, n_fft=2048)
    assert dsp.estimate_tuning(power[:, ::16], sr=SR) == tuning
    chroma = librosa.feature.chroma_stft(S=power, sr=SR, tuning=tuning)
    same(dsp.chroma_stft(power, sr=SR, tuning=tuning), chroma, "chroma")
    same(spec.chroma, chroma, "Spectrum.chroma")
    same(dsp.tonnetz(chroma), librosa.feature.tonnetz(chroma=chroma), "tonnetz")
    coeffs = librosa.feature.mfcc(S=log_mel, n_mfcc=13)
    same(dsp.mfcc(log_mel, n_mfcc=13), coeffs, "mfcc")
    for order in (1, 2):
        # rounding relative to the coefficients: on silence the true derivative is 0, and scipy's
        # filter leaves 1e-8 of the constant there
        same(dsp.delta(coeffs, width=9, order=order), librosa.feature.delta(coeffs, width=9, order=order),
             f"delta {order}", scale=float(np.abs(coeffs).max()))
    env = spec.onset_env.astype(np.float64) - spec.onset_env.mean()
    same(dsp.autocorrelate(env, max_size=120), librosa.autocorrelate(env, max_size=120), "autocorrelate")
    same(dsp.localmax(power), librosa.util.localmax(power), "localmax")
    assert np.allclose(spec.stft, librosa.stft(SIGNALS[name], n_fft=2048, hop_length=512), atol=1e-4)


def test_tuning_of_a_sharp_tone_is_found_and_chroma_stays_on_its_note():
    from musicrec_engine.features import dsp

    spec = Spectrum(SIGNALS["sharp_tone"])
    assert dsp.estimate_tuning(spec.magnitude[:, ::16] ** 2, sr=SR) == pytest.approx(0.3, abs=0.05)
    assert dsp.estimate_tuning(Spectrum(SIGNALS["silence"]).magnitude ** 2, sr=SR) == 0.0  # nothing pitched: A440
    assert stats.PITCH_CLASSES[int(np.argmax(spec.chroma.mean(axis=1)))] == "A"


def test_find_peaks_equals_scipy_on_plateaus_heights_and_distances():
    from scipy.signal import find_peaks

    from musicrec_engine.features import dsp

    rng = np.random.default_rng(3)
    for _ in range(300):
        x = np.round(rng.random(int(rng.integers(3, 400))) * rng.integers(1, 6))  # many flat tops
        height, distance = float(rng.random() * x.max()), int(rng.integers(1, 30))
        want = find_peaks(x, height=height, distance=distance)[0]
        assert np.array_equal(dsp.find_peaks(x, height=height, distance=distance), want)
    env = Spectrum(SIGNALS["music"]).onset_env.astype(np.float64)
    thr = env.mean() + 0.5 * env.std()
    assert np.array_equal(dsp.find_peaks(env, height=thr, distance=2), find_peaks(env, height=thr, distance=2)[0])


def test_median_filter_equals_scipy_at_edges_ties_and_short_inputs():
    """The harmonic/percussive split's running medians must be scipy.ndimage's, value for value,
    including the mirrored edges of inputs shorter than the window."""
    from scipy.ndimage import median_filter

    from musicrec_engine.features import dsp

    rng = np.random.default_rng(5)
    shapes = [(256, 646), (1, 1), (3, 2), (2, 7), (20, 1), (1, 20), (40, 33)]
    for shape in shapes:
        x = (rng.random(shape) ** 3).astype(np.float32)
        x[::3, ::2] = 0.0  # ties, as silent bins give
        for size in (1, 3, 9, 15, 31):
            for axis in (0, 1):
                if size // 2 > shape[axis]:
                    continue  # scipy 1.17 returns uninitialised memory for windows this much longer than x
                footprint = (size, 1) if axis == 0 else (1, size)
                want = median_filter(x, size=footprint, mode="reflect")
                assert np.array_equal(dsp.median_filter(x, size, axis=axis), want), (shape, size, axis)
    with pytest.raises(ValueError, match="odd"):
        dsp.median_filter(np.zeros((4, 4), np.float32), 4, axis=0)


def test_rolloff_is_the_first_bin_holding_85_percent_of_the_energy():
    """The chunked search gives the bin a plain running sum gives, on spectra of any width,
    silent frames (bin 0) included; and it matches librosa's roll-off on music."""
    import librosa

    rng = np.random.default_rng(6)
    for n_bins in (1025, 64, 33, 31, 1):
        S = (rng.random((50, n_bins)) ** 4).astype(np.float32)
        S[::7] = 0.0
        S[3, : n_bins // 2] = 0.0  # energy only in the upper half
        cum = np.cumsum(S.astype(np.float64), axis=1)
        want = np.minimum((cum < 0.85 * cum[:, -1:]).sum(axis=1), n_bins - 1)
        assert np.array_equal(stats._rolloff_bins(S, 0.85), want), n_bins
    spec = Spectrum(music(6.0, seed=8))
    ref = librosa.feature.spectral_rolloff(S=spec.magnitude, sr=SR, roll_percent=0.85)[0]
    got = spec.freqs[stats._rolloff_bins(np.ascontiguousarray(spec.magnitude.T), 0.85)]
    assert np.mean(got == ref) > 0.99


def test_delta_rejects_a_window_longer_than_the_series_in_one_line():
    from musicrec_engine.features import dsp

    with pytest.raises(ValueError, match="width=9 exceeds the 5 frames"):
        dsp.delta(np.zeros((13, 5), np.float32), width=9)


def test_schema_hashes_are_those_of_the_librosa_based_pipelines():
    """Values did not change when librosa left the run-time path, so neither may the hashes: the
    feature cache and trained models are keyed on them. These are the hashes of the last
    librosa-based release (schema version 1 of both pipelines)."""
    expected = {("mfcc", "full"): "03995da3decfddaa", ("stats", "full"): "3d26c85fc0cd6e00"}
    for (pipeline, window), h in expected.items():
        assert features.schema(pipeline, window).hash == h, (pipeline, window)


IMPORT_CHECK = """
import runpy, sys
sys.argv = ["musicrec", *sys.argv[1:]]
try:
    runpy.run_module("musicrec_engine", run_name="__main__")
except SystemExit as e:
    code = e.code
print("HEAVY:" + ",".join(m for m in ("librosa", "numba", "llvmlite") if m in sys.modules), file=sys.stderr)
sys.exit(code)
"""


def _heavy_modules_after(tmp_path, *argv) -> tuple[str, object]:
    import subprocess
    import sys

    from conftest import ROOT

    out = subprocess.run([sys.executable, "-c", IMPORT_CHECK, "--home", str(tmp_path / "home"), *argv],
                         capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    heavy = next(ln for ln in out.stderr.splitlines() if ln.startswith("HEAVY:"))[len("HEAVY:"):]
    return heavy, out


def _mp3(tmp_path):
    from audio_fixtures import write

    path = tmp_path / "clip.mp3"
    write(path, music(4.0, seed=2))
    return path


def test_feature_extraction_does_not_import_librosa_or_numba(tmp_path):
    """numba compiles librosa's kernels on import (~30 s on an installed app's first start): the
    `musicrec features` command, which runs both pipelines on a real MP3, must never load it."""
    path = _mp3(tmp_path)
    for pipeline in ("mfcc", "stats"):
        heavy, out = _heavy_modules_after(tmp_path, "features", str(path), "--pipeline", pipeline, "--json")
        assert heavy == "", f"{pipeline}: {heavy} imported"
        assert '"values"' in out.stdout


def test_analyze_does_not_import_librosa_or_numba(tmp_path):
    path = _mp3(tmp_path)
    heavy, out = _heavy_modules_after(tmp_path, "analyze", str(path), "--json")
    assert json.loads(out.stdout.splitlines()[0])["status"] == "ok"
    assert heavy == "", f"{heavy} imported while analysing one file"
