"""The listening step of an analysis: MusiCNN tags and embeddings from the decoded signal, and the
attributes grounded in them.

It runs on the signal the analysis already decoded (no second decode): `listening.listen`
resamples only the stretches under its patches to 16 kHz with soxr. The number of 3-second
patches is bounded (PATCHES), spread over the signal the analysis decoded (the whole of a short
track; the planned stretches of a long one, analysis/plan.py), so the cost does not grow with length:
4 patches of both models cost about 0.36 CPU-s per track on one core whatever its duration, under
the half CPU-second budget; 8 cost 0.7 s and found same-album neighbours no better on the real
recordings (docs/BENCHMARKS.md, "Listening"). MUSICREC_LISTEN_PATCHES overrides it (tests use 1;
0 switches the listening step off, which the cost benchmark uses as its reference).

A failure here (weights missing or altered, an unexpected error) never fails the file: the
result keeps its features and attributes, carries no tags, and says why in `listening_error`.
"""

from __future__ import annotations

import hashlib
import logging
import os

import numpy as np

log = logging.getLogger("musicrec.analysis.listening")

PATCHES_ENV = "MUSICREC_LISTEN_PATCHES"
DEFAULT_PATCHES = 4


def n_patches() -> int:
    """Patches per track; 0 when the listening step is switched off."""
    try:
        n = int(os.environ.get(PATCHES_ENV, DEFAULT_PATCHES))
    except ValueError:
        n = DEFAULT_PATCHES
    return max(0, min(n, 32))


def schema() -> str | None:
    """The listening schema of this process's settings (weights' hashes, patch count), or None
    when the weights' manifest cannot be read or the step is off."""
    if n_patches() == 0:
        return None
    try:
        from musicrec_engine import listening

        return listening.schema(listening.MODELS, n_patches())
    except Exception as e:  # no manifest: analyses go on without tags
        log.warning("listening model unavailable: %s", e)
        return None


def listen(y: np.ndarray, sr: int):
    """(Listening or None, error sentence or None) for a decoded mono signal."""
    if n_patches() == 0:
        return None, None
    try:
        from musicrec_engine import listening

        return listening.listen(y, sr, n_patches=n_patches()), None
    except MemoryError:
        raise
    except Exception as e:
        msg = str(e) if type(e).__name__ == "WeightsError" else f"{type(e).__name__}: {e}"
        log.warning("listening failed: %s", msg)
        return None, f"the listening model could not run ({msg})"


# --- the feature cache holds tags and embeddings as vectors, keyed by schema and model -----------
def _cache_key(schema: str, vocabulary: str, what: str) -> str:
    return "listen-" + hashlib.sha256(f"{schema}|{vocabulary}|{what}".encode()).hexdigest()[:16]


def cache_vectors(tags: dict | None, embeddings: dict | None, schema: str | None) -> dict[str, tuple[str, np.ndarray]]:
    """{name: (cache key, values)} for FeatureCache.put_analysis."""
    if not tags or not schema:
        return {}
    from musicrec_engine.listening.vocab import TAGS

    out = {}
    for vocab, probs in tags.items():
        out[f"tags-{vocab}"] = (_cache_key(schema, vocab, "tags"), np.array([probs[t] for t in TAGS[vocab]]))
        if embeddings and vocab in embeddings:
            out[f"embedding-{vocab}"] = (_cache_key(schema, vocab, "embedding"), np.asarray(embeddings[vocab]))
    return out


def from_cache(cache, content_hash: str, schema: str | None):
    """(tags, embeddings) the cache holds for this content and schema, or None."""
    if schema is None:
        return None
    from musicrec_engine.listening.vocab import TAGS

    tags, embs = {}, {}
    for vocab, names in TAGS.items():
        t = cache.get_vector(content_hash, _cache_key(schema, vocab, "tags"))
        e = cache.get_vector(content_hash, _cache_key(schema, vocab, "embedding"))
        if t is None or e is None or len(t) != len(names):
            return None
        tags[vocab] = {n: float(p) for n, p in zip(names, t, strict=True)}
        embs[vocab] = e.astype(np.float32)
    return tags, embs


def ground(attrs: dict, tags: dict | None, descriptors: dict | None = None) -> dict:
    """The attributes with the tag-grounded ones in place (attributes.grounded), except where the
    user's own trained model gave a value: that one stays."""
    if not tags:
        return attrs
    from musicrec_engine.attributes import grounded

    try:
        new = grounded.attributes(tags, attrs, descriptors)
    except Exception:  # the tags are good; a broken recipe or mapping file must not lose them
        log.exception("grounded attributes failed")
        return attrs
    keep = grounded.user_model_attributes()
    out = dict(attrs)
    for name, a in new.items():
        if name in keep and name in attrs and attrs[name].provenance == "learned":
            continue
        out[name] = a
    return out
