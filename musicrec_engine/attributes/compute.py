"""All 11 attributes for one analysed file: measured ones first, then learned, then estimated.

Precedence per attribute: measured > learned (a trained model with a valid manifest whose schema
hash matches) > estimated (a documented formula). Each Attribute says which it is.
"""

from __future__ import annotations

import logging

from musicrec_engine.attributes import Attribute, tempo_bin
from musicrec_engine.features.spectrum import Spectrum

log = logging.getLogger("musicrec.attributes")


def _current_hashes(spec: Spectrum, features: dict) -> dict | None:
    """Schema hashes of the feature vectors handed in: the analysis may put them in
    spec.extras["schema_hash"]; otherwise the current pipelines' hashes for spec.extras["window"]."""
    if spec.extras.get("schema_hash"):
        return spec.extras["schema_hash"]
    try:
        from musicrec_engine import features as feats

        window = spec.extras.get("window", "full")
        return {p: feats.schema(p, window).hash for p in features if p in feats.PIPELINES}
    except Exception:  # features package without schemas: user models cannot be checked, so not used
        return None


def compute_all(spec: Spectrum, features: dict) -> dict[str, Attribute]:
    """`features` maps pipeline name ("mfcc", "stats") to its named vector."""
    from musicrec_engine.attributes import estimated, learned, measured

    out: dict[str, Attribute] = {}
    try:
        out.update(measured.measure(spec))
    except Exception:  # a failing measurement leaves its attributes to the fallbacks below
        log.exception("measured attributes failed")
    inputs = dict(features or {})
    try:
        inputs["descriptors"] = estimated.descriptor_vector(spec)
    except ValueError as e:  # too short to describe: no learned or estimated values, measured stay
        log.info("no descriptors: %s", e)
        return out
    for name, attr in learned.predict(inputs, _current_hashes(spec, features or {})).items():
        out.setdefault(name, attr)
    for name, attr in estimated.estimate(spec, inputs).items():
        out.setdefault(name, attr)
    if "tempo" in out and "tempo_bin" not in out:
        t = out["tempo"]
        out["tempo_bin"] = Attribute(tempo_bin(t.value), t.provenance, t.confidence)
    return out
