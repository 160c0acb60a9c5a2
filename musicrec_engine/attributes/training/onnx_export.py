"""Fitted attribute groups to one ONNX graph, checked against the fitted models before it is saved.

skl2onnx converts the scikit-learn parts (scaler, PCA, forests, SVMs, linear models, the stacking
estimators, MultiOutputRegressor); onnxmltools' converter does the XGBoost boosters. Each group
becomes one sub-graph on the shared input "input" (float32, one row per track) and one named
output, described in the manifest (modelfile.py): "GROUP.values" (rows x targets) for regression,
"GROUP.probabilities" (rows x classes) for classification.

This runs where models are trained (the `attributes train` job, the default model's script);
predicting needs only onnxruntime (attributes/learned.py).
"""

from __future__ import annotations

import warnings

import numpy as np

from musicrec_engine.attributes import modelfile

OPSET = {"": 17, "ai.onnx.ml": 3}
CHECK_ROWS = 64
TOLERANCE = 1e-5  # largest difference allowed between the ONNX and the fitted model's values


class NotConvertible(Exception):
    """A fitted model with no faithful ONNX form, with the sentence saying which part and why."""


def stacks_of(model) -> list:
    """The fitted stacking estimator behind each target (MultiOutputRegressor holds one per target)."""
    from sklearn.multioutput import MultiOutputRegressor

    return list(model.estimators_) if isinstance(model, MultiOutputRegressor) else [model]


def fitted_outputs(group: dict, X: np.ndarray) -> np.ndarray:
    """What the group's ONNX output holds, computed by scikit-learn itself: predictions
    (rows x targets) for regression, predict_proba (rows x classes) for classification."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if group["kind"] == "regression":
            return np.asarray(group["model"].predict(X), np.float64).reshape(len(X), -1)
        return np.asarray(group["model"].predict_proba(X), np.float64)


def fitted_values(group: dict, X: np.ndarray) -> dict[str, np.ndarray]:
    """target -> value per row, as the saved model will give them (modelfile.group_values)."""
    return modelfile.group_values(describe(group), fitted_outputs(group, X))


def describe(group: dict) -> dict:
    """The group as the manifest records it: no fitted objects, only what prediction needs."""
    out = {"name": group["name"], "kind": group["kind"], "targets": list(group["targets"]),
           "output": dict(group.get("output") or {t: "value" for t in group["targets"]})}
    if group["kind"] == "classification":
        if len(group["targets"]) != 1:
            raise NotConvertible(f"group {group['name']} classifies {len(group['targets'])} targets at once; "
                                 "only one target per classification group can be saved")
        out["classes"] = [c.item() if hasattr(c, "item") else c for c in group["model"].classes_]
        out["onnx_output"] = f"{group['name']}.probabilities"
    else:
        out["onnx_output"] = f"{group['name']}.values"
    return out


def _register_xgboost() -> None:
    from onnxmltools.convert.xgboost.operator_converters.XGBoost import convert_xgboost
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )
    from xgboost import XGBClassifier, XGBRegressor

    update_registered_converter(XGBClassifier, "XGBoostXGBClassifier", calculate_linear_classifier_output_shapes,
                                convert_xgboost, options={"nocl": [True, False], "zipmap": [True, False, "columns"]})
    update_registered_converter(XGBRegressor, "XGBoostXGBRegressor", calculate_linear_regressor_output_shapes,
                                convert_xgboost)


def _stacking_inputs(scope, operator, container, model):
    """skl2onnx's StackingClassifier inputs, fixed for binary stacks that mix methods: scikit-learn
    keeps only column 1 of each base model's binary predict_proba (and the one column of a
    decision_function), but skl2onnx drops column 0 only when every base model uses predict_proba,
    so a stack with a RidgeClassifier fed the meta-model 11 columns instead of 6 (skl2onnx 1.20)."""
    from skl2onnx.common._apply_operation import apply_concat
    from skl2onnx.operator_converters import stacking
    from skl2onnx.proto import onnx_proto

    preds = [stacking._fetch_scores(scope, container, est, operator.inputs[0], raw_scores=meth == "decision_function")
             for est, meth in zip(model.estimators_, model.stack_method_, strict=True) if est != "drop"]
    if len(model.classes_) == 2:
        col = scope.get_unique_variable_name("stack_tr_column_index")
        container.add_initializer(col, onnx_proto.TensorProto.INT64, [], [1])
        kept = []
        for i, (p, meth) in enumerate(zip(preds, model.stack_method_, strict=True)):
            if meth == "predict_proba":
                name = scope.get_unique_variable_name(f"stack_tr_prob{i}")
                container.add_node("ArrayFeatureExtractor", [p, col], name,
                                   name=scope.get_unique_operator_name("SV_AFE"), op_domain="ai.onnx.ml")
                p = name
            kept.append(p)
        preds = kept
    merged = scope.get_unique_variable_name("stack_tra_merged_prob_tensor")
    apply_concat(scope, preds, merged, container, axis=1)
    return merged


def _group_graph(group: dict, n_features: int):
    """One group as an ONNX model with input "input" and the output named in describe()."""
    import onnx
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType
    from skl2onnx.operator_converters import stacking

    model = group["model"]
    options = {id(model): {"zipmap": False}} if group["kind"] == "classification" else None
    original = stacking._transform
    stacking._transform = _stacking_inputs
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            onx = convert_sklearn(model, initial_types=[("input", FloatTensorType([None, n_features]))],
                                  options=options, target_opset=OPSET)
    except Exception as e:  # the first line of skl2onnx's message names the part it cannot convert
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise NotConvertible(f"group {group['name']} has no ONNX form ({first})") from None
    finally:
        stacking._transform = original
    wanted = "probabilities" if group["kind"] == "classification" else "variable"
    if wanted not in [o.name for o in onx.graph.output]:
        raise NotConvertible(f"group {group['name']}: the converted graph has no {wanted!r} output")
    onx = onnx.compose.add_prefix(onx, f"{group['name']}/")
    for node in onx.graph.node:
        for k, name in enumerate(node.input):
            if name == f"{group['name']}/input":
                node.input[k] = "input"
    return onx, f"{group['name']}/{wanted}"


def convert(groups: list[dict], n_features: int) -> tuple[bytes, list[dict]]:
    """All groups as one serialised ONNX model, and their manifest descriptions."""
    import onnx
    from onnx import helper

    _register_xgboost()
    described = [describe(g) for g in groups]
    nodes, inits, outputs, opsets = [], [], [], {}
    ir_version = onnx.IR_VERSION
    for g, d in zip(groups, described, strict=True):
        onx, out = _group_graph(g, n_features)
        nodes += onx.graph.node
        inits += onx.graph.initializer
        nodes.append(helper.make_node("Identity", [out], [d["onnx_output"]], name=f"{g['name']}/output"))
        outputs.append(helper.make_tensor_value_info(d["onnx_output"], onnx.TensorProto.FLOAT, [None, None]))
        for op in onx.opset_import:
            opsets[op.domain] = max(opsets.get(op.domain, 0), op.version)
        ir_version = min(ir_version, onx.ir_version)
    graph = helper.make_graph(nodes, "musicrec_attributes",
                              [helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, [None, n_features])],
                              outputs, inits)
    merged = helper.make_model(graph, opset_imports=[helper.make_opsetid(k, v) for k, v in sorted(opsets.items())],
                               producer_name="musicrec")
    merged.ir_version = ir_version
    onnx.checker.check_model(merged)
    return merged.SerializeToString(), described


def check_rows(groups: list[dict], n_features: int, rows: int = CHECK_ROWS, seed: int = 0) -> np.ndarray:
    """Rows drawn around the training data (the first pipeline's scaler: mean +- 1.5 sd)."""
    rng = np.random.default_rng(seed)
    try:
        scaler = stacks_of(groups[0]["model"])[0].estimators_[0].named_steps["scale"]
        mean, sd = np.asarray(scaler.mean_), np.asarray(scaler.scale_)
    except (AttributeError, IndexError, KeyError, TypeError):
        mean, sd = np.zeros(n_features), np.ones(n_features)
    return (mean + 1.5 * sd * rng.standard_normal((rows, n_features))).astype(np.float32)


def check(groups: list[dict], data: bytes, described: list[dict], X: np.ndarray) -> None:
    """Raise NotConvertible unless onnxruntime, running `data`, gives the fitted models' values
    (within TOLERANCE; classes exactly) on the rows X."""
    from musicrec_engine.attributes.learned import session_for

    outputs = dict(zip([d["onnx_output"] for d in described],
                       session_for(data).run([d["onnx_output"] for d in described], {"input": X}), strict=True))
    for g, d in zip(groups, described, strict=True):
        got = modelfile.group_values(d, outputs[d["onnx_output"]])
        for target, want in fitted_values(g, X).items():
            want = np.asarray(want)
            if want.dtype.kind == "f":
                diff = float(np.max(np.abs(np.asarray(got[target], np.float64) - want))) if len(want) else 0.0
                if not diff <= TOLERANCE:
                    raise NotConvertible(f"the ONNX model's {target} differs from the fitted model's by up to "
                                         f"{diff:.2g} (allowed {TOLERANCE:g})")
            elif not np.array_equal(got[target], want):
                raise NotConvertible(f"the ONNX model's {target} classes differ from the fitted model's")
