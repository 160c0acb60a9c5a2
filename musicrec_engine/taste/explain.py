"""What the taste model learned, as the album recommender's CSV files plus a sentence or two.

Seed 004 writes the bias, grouped feature importance, the top-10 features and the weights of
every layer. Weights alone do not say which way a feature pushes once it has passed through a
hidden layer, so direction and per-feature importance come from the model's sensitivity: the average
change in p(like) per standard deviation of a feature over the rated tracks (measured when the
model was trained). Group importance is measured by shuffling each group's columns together.
For the cold-start mode the direction is the liked-minus-disliked difference.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass
class Explanation:
    mode: str
    description: str
    grouped: list[dict]  # group, importance, share, direction
    top: list[dict]  # feature, group, importance, direction
    bias: list[dict]  # net, layer, unit, bias
    layers: list[tuple[str, list[str], list[str], np.ndarray]] = field(default_factory=list)  # name, rows, cols, W
    towards_like: list[str] = field(default_factory=list)
    towards_dislike: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)  # files from the last write_csvs

    def summary(self) -> str:
        lines = [self.description]
        if self.towards_like:
            lines.append("Pushes towards like: " + "; ".join(self.towards_like) + ".")
        if self.towards_dislike:
            lines.append("Pushes towards dislike: " + "; ".join(self.towards_dislike) + ".")
        if self.grouped:
            lines.append("Most influential groups: " + ", ".join(
                f"{g['group']} ({g['share']:.0%})" for g in self.grouped[:5]) + ".")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        return {"mode": self.mode, "description": self.description, "summary": self.summary(),
                "towards_like": self.towards_like, "towards_dislike": self.towards_dislike,
                "grouped_importance": self.grouped, "top_features": self.top}

    def write_csvs(self, folder: str | os.PathLike) -> list[Path]:
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = [_write(folder / "bias.csv", ["net", "layer", "unit", "bias"], self.bias),
                   _write(folder / "grouped_feature_importance.csv", ["group", "importance", "share", "direction"],
                          self.grouped),
                   _write(folder / "top_10_features.csv", ["feature", "group", "importance", "direction"], self.top)]
        for name, rows, cols, W in self.layers:
            path = folder / f"weights_{name}.csv"
            with open(path, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["unit", *cols])
                for r, vals in zip(rows, W, strict=True):
                    w.writerow([r, *(f"{v:.6g}" for v in vals)])
            written.append(path)
        summary = folder / "summary.txt"
        summary.write_text(self.summary() + "\n")
        written.append(summary)
        self.written = written
        return written


def _write(path: Path, cols: list[str], rows: list[dict]) -> Path:
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def _phrase(name: str, direction: float) -> str:
    """'more mood_happy' / 'less bpm' for a scale; 'key=F' / 'not key=F' for a yes/no feature."""
    if "=" in name or name.startswith("year>=") or name.endswith("_missing"):
        return name if direction > 0 else f"not {name}"
    return f"{'more' if direction > 0 else 'less'} {name}"


def explain(model, top_n: int = 10) -> Explanation:
    names = model.feature_names
    imp = np.asarray(model.importance, float)
    dirn = np.asarray(model.direction, float)
    groups = model.manifest.get("groups") or {n: [i] for i, n in enumerate(names)}
    group_of = {j: g for g, cols in groups.items() for j in cols}
    gi = model.manifest.get("group_importance") or {g: float(imp[cols].sum()) for g, cols in groups.items()}
    total = float(sum(gi.values())) or 1.0
    grouped = sorted(({"group": g, "importance": round(float(gi.get(g, 0.0)), 6),
                       "share": round(float(gi.get(g, 0.0)) / total, 4),
                       "direction": round(float(dirn[cols].sum()), 6)} for g, cols in groups.items()),
                     key=lambda r: -r["importance"])
    order = np.argsort(-imp)[:top_n]
    top = [{"feature": names[j], "group": group_of.get(j, names[j]), "importance": round(float(imp[j]), 6),
            "direction": round(float(dirn[j]), 6)} for j in order]
    # the strongest consistent pushes: large mean effect, not just large magnitude
    by_dir = np.argsort(-dirn)
    like = [_phrase(names[j], 1) for j in by_dir[:5] if dirn[j] > 1e-4]
    dislike = [_phrase(names[j], 1) for j in by_dir[::-1][:5] if dirn[j] < -1e-4]
    bias, layers = [], []
    if model.ensemble is not None:
        for m, st in enumerate(model.ensemble.states):
            n_layers = len([k for k in st if k.endswith(".weight")])
            cols = names
            for i in range(n_layers):
                W, b = st[f"{3 * i}.weight"], st[f"{3 * i}.bias"]
                layer = f"net{m + 1}_layer{i + 1}"
                rows = [f"h{i + 1}_{u}" for u in range(W.shape[0])] if i < n_layers - 1 else ["output"]
                bias += [{"net": m + 1, "layer": i + 1, "unit": r, "bias": round(float(v), 6)}
                         for r, v in zip(rows, b, strict=True)]
                layers.append((layer, rows, list(cols), W))
                cols = rows
    return Explanation(model.mode, model.describe(), grouped, top, bias, layers, like, dislike)
