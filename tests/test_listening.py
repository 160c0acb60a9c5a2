"""MusiCNN port: faithful to the original TensorFlow model, mel front-end equal to librosa's,
bounded patch spreading, and a clear error for damaged weights."""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from musicrec_engine import listening
from musicrec_engine.listening import frontend
from musicrec_engine.listening.vocab import MSD_TAGS, MTT_TAGS

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "musicnn_reference.npz"


def _clips_module():
    # The same deterministic clips tools/musicnn/convert.py fed the original model.
    spec = importlib.util.spec_from_file_location("musicnn_clips", ROOT / "tools" / "musicnn" / "clips.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def reference():
    with np.load(FIXTURE, allow_pickle=False) as f:
        return {k: f[k] for k in f.files}


@pytest.fixture(scope="module")
def clips():
    return _clips_module().reference_clips()


@pytest.mark.parametrize("model", ["msd", "mtt"])
def test_port_matches_original_tensorflow_model(model, reference, clips):
    # The float torch port; the shipped model (8-bit timbral convolutions) is held to it in
    # tests/test_tags_onnx.py.
    net = listening.load(model, backend="torch")
    worst_tags = worst_pen = 0.0
    for name, y in clips.items():
        starts = reference[f"starts/{name}"]
        x = np.stack([frontend.log_compress(frontend.mel_frames(y, int(s), frontend.PATCH_FRAMES)) for s in starts])
        tags, pen = net(x)
        worst_tags = max(worst_tags, float(np.abs(tags - reference[f"{model}/tags/{name}"]).max()))
        worst_pen = max(worst_pen, float(np.abs(pen - reference[f"{model}/penultimate/{name}"]).max()))
    assert worst_tags < 1e-3 and worst_pen < 1e-3, (worst_tags, worst_pen)
    # The network alone, on the very input the original saw (tells the network from the front-end).
    x = reference["input/drums"]
    tags, pen = net(x[None])
    assert np.abs(tags[0] - reference[f"{model}/tags/drums"][0]).max() < 1e-4
    assert np.abs(pen[0] - reference[f"{model}/penultimate/drums"][0]).max() < 1e-3
    # ...and the front-end gives that input.
    ours = frontend.log_compress(frontend.mel_frames(clips["drums"], 0, frontend.PATCH_FRAMES))
    assert np.abs(ours - x).max() < 1e-4
    # The clips really differ to the model (musicnn's float16 overflow made everything alike).
    assert np.ptp([reference[f"{model}/tags/{n}"].mean(0) for n in clips], axis=0).max() > 0.3


def test_mel_front_end_matches_librosa():
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(3)
    t = np.arange(int(2.3 * 16000)) / 16000
    y = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    y[:4000] *= np.linspace(0, 1, 4000, dtype=np.float32)
    ref = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=256, n_mels=96).T
    ours = frontend.mel_frames(y, 0, frontend.n_frames(len(y)))
    assert ours.shape == ref.shape == (1 + len(y) // 256, 96)
    assert np.abs(ours - ref).max() <= 1e-5 * ref.max()
    assert np.abs(frontend.log_mel(y) - np.log10(10000 * ref + 1)).max() < 1e-4
    # Any run of frames, including those reaching past either end, is the same slice.
    for start, count in ((0, 20), (40, 50), (130, 14)):
        part = frontend.mel_frames(y, start, count)
        assert np.abs(part - ref[start:start + count]).max() <= 1e-5 * ref.max()


def test_listen_gives_both_vocabularies_and_embeddings(clips):
    y = clips["drums"]
    # 22.05 kHz stereo in (the analysis' decode rate): channels averaged, resampled to 16 kHz.
    import soxr

    stereo = np.stack([soxr.resample(y, 16000, 22050)] * 2, axis=1)
    result = listening.listen(stereo, 22050)
    assert list(result.tags["msd"]) == list(MSD_TAGS) and list(result.tags["mtt"]) == list(MTT_TAGS)
    for model in ("msd", "mtt"):
        probs = np.array(list(result.tags[model].values()))
        assert probs.shape == (50,) and np.all((probs >= 0) & (probs <= 1))
        assert result.embeddings[model].shape == (200,) and result.embeddings[model].dtype == np.float32
        assert np.all(np.isfinite(result.embeddings[model]))
    assert result.top("mtt", 3)[0][1] >= result.top("mtt", 3)[1][1]
    assert "techno" in dict(result.top("mtt", 5)) or "beat" in dict(result.top("mtt", 5))
    assert result.schema == listening.schema()
    manifest = json.loads((listening.weights_dir() / "manifest.json").read_text())
    assert manifest["models"]["msd"]["sha256"][:12] in result.schema
    # One model alone, and a clip shorter than a patch (repeated to fill it, as in training).
    short = listening.listen(y[:8000], 16000, models=("mtt",), n_patches=2)
    assert set(short.tags) == {"mtt"} and short.starts == (0,)
    assert short.schema != result.schema
    with pytest.raises(ValueError):
        listening.listen(np.zeros(0, np.float32), 16000)
    with pytest.raises(ValueError, match="NaN"):
        listening.listen(np.full(16000, np.nan, np.float32), 16000)


def test_patch_starts_spread_and_bounded():
    n_frames = 1 + 240 * 16000 // 256  # 4 minutes
    for n in (1, 2, 3, 4, 6, 8, 12):
        starts = listening.patch_starts(n_frames, n)
        assert len(starts) == n
        assert all(0 <= s <= n_frames - 187 for s in starts)
        assert all(b - a >= 187 for a, b in zip(starts, starts[1:], strict=False))
    one = listening.patch_starts(n_frames, 1)[0]
    assert abs(one + 187 / 2 - n_frames / 2) <= 1  # the middle
    thirds = [s * 3 // n_frames for s in listening.patch_starts(n_frames, 3)]
    assert thirds == [0, 1, 2]  # beginning, middle and end
    assert listening.patch_starts(n_frames, 1000) == listening.patch_starts(n_frames, n_frames // 187)
    assert listening.patch_starts(100, 4) == [0] and listening.patch_starts(187, 4) == [0]
    assert listening.patch_starts(400, 4) == [6, 206]


def test_resampling_only_the_patches_matches_resampling_everything():
    import soxr

    rng = np.random.default_rng(5)
    y = (0.1 * rng.standard_normal(22050 * 40)).astype(np.float32)
    whole, starts_whole = frontend.patches(soxr.resample(y, 22050, 16000, quality="HQ"), 3)
    parts, starts = listening._patches(y, 22050, 3)
    assert starts == starts_whole
    assert np.abs(parts - whole).max() < 1e-4


def weights_with_one_damaged(tmp_path, name: str):
    """A copy of the shipped weights folder with one byte flipped in the middle of file `name`."""
    folder = tmp_path / "musicnn"
    shutil.copytree(listening.weights_dir(), folder)
    data = bytearray((folder / name).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / name).write_bytes(bytes(data))
    return folder


def test_damaged_or_missing_weights_give_one_clear_sentence(tmp_path):
    folder = weights_with_one_damaged(tmp_path, "msd_musicnn.onnx")
    with pytest.raises(listening.WeightsError, match="does not match its manifest") as e:
        listening.load("msd", folder)
    assert str(e.value).count(". ") == 0 and str(e.value).endswith(".")
    # The other model in that folder is still fine.
    assert listening.load("mtt", folder) is not None

    (folder / "msd_musicnn.onnx").unlink()
    with pytest.raises(listening.WeightsError, match="missing"):
        listening.listen(np.zeros(16000, np.float32), 16000, folder=folder)

    # A file that matches its manifest but is no model onnxruntime can run is refused too.
    (folder / "msd_musicnn.onnx").write_bytes(b"not an onnx model")
    manifest = json.loads((folder / "manifest.json").read_text())
    import hashlib

    manifest["models"]["msd"]["sha256"] = hashlib.sha256(b"not an onnx model").hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    other = tmp_path / "again"
    shutil.copytree(folder, other)  # a folder not seen before: its manifest is read afresh
    with pytest.raises(listening.WeightsError, match="unreadable"):
        listening.load("msd", other)

    (other / "manifest.json").unlink()
    with pytest.raises(listening.WeightsError, match="manifest"):
        listening.load("mtt", tmp_path / "nowhere")


def test_manifest_records_source_licence_and_vocabularies():
    manifest = json.loads((listening.weights_dir() / "manifest.json").read_text())
    assert manifest["version"] == "0.1.0" and manifest["licence"] == "ISC"
    assert "Permission to use, copy, modify" in manifest["licence_text"]
    assert tuple(manifest["models"]["msd"]["tags"]) == MSD_TAGS
    assert tuple(manifest["models"]["mtt"]["tags"]) == MTT_TAGS
    assert "tensorflow" not in sys.modules


def test_the_weights_ship_once_as_onnx_and_the_float_weights_stay_with_the_tools():
    """The bundle carries resources/ whole: only the ONNX models and the manifest are there. The
    float weights the torch port and the export start from are the ones the manifest names."""
    import hashlib

    shipped = sorted(p.name for p in listening.weights_dir().iterdir())
    assert shipped == ["manifest.json", "msd_musicnn.onnx", "mtt_musicnn.onnx"]
    manifest = json.loads((listening.weights_dir() / "manifest.json").read_text())
    for model in listening.MODELS:
        entry = manifest["models"][model]
        onnx_file = listening.weights_dir() / entry["file"]
        assert hashlib.sha256(onnx_file.read_bytes()).hexdigest() == entry["sha256"]
        weights = listening.dev_weights_dir() / entry["weights"]["file"]
        assert hashlib.sha256(weights.read_bytes()).hexdigest() == entry["weights"]["sha256"]


def test_listening_imports_neither_librosa_nor_tensorflow():
    """librosa drags in numba (a long compile on an installed app's first start); TensorFlow is only
    for the converter. A fresh process that listens must load neither."""
    import subprocess

    code = ("import sys, numpy as np\n"
            "from musicrec_engine import listening\n"
            "r = listening.listen(np.random.default_rng(0).standard_normal(30000).astype(np.float32), 22050)\n"
            "print(','.join(m for m in ('librosa', 'numba', 'tensorflow', 'keras') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == ""
