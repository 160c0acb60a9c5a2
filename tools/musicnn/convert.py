"""Convert musicnn 0.1.0's TensorFlow checkpoints (MSD_musicnn, MTT_musicnn) into the .npz weights
of the torch port, and record the original model's outputs as a test fixture. Dev-only; then run
tools/musicnn/export_onnx.py, which makes the ONNX models the product ships from these weights.

Run from the repository root with the dev environment (it needs librosa, a dev dependency, and
network access to PyPI):

    .venv/bin/python tools/musicnn/convert.py            # [--work /tmp/musicnn-convert]

What it does:
1. `pip download musicnn==0.1.0 --no-deps` (the wheel carries the checkpoints and the ISC licence);
2. builds a throwaway venv in the work folder with tensorflow-cpu 2.21 + tf-keras and installs
   the wheel with --no-deps (it pins an ancient numpy); TF_USE_LEGACY_KERAS=1 when running it;
3. computes float32 log-mel patches of the clips in tools/musicnn/clips.py with librosa, exactly
   as musicnn's extractor.batch_data does except for its float16 cast (which overflows on loud
   audio and then makes every prediction identical);
4. runs this file again inside the TF venv (`--tf-worker`): it builds musicnn's own graph
   (musicnn.models.define_model), restores each checkpoint, dumps the variables and runs the
   original model on those patches one at a time, as musicnn's extractor does;
5. writes tools/musicnn/weights/{msd,mtt}_musicnn.npz (torch layouts, byte-for-byte
   reproducible; not shipped), resources/models/musicnn/manifest.json (source, licence, tags, the
   sha256 of each weights file; export_onnx.py adds the shipped ONNX files) and
   tests/fixtures/musicnn_reference.npz (the original's tag probabilities and penultimate values
   per patch), then checks the torch port against them and prints the largest differences.

Nothing here is bundled; the product never imports TensorFlow.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
OUT_DIR = ROOT / "resources" / "models" / "musicnn"
WEIGHTS_DIR = ROOT / "tools" / "musicnn" / "weights"
FIXTURE = ROOT / "tests" / "fixtures" / "musicnn_reference.npz"
VERSION = "0.1.0"
TF_REQUIREMENTS = ["tensorflow-cpu==2.21.*", "tf-keras"]
CHECKPOINTS = {"msd": "MSD_musicnn", "mtt": "MTT_musicnn"}
PATCH_FRAMES = 187
# The one clip whose first input patch is kept in the fixture, so a failing faithfulness test can
# tell the network from the mel front-end.
KEEP_INPUT = "drums"


# ---------------------------------------------------------------- inside the TensorFlow venv

def tf_worker(inputs_path: str, out_path: str) -> None:
    """Runs under the throwaway venv: musicnn's graph, its checkpoints, its outputs."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import musicnn
    import tensorflow as tf
    from musicnn import configuration as config
    from musicnn import models

    tf.compat.v1.disable_eager_execution()
    inputs = dict(np.load(inputs_path, allow_pickle=False))
    pkg = Path(musicnn.__file__).parent
    out: dict[str, np.ndarray] = {}
    for key, name in CHECKPOINTS.items():
        labels = config.MSD_LABELS if key == "msd" else config.MTT_LABELS
        out[f"{key}/labels"] = np.array(labels)
        # extractor.extractor, minus librosa: same placeholders, scope and restore.
        tf.compat.v1.reset_default_graph()
        with tf.name_scope("model"):
            x = tf.compat.v1.placeholder(tf.float32, [None, PATCH_FRAMES, config.N_MELS])
            is_training = tf.compat.v1.placeholder(tf.bool)
            y, *_features, penultimate = models.define_model(x, is_training, name, len(labels))
            probs = tf.nn.sigmoid(y)
        sess = tf.compat.v1.Session()
        sess.run(tf.compat.v1.global_variables_initializer())
        tf.compat.v1.train.Saver().restore(sess, str(pkg / name) + "/")
        for var in tf.compat.v1.global_variables():
            out[f"{key}/var/{var.op.name}"] = sess.run(var)
        for clip in sorted(k for k in inputs if k.startswith("clip/")):
            batch = inputs[clip]
            p, q = [], []
            for i in range(len(batch)):  # musicnn's BATCH_SIZE is 1
                a, b = sess.run([probs, penultimate], feed_dict={x: batch[i:i + 1], is_training: False})
                p.append(a[0])
                q.append(b[0])
            out[f"{key}/tags/{clip[5:]}"] = np.array(p, np.float32)
            out[f"{key}/penultimate/{clip[5:]}"] = np.array(q, np.float32)
        sess.close()
    dist = next(pkg.parent.glob("musicnn-*.dist-info"))
    out["licence"] = np.array((dist / "LICENSE.md").read_text())
    out["tf_version"] = np.array(tf.__version__)
    np.savez(out_path, **out)


# ---------------------------------------------------------------- in the dev environment

def sh(*cmd, env=None) -> None:
    print("+", " ".join(map(str, cmd)), file=sys.stderr)
    subprocess.run([str(c) for c in cmd], check=True, env=env)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def prepare(work: Path) -> tuple[Path, Path]:
    """The wheel and a TF venv with it installed (both reused when already there)."""
    work.mkdir(parents=True, exist_ok=True)
    wheels = list(work.glob(f"musicnn-{VERSION}-*.whl"))
    if not wheels:
        sh(sys.executable, "-m", "pip", "download", f"musicnn=={VERSION}", "--no-deps", "-d", work)
        wheels = list(work.glob(f"musicnn-{VERSION}-*.whl"))
    wheel = wheels[0]
    venv = work / "tfvenv"
    py = venv / "bin" / "python"
    if not (venv / ".ready").exists():
        sh(sys.executable, "-m", "venv", "--clear", venv)
        sh(py, "-m", "pip", "install", "-q", *TF_REQUIREMENTS)
        sh(py, "-m", "pip", "install", "-q", "--no-deps", wheel)
        (venv / ".ready").write_text("ok\n")
    return wheel, py


def librosa_patches(y: np.ndarray, starts: list[int]) -> np.ndarray:
    """musicnn's extractor.batch_data on a 16 kHz signal, in float32."""
    import librosa

    rep = librosa.feature.melspectrogram(y=y, sr=16000, hop_length=256, n_fft=512, n_mels=96).T
    rep = np.log10(10000 * rep.astype(np.float32) + 1)
    return np.stack([rep[s:s + PATCH_FRAMES] for s in starts]).astype(np.float32)


# TF variable (as created by models.build_musicnn, in graph order) -> our name, and the layout change.
def tf_mapping() -> dict[str, tuple[str, str]]:
    m: dict[str, tuple[str, str]] = {}

    def bn(tf_name: str, ours: str) -> None:
        for a, b in (("gamma", "gamma"), ("beta", "beta"), ("moving_mean", "mean"), ("moving_variance", "var")):
            m[f"{tf_name}/{a}"] = (f"{ours}.{b}", "same")

    bn("batch_normalization", "input_bn")
    blocks = ["timbral38", "timbral67", "temporal128", "temporal64", "temporal32"]
    for i, block in enumerate(blocks):
        conv = "conv2d" if i == 0 else f"conv2d_{i}"
        m[f"{conv}/kernel"] = (f"{block}.weight", "conv2d")  # [kh, kw, in, out] -> [out, in, kh, kw]
        m[f"{conv}/bias"] = (f"{block}.bias", "same")
        bn(f"batch_normalization_{i + 1}", f"{block}.bn")
    for j in (1, 2, 3):
        m[f"conv2d_{4 + j}/kernel"] = (f"mid{j}.weight", "conv1d")  # [k, in, 1, out] -> [out, in, k]
        m[f"conv2d_{4 + j}/bias"] = (f"mid{j}.bias", "same")
        bn(f"batch_normalization_{5 + j}", f"mid{j}.bn")
    bn("batch_normalization_9", "pool_bn")
    m["dense/kernel"] = ("dense.weight", "dense")  # [in, out] -> [out, in]
    m["dense/bias"] = ("dense.bias", "same")
    bn("batch_normalization_10", "dense_bn")
    m["dense_1/kernel"] = ("out.weight", "dense")
    m["dense_1/bias"] = ("out.bias", "same")
    return m


def to_ours(tf_vars: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    layouts = {"same": lambda a: a, "conv2d": lambda a: a.transpose(3, 2, 0, 1),
               "conv1d": lambda a: a[:, :, 0, :].transpose(2, 1, 0), "dense": lambda a: a.T}
    mapping = tf_mapping()
    # Everything else in the checkpoint is optimiser state (Adam slots, beta powers).
    left = sorted(k for k in tf_vars if k not in mapping and "Adam" not in k and "_power" not in k)
    if left:
        raise SystemExit(f"unmapped TF variables: {left}")
    return {ours: np.ascontiguousarray(layouts[how](tf_vars[name]), dtype=np.float32)
            for name, (ours, how) in mapping.items()}


def write_npz(path: Path, arrays: dict[str, np.ndarray], compression: int = zipfile.ZIP_STORED) -> None:
    """np.savez's format, but with fixed zip timestamps and order so the same weights always give
    the same bytes (and the same sha256 in the manifest)."""
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression  # a ZipInfo's own setting wins over the archive's
            zf.writestr(info, buf.getvalue())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default="/tmp/musicnn-convert", help="download and venv folder")
    ap.add_argument("--tf-worker", nargs=2, metavar=("INPUTS", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.tf_worker:
        tf_worker(*args.tf_worker)
        return 0

    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import clips as clipmod

    from musicrec_engine.listening import network, vocab

    work = Path(args.work)
    wheel, tfpy = prepare(work)

    clips = clipmod.reference_clips()
    starts = {name: clipmod.musicnn_starts(1 + len(y) // 256) for name, y in clips.items()}
    inputs = {f"clip/{name}": librosa_patches(y, starts[name]) for name, y in clips.items()}
    np.savez(work / "inputs.npz", **inputs)
    env = dict(os.environ, TF_USE_LEGACY_KERAS="1", TF_CPP_MIN_LOG_LEVEL="2")
    sh(tfpy, Path(__file__).resolve(), "--tf-worker", work / "inputs.npz", work / "tf_out.npz", env=env)
    ref = dict(np.load(work / "tf_out.npz", allow_pickle=False))

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    manifest = {
        "name": "musicnn",
        "description": "MusiCNN music audio tagging models (Pons & Serra, Music Technology Group, "
                       "Universitat Pompeu Fabra), converted from TensorFlow checkpoints to numpy arrays",
        "source": f"PyPI wheel {wheel.name}",
        "source_sha256": sha256(wheel),
        "upstream": "https://github.com/jordipons/musicnn",
        "version": VERSION,
        "licence": "ISC",
        "licence_text": str(ref["licence"]),
        "converted_with": {"tensorflow": str(ref["tf_version"]), "tool": "tools/musicnn/convert.py"},
        "frontend": {"sr": 16000, "n_fft": 512, "hop": 256, "n_mels": 96, "mel": "slaney, norm=slaney",
                     "power": 2.0, "compression": "log10(10000 * mel + 1)", "dtype": "float32",
                     "patch_frames": PATCH_FRAMES},
        "models": {},
    }
    fixture: dict[str, np.ndarray] = {}
    for key, ckpt in CHECKPOINTS.items():
        labels = tuple(str(s) for s in ref[f"{key}/labels"])
        if labels != vocab.TAGS[key]:
            raise SystemExit(f"{ckpt}: the wheel's tag list differs from musicrec_engine.listening.vocab")
        tf_vars = {k.split("/var/", 1)[1]: v for k, v in ref.items() if k.startswith(f"{key}/var/")}
        arrays = to_ours(tf_vars)
        problem = network.check_arrays(arrays)
        if problem:
            raise SystemExit(f"{ckpt}: {problem}")
        path = WEIGHTS_DIR / f"{key}_musicnn.npz"
        write_npz(path, arrays)
        manifest["models"][key] = {
            "checkpoint": ckpt, "tags": list(labels),
            "weights": {"file": path.name, "sha256": sha256(path), "folder": "tools/musicnn/weights",
                        "note": "the converted float weights: development only, not shipped"},
            "from_tensorflow": {ours: name for name, (ours, _how) in tf_mapping().items()},
        }
        for name in clips:
            fixture[f"{key}/tags/{name}"] = ref[f"{key}/tags/{name}"]
            fixture[f"{key}/penultimate/{name}"] = ref[f"{key}/penultimate/{name}"]
    (OUT_DIR / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    for name in clips:
        fixture[f"starts/{name}"] = np.array(starts[name], np.int64)
    fixture[f"input/{KEEP_INPUT}"] = inputs[f"clip/{KEEP_INPUT}"][0]
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    write_npz(FIXTURE, fixture, zipfile.ZIP_DEFLATED)
    print(f"wrote {WEIGHTS_DIR}/, {OUT_DIR}/manifest.json and {FIXTURE} ({FIXTURE.stat().st_size // 1024} KB); "
          "now run tools/musicnn/export_onnx.py", file=sys.stderr)

    # The port against the original, on the original's own inputs and on the port's front-end.
    from musicrec_engine.listening import frontend
    from musicrec_engine.listening.network import MusiCNN

    for key in CHECKPOINTS:
        model = MusiCNN(dict(np.load(WEIGHTS_DIR / f"{key}_musicnn.npz", allow_pickle=False)))
        worst = {"tags": 0.0, "penultimate": 0.0, "tags (own mel)": 0.0, "penultimate (own mel)": 0.0}
        for name, y in clips.items():
            p, q = model(inputs[f"clip/{name}"])
            ours = np.stack([frontend.log_compress(frontend.mel_frames(y, s, PATCH_FRAMES)) for s in starts[name]])
            p2, q2 = model(ours)
            for label, got, want in (("tags", p, "tags"), ("penultimate", q, "penultimate"),
                                     ("tags (own mel)", p2, "tags"), ("penultimate (own mel)", q2, "penultimate")):
                worst[label] = max(worst[label], float(np.abs(got - ref[f"{key}/{want}/{name}"]).max()))
        print(key, "max |port - original|:", ", ".join(f"{k} {v:.2e}" for k, v in worst.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
