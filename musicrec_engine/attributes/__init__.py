"""Spotify-style attributes of a track, each with where it came from.

Provenance is one of:
  measured  - computed by signal processing with a known method (tempo, key, mode, loudness)
  learned   - predicted by a trained model whose manifest records its held-out metrics
  estimated - a documented descriptor formula after Spotify's published definition
Never present an estimate as a learned prediction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# Spotify's audio-features names and scales.
UNIT_ATTRIBUTES = ["energy", "valence", "danceability", "acousticness", "instrumentalness", "liveness", "speechiness"]
ALL_ATTRIBUTES = UNIT_ATTRIBUTES + ["loudness", "tempo", "key", "mode"]
TEMPO_BIN_EDGES = (80, 100, 120, 140, 170)  # the audio recommender's six tempo bins
KEY_NAMES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]


@dataclass
class Attribute:
    value: float
    provenance: str  # measured | learned | estimated
    confidence: float  # 0..1
    # What produced it, when more than the provenance says (e.g. "MusiCNN tags (MSD+MTT)"), and
    # what the confidence rests on, in words; None for the measured, estimated and model-file values.
    source: str | None = None
    basis: str | None = None

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("source", "basis"):
            if d[k] is None:
                del d[k]
        return d


def tempo_bin(bpm: float) -> int:
    """0..5: <80, 80-100, 100-120, 120-140, 140-170, >=170."""
    return sum(bpm >= e for e in TEMPO_BIN_EDGES)


def key_label(key: int, mode: int | None) -> str:
    if key is None or key < 0:
        return "no key"
    return f"{KEY_NAMES[int(key)]} {'major' if mode == 1 else 'minor'}"
