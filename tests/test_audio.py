"""Decoding: every format the product reads, and every kind of bad file a user may drop."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import music, write

from musicrec_engine.audio import decode as audio
from musicrec_engine.audio.decode import AudioError, decode

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def clip():
    return music(4.0, key=9, mode=0, bpm=100, seed=3)


def _similar_spectrum(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of average log spectra: lossy codecs keep the spectrum, not the waveform."""
    n = min(len(a), len(b)) // 1024 * 1024
    sa = np.log1p(np.abs(np.fft.rfft(a[:n].reshape(-1, 1024), axis=1)).mean(axis=0))
    sb = np.log1p(np.abs(np.fft.rfft(b[:n].reshape(-1, 1024), axis=1)).mean(axis=0))
    return float(np.corrcoef(sa, sb)[0, 1])


@pytest.mark.parametrize("ext", ["wav", "flac", "aiff", "ogg", "opus", "mp3", "m4a"])
def test_every_format_decodes_to_mono_22050(tmp_path, clip, ext):
    path = write(tmp_path / f"song.{ext}", clip)
    d = decode(path)
    assert d.sr == 22050 and d.y.dtype == np.float32 and d.y.ndim == 1
    # AAC and Opus add encoder delay/padding of a few tens of ms; the length must still be right.
    assert abs(d.duration - 4.0) < 0.1
    assert abs(d.analysed_seconds - d.duration) < 0.01
    if ext in ("wav", "flac", "aiff"):
        n = min(len(d.y), len(clip))
        assert np.max(np.abs(d.y[:n] - clip[:n])) < 1e-3  # lossless: the same samples
    else:
        assert _similar_spectrum(d.y, clip) > 0.95
    assert d.decoder == ("pyav" if ext in ("m4a", "opus") else "soundfile")  # FFmpeg reads Opus faster


def test_both_decoders_mix_a_surround_file_to_the_same_mono(tmp_path, clip):
    """FFmpeg's frames are mixed down in batches: a 6-channel 44.1 kHz file must come out as
    the mean of its channels, the same samples libsndfile's path gives, to the last sample."""
    from pathlib import Path

    import soxr

    base = soxr.resample(clip, 22050, 44100).astype(np.float32)
    six = np.stack([base * g for g in (1.0, 0.5, -0.25, 0.8, 0.1, 0.0)], axis=1)
    path = tmp_path / "surround.flac"
    sf.write(path, six, 44100)
    via_sf, _, _, channels, _, _ = audio._decode_soundfile(Path(path), 600.0)
    via_av, _, _, channels_av, _, _ = audio._decode_pyav(Path(path), 600.0)
    assert channels == channels_av == 6
    assert via_av.shape == via_sf.shape
    np.testing.assert_array_equal(via_av, via_sf)
    n = min(len(via_av), len(clip))
    want = clip[:n] * np.float32(sum((1.0, 0.5, -0.25, 0.8, 0.1, 0.0)) / 6)
    assert np.max(np.abs(via_av[100:n - 100] - want[100:n - 100])) < 2e-3  # the resampler's round trip


def test_stereo_44k_is_resampled_and_mixed_to_mono(tmp_path, clip):
    import soxr

    left = soxr.resample(clip, 22050, 44100).astype(np.float32)
    right = 0.5 * left
    sf.write(tmp_path / "stereo.flac", np.stack([left, right], axis=1), 44100)
    d = decode(tmp_path / "stereo.flac")
    assert d.channels == 2 and d.sr == 22050
    n = min(len(d.y), len(clip))
    # (L + R) / 2 = 0.75 * the original; the resampler's round trip is within a small error.
    assert np.corrcoef(d.y[:n], clip[:n])[0, 1] > 0.999
    assert abs(np.std(d.y[:n]) / np.std(clip[:n]) - 0.75) < 0.02


def test_seed_window_pads_short_files_and_trims_long_ones(tmp_path):
    short = decode(write(tmp_path / "short.wav", music(5.0)), window="30s")
    assert len(short.y) == 30 * 22050 and abs(short.duration - 5.0) < 0.01
    assert np.all(short.y[6 * 22050:] == 0)
    long = decode(write(tmp_path / "long.flac", music(34.0)), window="30s")
    assert len(long.y) == 30 * 22050 and abs(long.duration - 34.0) < 0.01


def _reason(path) -> str:
    with pytest.raises(AudioError) as e:
        decode(path)
    msg = str(e.value)
    assert "\n" not in msg and len(msg) < 200
    return msg


def test_bad_inputs_get_a_one_line_reason(tmp_path, clip):
    (tmp_path / "empty.mp3").write_bytes(b"")
    assert "empty" in _reason(tmp_path / "empty.mp3")

    (tmp_path / "notes.mp3").write_text("Shopping list: eggs, milk, bread\n" * 20)
    assert "text file" in _reason(tmp_path / "notes.mp3")

    png = b"\x89PNG\r\n\x1a\n" + os.urandom(2000)
    (tmp_path / "cover.mp3").write_bytes(png)
    assert "image" in _reason(tmp_path / "cover.mp3")

    (tmp_path / "noise.flac").write_bytes(b"fLaC" + os.urandom(4000))
    assert "FLAC" in _reason(tmp_path / "noise.flac")

    mp3 = write(tmp_path / "full.mp3", music(6.0)).read_bytes()
    (tmp_path / "cut.mp3").write_bytes(mp3[: len(mp3) // 2])
    assert "truncated" in _reason(tmp_path / "cut.mp3")

    wav = bytearray(write(tmp_path / "full.wav", music(6.0)).read_bytes())
    (tmp_path / "lying.wav").write_bytes(wav[: len(wav) // 3])  # header still promises 6 s
    assert "declares 6.0 s" in _reason(tmp_path / "lying.wav")
    wav[24:28] = (0).to_bytes(4, "little")  # a sample rate of 0
    (tmp_path / "zero_rate.wav").write_bytes(wav)
    assert "header" in _reason(tmp_path / "zero_rate.wav")

    sf.write(tmp_path / "silence.wav", np.zeros(22050 * 3, np.float32), 22050)
    assert "silent" in _reason(tmp_path / "silence.wav")

    write(tmp_path / "blip.wav", music(0.6))
    assert "shorter than one second" in _reason(tmp_path / "blip.wav")

    assert "does not exist" in _reason(tmp_path / "gone.wav")
    assert "folder" in _reason(tmp_path)


def test_decoding_never_modifies_the_file(tmp_path, clip):
    paths = [write(tmp_path / f"s.{e}", clip) for e in ("wav", "mp3", "m4a")]
    for p in paths:
        before = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        os.chmod(p, 0o444)  # read-only files must still decode
        decode(p)
        assert (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns) == before


def test_names_with_spaces_and_non_ascii(tmp_path, clip):
    for name in ("my song (live).flac", "Sigur Rós – Hoppípolla.mp3", "東京 夜.m4a"):
        d = decode(write(tmp_path / "Ünïcode folder" / name, clip))
        assert abs(d.duration - 4.0) < 0.1


@pytest.mark.slow
def test_two_hour_file_is_capped_within_memory_budget(tmp_path):
    """A 2-hour recording: the whole length is reported, 10 minutes are decoded and turned into both
    feature vectors, and the process stays under 600 MB (the attribute models are measured by
    their own benchmarks). VmHWM, not ru_maxrss: a child's ru_maxrss includes the size of the
    parent it was forked from."""
    path = tmp_path / "two hours.wav"
    sr = 8000
    rng = np.random.default_rng(0)
    with sf.SoundFile(path, "w", samplerate=sr, channels=1, subtype="PCM_U8") as f:
        t = np.arange(sr * 60) / sr
        minute = (0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 0.5 * t) > 0)).astype(np.float32)
        for _ in range(120):
            f.write(minute + 0.01 * rng.standard_normal(len(minute)).astype(np.float32))
    code = textwrap.dedent(f"""
        import json
        from musicrec_engine import features
        from musicrec_engine.audio import decode as audio
        d = audio.decode({str(path)!r})
        v = features.extract(features.Spectrum(d.y))
        print(json.dumps({{"duration": d.duration, "analysed": d.analysed_seconds,
                          "n": {{k: len(x) for k, x in v.items()}},
                          "rss_mb": int(next(ln for ln in open("/proc/self/status")
                                             if ln.startswith("VmHWM")).split()[1]) / 1024}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    import json

    assert out.returncode == 0, out.stderr[-2000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert abs(res["duration"] - 7200) < 1
    assert abs(res["analysed"] - audio.MAX_SECONDS) < 0.1
    assert res["n"] == {"mfcc": 273, "stats": 235}
    assert res["rss_mb"] < 600, res


def _write_alac(path, y, sr=22050):
    """Apple Lossless in an .m4a, through PyAV's encoder (the fixtures only write AAC)."""
    from musicrec_engine.audio.synth import write_pyav

    return write_pyav(path, y, sr, container="ipod", codec="alac", sample_format="s16p", frame_len=4096)


def test_apple_lossless_decodes_through_pyav(tmp_path, clip):
    d = decode(_write_alac(tmp_path / "lossless.m4a", clip))
    assert d.decoder == "pyav" and abs(d.duration - 4.0) < 0.05
    n = min(len(d.y), len(clip))
    assert np.max(np.abs(d.y[:n] - clip[:n])) < 1e-3
