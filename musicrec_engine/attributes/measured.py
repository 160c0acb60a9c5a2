"""Measured attributes: tempo, key, mode, loudness (issue 4 builds these)."""

from __future__ import annotations

from musicrec_engine.attributes import Attribute
from musicrec_engine.features.spectrum import Spectrum


def measure(spec: Spectrum) -> dict[str, Attribute]:
    return {}
