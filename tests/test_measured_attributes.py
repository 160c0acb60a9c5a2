"""Measured tempo, key, mode and loudness on generated audio whose answers are known."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import (
    HARMONIC_MINOR,
    MELODIC_MINOR,
    drums,
    music,
    piece,
    sine,
    tone,
    write,
)

from musicrec_engine.attributes import measured, tempo_bin
from musicrec_engine.attributes.measured import key as key_mod
from musicrec_engine.attributes.measured import loudness
from musicrec_engine.features.spectrum import SR, Spectrum


def measure(y: np.ndarray, **extras) -> dict:
    spec = Spectrum(y)
    spec.extras.update(extras)
    return measured.measure(spec)


def assert_key_and_tempo(a: dict, key: int, mode: int, bpm: float) -> None:
    assert (a["key"].value, a["mode"].value) == (key, mode), (a["key"].value, a["mode"].value)
    assert abs(a["tempo"].value - bpm) <= 0.04 * bpm, a["tempo"].value


def test_a_long_songs_key_does_not_hinge_on_the_chord_that_opens_its_first_stretch():
    """A long song is read as three 20-s stretches that start mid-song. Two of its sections (an
    I-IV-V-IV loop in C, and the same chords started on IV) read in either order give the same
    key with about the same confidence: the chord a stretch happens to open on is not the song's
    opening (it once moved the confidence from 0.16 to 0.98)."""
    a = piece(key=0, mode=1, bpm=100.0, degrees=(0, 3, 4, 3), seconds=20.0, bright=0.2, drums=False)[: int(20 * SR)]
    b = piece(key=0, mode=1, bpm=100.0, degrees=(3, 4, 3, 0), seconds=20.0, bright=0.2, drums=False, seed=1)[: int(20 * SR)]
    readings = []
    for parts in ((a, b, a), (b, a, b)):
        k = key_mod.estimate(Spectrum(np.concatenate(parts), joins=(20 * SR, 40 * SR)))
        readings.append((k.key, k.mode, k.confidence))
    assert [(k, m) for k, m, _ in readings] == [(0, 1), (0, 1)]
    assert abs(readings[0][2] - readings[1][2]) < 0.15, readings


@pytest.mark.parametrize("key,mode,degrees,bright", [
    (0, 1, (3, 3, 0, 4), 0.15),  # C major, IV IV I V, dull timbre: was read as F major
    (7, 1, (3, 3, 0, 0, 3, 3, 4, 0), 0.5),  # G major, only IV and I in the first 12 s: was C major
    (9, 0, (3, 0, 3, 4), 0.15),  # A minor, iv i iv V: was D minor
])
def test_subdominant_heavy_progression_keeps_its_tonic(key, mode, degrees, bright):
    a = measure(piece(key=key, mode=mode, bpm=105.0, degrees=degrees, bright=bright))
    assert (a["key"].value, a["mode"].value) == (key, mode), (a["key"].value, a["mode"].value)
    assert a["key"].value != (key + 5) % 12


# An air in G in the fiddle's range (D4..G5) that circles its dominant, as many folk tunes do:
# (MIDI note, beats), one line, no chords, no bass.
AIR_IN_G = [(62, 1), (67, 1), (71, 1), (74, 2), (71, 1), (74, 1), (76, 1), (74, 1), (71, 1), (69, 1), (74, 2),
            (72, 1), (71, 1), (69, 1), (67, 1), (69, 1), (71, 1), (74, 2), (66, 1), (69, 1), (74, 2), (71, 1),
            (69, 1), (67, 3)]


def air(bpm: float, bright: float, times: int = 3) -> np.ndarray:
    beat = 60.0 / bpm
    y = np.zeros(int(sum(d for _, d in AIR_IN_G) * times * beat * SR) + SR, np.float32)
    t = 0.0
    for note, beats in AIR_IN_G * times:
        sound = tone(note, beats * beat * 0.95, bright)
        y[int(t * SR):int(t * SR) + len(sound)] += sound
        t += beats * beat
    return 0.8 * y / np.abs(y).max()


@pytest.mark.parametrize("bpm,bright", [(120.0, 0.3), (100.0, 0.4), (140.0, 0.5)])
def test_a_bright_tune_that_circles_its_dominant_is_not_sure_of_the_dominant_key(bpm, bright):
    """Each bright note's third and fifth partials (a fifth and a major third above it) made it
    look like a major triad on itself, so this air's many D's read as D major chords, and the
    key as D major with confidence 0.6-0.75. Its key is G; D is one fifth off and, with no C
    sharp anywhere, not impossible, so the key may still say D, but it must not be sure of it."""
    a = measure(air(bpm, bright))
    if a["key"].value != 7:
        assert a["key"].value == 2 and a["key"].confidence < 0.5, (a["key"].value, a["key"].confidence)
    assert a["mode"].value == 1


@pytest.mark.parametrize("bright,bpm", [(0.15, 90.0), (0.15, 120.0), (0.5, 120.0)])
def test_a_loop_that_never_sounds_the_note_between_two_keys_is_not_sure_of_either(bright, bpm):
    """IV IV I I in E flat: its notes (E flat, F, G, A flat, B flat, C) are all A flat major's
    too, and neither D, which says E flat, nor D flat, which says A flat, ever sounds. Which is
    home is a matter of emphasis, so the key may say either, but not with confidence (it said
    A flat with confidence 0.81-1.0). The same loop with a dominant chord, which sounds D, is
    sure of E flat."""
    a = measure(piece(key=3, mode=1, bpm=bpm, degrees=(3, 3, 0, 0), bright=bright))
    assert a["key"].value in (3, 8) and a["key"].confidence < 0.8, (a["key"].value, a["key"].confidence)
    cadence = measure(piece(key=3, mode=1, bpm=bpm, degrees=(0, 3, 4, 0), bright=bright))
    assert cadence["key"].value == 3 and cadence["key"].confidence >= 0.8, cadence["key"].confidence


@pytest.mark.parametrize("cents,sure", [(0, True), (20, True), (45, False), (55, False)])
def test_a_recording_half_a_semitone_off_pitch_is_not_sure_of_its_key(cents, sure):
    """Played 20 cents sharp the piece is still plainly D major. Played 45 or 55 cents sharp it
    sits between D and E flat: whichever of the two the key says, it must not claim to be sure."""
    a = measure(piece(key=2 + cents / 100, mode=1, bpm=110.0, degrees=(0, 3, 4, 0), bright=0.5))
    if sure:
        assert (a["key"].value, a["mode"].value) == (2, 1) and a["key"].confidence >= 0.8
    else:
        assert a["key"].value in (2, 3) and a["key"].confidence < 0.5, (a["key"].value, a["key"].confidence)


@pytest.mark.parametrize("scale", [HARMONIC_MINOR, MELODIC_MINOR], ids=["harmonic", "melodic"])
@pytest.mark.parametrize("key,degrees,bright", [(9, (0, 3, 4, 0), 0.5), (11, (0, 4, 3, 4), 0.15)])
def test_minor_with_raised_sixth_and_seventh_reads_minor(scale, key, degrees, bright):
    """Harmonic and melodic minor raise the 7th (and the 6th): the major third of V and, in
    melodic minor, a major IV chord and a major sixth over the tonic. The piece is still minor,
    in its own key, not the parallel or relative major."""
    a = measure(piece(key=key, mode=0, bpm=100.0, degrees=degrees, bright=bright, scale=scale))
    assert (a["key"].value, a["mode"].value) == (key, 0), (a["key"].value, a["mode"].value)


@pytest.mark.parametrize("bpm", [62.0, 75.0])
def test_slow_piece_with_a_clear_backbeat_is_not_doubled(bpm):
    a = measure(piece(key=2, mode=1, bpm=bpm, seconds=14.0))
    assert_key_and_tempo(a, 2, 1, bpm)
    assert a["tempo"].confidence >= 0.8  # kick and snare on every beat: no doubt about the level


@pytest.mark.parametrize("bpm,key,mode", [(190.0, 4, 1), (172.0, 10, 0)])
def test_fast_piece_is_not_halved(bpm, key, mode):
    assert_key_and_tempo(measure(piece(key=key, mode=mode, bpm=bpm, degrees=(0, 5, 3, 4))), key, mode, bpm)


@pytest.mark.parametrize("bpm", [96.0, 150.0])
def test_three_four_counts_quarter_notes(bpm):
    assert_key_and_tempo(measure(piece(key=8, mode=0, bpm=bpm, meter="3/4")), 8, 0, bpm)


@pytest.mark.parametrize("bpm", [70.0, 100.0])
def test_six_eight_counts_dotted_quarters(bpm):
    # Not the eighth notes (x3), not the bar (x1/2), not the quarter-note reading (x3/2).
    assert_key_and_tempo(measure(piece(key=11, mode=1, bpm=bpm, meter="6/8")), 11, 1, bpm)


@pytest.mark.parametrize("bpm,meter", [(100.0, "4/4"), (140.0, "3/4")])
def test_no_drums_tempo_from_bass_and_melody(bpm, meter):
    assert_key_and_tempo(measure(piece(key=6, mode=1, bpm=bpm, meter=meter, drums=False)), 6, 1, bpm)


@pytest.mark.parametrize("key,mode,bpm,drums_on", [
    (0, 1, 120.0, True),     # C major
    (9, 0, 96.0, True),      # A minor: same notes as C major, the tonic decides
    (6, 1, 175.0, True),     # F# major, fast: must not come back halved
    (3, 0, 150.0, False),    # D# minor, no drums
    (7, 1, 100.0, True),     # G major
])
def test_key_mode_and_tempo_of_generated_music(key, mode, bpm, drums_on):
    a = measure(music(10.0, key=key, mode=mode, bpm=bpm, drums=drums_on, seed=key))
    assert (a["key"].value, a["mode"].value) == (key, mode)
    assert abs(a["tempo"].value - bpm) <= 0.04 * bpm, a["tempo"].value
    assert a["tempo_bin"].value == tempo_bin(bpm)
    assert all(v.provenance == "measured" and 0.0 <= v.confidence <= 1.0 for v in a.values())
    assert a["key"].confidence > 0.2


def test_slow_tempo_is_not_doubled():
    a = measure(music(12.0, key=2, mode=1, bpm=64.0, drums=True, seed=3))
    assert abs(a["tempo"].value - 64.0) <= 0.04 * 64.0, a["tempo"].value
    assert a["tempo_bin"].value == 0


def test_tempo_is_precise_beyond_the_frame_grid():
    # One STFT frame is 23 ms: at 187 BPM that is 7 % of a beat, more than the 4 % tolerance.
    a = measure(music(12.0, key=5, mode=0, bpm=187.0, drums=True, seed=1))
    assert abs(a["tempo"].value - 187.0) <= 0.015 * 187.0, a["tempo"].value


def test_transposition_moves_the_key_by_the_same_interval():
    keys = [measure(music(10.0, key=k, mode=1, bpm=110.0, seed=4))["key"].value for k in (1, 4, 8, 11)]
    assert keys == [1, 4, 8, 11]


def lone_tune(tonic: int, steps: tuple[int, ...], seed: int, bpm: float = 110.0, seconds: float = 12.0) -> np.ndarray:
    """One line, no accompaniment: a random walk over the scale `steps` above MIDI note `tonic`,
    in eighths and quarters."""
    rng = np.random.default_rng(seed)
    beat = 60.0 / bpm
    y = np.zeros(int((seconds + 1) * SR), np.float32)
    t, at = 0.0, 0
    while t < seconds:
        at = int(np.clip(at + rng.integers(-2, 3), 0, 2 * len(steps) - 1))
        d = beat * (0.5 if rng.random() < 0.6 else 1.0)
        note = tone(tonic + steps[at % len(steps)] + 12 * (at // len(steps)), d * 0.95, 0.5)
        i = int(t * SR)
        y[i:i + len(note)] += 0.2 * note[: len(y) - i]
        t += d
    y = y[: int(seconds * SR)]
    return (0.8 * y / np.abs(y).max()).astype(np.float32)


@pytest.mark.parametrize("seed", [0, 2])
def test_a_tune_that_fits_no_major_or_minor_key_still_has_a_key_but_is_not_sure_of_it(seed):
    """A lone tune on the Hijaz scale (C, D flat, E, F, G, A flat, B flat: the fifth mode of F
    harmonic minor) fits no major or minor profile well, and was called keyless with confidence
    1.0. Its notes are a handful of pitch classes, nothing like the flat spectrum of noise, drums
    or speech: it has a key, on one of its notes, read without confidence (which of its notes is
    home the profile cannot say well: C, or F minor, whose scale it is, are the likeliest)."""
    steps = (0, 1, 4, 5, 7, 8, 10)
    a = measure(lone_tune(60, steps, seed))
    assert a["key"].value in {s % 12 for s in steps}, a["key"].value
    assert a["key"].confidence <= key_mod.LOOSE_FIT_CONF, a["key"].confidence
    assert "fit no major or minor key" in a["key"].basis, a["key"].basis


def test_drums_only_have_no_key_but_a_tempo():
    a = measure(drums(10.0, bpm=110.0, seed=2))
    assert a["key"].value == -1
    assert a["mode"].confidence == 0.0
    assert abs(a["tempo"].value - 110.0) <= 0.04 * 110.0, a["tempo"].value


def test_noise_has_no_key():
    y = (np.random.default_rng(0).standard_normal(SR * 8) * 0.1).astype(np.float32)
    assert measure(y)["key"].value == -1


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng (Debian package) is not installed")
def test_speech_has_no_key(tmp_path):
    wav = tmp_path / "speech.wav"
    text = "Good evening. Tonight we talk about trains, the markets, and the football results from the weekend."
    subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, timeout=60)
    y, sr = sf.read(wav, dtype="float32")
    import soxr

    assert measure(soxr.resample(y, sr, SR).astype(np.float32))["key"].value == -1


def test_clear_key_is_more_confident_than_a_noisy_one():
    y = music(10.0, key=4, mode=1, bpm=120.0, seed=6)
    noisy = y + np.random.default_rng(1).standard_normal(len(y)).astype(np.float32) * 0.3
    clean_conf = measure(y)["key"].confidence
    noisy_est = measure(noisy)
    assert noisy_est["key"].value in (4, -1)
    assert noisy_est["key"].confidence < clean_conf or noisy_est["key"].value == -1


def test_loudness_follows_bs1770_reference_tone():
    # BS.1770: a 997 Hz sine at full scale in one channel reads -3.01 LUFS.
    assert measure(sine(997.0, 5.0, 1.0))["loudness"].value == pytest.approx(-3.01, abs=0.1)
    quieter = measure(sine(997.0, 5.0, 10 ** (-20 / 20)))["loudness"]
    assert quieter.value == pytest.approx(-23.01, abs=0.1)
    assert quieter.confidence == 1.0


def test_loudness_tracks_gain_changes_of_music():
    y = music(8.0, key=0, mode=1, bpm=120.0, seed=2)
    a, b = measure(y)["loudness"].value, measure(y * 10 ** (-9 / 20))["loudness"].value
    assert a - b == pytest.approx(9.0, abs=0.05)
    assert -40 < a < 0


def test_stereo_source_reads_as_its_channel_sum():
    y = sine(997.0, 5.0, 0.5)
    mono, stereo = measure(y)["loudness"].value, measure(y, channels=2)["loudness"].value
    assert stereo - mono == pytest.approx(3.01, abs=0.02)


def test_silence_sits_at_the_floor_and_short_clips_have_no_tempo():
    a = measure(np.zeros(SR * 4, np.float32))
    assert a["loudness"].value == loudness.FLOOR_DB
    assert a["tempo"].value == 0.0 and a["tempo"].confidence == 0.0
    b = measure(music(2.0, key=0, mode=1, bpm=120.0))
    assert b["tempo"].value == 0.0


def test_survives_lossy_encoding(tmp_path):
    y = music(10.0, key=10, mode=0, bpm=132.0, seed=8)
    for ext in ("mp3", "m4a"):
        path = write(tmp_path / f"x.{ext}", y * 0.3)
        from musicrec_engine.audio import decode as audio

        a = measure(audio.decode(path).y)
        assert (a["key"].value, a["mode"].value) == (10, 0), ext
        assert abs(a["tempo"].value - 132.0) <= 0.04 * 132.0, ext


def test_atonal_flag_comes_from_flatness_and_correlation():
    flat = np.ones(12)
    assert key_mod.flatness(flat) == pytest.approx(1.0)
    c_major = np.array([1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0, 1], float) + 0.05
    assert key_mod.flatness(c_major) < key_mod.MAX_FLATNESS
    scores = key_mod.correlate(np.sqrt(c_major))
    assert int(np.argmax(scores)) in (0, 12 + 9)  # C major or its relative A minor: same notes


def test_vectorised_gating_agrees_with_pyloudnorm():
    import warnings

    import pyloudnorm

    rng = np.random.default_rng(3)
    # Music with a near-silent intro exercises both the absolute and the relative gate.
    for y in (music(12.0, key=2, mode=0, bpm=128.0), np.concatenate([music(4.0) * 1e-3, music(8.0)]),
              (rng.standard_normal(SR * 5) * 0.2).astype(np.float32)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = pyloudnorm.Meter(SR).integrated_loudness(np.asarray(y, np.float64))
        assert loudness.integrated(y, SR) == pytest.approx(ref, abs=0.01)


@pytest.mark.parametrize("sr", [22050, 44100, 48000])
def test_k_weighting_equals_pyloudnorms_filters_run_by_scipy(sr):
    """The loudness filter is pyloudnorm's (same design, same output as scipy's sosfilt), also
    when a long signal is filtered in chunks of uneven length."""
    import pyloudnorm
    from scipy.signal import sosfilt

    sos = np.array([np.concatenate([f.b * f.passband_gain / f.a[0], f.a / f.a[0]])
                    for f in pyloudnorm.Meter(sr)._filters.values()])
    x = np.random.default_rng(1).standard_normal(3 * sr) * np.linspace(0, 1, 3 * sr)
    kw = loudness._KWeighting(sr)
    got = np.concatenate([kw(x[a:b]) for a, b in ((0, 1000), (1000, sr), (sr, 3 * sr))])
    np.testing.assert_allclose(got, sosfilt(sos, x), rtol=0, atol=1e-9)
