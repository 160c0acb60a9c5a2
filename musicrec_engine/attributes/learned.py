"""Learned attributes from the stacking ensemble (issue 5 builds these)."""

from __future__ import annotations

from musicrec_engine.attributes import Attribute


def predict(features: dict) -> dict[str, Attribute]:
    return {}
