"""A fitted attribute model as plain numpy arrays: loading and predicting import only numpy.

Unpickling the joblib bundle imports scikit-learn, XGBoost, pandas and scipy.stats, 1.5-2.5 s of
every cold start of the app. `compile_bundle` writes what prediction needs (scalers, PCA, forests and
XGBoost trees as node arrays, RBF SVMs, linear models, the meta-model) into arrays saved with
np.savez next to the joblib file; `predict_groups` gives the same numbers as
modelfile.group_values (itself sklearn's numbers; tests/test_compiled_model.py checks both).
The arrays are named "<stack>.<part>.<field>"; one JSON string, STRUCTURE, describes the groups,
their stacks and which arrays each part reads.

Only what the shipped and user models contain compiles: per-target Stacking{Regressor,Classifier}
(binary) of StandardScaler -> PCA -> {RandomForest, XGBoost, RBF SVM, Ridge, Lasso, ElasticNet,
LogisticRegression, RidgeClassifier}. Anything else raises NotCompilable, and the model is then
used through joblib as before.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

FORMAT = 1
STRUCTURE = "structure"
SUFFIX = ".compiled.npz"
_SVM_MIN_PROB = 1e-7  # libsvm clips pairwise probabilities to [1e-7, 1 - 1e-7]
_SVM_CHUNK = 64


class NotCompilable(Exception):
    """A model part with no numpy form here, with the sentence saying which and why."""


# ------------------------------------------------------------------------------------------------
# Compiling (imports sklearn: runs where models are trained or converted, never when they are used)


class _Arrays:
    """The arrays being written; identical scaler + PCA pairs are stored once."""

    def __init__(self):
        self.arrays: dict[str, np.ndarray] = {}
        self._transforms: dict[bytes, str] = {}

    def put(self, prefix: str, **arrays) -> str:
        for k, v in arrays.items():
            self.arrays[f"{prefix}.{k}"] = np.asarray(v)
        return prefix

    def transform(self, pipe, where: str) -> str:
        from sklearn.decomposition import PCA
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler

        steps = pipe.named_steps if isinstance(pipe, Pipeline) else {}
        scaler, pca = steps.get("scale"), steps.get("pca")
        if list(steps) != ["scale", "pca", "model"] or type(scaler) is not StandardScaler or type(pca) is not PCA:
            raise NotCompilable(f"{where} is not a StandardScaler -> PCA -> model pipeline")
        if not (scaler.with_mean and scaler.with_std) or pca.whiten:
            raise NotCompilable(f"{where} centres/scales or whitens differently from the standard pipeline")
        parts = [np.asarray(a, np.float64) for a in (scaler.mean_, scaler.scale_, pca.mean_, pca.components_)]
        key = hashlib.sha256(b"".join(p.tobytes() + str(p.shape).encode() for p in parts)).digest()
        if key not in self._transforms:
            name = f"t{len(self._transforms)}"
            self.put(name, scale_mean=parts[0], scale=parts[1], pca_mean=parts[2], components=parts[3])
            self._transforms[key] = name
        return self._transforms[key]


def _linear(arrays: _Arrays, model, method: str, prefix: str, where: str) -> dict:
    """Ridge/Lasso/ElasticNet predict, RidgeClassifier/LogisticRegression decision or P(class 1)."""
    from sklearn.linear_model import ElasticNet, Lasso, LogisticRegression, Ridge, RidgeClassifier

    if isinstance(model, Ridge | Lasso | ElasticNet):
        if method != "predict" or np.ndim(model.coef_) != 1:
            raise NotCompilable(f"{where}: only single-target {type(model).__name__}.predict compiles")
        arrays.put(prefix, coef=np.asarray(model.coef_, np.float64), intercept=np.float64(model.intercept_))
        return {"type": "linear", "link": "identity", "arrays": prefix}
    if isinstance(model, LogisticRegression | RidgeClassifier):
        if len(model.classes_) != 2:
            raise NotCompilable(f"{where}: {type(model).__name__} has {len(model.classes_)} classes; only "
                                "binary classifiers compile")
        if method == "decision_function":
            link = "identity"
        elif method == "predict_proba" and isinstance(model, LogisticRegression):
            link = "logistic"
        else:
            raise NotCompilable(f"{where}: {type(model).__name__}.{method} does not compile")
        arrays.put(prefix, coef=np.atleast_2d(model.coef_)[0].astype(np.float64),
                   intercept=np.float64(np.ravel(model.intercept_)[0]))
        return {"type": "linear", "link": link, "arrays": prefix}
    raise NotCompilable(f"{where}: {type(model).__name__} has no numpy form here")


def _forest(arrays: _Arrays, forest, method: str, prefix: str, where: str) -> dict:
    """All trees' nodes in one set of arrays (children as global indices, leaves pointing at
    themselves), so rows x trees walk together in max_depth numpy steps."""
    if forest.n_outputs_ != 1:
        raise NotCompilable(f"{where}: multi-output forests do not compile")
    clf = method == "predict_proba"
    if clf and forest.n_classes_ != 2:
        raise NotCompilable(f"{where}: the forest has {forest.n_classes_} classes; only binary ones compile")
    if not clf and method != "predict":
        raise NotCompilable(f"{where}: {type(forest).__name__}.{method} does not compile")
    feat, thr, left, right, value, roots = [], [], [], [], [], []
    offset = 0
    for est in forest.estimators_:
        t = est.tree_
        c = t.node_count
        own = np.arange(c) + offset
        inner = t.children_left[:c] >= 0
        feat.append(np.where(inner, t.feature[:c], 0))
        thr.append(t.threshold[:c])
        left.append(np.where(inner, t.children_left[:c] + offset, own))
        right.append(np.where(inner, t.children_right[:c] + offset, own))
        if clf:  # the stack keeps P(class 1) of each tree's normalised class weights
            v = t.value[:c, 0, :2]
            s = v.sum(axis=1, keepdims=True)
            value.append((v / np.where(s == 0, 1, s))[:, 1])
        else:
            value.append(t.value[:c, 0, 0])
        roots.append(offset)
        offset += c
    arrays.put(prefix, feature=np.concatenate(feat).astype(np.int32), threshold=np.concatenate(thr).astype(np.float64),
               left=np.concatenate(left).astype(np.int32), right=np.concatenate(right).astype(np.int32),
               value=np.concatenate(value).astype(np.float64), roots=np.array(roots, np.int32))
    return {"type": "forest", "depth": int(max(e.tree_.max_depth for e in forest.estimators_)), "arrays": prefix}


def _tree_depth(left: np.ndarray, right: np.ndarray) -> int:
    depth, frontier = 0, np.array([0])
    while True:
        inner = frontier[left[frontier] >= 0]
        if inner.size == 0:
            return depth
        frontier = np.concatenate([left[inner], right[inner]])
        depth += 1


def _xgb(arrays: _Arrays, model, method: str, prefix: str, where: str) -> dict:
    """The booster's trees from its JSON dump. XGBoost compares float32 inputs with float32
    thresholds (x < t goes left, NaN takes the default branch) and adds the leaves to the base
    margin; binary:logistic then applies the sigmoid, its base_score being a probability."""
    booster = model.get_booster()
    learner = json.loads(bytes(booster.save_raw("json")))["learner"]
    objective = learner["objective"]["name"]
    param = learner["learner_model_param"]
    gb = learner["gradient_booster"]
    if gb.get("name") != "gbtree" or int(param.get("num_class", 0)) > 1 or int(param.get("num_target", 1)) != 1:
        raise NotCompilable(f"{where}: only single-output gbtree boosters compile (this is {gb.get('name')}, "
                            f"{param.get('num_class')} classes)")
    if booster.attr("best_iteration") is not None:
        raise NotCompilable(f"{where}: a booster with early stopping predicts with part of its trees")
    base = float(str(param["base_score"]).strip("[]"))
    if objective == "binary:logistic" and method == "predict_proba":
        link, margin = "logistic", float(np.log(base / (1.0 - base)))
    elif objective in ("reg:squarederror", "reg:absoluteerror", "reg:pseudohubererror") and method == "predict":
        link, margin = "identity", base
    else:
        raise NotCompilable(f"{where}: XGBoost objective {objective} with {method} does not compile")
    feat, thr, left, right, dleft, leaf, roots = [], [], [], [], [], [], []
    offset, depth = 0, 0
    for tree in gb["model"]["trees"]:
        lc, rc = np.asarray(tree["left_children"]), np.asarray(tree["right_children"])
        if any(int(s) != 0 for s in tree.get("split_type", [])):
            raise NotCompilable(f"{where}: categorical splits do not compile")
        c = len(lc)
        own = np.arange(c) + offset
        inner = lc >= 0
        cond = np.asarray(tree["split_conditions"], np.float32)  # leaves keep their value here
        feat.append(np.where(inner, tree["split_indices"], 0))
        thr.append(cond)
        left.append(np.where(inner, lc + offset, own))
        right.append(np.where(inner, rc + offset, own))
        dleft.append(np.asarray(tree["default_left"], bool))
        leaf.append(np.where(inner, 0, cond).astype(np.float32))
        roots.append(offset)
        depth = max(depth, _tree_depth(lc, rc))
        offset += c
    arrays.put(prefix, feature=np.concatenate(feat).astype(np.int32), threshold=np.concatenate(thr),
               left=np.concatenate(left).astype(np.int32), right=np.concatenate(right).astype(np.int32),
               default_left=np.concatenate(dleft), leaf=np.concatenate(leaf), roots=np.array(roots, np.int32),
               base_margin=np.float64(margin))
    return {"type": "xgb", "depth": depth, "link": link, "arrays": prefix}


def _svm(arrays: _Arrays, model, method: str, prefix: str, where: str) -> dict:
    """RBF SVR predict / SVC decision_function, and SVC's libsvm Platt probability of class 1."""
    import warnings

    from sklearn.svm import SVC, SVR

    if model.kernel != "rbf" or getattr(model, "_sparse", False):
        raise NotCompilable(f"{where}: only the dense RBF kernel compiles (this is {model.kernel!r})")
    if isinstance(model, SVC) and len(model.classes_) != 2:
        raise NotCompilable(f"{where}: SVC has {len(model.classes_)} classes; only binary ones compile")
    spec = {"type": "svm", "gamma": float(model._gamma), "arrays": prefix}
    fields = {"support_vectors": np.asarray(model.support_vectors_, np.float64),
              "dual_coef": np.asarray(model.dual_coef_, np.float64)[0], "intercept": np.float64(model.intercept_[0])}
    if isinstance(model, SVR) and method == "predict" or isinstance(model, SVC) and method == "decision_function":
        spec["output"] = "decision"
    elif isinstance(model, SVC) and method == "predict_proba":
        with warnings.catch_warnings():  # probA_/probB_ are deprecated with probability=True, still used
            warnings.simplefilter("ignore", FutureWarning)
            fields.update(prob_a=np.float64(model.probA_[0]), prob_b=np.float64(model.probB_[0]))
        spec["output"] = "platt"
    else:
        raise NotCompilable(f"{where}: {type(model).__name__}.{method} does not compile")
    arrays.put(prefix, **fields)
    return spec


def _base(arrays: _Arrays, model, method: str, prefix: str, where: str) -> dict:
    from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
    from sklearn.svm import SVC, SVR

    if isinstance(model, RandomForestClassifier | RandomForestRegressor):
        return _forest(arrays, model, method, prefix, where)
    if isinstance(model, SVC | SVR):
        return _svm(arrays, model, method, prefix, where)
    try:
        from xgboost import XGBModel
    except ImportError:
        XGBModel = ()  # noqa: N806
    if isinstance(model, XGBModel):
        return _xgb(arrays, model, method, prefix, where)
    return _linear(arrays, model, method, prefix, where)


def _stack(arrays: _Arrays, st, prefix: str, where: str) -> dict:
    from sklearn.ensemble import StackingClassifier, StackingRegressor

    if isinstance(st, StackingClassifier):
        classes = np.asarray(st.classes_)
        if len(classes) != 2:
            raise NotCompilable(f"{where} has {len(classes)} classes; only binary classification compiles")
        classes = classes.tolist()
    elif isinstance(st, StackingRegressor):
        classes = None
    else:
        raise NotCompilable(f"{where} is a {type(st).__name__}, not a stacking estimator")
    if st.passthrough:
        raise NotCompilable(f"{where} passes its inputs through to the meta-model")
    bases = []
    for k, (pipe, method) in enumerate(zip(st.estimators_, st.stack_method_, strict=True)):
        name = f"{where}, base model {k}"
        transform = arrays.transform(pipe, name)
        base = _base(arrays, pipe.named_steps["model"], method, f"{prefix}b{k}", name)
        bases.append({**base, "transform": transform})
    final = _linear(arrays, st.final_estimator_, "predict_proba" if classes else "predict", f"{prefix}f",
                    f"{where}, meta-model")
    return {"classes": classes, "bases": bases, "final": final}


def compile_bundle(bundle: dict) -> dict[str, np.ndarray]:
    """The joblib bundle as arrays for np.savez; raises NotCompilable naming the part that is not."""
    from sklearn.multioutput import MultiOutputRegressor

    arrays = _Arrays()
    groups = []
    for gi, group in enumerate(bundle["groups"]):
        model = group["model"]
        stacks = list(model.estimators_) if isinstance(model, MultiOutputRegressor) else [model]
        if len(stacks) != len(group["targets"]):
            raise NotCompilable(f"group {group['name']} has {len(stacks)} models for {len(group['targets'])} targets")
        groups.append({"name": group["name"], "kind": group["kind"], "targets": list(group["targets"]),
                       "output": dict(group.get("output", {})),
                       "stacks": [_stack(arrays, st, f"g{gi}s{ti}", f"group {group['name']}, target {t}")
                                  for ti, (t, st) in enumerate(zip(group["targets"], stacks, strict=True))]})
    inp = {k: bundle.get("input", {})[k] for k in ("pipeline", "schema_hash") if k in bundle.get("input", {})}
    arrays.arrays[STRUCTURE] = np.array(json.dumps({"format": FORMAT, "input": inp, "groups": groups}))
    return arrays.arrays


def save(arrays: Mapping[str, np.ndarray], path: Path) -> None:
    """np.savez through a file object, so the name is kept exactly (savez appends .npz to names)."""
    with open(path, "wb") as f:
        np.savez(f, **arrays)


# ------------------------------------------------------------------------------------------------
# Loading and predicting (numpy only)


def load(path: Path) -> dict[str, np.ndarray]:
    """All arrays read into memory (an NpzFile would re-read the zip member on every access)."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    structure = json.loads(str(arrays[STRUCTURE]))
    if structure.get("format") != FORMAT:
        raise ValueError(f"compiled model format {structure.get('format')}, expected {FORMAT}")
    return arrays


def groups(compiled: Mapping[str, np.ndarray]) -> list[dict]:
    """The groups (name, kind, targets, output, stacks) described by the compiled structure."""
    return json.loads(str(compiled[STRUCTURE]))["groups"]


def _transform(c: Mapping, name: str, X: np.ndarray) -> np.ndarray:
    # The same expression as stacking._shared_transform, so the inputs of the trees' threshold
    # comparisons are the same floats.
    return ((X - c[f"{name}.scale_mean"]) / c[f"{name}.scale"] - c[f"{name}.pca_mean"]) @ c[f"{name}.components"].T


def _walk(c: Mapping, p: str, depth: int, x: np.ndarray, go_left) -> np.ndarray:
    """Leaf index per (row, tree) after `depth` steps from every root."""
    feat, left, right = c[f"{p}.feature"], c[f"{p}.left"], c[f"{p}.right"]
    rows = np.arange(len(x))[:, None]
    node = np.broadcast_to(c[f"{p}.roots"], (len(x), len(c[f"{p}.roots"])))
    for _ in range(depth):
        node = np.where(go_left(x[rows, feat[node]], node), left[node], right[node])
    return node


def _forest_out(c: Mapping, spec: dict, Z: np.ndarray) -> np.ndarray:
    p = spec["arrays"]
    thr = c[f"{p}.threshold"]
    # sklearn's trees see float32 inputs, compared with float64 thresholds as x <= t.
    x = Z.astype(np.float32).astype(np.float64)
    node = _walk(c, p, spec["depth"], x, lambda v, n: v <= thr[n])
    return c[f"{p}.value"][node].mean(axis=1)


def _xgb_out(c: Mapping, spec: dict, Z: np.ndarray) -> np.ndarray:
    p = spec["arrays"]
    thr, dleft = c[f"{p}.threshold"], c[f"{p}.default_left"]
    x = Z.astype(np.float32)
    node = _walk(c, p, spec["depth"], x, lambda v, n: np.where(np.isnan(v), dleft[n], v < thr[n]))
    margin = c[f"{p}.base_margin"] + c[f"{p}.leaf"][node].astype(np.float64).sum(axis=1)
    out = 1.0 / (1.0 + np.exp(-margin)) if spec["link"] == "logistic" else margin
    return out.astype(np.float32)  # the booster's output type


def _rbf_decision(c: Mapping, p: str, gamma: float, Z: np.ndarray) -> np.ndarray:
    sv = c[f"{p}.support_vectors"]
    dec = np.empty(len(Z))
    # Squared distances from the differences, as libsvm computes them (the |z|^2 + |s|^2 - 2 z.s
    # expansion loses digits to cancellation); rows in chunks to bound the rows x vectors x dims array.
    for i in range(0, len(Z), _SVM_CHUNK):
        d = Z[i:i + _SVM_CHUNK, None, :] - sv[None, :, :]
        dec[i:i + _SVM_CHUNK] = np.exp(-gamma * np.einsum("rsk,rsk->rs", d, d)) @ c[f"{p}.dual_coef"]
    return dec + c[f"{p}.intercept"]


def _libsvm_coupling(r01: np.ndarray) -> np.ndarray:
    """libsvm's multiclass_probability for two classes, which sklearn's libsvm runs even then: an
    iteration that stops within 0.005/k of the fixed point, so P(class 1) is not simply 1 - r01.
    Written out per row with libsvm's operations in its order; returns P(second label)."""
    r10 = 1 - r01
    q = ((r10 * r10, -r10 * r01), (-r10 * r01, r01 * r01))
    p = [np.full(r01.shape, 0.5), np.full(r01.shape, 0.5)]
    active = np.ones(r01.shape, bool)
    for _ in range(100):  # libsvm's max(100, k)
        qp = [q[t][0] * p[0] + q[t][1] * p[1] for t in range(2)]
        pqp = p[0] * qp[0] + p[1] * qp[1]
        active &= np.maximum(np.abs(qp[0] - pqp), np.abs(qp[1] - pqp)) >= 0.005 / 2
        if not active.any():
            break
        for t in range(2):
            diff = np.where(active, (-qp[t] + pqp) / q[t][t], 0.0)
            p[t] = p[t] + diff
            pqp = np.where(active, (pqp + diff * (diff * q[t][t] + 2 * qp[t])) / (1 + diff) / (1 + diff), pqp)
            for j in range(2):
                qp[j] = np.where(active, (qp[j] + diff * q[t][j]) / (1 + diff), qp[j])
                p[j] = np.where(active, p[j] / (1 + diff), p[j])
    return p[1]


def _svm_out(c: Mapping, spec: dict, Z: np.ndarray) -> np.ndarray:
    p = spec["arrays"]
    dec = _rbf_decision(c, p, spec["gamma"], Z)
    if spec["output"] == "decision":
        return dec
    # libsvm's Platt sigmoid is for its first label, whose decision value is sklearn's negated one.
    f = -dec * c[f"{p}.prob_a"] + c[f"{p}.prob_b"]
    e = np.exp(-np.abs(f))
    r01 = np.where(f >= 0, e / (1.0 + e), 1.0 / (1 + np.exp(np.minimum(f, 0))))
    return _libsvm_coupling(np.minimum(np.maximum(r01, _SVM_MIN_PROB), 1 - _SVM_MIN_PROB))


def _linear_out(c: Mapping, spec: dict, Z: np.ndarray) -> np.ndarray:
    p = spec["arrays"]
    dec = Z @ c[f"{p}.coef"] + c[f"{p}.intercept"]
    return 1.0 / (1.0 + np.exp(-dec)) if spec["link"] == "logistic" else dec


_OUTPUT = {"forest": _forest_out, "xgb": _xgb_out, "svm": _svm_out, "linear": _linear_out}


def _stack_out(c: Mapping, stack: dict, X: np.ndarray) -> np.ndarray:
    """Regression value, or P(classes[1]), per row."""
    Z: dict[str, np.ndarray] = {}
    metas = []
    for base in stack["bases"]:
        t = base["transform"]
        if t not in Z:
            Z[t] = _transform(c, t, X)
        metas.append(np.asarray(_OUTPUT[base["type"]](c, base, Z[t]), np.float64).reshape(len(X), 1))
    return _linear_out(c, stack["final"], np.hstack(metas))


def predict_group(compiled: Mapping[str, np.ndarray], group: dict, X: np.ndarray) -> dict[str, np.ndarray]:
    """modelfile.group_values for one group of `groups(compiled)`."""
    out = {}
    for target, stack in zip(group["targets"], group["stacks"], strict=True):
        y = _stack_out(compiled, stack, X)
        if group["kind"] == "regression":
            out[target] = y
            continue
        classes = stack["classes"]
        proba = np.column_stack([1 - y, y])
        if group["output"].get(target) == "proba" and 1 in classes:
            out[target] = proba[:, classes.index(1)]
        else:
            out[target] = np.asarray(classes)[np.argmax(proba, axis=1)]
    return out


def predict_groups(compiled: Mapping[str, np.ndarray], X: np.ndarray) -> dict[str, np.ndarray]:
    """target -> value per row of X for every group: what modelfile.group_values returns."""
    out: dict[str, np.ndarray] = {}
    for group in groups(compiled):
        out.update(predict_group(compiled, group, X))
    return out


def path_for(model_path: Path) -> Path:
    """NAME.compiled.npz next to NAME.joblib."""
    model_path = Path(model_path)
    return model_path.with_name(model_path.name.removesuffix(".joblib") + SUFFIX)


def check(bundle: dict, compiled: Mapping[str, np.ndarray], rows: int = 64, seed: int = 0) -> None:
    """Raise NotCompilable unless the arrays give modelfile.group_values' numbers (within 1e-5) on
    rows drawn around the first scaler's mean: a model shape this module misreads is never saved."""
    from musicrec_engine.attributes.modelfile import group_values

    if "t0.scale" not in compiled:  # no groups: nothing to compare
        return
    rng = np.random.default_rng(seed)
    X = (compiled["t0.scale_mean"] + compiled["t0.scale"] * rng.standard_normal((rows, compiled["t0.scale"].size)))
    X = X.astype(np.float32)
    got = predict_groups(compiled, X)
    for group in bundle["groups"]:
        for target, want in group_values(group, X).items():
            want = np.asarray(want)
            same = (np.allclose(got[target], want, rtol=0, atol=1e-5) if want.dtype.kind == "f"
                    else np.array_equal(got[target], want))
            if not same:
                raise NotCompilable(f"the compiled {target} differs from the fitted model's")
