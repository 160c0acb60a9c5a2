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


# A second, independent generator (unlike music()) for the key and tempo failure classes:
# metre, progression, timbre (harmonic richness) and drums are chosen per test.
METERS = {"4/4": (4, 2), "3/4": (3, 2), "6/8": (2, 3)}  # beats per bar, subdivisions per beat
HARMONIC_MINOR = [0, 2, 3, 5, 7, 8, 11]
MELODIC_MINOR = [0, 2, 3, 5, 7, 9, 11]  # raised sixth and seventh: its IV and V chords are major


def tone(midi: float, seconds: float, bright: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    f = 440.0 * 2 ** ((midi - 69) / 12)
    env = np.minimum(1.0, t / 0.01) * np.exp(-3.0 * t / max(seconds, 1e-3))
    return (env * sum(bright**k * np.sin(2 * np.pi * f * (k + 1) * t) for k in range(6))).astype(np.float32)


def piece(key=0, mode=1, bpm=120.0, meter="4/4", degrees=(0, 3, 4, 0), drums=True, bright=0.5,
          seconds=12.0, seed=0, scale=None) -> np.ndarray:
    """One chord per bar (held), bass on every beat, melody on every subdivision (chord tones on
    the beat). With drums, kick and snare mark every beat (kick on the bar's first beat and the
    third of 4/4) and hats every subdivision. `bpm` counts beats: dotted quarters in 6/8.
    `bright` is the harmonic roll-off: 0.15 is nearly a sine (flute, pad), 0.5 a bright synth.
    `scale` replaces the mode's scale (degrees count its steps)."""
    rng = np.random.default_rng(seed)
    bpb, sub = METERS[meter]
    scale = scale or (MAJOR if mode == 1 else HARMONIC_MINOR)
    beat = 60.0 / bpm
    y = np.zeros(int((seconds + 2) * SR), np.float32)
    tonic = 48 + key
    tk = np.arange(int(0.15 * SR)) / SR
    kick = (np.sin(2 * np.pi * (50 + 100 * np.exp(-30 * tk)) * tk) * np.exp(-25 * tk)).astype(np.float32)

    def add(x, at, gain):
        i = int(at * SR)
        n = min(len(x), len(y) - i)
        y[i:i + n] += gain * x[:n]

    def noise(seconds, decay):
        t = np.arange(int(seconds * SR)) / SR
        return (rng.standard_normal(len(t)) * np.exp(-decay * t)).astype(np.float32)

    for b in range(int(seconds / beat) + 1):
        bar, pos = divmod(b, bpb)
        deg = degrees[bar % len(degrees)]
        chord = [scale[(deg + i) % 7] + 12 * ((deg + i) // 7) for i in (0, 2, 4)]
        t0 = b * beat
        if pos == 0:
            for c in chord:
                add(tone(tonic + c, bpb * beat, bright), t0, 0.12)
        add(tone(tonic - 12 + chord[0], beat * 0.9, bright * 0.6), t0, 0.25)
        for s in range(sub):
            note = tonic + 12 + (chord[int(rng.integers(0, 3))] if s == 0 else scale[int(rng.integers(0, 7))])
            add(tone(note, beat / sub * 0.95, bright), t0 + s * beat / sub, 0.13 if s == 0 else 0.1)
        if drums:
            if pos == 0 or (bpb == 4 and pos == 2):
                add(kick, t0, 0.6)
            else:
                add(np.convolve(noise(0.15, 30), np.ones(4) / 4, mode="same"), t0, 0.3)  # snare
            for s in range(sub):
                add(noise(0.04, 120), t0 + s * beat / sub, 0.08 if s == 0 else 0.05)
    y = y[: int(seconds * SR)]
    return (0.8 * y / (np.abs(y).max() + 1e-9)).astype(np.float32)
