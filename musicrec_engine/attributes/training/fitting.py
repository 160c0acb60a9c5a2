"""Fitting each attribute group's stacking ensemble and scoring it on held-out rows."""

from __future__ import annotations

import logging

import numpy as np

from musicrec_engine.attributes.training.stacking import GroupSpec

log = logging.getLogger("musicrec.attributes.training")
DEFAULT_BUDGET = 4
TEST_SHARE = 0.2
MIN_ROWS = 30


def confidence(m: dict) -> float:
    """0..1 from held-out metrics: AUC rescaled (0.5 -> 0, 1 -> 1), else R2, else accuracy."""
    if "auc" in m:
        return round(max(0.0, 2 * m["auc"] - 1), 3)
    if "r2" in m:
        return round(max(0.0, m["r2"]), 3)
    return round(max(0.0, m.get("f1_weighted", m.get("accuracy", 0.0))), 3)


def fit_and_score(specs: list[GroupSpec], X_tr, Y_tr: dict, X_te, Y_te: dict, budget: int, seed: int = 0,
                  progress=None, cancel=None, jobs: int | None = None) -> tuple[list[dict], dict, list[dict]]:
    """Fit each group on its rows with labels, score on held-out rows. Y_* map target -> array (NaN = none)."""
    from threadpoolctl import threadpool_limits

    from musicrec_engine.attributes.training import stacking

    groups, metrics, report = [], {"attributes": {}, "groups": {}}, []
    for gi, spec in enumerate(specs):
        ytr = np.column_stack([Y_tr[t] for t in spec.targets])
        yte = np.column_stack([Y_te[t] for t in spec.targets])
        mtr, mte = ~np.isnan(ytr).any(axis=1), ~np.isnan(yte).any(axis=1)
        if mtr.sum() < MIN_ROWS or mte.sum() < 5:
            log.warning("group %s skipped: %d training / %d held-out rows with labels", spec.name, mtr.sum(), mte.sum())
            continue
        ytr_g, yte_g = ytr[mtr], yte[mte]
        if spec.kind == "classification":
            ytr_g, yte_g = ytr_g.astype(int), yte_g.astype(int)
            if len(np.unique(ytr_g)) < 2:
                log.warning("group %s skipped: only one class in the training rows", spec.name)
                continue

        def prog(d, n, msg, gi=gi):
            if progress:
                progress(gi, len(specs), msg)

        model = stacking.fit_group(spec, X_tr[mtr], ytr_g if ytr_g.shape[1] > 1 else ytr_g[:, 0], budget,
                                   seed=seed, progress=prog, cancel=cancel, jobs=jobs)
        with threadpool_limits(1):
            rows = stacking.compare(model, spec, X_te[mte], yte_g)
        report += rows
        gm = {}
        for r in rows:
            if r["model"] == "stack":
                metrics["attributes"].setdefault(r["target"], {"group": spec.name, "rows": int(mte.sum())})[r["metric"]] = \
                    round(r["score"], 4)
                gm.setdefault(r["metric"], []).append(r["score"])
        metrics["groups"][spec.name] = {k: round(float(np.mean(v)), 4) for k, v in gm.items()}
        metrics["groups"][spec.name]["targets"] = spec.targets
        groups.append({"name": spec.name, "kind": spec.kind, "targets": spec.targets, "model": model,
                       "output": {t: "value" for t in spec.targets}})
    for m in metrics["attributes"].values():
        m["confidence"] = confidence(m)
    return groups, metrics, report
