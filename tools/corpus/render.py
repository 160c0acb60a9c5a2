"""MIDI to audio through fluidsynth and a General MIDI SoundFont, room reverb, and audio encoders.

fluidsynth (Debian `fluidsynth` + `fluid-soundfont-gm`) is a corpus-building tool only; the
product never needs it. Two SoundFonts: FluidR3_GM (fluid-soundfont-gm), which the tuning corpus
uses, and MuseScore_General (musescore-general-soundfont-small, SF3), which only the held-out corpus
hears; a third, TimGM6mb (timgm6mb-soundfont), only the held-out half of the human-composed
repertoire hears (repertoire.py). (FluidR3_GS.sf2 from fluid-soundfont-gs holds only the GS
variation banks, no bank 0 instruments, so alone it renders silence.) Every render runs under a
timeout because some MIDI files never end.
Encoders: soundfile for WAV/FLAC/MP3, PyAV for AAC in M4A (no ffmpeg binary involved).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 22050
SOUNDFONTS = ["/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2"]
SECOND_SOUNDFONTS = ["/usr/share/sounds/sf3/MuseScore_General.sf3", "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3"]
THIRD_SOUNDFONTS = ["/usr/share/sounds/sf2/TimGM6mb.sf2"]
SOUNDFONT_NAMES = {"FluidR3_GM": SOUNDFONTS, "MuseScore_General": SECOND_SOUNDFONTS, "TimGM6mb": THIRD_SOUNDFONTS}
PACKAGES = {"FluidR3_GM": "fluid-soundfont-gm", "MuseScore_General": "musescore-general-soundfont-small",
            "TimGM6mb": "timgm6mb-soundfont"}
RENDER_TIMEOUT_S = 120


class RenderError(RuntimeError):
    pass


def soundfont(name: str = "FluidR3_GM") -> str:
    for sf2 in SOUNDFONT_NAMES[name]:
        if Path(sf2).exists():
            return sf2
    raise RenderError(f"SoundFont {name} not found (install Debian's {PACKAGES[name]})")


def available(*names: str) -> str | None:
    """None when rendering works here (with the named SoundFonts), else the one-line reason it does not."""
    if shutil.which("fluidsynth") is None:
        return "fluidsynth is not installed (Debian package 'fluidsynth')"
    try:
        for name in names or ("FluidR3_GM",):
            soundfont(name)
    except RenderError as e:
        return str(e)
    return None


def render_midi(midi_path: Path, seconds: float | None = None, sr: int = SR,
                timeout: float = RENDER_TIMEOUT_S, font: str = "FluidR3_GM") -> np.ndarray:
    """Mono float32 audio of the MIDI file at `sr`, cut to `seconds` if given.

    fluidsynth writes headerless 16-bit stereo, so the output can be read at any moment: once
    `seconds` of audio are there the synthesiser is stopped. Some files make fluidsynth play on
    long after their last note (a music21 chorale rendered for over half an hour of silence);
    they cost only what is needed, and the timeout still bounds everything else.
    """
    why = available(font)
    if why:
        raise RenderError(why)
    name = Path(midi_path).name
    need = None if seconds is None else int(seconds * sr) * 4  # stereo s16 bytes
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.raw"
        cmd = ["fluidsynth", "-ni", "-q", "-T", "raw", "-O", "s16", "-E", "little", "-F", str(out),
               "-r", str(sr), soundfont(font), str(midi_path)]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        start = time.monotonic()
        try:
            while proc.poll() is None:
                if need is not None and out.exists() and out.stat().st_size >= need:
                    break
                if time.monotonic() - start > timeout:
                    raise RenderError(f"fluidsynth did not finish {name} within {timeout:.0f} s")
                time.sleep(0.05)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            err = proc.stderr.read().decode(errors="replace").strip() if proc.stderr else ""
            if proc.stderr:
                proc.stderr.close()
        if proc.returncode not in (0, -9) or not out.exists():
            raise RenderError(f"fluidsynth failed on {name}: {err[:200] or 'no audio written'}")
        raw = np.fromfile(out, dtype="<i2")
    y = raw[: len(raw) // 2 * 2].reshape(-1, 2).astype(np.float32).mean(axis=1) / 32768.0
    if seconds is not None:
        y = y[: int(seconds * sr)]
    return y


def normalise(y: np.ndarray, peak: float = 0.9) -> np.ndarray:
    m = float(np.max(np.abs(y))) if len(y) else 0.0
    return (y * (peak / m)).astype(np.float32) if m > 0 else y.astype(np.float32)


def reverb(y: np.ndarray, rng: np.random.Generator, rt60: float, wet: float, sr: int = SR) -> np.ndarray:
    """A room: convolution with exponentially decaying noise (60 dB down after `rt60` s), mixed `wet`."""
    from scipy.signal import fftconvolve

    n = int(rt60 * sr)
    ir = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n)
    ir[: int(0.01 * sr)] *= np.linspace(0, 1, int(0.01 * sr))  # no direct spike: the dry path is separate
    tail = fftconvolve(y, ir)[: len(y)]
    tail *= np.sqrt(np.mean(y**2) / (np.mean(tail**2) + 1e-12))
    return ((1 - wet) * y + wet * tail).astype(np.float32)


def degrade(y: np.ndarray, rng: np.random.Generator, gain_db: float, snr_db: float) -> np.ndarray:
    """Gain change plus white noise at `snr_db` below the signal's mean power, clipped like a DAC."""
    power = float(np.mean(y**2)) + 1e-12
    noise = rng.standard_normal(len(y)).astype(np.float32) * np.sqrt(power / 10 ** (snr_db / 10))
    out = (y + noise) * 10 ** (gain_db / 20)
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def write(path: Path, y: np.ndarray, sr: int = SR) -> Path:
    """Write mono audio in the format named by the extension: .wav .flac .mp3 .m4a."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    ext = path.suffix.lower()
    if ext in (".wav", ".flac"):
        sf.write(path, y, sr, subtype="PCM_16")
    elif ext == ".mp3":
        sf.write(path, y, sr, format="MP3", subtype="MPEG_LAYER_III")
    elif ext == ".m4a":
        _write_aac(path, y, sr)
    else:
        raise ValueError(f"no encoder for '{ext}' (use .wav, .flac, .mp3 or .m4a)")
    return path


def _write_aac(path: Path, y: np.ndarray, sr: int) -> None:
    from musicrec_engine.audio.synth import write_pyav

    write_pyav(path, y, sr)
