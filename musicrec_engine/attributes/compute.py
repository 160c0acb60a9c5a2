"""All 11 attributes for one analysed file: measured ones first, then learned, then estimated.

Precedence per attribute: measured > learned (a trained model with a valid manifest) > estimated.
"""

from __future__ import annotations

from musicrec_engine.attributes import Attribute
from musicrec_engine.features.spectrum import Spectrum


def compute_all(spec: Spectrum, features: dict) -> dict[str, Attribute]:
    """`features` maps pipeline name ("mfcc", "stats") to its named vector."""
    from musicrec_engine.attributes import estimated, learned, measured

    out: dict[str, Attribute] = {}
    out.update(measured.measure(spec))
    for name, attr in learned.predict(features).items():
        out.setdefault(name, attr)
    for name, attr in estimated.estimate(spec, features).items():
        out.setdefault(name, attr)
    return out
