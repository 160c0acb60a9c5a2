"""Evaluation corpus: audio made here, with exact ground truth (key, mode, tempo), from a seed.

    from tools.corpus import build, read_truth
    csv_path = build("/tmp/corpus", seed=1, count=48, music21=24)
    rows = read_truth(csv_path)       # list of dicts, one per audio file

Two sets, each also as degraded copies (MP3 or M4A, gain change, white noise):
  composed  procedurally composed pieces (compose.py): every key and both modes in turn, tempi
            60..190 BPM, GM timbres, drums on/off, 15..45 s
  music21   Bach chorales from music21's offline corpus (scores.py), keys from the notation,
            rendered at 60..140 BPM and trimmed to 20..40 s
Rendering uses fluidsynth with the GM soundfont (render.py). Every piece draws from its own
random stream spawned from the seed, so a piece does not change when counts change.
Helpers other modules may reuse: compose.random_spec/compose, render.render_midi/normalise/
degrade/write, scores.chorale_paths/to_midi.
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np

from musicrec_engine.attributes import key_label, tempo_bin
from tools.corpus import compose, render, scores

TRUTH_CSV = "truth.csv"
FIELDS = ["path", "set", "piece", "variant", "key", "mode", "key_label", "tempo", "tempo_bin", "duration",
          "drums", "gain_db", "snr_db", "source"]
BPM_RANGE_COMPOSED = (60.0, 190.0)
BPM_RANGE_MUSIC21 = (60.0, 140.0)


class CorpusError(RuntimeError):
    pass


def _streams(seed: int, stream: int, n: int) -> list[np.random.Generator]:
    return [np.random.default_rng([seed, stream, i]) for i in range(n)]


def _row(rel: str, set_name: str, piece: str, variant: str, k: int, m: int, bpm: float, dur: float,
         drums, gain: float, snr, source: str) -> dict:
    return {"path": rel, "set": set_name, "piece": piece, "variant": variant, "key": k, "mode": m,
            "key_label": key_label(k, m), "tempo": bpm, "tempo_bin": tempo_bin(bpm), "duration": round(dur, 2),
            "drums": drums, "gain_db": round(gain, 1), "snr_db": snr if snr == "" else round(snr, 1),
            "source": source}


def _write_versions(root: Path, set_name: str, piece: str, y: np.ndarray, rng: np.random.Generator,
                    variant: str, base: dict) -> list[dict]:
    """The clean FLAC and one degraded copy (MP3 or M4A) of one piece."""
    rows = []
    clean = render.normalise(y, peak=float(rng.uniform(0.5, 0.95)))
    rel = f"{set_name}/{piece}.flac"
    render.write(root / rel, clean)
    rows.append(_row(rel, set_name, piece, "clean", gain=0.0, snr="", **base))
    gain, snr = float(rng.uniform(-20.0, 6.0)), float(rng.uniform(10.0, 30.0))
    rel = f"{set_name}/{piece}.{variant}"
    render.write(root / rel, render.degrade(clean, rng, gain, snr))
    rows.append(_row(rel, set_name, piece, variant, gain=gain, snr=snr, **base))
    return rows


def build(out_dir: str | Path, seed: int = 0, count: int = 48, music21: int = 24,
          progress: Callable[[int, int, str], None] | None = None,
          cancel: threading.Event | None = None, max_seconds: float | None = None) -> tuple[Path, list[str]]:
    """Write the corpus and its truth.csv under `out_dir`; returns (csv path, per-piece failures).

    `max_seconds` caps every piece's length (quick corpora for tests); the draws stay the same.
    """
    why = render.available()
    if why:
        raise CorpusError(why)
    if music21 and scores.available():
        raise CorpusError(scores.available())
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    total = count + music21
    rows: list[dict] = []
    failures: list[str] = []
    done = 0

    def step(msg: str) -> bool:
        nonlocal done
        done += 1
        if progress:
            progress(done, total, msg)
        return bool(cancel and cancel.is_set())

    # Keys and modes in turn, so any 24 consecutive pieces cover all of them.
    combos = [(k, m) for m in (1, 0) for k in range(12)]
    order = np.random.default_rng([seed, 0]).permutation(24)
    for i, rng in enumerate(_streams(seed, 1, count)):
        k, m = combos[order[i % 24]]
        spec = compose.random_spec(rng, key=k, mode=m, bpm_range=BPM_RANGE_COMPOSED)
        piece = f"c{i:04d}"
        try:
            midi = root / "composed" / f"{piece}.mid"
            midi.parent.mkdir(parents=True, exist_ok=True)
            compose.compose(spec, rng).save(str(midi))
            y = render.render_midi(midi, min(spec.seconds, max_seconds or spec.seconds))
            base = dict(k=k, m=m, bpm=spec.bpm, dur=len(y) / render.SR, drums=int(spec.drums),
                        source=json.dumps(spec.to_dict(), sort_keys=True))
            rows += _write_versions(root, "composed", piece, y, rng, "mp3" if i % 2 == 0 else "m4a", base)
        except (render.RenderError, OSError, ValueError) as e:
            failures.append(f"{piece}: {e}")
        if step(piece):
            break

    if music21 and not (cancel and cancel.is_set()):
        paths = scores.chorale_paths()
        picks = np.random.default_rng([seed, 2]).permutation(len(paths))
        rngs = _streams(seed, 3, len(paths))
        j = 0
        for idx in picks:
            if j >= music21:
                break
            rng = rngs[idx]
            bpm = round(float(rng.uniform(*BPM_RANGE_MUSIC21)), 1)
            seconds = float(rng.uniform(20.0, 40.0))
            piece = f"m{j:04d}_{paths[idx].stem}"
            midi = root / "music21" / f"{piece}.mid"
            midi.parent.mkdir(parents=True, exist_ok=True)
            try:
                t = scores.to_midi(paths[idx], midi, bpm, rng)
            except Exception:
                # ScoreSkipped (no reliable truth) or one of the many errors music21 raises on odd
                # files (e.g. badly formed repeats): either way, draw another chorale.
                midi.unlink(missing_ok=True)
                continue
            try:
                y = render.render_midi(midi, min(seconds, t.quarter_length * 60.0 / bpm, max_seconds or seconds))
                base = dict(k=t.key, m=t.mode, bpm=bpm, dur=len(y) / render.SR, drums=0, source=t.name)
                rows += _write_versions(root, "music21", piece, y, rng, "m4a" if j % 2 == 0 else "mp3", base)
            except (render.RenderError, OSError, ValueError) as e:
                failures.append(f"{piece}: {e}")
            j += 1
            if step(piece):
                break

    csv_path = root / TRUTH_CSV
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    (root / "corpus.json").write_text(json.dumps(
        {"seed": seed, "count": count, "music21": music21, "files": len(rows), "failures": failures}, indent=1))
    return csv_path, failures


def read_truth(csv_path: str | Path) -> list[dict]:
    """Rows of truth.csv with numbers as numbers and `file` as an absolute Path."""
    csv_path = Path(csv_path)
    out = []
    with open(csv_path, newline="") as f:
        for r in csv.DictReader(f):
            r["file"] = csv_path.parent / r["path"]
            for k in ("key", "mode", "tempo_bin", "drums"):
                r[k] = int(r[k])
            for k in ("tempo", "duration", "gain_db"):
                r[k] = float(r[k])
            out.append(r)
    return out
