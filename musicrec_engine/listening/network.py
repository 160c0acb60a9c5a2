"""The 'musicnn' architecture of musicnn 0.1.0 (models.build_musicnn with the MSD/MTT settings:
num_filt_frontend 1.6, 64 mid-end filters, 200 back-end units), in torch, inference only.

The original is written with TF1 layers on NHWC tensors of shape (batch, time, frequency, channels).
Everything after the front-end only ever convolves over time, so here the data are (batch, channels,
time) and those layers are 1-d convolutions; the front-end keeps 2-d convolutions over the
(time, mel) plane. Each step below names the original one. Details that matter for equal numbers:

- batch normalisation is TF's: epsilon 1e-3 (tf.compat.v1.layers default), moving statistics
  (is_training=False), applied AFTER the ReLU of the convolution it follows;
- convolutions are cross-correlations in both frameworks; the timbral and mid-end convolutions
  see the time axis zero-padded by 3 frames on each side and are then 'valid'; the temporal ones
  are TF 'same' with an even kernel, i.e. (k-1)//2 zeros before and the rest after;
- max-pooling over the whole frequency axis follows the batch norm (a negative gamma would make
  the order matter);
- concatenation orders: front-end [timbral 38-wide, timbral 67-wide, temporal 128, 64, 32]
  (204+204+51+51+51 = 561 channels); mid-end [front-end, conv1, conv1+conv2, that+conv3]
  (561+3*64 = 753); back-end pooling is max and mean over time per channel, flattened as
  [c0 max, c0 mean, c1 max, c1 mean, ...] (tf.concat on a trailing axis, then flatten);
- the 'penultimate' output is the dense layer after ReLU and its batch norm (bn_dense); tag
  probabilities are the sigmoid of the last dense layer.

Weights come from .npz files written by tools/musicnn/convert.py, already in torch layouts under
the names of PARAM_SHAPES (the converter records which TF variable each came from).
"""

from __future__ import annotations

import numpy as np

# TF's batch_normalization default epsilon (tf.compat.v1.layers.batch_normalization).
BN_EPS = 1e-3
N_MELS = 96
TIMBRAL_FILTERS = 204  # int(1.6 * 128)
TEMPORAL_FILTERS = 51  # int(1.6 * 32)
TIMBRAL_WIDTHS = (38, 67)  # int(0.4 * 96), int(0.7 * 96) mel bands
TEMPORAL_LENGTHS = (128, 64, 32)
MID_FILTERS = 64
FRONT_CHANNELS = 2 * TIMBRAL_FILTERS + 3 * TEMPORAL_FILTERS  # 561
MID_CHANNELS = FRONT_CHANNELS + 3 * MID_FILTERS  # 753
PENULTIMATE = 200
N_TAGS = 50


def _bn(name: str, n: int) -> dict[str, tuple[int, ...]]:
    return {f"{name}.{k}": (n,) for k in ("gamma", "beta", "mean", "var")}


# Every array a weights file must hold, with its shape (torch layouts: conv weights are
# (out, in, kernel...), dense weights (out, in)).
PARAM_SHAPES: dict[str, tuple[int, ...]] = {
    **_bn("input_bn", 1),
    **{k: v for w in TIMBRAL_WIDTHS for k, v in {
        f"timbral{w}.weight": (TIMBRAL_FILTERS, 1, 7, w), f"timbral{w}.bias": (TIMBRAL_FILTERS,),
        **_bn(f"timbral{w}.bn", TIMBRAL_FILTERS)}.items()},
    **{k: v for t in TEMPORAL_LENGTHS for k, v in {
        f"temporal{t}.weight": (TEMPORAL_FILTERS, 1, t, 1), f"temporal{t}.bias": (TEMPORAL_FILTERS,),
        **_bn(f"temporal{t}.bn", TEMPORAL_FILTERS)}.items()},
    "mid1.weight": (MID_FILTERS, FRONT_CHANNELS, 7), "mid1.bias": (MID_FILTERS,), **_bn("mid1.bn", MID_FILTERS),
    "mid2.weight": (MID_FILTERS, MID_FILTERS, 7), "mid2.bias": (MID_FILTERS,), **_bn("mid2.bn", MID_FILTERS),
    "mid3.weight": (MID_FILTERS, MID_FILTERS, 7), "mid3.bias": (MID_FILTERS,), **_bn("mid3.bn", MID_FILTERS),
    **_bn("pool_bn", 2 * MID_CHANNELS),
    "dense.weight": (PENULTIMATE, 2 * MID_CHANNELS), "dense.bias": (PENULTIMATE,),
    **_bn("dense_bn", PENULTIMATE),
    "out.weight": (N_TAGS, PENULTIMATE), "out.bias": (N_TAGS,),
}


def check_arrays(arrays: dict[str, np.ndarray]) -> str | None:
    """None when `arrays` holds exactly PARAM_SHAPES as finite float32, else what is wrong."""
    missing = sorted(set(PARAM_SHAPES) - set(arrays))
    extra = sorted(set(arrays) - set(PARAM_SHAPES))
    if missing or extra:
        return f"missing {missing[:3]}, unexpected {extra[:3]}"
    for name, shape in PARAM_SHAPES.items():
        a = arrays[name]
        if a.shape != shape or a.dtype != np.float32:
            return f"{name} is {a.dtype}{list(a.shape)}, expected float32{list(shape)}"
        if not np.all(np.isfinite(a)):
            return f"{name} is not finite"
    return None


class MusiCNN:
    """One musicnn model (MSD or MTT) in eval mode. `forward` takes (batch, 187, 96) log-mel patches
    (musicnn's x: time-major) and returns (tag probabilities (batch, 50), penultimate (batch, 200))."""

    def __init__(self, arrays: dict[str, np.ndarray]):
        import torch

        problem = check_arrays(arrays)
        if problem:
            raise ValueError(problem)
        t = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in arrays.items()}
        self.w = t
        # Batch norms as per-channel scale and shift (moving statistics, TF's epsilon).
        self.bn = {}
        for name in {k.rsplit(".", 1)[0] for k in arrays if k.endswith(".gamma")}:
            scale = arrays[f"{name}.gamma"].astype(np.float64) / np.sqrt(arrays[f"{name}.var"].astype(np.float64) + BN_EPS)
            shift = arrays[f"{name}.beta"] - arrays[f"{name}.mean"] * scale
            self.bn[name] = (torch.from_numpy(scale.astype(np.float32)), torch.from_numpy(shift.astype(np.float32)))
        # Front-end filters with the sign of their batch-norm scale folded in (see _relu_norm_max).
        self.front = {}
        for block in [f"timbral{w}" for w in TIMBRAL_WIDTHS] + [f"temporal{t}" for t in TEMPORAL_LENGTHS]:
            sign = np.where(self.bn[f"{block}.bn"][0].numpy() < 0, -1, 1).astype(np.float32)
            self.front[block] = (torch.from_numpy(arrays[f"{block}.weight"] * sign[:, None, None, None]),
                                 torch.from_numpy(arrays[f"{block}.bias"] * sign),
                                 torch.from_numpy(sign).view(1, -1, 1))

    def _norm(self, x, name: str, dim: int):
        """Batch norm over channel axis `dim` of x."""
        scale, shift = self.bn[name]
        shape = [1] * x.dim()
        shape[dim] = -1
        return x * scale.view(shape) + shift.view(shape)

    def _relu_norm_max(self, x, block: str):
        """max over frequency of batchnorm(relu(conv(x))) for one front-end block, (batch, channel, time).

        Same numbers, a fraction of the work: ReLU and a per-channel affine map are monotone
        (also in float arithmetic), so the maximum can be taken first, on the convolution output,
        and the ReLU and batch norm applied to the (batch, channel, time) maxima only. Where a
        channel's batch-norm scale is negative the maximum of the result comes from the minimum
        of the convolution; that channel's filter and bias are stored negated (see __init__),
        so one max serves both and the sign is put back afterwards (negation is exact)."""
        import torch.nn.functional as F

        weight, bias, sign = self.front[block]
        y = F.conv2d(x, weight, bias).amax(dim=3) * sign
        scale, shift = self.bn[f"{block}.bn"]
        return F.relu(y) * scale.view(1, -1, 1) + shift.view(1, -1, 1)

    def graph(self, x):
        """The network on a float32 tensor (batch, 187, 96) -> (tag probabilities, penultimate) as
        tensors: plain torch operations, so tools/musicnn/export_onnx.py can trace it to ONNX."""
        import torch
        import torch.nn.functional as F

        w = self.w
        # frontend: expand_dims(x, 3) + batch norm of the single input channel. In NCHW that is
        # (batch, 1, time, mel).
        x = self._norm(x.unsqueeze(1), "input_bn", 1)
        feats = []
        # timbral blocks: pad time by 3 (constant zeros, after the input batch norm), 'valid' 7 x w
        # convolution, ReLU, batch norm, max over all remaining frequency positions.
        xp = F.pad(x, (0, 0, 3, 3))
        for width in TIMBRAL_WIDTHS:
            feats.append(self._relu_norm_max(xp, f"timbral{width}"))
        # temporal blocks: TF 'same' padding of a k x 1 kernel over time, ReLU, batch norm, max
        # over the 96 mel bands.
        for length in TEMPORAL_LENGTHS:
            before = (length - 1) // 2
            feats.append(self._relu_norm_max(F.pad(x, (0, 0, before, length - 1 - before)), f"temporal{length}"))
        front = torch.cat(feats, dim=1)  # (batch, 561, time)
        # midend: three 7-frame convolutions over all channels with zero time padding of 3; the
        # second and third add their input (residual connections).
        mid = [front]
        h = front
        for i in (1, 2, 3):
            y = F.relu(F.conv1d(F.pad(h, (3, 3)), w[f"mid{i}.weight"], w[f"mid{i}.bias"]))
            y = self._norm(y, f"mid{i}.bn", 1)
            h = y if i == 1 else y + h
            mid.append(h)
        feat = torch.cat(mid, dim=1)  # (batch, 753, time)
        # backend: max and mean over time, interleaved per channel as TF's concat + flatten does.
        pooled = torch.stack([feat.amax(dim=2), feat.mean(dim=2)], dim=2).flatten(1)
        pooled = self._norm(pooled, "pool_bn", 1)
        dense = F.relu(F.linear(pooled, w["dense.weight"], w["dense.bias"]))
        penultimate = self._norm(dense, "dense_bn", 1)
        logits = F.linear(penultimate, w["out.weight"], w["out.bias"])
        return torch.sigmoid(logits), penultimate

    def forward(self, x):
        """numpy (batch, 187, 96) -> numpy (tag probabilities (batch, 50), penultimate (batch, 200))."""
        import torch

        with torch.inference_mode():
            tags, penultimate = self.graph(torch.as_tensor(x, dtype=torch.float32))
            return tags.numpy(), penultimate.numpy()

    __call__ = forward
