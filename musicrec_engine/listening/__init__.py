"""Listening: MusiCNN (Pons & Serra, MTG-UPF; musicnn 0.1.0, ISC licence) tags a track and gives
an embedding of how it sounds, with two models: "msd" (50 Last.fm tags of the Million Song
Dataset) and "mtt" (50 MagnaTagATune tags).

    from musicrec_engine import listening
    result = listening.listen(signal, sr)            # mono float signal at any sample rate
    result.tags["mtt"]["piano"]                      # probability in 0..1, mean over patches
    result.embeddings["msd"]                         # (200,) float32 'penultimate' layer, mean
    result.schema                                    # changes when weights or settings change

The models see 3-second patches of a 16 kHz log-mel spectrogram; `listen` spreads at most
`n_patches` of them over the whole track (patch_starts) and averages, so the cost per track is
bounded whatever its length. Only the audio under those patches is resampled and transformed.

The models ship in resources/models/musicnn/ as ONNX files, run by onnxruntime, with
manifest.json (source, licence, vocabularies, each file's sha256, checked before loading; nothing
is ever downloaded). tools/musicnn/convert.py made float weights from musicnn's TensorFlow
checkpoints (kept with the tools, for the torch port that development and tests compare against);
tools/musicnn/export_onnx.py made the ONNX models from them, with the two timbral convolutions,
most of the arithmetic, in 8-bit integers on inputs both models share (frontend.quantised_inputs).
Each model is loaded once per process. Neither TensorFlow nor torch is needed.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np

from musicrec_engine.errors import MusicRecError
from musicrec_engine.listening import frontend
from musicrec_engine.listening.frontend import PATCH_FRAMES, SR, patch_starts
from musicrec_engine.listening.vocab import MSD_TAGS, MTT_TAGS, TAGS

__all__ = ["MODELS", "MSD_TAGS", "MTT_TAGS", "TAGS", "DEFAULT_PATCHES", "EMBEDDING_SIZE", "Listening",
           "WeightsError", "listen", "load", "schema", "patch_starts", "PATCH_FRAMES", "SR"]

MODELS: tuple[str, ...] = ("msd", "mtt")
# Patches per track. Each costs about 20 ms of one core per model with the 8-bit timbral
# convolutions (35 ms in float32); 4 patches of both models cost about 0.17 CPU-s per track
# (benchmarks/bench_listening_cost.py) and sample its beginning, both middle quarters and its end.
DEFAULT_PATCHES = 4
EMBEDDING_SIZE = 200
# Bumped when the front-end or the way patches are chosen or averaged changes: with the weights'
# hashes and the patch count it makes up the schema, so stored tags and embeddings computed
# differently are never mixed. 2: the timbral convolutions run in 8-bit integers
# (frontend.quantised_inputs), which moves the outputs a little.
ALGORITHM = "musicnn-port/2"


def weights_dir() -> Path:
    from musicrec_engine.paths import SHIPPED_MODELS

    return SHIPPED_MODELS / "musicnn"


class WeightsError(MusicRecError):
    """The shipped MusiCNN weights are missing, altered or unreadable."""


@dataclass(frozen=True)
class Listening:
    tags: dict[str, dict[str, float]]  # model -> tag -> probability (mean over patches)
    embeddings: dict[str, np.ndarray]  # model -> (200,) float32 penultimate activations (mean)
    starts: tuple[int, ...]  # first frame (16 kHz, hop 256) of each patch used
    schema: str

    def top(self, model: str, n: int = 5) -> list[tuple[str, float]]:
        """The n most probable tags of one model, most probable first."""
        return sorted(self.tags[model].items(), key=lambda kv: -kv[1])[:n]


_lock = threading.Lock()
_manifests: dict[Path, dict] = {}
_models: dict[tuple[Path, str], object] = {}


def _manifest(folder: Path) -> dict:
    folder = folder.resolve()
    if folder not in _manifests:
        path = folder / "manifest.json"
        try:
            _manifests[folder] = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise WeightsError(f"The listening models' manifest {path} is missing or unreadable ({e}); "
                               "reinstall MusicRec.") from None
    return _manifests[folder]


def _entry(model: str, folder: Path) -> dict:
    if model not in TAGS:
        raise ValueError(f"unknown listening model {model!r}; expected one of {', '.join(MODELS)}")
    try:
        return _manifest(folder)["models"][model]
    except (KeyError, TypeError):
        raise WeightsError(f"The listening models' manifest in {folder} has no entry for {model!r}; "
                           "reinstall MusicRec.") from None


def dev_weights_dir() -> Path:
    """The converted float weights (.npz, written by tools/musicnn/convert.py) that the torch port
    runs on: for development and tests only. The product ships only the ONNX models made from
    them (the weights would otherwise ship twice), so a bundle has no torch port."""
    return Path(__file__).resolve().parents[2] / "tools" / "musicnn" / "weights"


def _read_checked(path: Path, sha256: str | None, model: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError:
        raise WeightsError(f"The {model.upper()} listening model {path} is missing; reinstall MusicRec.") from None
    if hashlib.sha256(data).hexdigest() != sha256:
        raise WeightsError(f"The {model.upper()} listening model {path} does not match its manifest "
                           "(damaged or replaced); reinstall MusicRec.")
    return data


def load(model: str, folder: str | Path | None = None, backend: str | None = None):
    """The network for `model` ("msd" or "mtt"), loaded once per process and folder after its file's
    sha256 has been checked against the manifest. Called with a (batch, 187, 96) float32 array it
    returns numpy (tag probabilities, penultimate).

    It is the ONNX model the manifest names (tools/musicnn/export_onnx.py made it from the float
    weights and checked it against the torch port), run by onnxruntime: importing torch alone
    costs about 2 CPU-s, onnxruntime about 0.1 s, so the first file after a start is analysed
    seconds sooner. backend="torch" gives the float torch port instead, on the weights in
    dev_weights_dir() (checked against the manifest's "weights" entry), for development and tests;
    torch is set to one thread on first load: the analysis runs one process per core, and these
    small convolutions gain little from more."""
    folder = Path(folder) if folder is not None else weights_dir()
    key = (folder.resolve(), model, backend)
    with _lock:
        if key in _models:
            return _models[key]
        entry = _entry(model, folder)
        if backend == "torch":
            net = _torch_port(model, entry)
        else:
            path = folder / entry.get("file", "")
            data = _read_checked(path, entry.get("sha256"), model)
            try:
                net = OnnxNet(data)
            except ImportError:  # onnxruntime itself is missing: that message, not "damaged"
                raise
            except Exception as e:  # onnxruntime refuses the graph: a damaged file
                raise WeightsError(f"The {model.upper()} listening model {path} is unreadable ({e}); "
                                   "reinstall MusicRec.") from None
        _models[key] = net
        return net


def _torch_port(model: str, entry: dict):
    import io

    import torch

    from musicrec_engine.listening.network import MusiCNN, check_arrays

    weights = entry.get("weights") or {}
    path = dev_weights_dir() / weights.get("file", f"{model}_musicnn.npz")
    data = _read_checked(path, weights.get("sha256"), model)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        problem = check_arrays(arrays)
        if problem:
            raise ValueError(problem)
    except (ValueError, OSError, KeyError) as e:
        raise WeightsError(f"The {model.upper()} listening model {path} is unreadable ({e}).") from None
    if not any(isinstance(m, MusiCNN) for m in _models.values()):
        torch.set_num_threads(1)
    return MusiCNN(arrays)


class OnnxNet:
    """One model's ONNX export on onnxruntime, one thread, called like MusiCNN. Besides the
    patches it takes their quantised columns (frontend.quantised_inputs); `run` takes them ready
    made, so two models share one preparation."""

    def __init__(self, data: bytes):
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        self.session = ort.InferenceSession(data, opts, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]

    def run(self, feed: dict[str, np.ndarray]):
        tags, penultimate = self.session.run(None, {k: feed[k] for k in self.inputs})
        return tags, penultimate

    def __call__(self, x):
        return self.run(model_inputs(x))


def model_inputs(x) -> dict[str, np.ndarray]:
    """Everything the ONNX models take for (n, 187, 96) log-mel patches x."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    return {"patches": x, **frontend.quantised_inputs(x)}


def schema(models: tuple[str, ...] = MODELS, n_patches: int = DEFAULT_PATCHES,
           folder: str | Path | None = None) -> str:
    """Names what `listen` computes with these settings: algorithm, models with the first 12 hex
    digits of each weights file's sha256, and patch count, e.g.
    'musicnn-port/2;msd=1a2b3c4d5e6f;mtt=...;patches=4' (the shipped ONNX files' hashes). Reads only
    the manifest."""
    folder = Path(folder) if folder is not None else weights_dir()
    parts = [ALGORITHM, *(f"{m}={_entry(m, folder)['sha256'][:12]}" for m in models), f"patches={n_patches}"]
    return ";".join(parts)


def _mono(signal) -> np.ndarray:
    y = np.asarray(signal, dtype=np.float32)
    if y.ndim == 2:  # (samples, channels) as soundfile gives, or (channels, samples) as librosa does
        y = y.mean(axis=1 if y.shape[0] >= y.shape[1] else 0)
    if y.ndim != 1 or y.size == 0:
        raise ValueError("expected a non-empty mono or multichannel signal")
    if not np.isfinite(y).all():  # one NaN would make every tag NaN, silently
        raise ValueError("the signal contains NaN or infinite samples")
    return y


def _resampled_length(n: int, sr: int) -> int:
    return -(-n * SR // sr)  # soxr's output length: ceil(n * 16000 / sr)


def _segment_16k(y: np.ndarray, sr: int, first: int, count: int) -> np.ndarray:
    """Samples first..first+count-1 of y resampled to 16 kHz, zeros outside the resampled signal,
    computed by resampling only a stretch around them. The stretch starts on an input sample that
    falls exactly on the 16 kHz grid and reaches 0.25 s beyond the samples wanted on either side,
    far more than soxr's filter needs, so the values equal those of resampling the whole signal
    to within float rounding (tests/test_listening.py checks)."""
    import soxr

    out = np.zeros(count, np.float32)
    lo, hi = max(first, 0), min(first + count, _resampled_length(len(y), sr))
    if hi <= lo:
        return out
    step_in, step_out = sr // gcd(sr, SR), SR // gcd(sr, SR)  # whole numbers of samples on both grids
    margin = SR // 4
    start_out = max(0, lo - margin) // step_out * step_out
    start_in = start_out // step_out * step_in
    stop_in = min(len(y), -(-(hi + margin) * sr // SR))
    z = soxr.resample(y[start_in:stop_in], sr, SR, quality="HQ")
    got = z[lo - start_out:hi - start_out]
    out[lo - first:lo - first + len(got)] = got
    return out


def _patches(y: np.ndarray, sr: int, n_patches: int) -> tuple[np.ndarray, list[int]]:
    """Log-mel patches of a signal at any rate, and their first frames (frontend.patches)."""
    if sr == SR:
        return frontend.patches(y, n_patches)
    total = frontend.n_frames(_resampled_length(len(y), sr))
    if total < 2 * PATCH_FRAMES or n_patches >= total // PATCH_FRAMES:
        # Short tracks, or patches covering most of it: resampling it all costs no more.
        import soxr

        return frontend.patches(soxr.resample(y, sr, SR, quality="HQ"), n_patches)
    starts = patch_starts(total, n_patches)
    out = np.empty((len(starts), PATCH_FRAMES, frontend.N_MELS), np.float32)
    for i, s in enumerate(starts):
        seg = _segment_16k(y, sr, *frontend.frame_span(s, PATCH_FRAMES))
        out[i] = frontend.log_compress(frontend.segment_frames(seg))
    return out, starts


def listen(signal, sr: int, *, n_patches: int = DEFAULT_PATCHES, models: tuple[str, ...] = MODELS,
           folder: str | Path | None = None) -> Listening:
    """Tag probabilities and embeddings of a whole signal (mono, or channels averaged) at sample
    rate `sr`, from at most `n_patches` 3-second patches spread over it. Raises WeightsError when
    the shipped weights are missing or altered, ValueError for an empty or non-finite signal."""
    y = _mono(signal)
    if n_patches < 1:
        raise ValueError("n_patches must be at least 1")
    nets = {m: load(m, folder) for m in models}
    x, starts = _patches(y, int(sr), n_patches)
    tags, embeddings = {}, {}
    for m, (probs, emb) in patch_outputs(x, nets).items():
        tags[m] = {t: float(p) for t, p in zip(TAGS[m], probs.mean(axis=0), strict=True)}
        embeddings[m] = emb.mean(axis=0).astype(np.float32)
    return Listening(tags, embeddings, tuple(starts), schema(tuple(models), n_patches, folder))


def patch_outputs(x: np.ndarray, nets: dict) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """model -> (tag probabilities (n, 50), penultimate (n, 200)) of log-mel patches x, each patch
    prepared once for all models; one patch per run: with one thread this is faster than a batch
    (cache-sized tensors)."""
    feeds = [model_inputs(x[i:i + 1]) for i in range(len(x))]
    out = {}
    for m, net in nets.items():
        outs = [net.run(f) if isinstance(net, OnnxNet) else net(f["patches"]) for f in feeds]
        out[m] = (np.concatenate([p for p, _ in outs]), np.concatenate([e for _, e in outs]))
    return out
