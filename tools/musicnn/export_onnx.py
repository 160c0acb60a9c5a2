"""Export the MusiCNN port (both models) to ONNX, so the analysis runs it with onnxruntime and
never imports torch. Dev-only (torch is needed here, not at run time).

Why: importing torch costs about 2 CPU-seconds, which alone broke the "first analysed file within
3 s of a cold start" budget; onnxruntime (already a product dependency for the attribute models)
imports in about 0.1 s and runs a patch of both models in about 60 ms (torch: 90 ms). Numbers:
docs/BENCHMARKS.md, "Listening: cost".

    .venv/bin/python tools/musicnn/export_onnx.py

For each model it traces MusiCNN.graph on the weights in resources/models/musicnn/, runs the ONNX
graph against the torch port on the original model's recorded input (tests/fixtures) and on
random patches, and refuses to write unless they agree within 1e-4. Then it writes
{msd,mtt}_musicnn.onnx and onnx.json beside the weights: each file's sha256 and the sha256 of
the .npz it was made from, so the product uses an ONNX file only for the weights it was made
from (and falls back to torch otherwise).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TOLERANCE = 1e-4
OPSET = 17


def export(model: str, folder: Path) -> dict:
    import io

    import onnxruntime as ort
    import torch

    from musicrec_engine import listening

    net = listening.load(model, folder, backend="torch")

    class Graph(torch.nn.Module):
        def forward(self, x):
            return net.graph(x)

    example = torch.zeros(1, 187, 96)
    buf = io.BytesIO()
    torch.onnx.export(Graph(), (example,), buf, input_names=["patches"], output_names=["tags", "penultimate"],
                      dynamic_axes={"patches": {0: "n"}, "tags": {0: "n"}, "penultimate": {0: "n"}},
                      opset_version=OPSET, dynamo=False)
    data = buf.getvalue()
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    inputs = [rng.normal(2.0, 1.0, (3, 187, 96)).astype(np.float32)]
    fixture = ROOT / "tests" / "fixtures" / "musicnn_reference.npz"
    if fixture.exists():
        with np.load(fixture, allow_pickle=False) as f:
            inputs.append(f["input/drums"][None].astype(np.float32))
    worst = 0.0
    for x in inputs:
        ref = net(x)
        got = session.run(None, {"patches": x})
        worst = max(worst, *(float(np.abs(a - b).max()) for a, b in zip(got, ref, strict=True)))
    if worst > TOLERANCE:
        raise SystemExit(f"{model}: the ONNX graph differs from the port by {worst:.2e} (> {TOLERANCE}); not written")
    name = f"{model}_musicnn.onnx"
    (folder / name).write_bytes(data)
    entry = json.loads((folder / "manifest.json").read_text())["models"][model]
    print(f"{model}: {name} written, largest difference from the torch port {worst:.1e}")
    return {"file": name, "sha256": hashlib.sha256(data).hexdigest(), "from_sha256": entry["sha256"],
            "max_abs_difference": worst}


def main() -> None:
    import torch

    from musicrec_engine import listening

    folder = listening.weights_dir()
    out = {"exported_with": {"torch": torch.__version__, "opset": OPSET, "tool": "tools/musicnn/export_onnx.py"},
           "models": {m: export(m, folder) for m in listening.MODELS}}
    (folder / "onnx.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {folder / 'onnx.json'}")


if __name__ == "__main__":
    main()
