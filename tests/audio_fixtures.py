"""Audio the tests make for themselves: see musicrec_engine/audio/synth.py (the product's generator).

Tests add their own helpers here; music() and write() keep their signatures."""

import numpy as np

from musicrec_engine.audio.synth import MAJOR, MINOR, SR, music, write  # noqa: F401


def drums(seconds: float = 6.0, bpm: float = 120.0, sr: int = SR, seed: int = 0) -> np.ndarray:
    """A drum kit with no pitch content: kick on 1 and 3, noise snare on 2 and 4, noise hats in eighths."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    y = np.zeros(n + sr, np.float32)
    beat = 60.0 / bpm
    tk = np.arange(int(0.15 * sr)) / sr
    kick = (np.sin(2 * np.pi * (50 + 100 * np.exp(-30 * tk)) * tk) * np.exp(-25 * tk)).astype(np.float32)

    def burst(length: float, decay: float) -> np.ndarray:
        t = np.arange(int(length * sr)) / sr
        return (rng.standard_normal(len(t)) * np.exp(-decay * t)).astype(np.float32)

    for b in range(int(seconds / beat) + 1):
        start = int(b * beat * sr)
        parts = [(kick, 0.6)] if b % 2 == 0 else [(burst(0.12, 30), 0.35)]
        for half in (0, 1):
            hat = burst(0.04, 120)
            s = start + int(half * beat * sr / 2)
            y[s:s + len(hat)] += 0.12 * hat[: max(0, len(y) - s)]
        for part, gain in parts:
            y[start:start + len(part)] += gain * part[: max(0, len(y) - start)]
    y = y[:n]
    return (0.8 * y / (np.max(np.abs(y)) + 1e-9)).astype(np.float32)


def sine(freq: float = 997.0, seconds: float = 5.0, amplitude: float = 1.0, sr: int = SR) -> np.ndarray:
    """A pure tone; at 997 Hz and full scale it reads -3.01 LUFS on a BS.1770 meter."""
    t = np.arange(int(seconds * sr)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def tag_file(path, **tags):
    """Write tags with mutagen's easy keys (title, artist, album, genre, tracknumber, musicbrainz_trackid...)."""
    import mutagen

    f = mutagen.File(str(path), easy=True)
    if f.tags is None:
        f.add_tags()
    for k, v in tags.items():
        f[k] = v
    f.save()
    return path


def tagged_clip(path, key: int = 0, mode: int = 1, seconds: float = 1.0, **tags):
    """A short piece in `key`/`mode` (tempo follows the key, so pieces differ), written and tagged."""
    write(path, music(seconds, key=key, mode=mode, bpm=100 + 10 * key, seed=key))
    return tag_file(path, **tags)
