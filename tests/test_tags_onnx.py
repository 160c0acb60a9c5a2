"""The listening models run on onnxruntime from their ONNX exports: close to the float torch port
(their timbral convolutions run in 8-bit integers), no torch import on the way to the first result,
and an altered model refused with a sentence."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from audio_fixtures import music, write
from conftest import ROOT
from test_listening import weights_with_one_damaged

from musicrec_engine import listening

# What the shipped models may differ from the float port by: their timbral convolutions run in 8-bit
# integers (tools/musicnn/export_onnx.py). One tag probability of one patch by at most TAG_STEP, a
# clip's mean embedding at a cosine of at least COSINE with the port's. On the real tuning set
# the largest differences were 0.015 and 0.9997 (docs/BENCHMARKS.md, "Listening: cost").
TAG_STEP = 0.03
COSINE = 0.999


def _generated_patches() -> dict[str, np.ndarray]:
    """Log-mel patches of generated clips that sound different: the faithfulness clips (triad,
    pink noise, drums, a clipped full-scale saw, a quiet sweep) and generated music in two keys,
    tempi and levels, with and without drums."""
    from test_listening import _clips_module

    from musicrec_engine.listening import frontend

    clips = {name: np.asarray(y, np.float32) for name, y in _clips_module().reference_clips().items()}
    for name, kw in {"music_c_fast": dict(key=0, bpm=140, seed=1), "music_a_minor_slow": dict(key=9, mode=0, bpm=70, seed=2),
                     "music_soft_no_drums": dict(key=4, drums=False, seed=3)}.items():
        y = music(7.0, sr=frontend.SR, **kw)
        clips[name] = (y * (0.05 if "soft" in name else 1.0)).astype(np.float32)
    return {name: frontend.patches(y, 2)[0] for name, y in clips.items()}


def test_shipped_models_stay_close_to_the_float_port_and_tell_clips_apart():
    patches = _generated_patches()
    for model in listening.MODELS:
        fast, port = listening.load(model), listening.load(model, backend="torch")
        assert isinstance(fast, listening.OnnxNet)
        shipped, ref = {}, {}
        for name, x in patches.items():
            (tags, pen), (ref_tags, ref_pen) = fast(x), port(x)
            assert tags.shape == ref_tags.shape and pen.shape == ref_pen.shape
            assert np.abs(tags - ref_tags).max() < TAG_STEP, (model, name)
            a, b = pen.mean(axis=0), ref_pen.mean(axis=0)
            assert a @ b / np.linalg.norm(a) / np.linalg.norm(b) > COSINE, (model, name)
            shipped[name], ref[name] = tags.mean(axis=0), ref_tags.mean(axis=0)
        # Each clip's tags are nearer the port's tags of that same clip than of any other clip,
        # by a wide margin: quantising did not make different music look alike.
        names = list(patches)
        for name in names:
            own = np.abs(shipped[name] - ref[name]).sum()
            nearest_other = min(np.abs(shipped[name] - ref[o]).sum() for o in names if o != name)
            assert nearest_other > 5 * own, (model, name, own, nearest_other)


def test_quantised_inputs_are_the_patch_in_7_bit_steps():
    """What the shipped models take besides the patches: 7-bit steps that reproduce each patch to
    half a step, padding that counts as nothing, and one row per output position of the timbral
    convolutions."""
    from musicrec_engine.listening import frontend

    x = np.abs(np.random.default_rng(1).normal(2.0, 1.0, (2, 187, 96))).astype(np.float32)
    x[1] *= 0.01  # a much quieter patch gets its own finer steps
    q = frontend.quantised_inputs(x)
    for i in range(2):
        first = q["cols38"][i].reshape(187, 59, 7, 38)[:, :, 3, 0]  # the centre frame of each row: q[t, f]
        back = q["offset"][i] + q["scale"][i] * (first.astype(np.float32) - frontend.QUANT_ZERO)
        assert np.abs(back - x[i, :, :59]).max() <= 0.5001 * q["scale"][i, 0, 0]
        assert abs(np.ptp(x[i]) - frontend.QUANT_STEPS * q["scale"][i, 0, 0]) < 1e-5 * x[i].max()
    assert q["cols38"].dtype == np.uint8 and q["cols38"].max() <= frontend.QUANT_STEPS
    assert q["cols38"].shape == (2, 187 * 59, 7 * 38) and q["cols67"].shape == (2, 187 * 30, 7 * 67)
    # The first output frame's row reaches 3 frames before the patch: those hold the zero point.
    assert np.all(q["cols67"][0].reshape(187, 30, 7, 67)[0, :, :3] == frontend.QUANT_ZERO)


def test_an_altered_model_is_refused_and_the_torch_port_needs_the_float_weights(tmp_path, monkeypatch):
    folder = weights_with_one_damaged(tmp_path, "mtt_musicnn.onnx")
    with pytest.raises(listening.WeightsError, match="does not match its manifest"):
        listening.load("mtt", folder)
    assert isinstance(listening.load("msd", folder), listening.OnnxNet)
    # Where the float weights are absent (an installed bundle ships none) the torch port says so;
    # the shipped models do not need them.
    monkeypatch.setattr(listening, "dev_weights_dir", lambda: tmp_path / "no weights here")
    with pytest.raises(listening.WeightsError, match="missing"):
        listening.load("msd", folder, backend="torch")  # a folder not loaded before: nothing cached
    assert isinstance(listening.load("msd", folder), listening.OnnxNet)


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
