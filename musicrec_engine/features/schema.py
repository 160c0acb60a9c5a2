"""Feature schemas: each vector carries its pipeline's name, version and a parameter hash.

The hash covers the feature names in order, the pipeline version, the signal parameters and the
analysis window policy, so a vector from an older or differently configured pipeline never
matches the current one: the cache misses and the file is recomputed instead of being mixed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

STATS7 = ("mean", "std", "min", "max", "median", "q25", "q75")


@dataclass(frozen=True)
class Schema:
    pipeline: str
    version: str
    names: tuple[str, ...]
    params: dict = field(default_factory=dict, compare=False, hash=False)

    @cached_property
    def hash(self) -> str:
        blob = json.dumps({"pipeline": self.pipeline, "version": self.version, "names": list(self.names),
                           "params": self.params}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def __len__(self) -> int:
        return len(self.names)


def stats7_names(prefix: str) -> list[str]:
    return [f"{prefix}_{s}" for s in STATS7]


def stats7(x: np.ndarray) -> np.ndarray:
    """Rows of `x` (or a 1-D series) -> mean, std, min, max, median, q25, q75 per row."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    if x.shape[1] == 0:
        return np.zeros((x.shape[0], 7))
    q25, med, q75 = np.percentile(x, [25, 50, 75], axis=1)
    return np.stack([x.mean(axis=1), x.std(axis=1), x.min(axis=1), x.max(axis=1), med, q25, q75], axis=1)
