"""The two feature pipelines: names, equivalence with librosa where it applies, and features that
measure what their names say on signals whose answer is known."""

from __future__ import annotations

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
