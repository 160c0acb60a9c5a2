"""Estimated attributes: descriptor formulas after Spotify's definitions (issue 5 builds these)."""

from __future__ import annotations

from musicrec_engine.attributes import Attribute
from musicrec_engine.features.spectrum import Spectrum


def estimate(spec: Spectrum, features: dict) -> dict[str, Attribute]:
    return {}
