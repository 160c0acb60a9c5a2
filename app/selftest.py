"""`musicrec-app --self-test`: prove an installed bundle works, headless, in a throw-away home.

It makes WAV, MP3 and M4A audio, analyses them through the facade, checks the listening model
tagged them and the shipped attribute model gave their speechiness and liveness, trains a tiny taste model and opens the main window offscreen. One line per check; exit 0 only when every check passes.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

FORMATS = ("wav", "mp3", "m4a")


class Context:
    def __init__(self, root: Path):
        self.root = root
        self.audio: list[Path] = []
        self.engine = None


def check_encode(ctx: Context) -> str:
    from musicrec_engine.audio import synth

    for i, ext in enumerate(FORMATS):
        y = synth.music(seconds=6.0, key=(2 * i) % 12, mode=1 - i % 2, bpm=100 + 20 * i, seed=i)
        ctx.audio.append(synth.write(ctx.root / "audio" / f"selftest {i}.{ext}", y))
    return ", ".join(p.name for p in ctx.audio)


def check_analyze(ctx: Context) -> str:
    from musicrec_engine.engine import Engine

    ctx.engine = Engine(ctx.root / "home")
    results = list(ctx.engine.analyze([str(ctx.root / "audio")], jobs=1))
    bad = [f"{Path(r.path).name}: {r.error}" for r in results if r.status != "ok"]
    if bad or len(results) != len(FORMATS):
        raise AssertionError(f"{len(results)} analysed, failures: {bad}")
    missing = [Path(r.path).name for r in results if len(r.features["mfcc"]) != 273 or "tempo" not in r.attributes]
    if missing:
        raise AssertionError(f"incomplete analysis for {missing}")
    return ", ".join(f"{Path(r.path).suffix[1:]} {r.attributes['tempo'].value:.0f} BPM" for r in results)


def check_listening(ctx: Context) -> str:
    """The listening model loads (its weights ship in resources/models/musicnn and match their
    manifest), tags the clips, and grounds their instrumentalness."""
    from musicrec_engine import listening

    for model in listening.MODELS:
        listening.load(model)  # raises WeightsError with the reason: missing, altered or unreadable
    tracks = ctx.engine.tracks()
    untagged = [Path(t["path"]).name for t in tracks if not t.get("tags")]
    if untagged:
        raise AssertionError(f"no tags for {untagged}")
    inst = [t["attributes"].get("instrumentalness", {}) for t in tracks]
    wrong = [a for a in inst if a.get("provenance") != "learned" or "MusiCNN" not in (a.get("source") or "")]
    if wrong:
        raise AssertionError(f"instrumentalness not grounded in the listening model's tags: {wrong[:1]}")
    t = tracks[0]
    return (f"{len(tracks)} clips tagged, e.g. {', '.join(x['tag'] for x in t['tags'][:3])}; "
            f"instrumentalness {inst[0]['value']:.2f} from {inst[0]['source']}")


def check_learned(ctx: Context) -> str:
    """The shipped attribute model (trained on generated audio) loads, and gives the attributes no
    tag speaks of: speechiness and liveness carry provenance "learned", not a fallback estimate."""
    shipped = [s for s in ctx.engine.attribute_models() if Path(s["path"]).name == "default_attributes.onnx"]
    if not shipped:
        raise AssertionError("the shipped attribute model default_attributes.onnx is missing")
    if not shipped[0]["used"]:
        raise AssertionError(shipped[0]["reason"])
    tracks = ctx.engine.tracks()
    wrong = [(Path(t["path"]).name, name, a.get("provenance")) for t in tracks for name in ("speechiness", "liveness")
             if (a := t["attributes"].get(name, {})).get("provenance") != "learned"]
    if wrong:
        raise AssertionError(f"not from the shipped model: {wrong[:2]}")
    return f"speechiness and liveness of {len(tracks)} clips from {Path(shipped[0]['path']).name}"


def check_library(ctx: Context) -> str:
    tracks = ctx.engine.tracks()
    if len(tracks) != len(FORMATS):
        raise AssertionError(f"library holds {len(tracks)} tracks, expected {len(FORMATS)}")
    return f"{len(tracks)} tracks in {ctx.engine.paths.library_db.name}"


def check_taste(ctx: Context) -> str:
    from musicrec_engine.engine import Engine

    acc = Engine.taste_self_check()  # a tiny net on a made-up separable problem
    if acc < 0.8:
        raise AssertionError(f"a tiny taste model reached only {acc:.2f} training accuracy")
    return f"training accuracy {acc:.2f}"


def check_window(ctx: Context) -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.window import MainWindow

    app = QApplication.instance() or QApplication([])
    w = MainWindow(ctx.engine)
    w.show()
    app.processEvents()
    size = w.grab().size()
    w.close()
    return f"main window {size.width()}x{size.height()}"


CHECKS: list[tuple[str, Callable[[Context], str]]] = [
    ("generate WAV, MP3 and M4A audio", check_encode),
    ("decode and analyse them", check_analyze),
    ("store them in the library", check_library),
    ("tag them with the listening model", check_listening),
    ("predict speechiness and liveness with the shipped model", check_learned),
    ("train a tiny taste model", check_taste),
    ("open the main window offscreen", check_window),
]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="musicrec-app --self-test")
    p.add_argument("--quiet", action="store_true", help="print only failures and the summary")
    args = p.parse_args(argv)
    failed = 0
    with tempfile.TemporaryDirectory(prefix="musicrec-selftest-") as tmp:
        ctx = Context(Path(tmp))
        for name, fn in CHECKS:
            t0 = time.perf_counter()
            try:
                detail = fn(ctx)
                if not args.quiet:
                    print(f"ok    {name} ({detail}; {time.perf_counter() - t0:.1f} s)", flush=True)
            except Exception as e:  # every check reports; one failure does not hide the rest
                failed += 1
                print(f"FAIL  {name}: {e}", flush=True)
                if os.environ.get("MUSICREC_SELFTEST_TRACE"):
                    traceback.print_exc()
        if ctx.engine is not None:
            ctx.engine.close()
    print(f"self-test: {len(CHECKS) - failed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
