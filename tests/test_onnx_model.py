"""Attribute models saved as ONNX (attributes/training/onnx_export.py) and run by onnxruntime
(attributes/learned.py): the same numbers as the fitted models, checked before saving, loaded
without scikit-learn or XGBoost, and refused when changed."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from musicrec_engine.attributes import learned, modelfile
from musicrec_engine.attributes.training import onnx_export
from musicrec_engine.attributes.training import train as training
from musicrec_engine.attributes.training.stacking import GroupSpec

PIPELINE = "mfcc+stats"
HASHES = {"mfcc": "mfcc-test", "stats": "stats-test"}
N_FEATURES = 12


def test_shipped_model_is_onnx_with_a_matching_manifest_and_no_pickle():
    path = learned.default_model_path()
    manifest = json.loads(modelfile.manifest_path(path).read_text())
    assert manifest["format"] == modelfile.FORMAT and manifest["file"] == path.name
    assert manifest["sha256"] == modelfile.file_sha256(path)
    assert [g["onnx_output"] for g in manifest["groups"]] == ["speech.values", "acoustic.probabilities",
                                                              "live.probabilities", "vocal.probabilities"]
    assert not [p for p in learned.DEFAULT_DIR.iterdir() if p.suffix in modelfile.PICKLE_SUFFIXES]
    assert learned.load(path).groups() == manifest["groups"]


def test_analysis_path_imports_no_sklearn_xgboost_pandas_onnx_or_scipy_stats():
    code = (
        "import sys\n"
        "from musicrec_engine.audio import synth\n"
        "from musicrec_engine.attributes import estimated, learned\n"
        "from musicrec_engine.features.spectrum import Spectrum\n"
        "x = estimated.descriptor_vector(Spectrum(synth.music(3.0, seed=5)))\n"
        "out = learned.predict({'descriptors': x})\n"
        "assert sorted(out) == ['acousticness', 'instrumentalness', 'liveness', 'speechiness'], out\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'sklearn', 'xgboost', 'pandas', 'joblib',"
        " 'skl2onnx', 'onnxmltools', 'onnx'} or m.startswith('scipy.stats')))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


# ------------------------------------------------------------------------------------------------
# Small models trained by the real training code


def _data(seed: int, n: int):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, N_FEATURES)).astype(np.float32)
    noise = 0.3 * rng.standard_normal((3, n))
    Y = {"energy": X[:, 0] - 0.5 * X[:, 1] + noise[0], "valence": X[:, 2] * X[:, 3] + noise[1],
         "mode": (X[:, 4] + noise[2] > 0).astype(float), "key": np.digitize(X[:, 5], [-0.5, 0.5]).astype(float)}
    return X, Y


def _result(groups: list, metrics: dict) -> training.TrainResult:
    schema = modelfile.combined_schema_hash(HASHES)
    manifest = {"name": "user", "input": {"pipeline": PIPELINE, "schema_hash": schema, "n_features": N_FEATURES},
                "attributes": sorted(metrics.get("attributes", {})), "metrics": metrics}
    return training.TrainResult(groups, manifest)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    """Three groups fitted on synthetic rows and saved as the user model of a fresh models folder:
    a two-target regression (MultiOutputRegressor), a binary and a three-class classification."""
    specs = [GroupSpec("energy_mood", "regression", ["energy", "valence"]),
             GroupSpec("mode", "classification", ["mode"]),
             GroupSpec("key", "classification", ["key"])]
    X_tr, Y_tr = _data(0, 60)
    X_te, Y_te = _data(1, 20)
    groups, metrics, _ = training.fit_and_score(specs, X_tr, Y_tr, X_te, Y_te, budget=0, jobs=1)
    assert len(groups) == len(specs)
    folder = tmp_path_factory.mktemp("small")
    path = training.save_model(_result(groups, metrics), folder, modelfile.USER_MODEL)
    return path, groups, metrics, X_te


def _features(x: np.ndarray) -> dict:
    return {"mfcc": x[:5], "stats": x[5:]}


def test_saved_model_gives_the_fitted_models_numbers(small):
    path, groups, _, X = small
    assert sorted(p.name for p in path.parent.iterdir()) == ["attributes.manifest.json", "attributes.onnx"]
    model = learned.load(path)
    outputs = model.outputs(X)
    for g, d in zip(groups, model.groups(), strict=True):
        np.testing.assert_allclose(outputs[d["onnx_output"]], onnx_export.fitted_outputs(g, X), rtol=0, atol=1e-5,
                                   err_msg=g["name"])
        got = modelfile.group_values(d, outputs[d["onnx_output"]])
        for target, want in onnx_export.fitted_values(g, X).items():
            np.testing.assert_allclose(got[target], want, rtol=0, atol=1e-5, err_msg=target)
    one = model.outputs(X[:1])  # the app predicts one track at a time
    assert np.allclose(one["key.probabilities"], outputs["key.probabilities"][:1], atol=1e-6)


def test_learned_predicts_from_the_saved_model(small):
    path, groups, metrics, X = small
    out = learned.predict(_features(X[0]), HASHES, models_dir=path.parent)
    assert set(out) == {"energy", "valence", "mode", "key"}
    want = {}
    for g in groups:
        want.update(onnx_export.fitted_values(g, X[:1]))
    assert out["energy"].value == pytest.approx(float(np.clip(want["energy"][0], 0, 1)), abs=1e-5)
    assert out["mode"].value == int(want["mode"][0]) and out["key"].value == int(want["key"][0])
    assert out["key"].value in (0, 1, 2)  # "value" output: the class, not a probability
    assert out["energy"].provenance == "learned"
    assert out["energy"].confidence == pytest.approx(metrics["attributes"]["energy"]["confidence"])


def test_changed_model_file_is_refused(small, tmp_path):
    path, _, _, X = small
    for f in path.parent.iterdir():
        shutil.copy(f, tmp_path / f.name)
    data = bytearray((tmp_path / path.name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / path.name).write_bytes(bytes(data))
    with pytest.raises(learned.ModelRefused, match="does not match the checksum in its manifest"):
        learned.load(tmp_path / path.name)
    assert learned.predict(_features(X[0]), HASHES, models_dir=tmp_path) == {}  # refused: nothing learned
    status = {s["path"]: s for s in learned.status(HASHES, tmp_path)}
    assert status[str(tmp_path / path.name)]["used"] is False


def test_model_without_an_onnx_form_is_not_saved_and_the_last_one_stays(small, tmp_path):
    """A part skl2onnx has no converter for: training says which, and nothing is written."""
    from sklearn.ensemble import StackingRegressor
    from sklearn.kernel_ridge import KernelRidge
    from sklearn.linear_model import Ridge

    path, _, metrics, X = small
    for f in path.parent.iterdir():
        shutil.copy(f, tmp_path / f.name)
    before = {f.name: f.read_bytes() for f in tmp_path.iterdir()}
    X_tr, Y_tr = _data(0, 60)
    stack = StackingRegressor([("kr", KernelRidge(alpha=1.0)), ("ridge", Ridge())], final_estimator=Ridge(), cv=3)
    stack.fit(X_tr, Y_tr["energy"])
    group = {"name": "energy_mood", "kind": "regression", "targets": ["energy"], "model": stack,
             "output": {"energy": "value"}}
    with pytest.raises(training.ModelNotSaved, match=r"^the trained model was not saved: group energy_mood has no "
                                                     r"ONNX form \(.*KernelRidge"):
        training.save_model(_result([group], metrics), tmp_path, modelfile.USER_MODEL)
    assert {f.name: f.read_bytes() for f in tmp_path.iterdir()} == before


def test_a_converted_model_that_differs_from_the_fitted_one_is_refused(small):
    """The check compares onnxruntime's values with the fitted model's: a graph that computes
    something else (here: another group's graph under this group's name) is never saved."""
    _, groups, _, X = small
    data, described = onnx_export.convert(groups[:1], N_FEATURES)
    other = dict(groups[0], model=groups[1]["model"], kind="classification", targets=["mode"],
                 output={"mode": "value"})
    with pytest.raises(onnx_export.NotConvertible, match="differs from the fitted model's|classes differ"):
        onnx_export.check([other], data, [dict(onnx_export.describe(other), onnx_output=described[0]["onnx_output"])],
                          X)
