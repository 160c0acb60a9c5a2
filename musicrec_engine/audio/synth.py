"""Synthetic music with known key and tempo, written in every format MusicRec reads.

The product uses it for the demo library and the bundle's self-test; the tests use it for their
own audio. Only soundfile's and PyAV's encoders are used, so no ffmpeg is needed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

SR = 22050
MAJOR = [0, 2, 4, 5, 7, 9, 11]
MINOR = [0, 2, 3, 5, 7, 8, 10]


def _note(freq: float, dur: float, sr: int, bright: float = 0.5) -> np.ndarray:
    t = np.arange(int(dur * sr)) / sr
    env = np.minimum(1.0, t / 0.01) * np.exp(-3.0 * t / max(dur, 1e-3))
    wave = sum((bright**k) * np.sin(2 * np.pi * freq * (k + 1) * t) for k in range(6))
    return (env * wave).astype(np.float32)


def _kick(sr: int) -> np.ndarray:
    t = np.arange(int(0.15 * sr)) / sr
    return (np.sin(2 * np.pi * (50 + 100 * np.exp(-30 * t)) * t) * np.exp(-25 * t)).astype(np.float32)


def music(seconds: float = 6.0, key: int = 0, mode: int = 1, bpm: float = 120.0, drums: bool = True,
          sr: int = SR, seed: int = 0) -> np.ndarray:
    """A cadence-rich piece in `key` (pitch class) and `mode` (1 major, 0 minor) at `bpm`."""
    rng = np.random.default_rng(seed)
    scale = MAJOR if mode == 1 else MINOR
    n = int(seconds * sr)
    y = np.zeros(n + sr, np.float32)
    beat = 60.0 / bpm
    tonic = 48 + key  # C3 = 48
    degrees = [0, 3, 4, 0, 5, 3, 4, 0]  # I IV V I vi IV V I
    for b in range(int(seconds / beat)):
        start = int(b * beat * sr)
        deg = degrees[(b // 4) % len(degrees)]
        chord = [scale[(deg + i) % 7] + 12 * ((deg + i) // 7) for i in (0, 2, 4)]
        if b % 4 == 0:
            for c in chord:
                note = _note(440 * 2 ** ((tonic + c - 69) / 12), beat * 4, sr, 0.4)
                y[start:start + len(note)] += 0.18 * note[: len(y) - start]
            bass = _note(440 * 2 ** ((tonic - 12 + chord[0] - 69) / 12), beat * 2, sr, 0.3)
            y[start:start + len(bass)] += 0.25 * bass[: len(y) - start]
        mel = tonic + 12 + scale[rng.integers(0, 7)]
        note = _note(440 * 2 ** ((mel - 69) / 12), beat, sr, 0.6)
        y[start:start + len(note)] += 0.15 * note[: len(y) - start]
        if drums:
            k = _kick(sr)
            y[start:start + len(k)] += 0.5 * k[: len(y) - start]
    y = y[:n]
    return (0.8 * y / (np.max(np.abs(y)) + 1e-9)).astype(np.float32)


def write(path: Path, y: np.ndarray, sr: int = SR) -> Path:
    """Write `y` in the format named by the path's extension."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ext = path.suffix.lower()
    if ext in (".wav", ".flac", ".aiff", ".aif"):
        sf.write(path, y, sr)
    elif ext in (".ogg", ".oga"):
        sf.write(path, y, sr, format="OGG", subtype="VORBIS")
    elif ext == ".opus":
        # Opus only runs at 48 kHz.
        sf.write(path, y if sr == 48000 else _resample(y, sr, 48000), 48000, format="OGG", subtype="OPUS")
    elif ext == ".mp3":
        sf.write(path, y, sr, format="MP3", subtype="MPEG_LAYER_III")
    elif ext in (".m4a", ".mp4", ".aac"):
        _write_aac(path, y, sr)
    else:
        raise ValueError(f"no encoder for {ext}")
    return path


def _resample(y: np.ndarray, sr: int, target: int) -> np.ndarray:
    import soxr

    return soxr.resample(y, sr, target).astype(np.float32)


def _write_aac(path: Path, y: np.ndarray, sr: int) -> None:
    write_pyav(path, y, sr)


def write_pyav(path: Path, y: np.ndarray, sr: int, container: str = "mp4", codec: str = "aac",
               sample_format: str = "s16", frame_len: int = 1024) -> Path:
    """Encode mono `y` with PyAV's bundled FFmpeg (AAC in .m4a by default; ALAC with
    container="ipod", codec="alac", sample_format="s16p")."""
    import av

    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=sr)
        stream.layout = "mono"
        if sample_format != "s16":
            stream.format = sample_format
        pcm = (np.clip(y, -1, 1) * 32767).astype(np.int16)
        for i in range(0, len(pcm), frame_len):
            frame = av.AudioFrame.from_ndarray(pcm[i:i + frame_len].reshape(1, -1), format=sample_format,
                                               layout="mono")
            frame.sample_rate = sr
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return Path(path)
