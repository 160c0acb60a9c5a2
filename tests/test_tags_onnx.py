"""The listening models run on onnxruntime from their ONNX exports: the same numbers as the torch
port, no torch import on the way to the first result, and an altered export refused with a
sentence (an export of other weights is ignored and the torch port serves)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from audio_fixtures import music, write
from conftest import ROOT
from test_listening import weights_with_one_damaged

from musicrec_engine import listening


def test_onnx_export_gives_the_ports_numbers():
    rng = np.random.default_rng(5)
    x = rng.normal(2.0, 1.0, (2, 187, 96)).astype(np.float32)
    for model in listening.MODELS:
        fast, port = listening.load(model), listening.load(model, backend="torch")
        assert isinstance(fast, listening.OnnxNet)
        for a, b in zip(fast(x), port(x), strict=True):
            assert a.shape == b.shape and np.abs(a - b).max() < 1e-4


def test_an_altered_export_is_refused_and_one_of_other_weights_ignored(tmp_path):
    folder = weights_with_one_damaged(tmp_path, "mtt_musicnn.onnx")
    with pytest.raises(listening.WeightsError, match="does not match onnx.json"):
        listening.load("mtt", folder)
    other = tmp_path / "other"
    shutil.copytree(listening.weights_dir(), other)
    info = json.loads((other / "onnx.json").read_text())
    info["models"]["msd"]["from_sha256"] = "0" * 64  # made from weights that are not these
    (other / "onnx.json").write_text(json.dumps(info))
    assert not isinstance(listening.load("msd", other), listening.OnnxNet)
    assert isinstance(listening.load("mtt", other), listening.OnnxNet)


def test_analysing_a_file_never_imports_torch(tmp_path):
    song = write(tmp_path / "song.wav", music(4.0, seed=2))
    code = ("import sys, json; from musicrec_engine.analysis.pipeline import analyze_file; "
            f"r = analyze_file({str(song)!r}); "
            "print(json.dumps({'tags': bool(r.tags), 'torch': 'torch' in sys.modules}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=600,
                         env={"PYTHONPATH": str(ROOT), "MUSICREC_HOME": str(tmp_path / "home"),
                              "MUSICREC_LISTEN_PATCHES": "1", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.splitlines()[-1]) == {"tags": True, "torch": False}
