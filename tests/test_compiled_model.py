"""Attribute models as numpy arrays (attributes/compiled.py): the same numbers as the fitted models,
saved next to every model that compiles, and loaded without importing sklearn or XGBoost."""

import copy
import json
import shutil
import subprocess
import sys

import joblib
import numpy as np
import pytest
from audio_fixtures import music

from musicrec_engine.attributes import compiled, estimated, learned, modelfile
from musicrec_engine.attributes.training import train as training
from musicrec_engine.attributes.training.stacking import GroupSpec
from musicrec_engine.features.spectrum import Spectrum

DEFAULT = learned.DEFAULT_DIR / f"{learned.DEFAULT_NAME}.joblib"
PIPELINE = "mfcc+stats"
HASHES = {"mfcc": "mfcc-test", "stats": "stats-test"}
N_FEATURES = 12


@pytest.fixture(scope="module")
def shipped():
    return joblib.load(DEFAULT), compiled.load(compiled.path_for(DEFAULT))


def _reference(bundle: dict, X: np.ndarray) -> dict:
    out = {}
    for group in bundle["groups"]:
        out.update(modelfile.group_values(group, X))
    return out


def _assert_same(got: dict, want: dict) -> None:
    assert set(got) == set(want)
    for target, w in want.items():
        np.testing.assert_allclose(got[target], w, rtol=0, atol=1e-5, err_msg=target)


def test_shipped_model_compiled_gives_the_fitted_models_numbers(shipped):
    bundle, arrays = shipped
    scale = bundle["groups"][0]["model"].estimators_[0].named_steps["scale"]
    rng = np.random.default_rng(3)
    X = (scale.mean_ + scale.scale_ * rng.standard_normal((300, scale.mean_.size)) * 1.5).astype(np.float32)
    _assert_same(compiled.predict_groups(arrays, X), _reference(bundle, X))
    one = X[:1]  # the app predicts one track at a time
    _assert_same(compiled.predict_groups(arrays, one), _reference(bundle, one))


def test_shipped_model_compiled_matches_on_generated_audio(shipped):
    bundle, arrays = shipped
    X = np.stack([estimated.descriptor_vector(Spectrum(music(3.0, key=k, bpm=80 + 15 * k, drums=k % 2 == 1, seed=k)))
                  for k in range(4)]).astype(np.float32)
    _assert_same(compiled.predict_groups(arrays, X), _reference(bundle, X))


def test_shipped_manifest_records_the_compiled_file():
    manifest = json.loads(DEFAULT.with_name(f"{learned.DEFAULT_NAME}.manifest.json").read_text())
    assert manifest["sha256"] == modelfile.file_sha256(DEFAULT)
    entry = manifest["compiled"]
    assert entry["sha256"] == modelfile.file_sha256(DEFAULT.with_name(entry["file"]))
    assert learned.load(DEFAULT).compiled is not None


def test_analysis_path_imports_no_sklearn_xgboost_pandas_or_scipy_stats():
    code = (
        "import sys\n"
        "from musicrec_engine.audio import synth\n"
        "from musicrec_engine.attributes import estimated, learned\n"
        "from musicrec_engine.features.spectrum import Spectrum\n"
        "x = estimated.descriptor_vector(Spectrum(synth.music(3.0, seed=5)))\n"
        "out = learned.predict({'descriptors': x})\n"
        "assert sorted(out) == ['acousticness', 'instrumentalness', 'liveness', 'speechiness'], out\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'sklearn', 'xgboost', 'pandas', 'joblib'}"
        " or m.startswith('scipy.stats')))\n"
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


def _train(tmp_path, specs: list[GroupSpec]) -> tuple:
    """Fit `specs` on synthetic rows, save as the user model of a fresh models folder."""
    X_tr, Y_tr = _data(0, 60)
    X_te, Y_te = _data(1, 20)
    groups, metrics, _ = training.fit_and_score(specs, X_tr, Y_tr, X_te, Y_te, budget=0, jobs=1)
    assert len(groups) == len(specs)
    schema = modelfile.combined_schema_hash(HASHES)
    bundle = {"format": modelfile.FORMAT, "input": {"pipeline": PIPELINE, "schema_hash": schema}, "groups": groups}
    manifest = {"format": modelfile.FORMAT, "kind": "musicrec-attributes", "name": "user",
                "input": {"pipeline": PIPELINE, "schema_hash": schema, "n_features": N_FEATURES},
                "attributes": sorted(metrics["attributes"]), "metrics": metrics}
    path = training.save_model(training.TrainResult(bundle, manifest), tmp_path, modelfile.USER_MODEL)
    return path, X_te


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    specs = [GroupSpec("energy_mood", "regression", ["energy", "valence"]),  # MultiOutputRegressor
             GroupSpec("mode", "classification", ["mode"])]
    return _train(tmp_path_factory.mktemp("small"), specs)


def _features(X: np.ndarray) -> dict:
    return {"mfcc": X[:5], "stats": X[5:]}


def test_trained_model_is_saved_compiled_and_loads_with_the_same_predictions(small):
    path, X = small
    manifest = json.loads(path.with_name(f"{modelfile.USER_MODEL}.manifest.json").read_text())
    cpath = compiled.path_for(path)
    assert manifest["compiled"] == {"file": cpath.name, "sha256": modelfile.file_sha256(cpath)}
    model = learned.load(path)
    assert model.compiled is not None
    got = {}
    for group in model.groups():
        got.update(model.group_values(group, X))
    want = _reference(model.bundle, X)  # the joblib file, unpickled on demand
    _assert_same(got, want)
    assert set(np.unique(got["mode"])) <= {0, 1}  # "value" output: the class, not a probability
    proba = copy.copy(model.bundle)
    proba["groups"] = [dict(g, output={t: "proba" for t in g["targets"]}) for g in model.bundle["groups"]]
    _assert_same(compiled.predict_groups(compiled.compile_bundle(proba), X), _reference(proba, X))


def test_trained_model_predicts_through_learned_from_the_compiled_file(small):
    path, X = small
    out = learned.predict(_features(X[0]), HASHES, models_dir=path.parent)
    want = _reference(learned.load(path).bundle, X[:1])
    assert set(out) == {"energy", "valence", "mode"}
    assert out["energy"].value == pytest.approx(float(np.clip(want["energy"][0], 0, 1)), abs=1e-6)
    assert out["mode"].value == int(want["mode"][0])


def test_changed_compiled_file_is_refused_like_a_changed_model(small, tmp_path):
    path, _ = small
    for f in path.parent.iterdir():
        shutil.copy(f, tmp_path / f.name)
    cpath = compiled.path_for(tmp_path / path.name)
    data = bytearray(cpath.read_bytes())
    data[len(data) // 2] ^= 0xFF
    cpath.write_bytes(bytes(data))
    with pytest.raises(learned.ModelRefused, match="does not match the checksum in its manifest"):
        learned.load(tmp_path / path.name)
    cpath.unlink()  # no compiled file at all: the joblib file is used
    model = learned.load(tmp_path / path.name)
    assert model.compiled is None and model.groups()


def test_unsupported_parts_raise_not_compilable_with_a_sentence(small):
    path, _ = small
    bundle = copy.deepcopy(learned.load(path).bundle)
    stack = bundle["groups"][1]["model"]
    svm = next(p for p in stack.estimators_ if type(p.named_steps["model"]).__name__ == "SVC")
    svm.named_steps["model"].kernel = "poly"
    with pytest.raises(compiled.NotCompilable, match="RBF kernel.*'poly'"):
        compiled.compile_bundle(bundle)


def test_multiclass_model_is_saved_for_joblib_and_still_predicts(tmp_path):
    path, X = _train(tmp_path, [GroupSpec("key", "classification", ["key"])])
    manifest = json.loads(path.with_name(f"{modelfile.USER_MODEL}.manifest.json").read_text())
    assert "compiled" not in manifest
    assert not compiled.path_for(path).exists()
    with pytest.raises(compiled.NotCompilable, match="3 classes"):
        compiled.compile_bundle(joblib.load(path))
    model = learned.load(path)
    assert model.compiled is None
    out = learned.predict(_features(X[0]), HASHES, models_dir=tmp_path)
    assert out["key"].value in (0, 1, 2)
