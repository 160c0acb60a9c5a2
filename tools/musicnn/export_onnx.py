"""Export the MusiCNN port (both models) to ONNX, so the analysis runs it with onnxruntime and
never imports torch. Dev-only (torch is needed here, not at run time).

Why ONNX: importing torch costs about 2 CPU-seconds, which alone broke the "first analysed file
within 3 s of a cold start" budget; onnxruntime (already a product dependency for the attribute
models) imports in about 0.1 s.

Why 8-bit integers in the timbral convolutions: those two convolutions (7 frames x 38 or 67 mel
bands, 204 filters) are four fifths of the network's multiply-adds, and float32 already ran them
near the CPU's peak; an integer matrix product does four times the multiply-adds per instruction.
Only they are quantised: the temporal, mid-end and dense layers stay float32, because quantising
the mid-end convolutions too moved the MSD embedding to a cosine of 0.97 with the float model,
while the timbral ones alone keep it above 0.999 (docs/BENCHMARKS.md, "Listening: cost").

    .venv/bin/python tools/musicnn/export_onnx.py

For each model it traces the port with the timbral blocks' max-pooled convolutions as inputs,
then puts in front of them what computes those from the quantised columns that
`frontend.quantised_inputs` prepares: an integer matrix product (MatMulInteger, uint8 x int8)
with the filters scaled per filter to int8 (the input batch norm's scale folded in), the maximum
over frequency taken on the integers (a positive scale keeps the order), then the scales, the
patch offset and the input batch norm's shift over the unpadded frames (constant over frequency, so
it can be added after the maximum). It runs the result against the float torch port on the
original model's recorded input, on generated music clips and on random patches, and refuses to
write unless tag probabilities agree within TAG_TOLERANCE and the mean embeddings keep a cosine
of at least COSINE_TOLERANCE. Then it writes {msd,mtt}_musicnn.onnx into resources/models/musicnn/
and records in manifest.json each file's sha256 (which the product checks, and which names the
stored results' schema) and the differences measured here. The float weights it starts from
(tools/musicnn/weights/, checked against the manifest's "weights" entries) are not shipped.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TAG_TOLERANCE = 0.05  # largest difference of one tag probability of one patch
COSINE_TOLERANCE = 0.998  # smallest cosine of a clip's mean embedding with the float port's
OPSET = 17
FORMAT = "musicnn-timbral-int8/1"


def _split_port(net):
    """The port's graph with the timbral blocks' convolution maxima (batch, 204, time) as inputs."""
    import torch
    import torch.nn.functional as F

    class Split(torch.nn.Module):
        def forward(self, x, pre38, pre67):
            given = {"timbral38": pre38, "timbral67": pre67}
            plain = net._relu_norm_max

            def relu_norm_max(inp, block):
                if block not in given:
                    return plain(inp, block)
                _, _, sign = net.front[block]
                scale, shift = net.bn[f"{block}.bn"]
                return F.relu(given[block] * sign) * scale.view(1, -1, 1) + shift.view(1, -1, 1)

            net._relu_norm_max = relu_norm_max
            try:
                return net.graph(x)
            finally:
                del net._relu_norm_max

    return Split()


def timbral_constants(net, block: str) -> dict[str, np.ndarray]:
    """The integer filters and the float terms that turn their products into the port's
    max over frequency of conv2d(batch-normed padded input, filter, bias), per filter and frame.

    With the input batch norm a*x + b, zero time padding, x = offset + scale * (q - 64) and q - 64
    zero in the padding: conv = scale * conv(q - 64, a*w) + (a*offset + b) * edge + bias, where
    edge[c, t] sums the filter rows over the frames that are not padding (it does not depend on
    frequency; the graph computes it from `valid` and `rows` when it is loaded)."""
    from musicrec_engine.listening import frontend

    w, bias, _ = (t.numpy().astype(np.float64) for t in net.front[block])
    a = float(net.bn["input_bn"][0][0])
    c, _, kt, kf = w.shape
    k = (a * w[:, 0]).reshape(c, kt * kf)  # row order (dt, df), as quantised_inputs unrolls
    w_scale = np.abs(k).max(axis=1) / 127
    wq = np.clip(np.rint(k / w_scale[:, None]), -127, 127).astype(np.int8)
    frames, pad = 187, frontend.TIMBRAL_PAD
    valid = np.zeros((1, 1, frames + 2 * pad), np.float32)
    valid[..., pad:pad + frames] = 1
    return {"wq": np.ascontiguousarray(wq.T), "w_scale": w_scale.astype(np.float32), "valid": valid,
            "rows": w[:, :, :, :].sum(axis=3).astype(np.float32),  # (c, 1, kt)
            "bias": bias.astype(np.float32).reshape(c, 1)}


def build(net) -> bytes:
    """The quantised ONNX graph of one model (see the module docstring)."""
    import onnx
    import torch
    from onnx import TensorProto, helper, numpy_helper

    from musicrec_engine.listening import frontend
    from musicrec_engine.listening.network import TIMBRAL_FILTERS, TIMBRAL_WIDTHS

    buf = io.BytesIO()
    pre = torch.zeros(1, TIMBRAL_FILTERS, 187)
    torch.onnx.export(_split_port(net), (torch.zeros(1, 187, 96), pre, pre), buf,
                      input_names=["patches", "pre38", "pre67"], output_names=["tags", "penultimate"],
                      dynamic_axes={k: {0: "n"} for k in ("patches", "pre38", "pre67", "tags", "penultimate")},
                      opset_version=OPSET, dynamo=False)
    model = onnx.load_from_string(buf.getvalue())
    g = model.graph
    kept = [i for i in g.input if i.name == "patches"]
    del g.input[:]
    g.input.extend(kept)
    for name in ("scale", "offset"):
        g.input.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, ["n", 1, 1]))
    g.initializer.append(numpy_helper.from_array(np.array(frontend.QUANT_ZERO, np.uint8), "zero"))
    g.initializer.append(numpy_helper.from_array(net.bn["input_bn"][0].numpy().reshape(()), "input_scale"))
    g.initializer.append(numpy_helper.from_array(net.bn["input_bn"][1].numpy().reshape(()), "input_shift"))
    nodes = []
    for width in TIMBRAL_WIDTHS:
        consts = timbral_constants(net, f"timbral{width}")
        freqs = 96 - width + 1
        g.input.append(helper.make_tensor_value_info(f"cols{width}", TensorProto.UINT8,
                                                     ["n", 187 * freqs, frontend.TIMBRAL_TIME * width]))
        g.initializer.extend([numpy_helper.from_array(v, f"{k}{width}") for k, v in consts.items()])
        g.initializer.append(numpy_helper.from_array(np.array([0, 187, freqs, TIMBRAL_FILTERS], np.int64),
                                                     f"shape{width}"))
        s = f"_{width}"
        nodes += [
            helper.make_node("MatMulInteger", [f"cols{width}", f"wq{width}", "zero"], ["acc" + s]),  # (n, t*f, c)
            helper.make_node("Reshape", ["acc" + s, f"shape{width}"], ["acc4" + s]),  # (n, t, f, c)
            helper.make_node("ReduceMax", ["acc4" + s], ["max" + s], axes=[2], keepdims=0),  # (n, t, c)
            helper.make_node("Cast", ["max" + s], ["maxf" + s], to=TensorProto.FLOAT),
            helper.make_node("Mul", ["maxf" + s, f"w_scale{width}"], ["byfilter" + s]),
            helper.make_node("Mul", ["byfilter" + s, "scale"], ["scaled" + s]),
            helper.make_node("Transpose", ["scaled" + s], ["scaled_ct" + s], perm=[0, 2, 1]),  # (n, c, t)
            helper.make_node("Conv", [f"valid{width}", f"rows{width}"], ["edge" + s]),  # (1, c, t)
            helper.make_node("Mul", ["offset", "input_scale"], ["offset_a" + s]),
            helper.make_node("Add", ["offset_a" + s, "input_shift"], ["level" + s]),  # a*offset + b
            helper.make_node("Mul", ["level" + s, "edge" + s], ["shifted" + s]),
            helper.make_node("Add", ["scaled_ct" + s, "shifted" + s], ["sum" + s]),
            helper.make_node("Add", ["sum" + s, f"bias{width}"], [f"pre{width}"]),
        ]
    old = list(g.node)
    del g.node[:]
    g.node.extend(nodes + old)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def test_inputs() -> list[np.ndarray]:
    """Patches the export is checked on: the original model's recorded input, log-mel patches of
    generated music (several styles, soft and loud) and random patches."""
    from musicrec_engine.audio import synth
    from musicrec_engine.listening import frontend

    out = [np.random.default_rng(0).normal(2.0, 1.0, (3, 187, 96)).astype(np.float32)]
    fixture = ROOT / "tests" / "fixtures" / "musicnn_reference.npz"
    if fixture.exists():
        with np.load(fixture, allow_pickle=False) as f:
            out.append(f["input/drums"][None].astype(np.float32))
    for seed, gain in ((1, 1.0), (2, 0.05), (3, 0.5), (4, 2.0)):
        y = synth.music(8.0, bpm=90 + 10 * seed, seed=seed, sr=frontend.SR) * gain
        out.append(frontend.patches(np.asarray(y, np.float32), 2)[0])
    return out


def compare(session, port, inputs) -> dict[str, float]:
    """Largest tag difference and smallest embedding cosine of the ONNX session against the port."""
    from musicrec_engine.listening import frontend

    worst_tag, worst_cos = 0.0, 1.0
    for x in inputs:
        ref_tags, ref_pen = port(x)
        tags, pen = session.run(None, {"patches": x, **frontend.quantised_inputs(x)})
        worst_tag = max(worst_tag, float(np.abs(tags - ref_tags).max()))
        a, b = pen.mean(axis=0), ref_pen.mean(axis=0)
        worst_cos = min(worst_cos, float(a @ b / np.linalg.norm(a) / np.linalg.norm(b)))
    return {"max_tag_difference": worst_tag, "min_embedding_cosine": worst_cos}


def export(model: str, folder: Path) -> dict:
    import onnxruntime as ort

    from musicrec_engine import listening

    port = listening.load(model, folder, backend="torch")
    data = build(port)
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    found = compare(session, port, test_inputs())
    if found["max_tag_difference"] > TAG_TOLERANCE or found["min_embedding_cosine"] < COSINE_TOLERANCE:
        raise SystemExit(f"{model}: the ONNX graph strays from the port ({found}); not written")
    name = f"{model}_musicnn.onnx"
    (folder / name).write_bytes(data)
    print(f"{model}: {name} written; against the float port {found}")
    return {"file": name, "sha256": hashlib.sha256(data).hexdigest(), "onnx": {"format": FORMAT, **found}}


def main() -> None:
    import torch

    from musicrec_engine import listening

    folder = listening.weights_dir()
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text())
    for m in listening.MODELS:
        manifest["models"][m].update(export(m, folder))
    manifest["exported_with"] = {"torch": torch.__version__, "opset": OPSET, "tool": "tools/musicnn/export_onnx.py"}
    path.write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
