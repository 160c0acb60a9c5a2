"""Evaluation corpus: audio made here, with exact ground truth (key, mode, tempo), from a seed.

    from tools.corpus import build, read_truth
    csv_path, failures = build("/tmp/corpus", part="tune", seed=0, count=48, music21=24)
    rows = read_truth(csv_path)       # list of dicts, one per audio file

Two PARTS that share nothing a method could learn by heart: "tune" (what methods and constants
are chosen on) and "heldout" (scored once, at the end). They differ in
  - generator family (compose.py): their own progressions, accompaniment figures, drum patterns
    and GM programs;
  - SoundFont: FluidR3_GM for tuning, MuseScore_General only for held-out (render.py);
  - Bach chorales: the two halves of music21's chorales split by a hash of the file name, so
    no chorale is in both (scores.py);
  - the seed, as before.
Sets in each part:
  composed  procedurally composed pieces: every key and both modes in turn, tempi spread evenly
            over 50..210 BPM, meters 4/4, 3/4, 6/8, swing, drums none/sparse/full, 20..30 s
  music21   Bach chorales rendered at 50..130 BPM and trimmed to 20..30 s
Each piece is written as a clean FLAC (after an optional room reverb) plus one degraded copy
(MP3 or M4A, gain change, white noise). Every piece draws from its own random stream spawned
from the seed, so a piece does not change when counts change.
Helpers other modules may reuse: compose.random_spec/compose, render.render_midi/normalise/
reverb/degrade/write, scores.chorale_paths/chorale_half/to_midi.
"""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Collection, Iterable
from pathlib import Path

import numpy as np

from musicrec_engine.attributes import key_label, tempo_bin
from musicrec_engine.jobs import Progress
from tools.corpus import compose, render, repertoire, scores

TRUTH_CSV = "truth.csv"
FIELDS = ["path", "part", "set", "piece", "variant", "key", "mode", "key_label", "tempo", "tempo_bin",
          "duration", "drums", "meter", "soundfont", "reverb_s", "gain_db", "snr_db", "source"]
BPM_RANGE_COMPOSED = (50.0, 210.0)
BPM_RANGE_MUSIC21 = (50.0, 130.0)
SECONDS = (20.0, 30.0)
PARTS = {  # part: (generator family, SoundFont, chorale half)
    "tune": ("a", "FluidR3_GM", 0),
    "heldout": ("b", "MuseScore_General", 1),
}


class CorpusError(RuntimeError):
    pass


def _streams(seed: int, stream: int, n: int) -> list[np.random.Generator]:
    return [np.random.default_rng([seed, stream, i]) for i in range(n)]


def _row(rel: str, set_name: str, piece: str, variant: str, k: int, m: int, bpm: float, dur: float,
         drums, gain: float, snr, source: str, part: str, meter: str, font: str, rt60: float) -> dict:
    return {"path": rel, "part": part, "set": set_name, "piece": piece, "variant": variant, "key": k, "mode": m,
            "key_label": key_label(k, m), "tempo": bpm, "tempo_bin": tempo_bin(bpm), "duration": round(dur, 2),
            "drums": drums, "meter": meter, "soundfont": font, "reverb_s": round(rt60, 2),
            "gain_db": round(gain, 1), "snr_db": snr if snr == "" else round(snr, 1), "source": source}


def _write_versions(root: Path, set_name: str, piece: str, y: np.ndarray, rng: np.random.Generator,
                    variant: str, base: dict) -> list[dict]:
    """The clean FLAC and one degraded copy (MP3 or M4A) of one piece."""
    rows = []
    rt60 = float(rng.uniform(0.4, 2.0)) if rng.random() < 0.4 else 0.0
    if rt60:
        y = render.reverb(y, rng, rt60, wet=float(rng.uniform(0.15, 0.5)))
    base = dict(base, rt60=rt60)
    clean = render.normalise(y, peak=float(rng.uniform(0.5, 0.95)))
    rel = f"{set_name}/{piece}.flac"
    render.write(root / rel, clean)
    rows.append(_row(rel, set_name, piece, "clean", gain=0.0, snr="", **base))
    gain, snr = float(rng.uniform(-20.0, 6.0)), float(rng.uniform(10.0, 30.0))
    rel = f"{set_name}/{piece}.{variant}"
    render.write(root / rel, render.degrade(clean, rng, gain, snr))
    rows.append(_row(rel, set_name, piece, variant, gain=gain, snr=snr, **base))
    return rows


def build(out_dir: str | Path, seed: int = 0, count: int = 48, music21: int = 24, part: str = "tune",
          progress: Progress | None = None,
          cancel: threading.Event | None = None, max_seconds: float | None = None,
          exclude: Collection[str] = (), tempo_of: str = "beat") -> tuple[Path, list[str]]:
    """Write the corpus and its truth.csv under `out_dir`; returns (csv path, per-piece failures).

    `part` is "tune" or "heldout" (see PARTS), or "repertoire-tune" / "repertoire-heldout" for
    `count` human-composed pieces (repertoire.py). `max_seconds` caps every piece's length (quick
    corpora for tests); the draws stay the same. `exclude`: scores not to use, as truth.csv's
    `source` names them (see used_scores): the chorales and the repertoire are drawn from fixed
    pools, so two seeds share pieces, and a set meant to be unheard must leave out the pieces
    heard before. Composed pieces are new with every seed. `tempo_of` (repertoire only): which
    note value the drawn tempo is for (repertoire.TEMPO_OF).
    """
    exclude = frozenset(exclude)
    if part in repertoire.SOURCES:
        if tempo_of not in repertoire.TEMPO_OF:
            raise CorpusError(f"unknown tempo_of '{tempo_of}' (use {' or '.join(repertoire.TEMPO_OF)})")
        return _build_repertoire(Path(out_dir), part, seed, count, progress, cancel, max_seconds, exclude, tempo_of)
    if part not in PARTS:
        raise CorpusError(f"unknown part '{part}' (use {', '.join([*PARTS, *repertoire.SOURCES])})")
    family, font, half = PARTS[part]
    why = render.available(font)
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

    # Keys and modes in turn, so any 24 consecutive pieces cover all of them; tempi stratified so
    # any `count` pieces spread evenly over the range (one draw in each of `count` equal slices).
    combos = [(k, m) for m in (1, 0) for k in range(12)]
    order = np.random.default_rng([seed, 0]).permutation(24)
    lo, hi = BPM_RANGE_COMPOSED
    slices = np.random.default_rng([seed, 4]).permutation(max(count, 1))
    for i, rng in enumerate(_streams(seed, 1, count)):
        k, m = combos[order[i % 24]]
        bpm = round(lo + (hi - lo) * (slices[i] + rng.random()) / count, 1)
        spec = compose.random_spec(rng, key=k, mode=m, bpm=bpm, seconds_range=SECONDS, family=family)
        piece = f"c{i:04d}"
        try:
            midi = root / "composed" / f"{piece}.mid"
            midi.parent.mkdir(parents=True, exist_ok=True)
            compose.compose(spec, rng).save(str(midi))
            y = render.render_midi(midi, min(spec.seconds, max_seconds or spec.seconds), font=font)
            base = dict(k=k, m=m, bpm=spec.bpm, dur=len(y) / render.SR, drums=int(spec.drums),
                        source=json.dumps(spec.to_dict(), sort_keys=True), part=part, meter=spec.meter, font=font)
            rows += _write_versions(root, "composed", piece, y, rng, "mp3" if i % 2 == 0 else "m4a", base)
        except (render.RenderError, OSError, ValueError) as e:
            failures.append(f"{piece}: {e}")
        if step(piece):
            break

    if music21 and not (cancel and cancel.is_set()):
        paths = [p for p in scores.chorale_paths() if scores.chorale_half(p) == half]
        picks = np.random.default_rng([seed, 2]).permutation(len(paths))
        j = 0
        for idx in picks:
            if j >= music21:
                break
            if paths[idx].stem in exclude:
                continue
            rng = np.random.default_rng([seed, 3, scores.chorale_id(paths[idx])])
            bpm = round(float(rng.uniform(*BPM_RANGE_MUSIC21)), 1)
            seconds = float(rng.uniform(*SECONDS))
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
                y = render.render_midi(midi, min(seconds, t.quarter_length * 60.0 / bpm, max_seconds or seconds),
                                       font=font)
                base = dict(k=t.key, m=t.mode, bpm=bpm, dur=len(y) / render.SR, drums=0, source=t.name,
                            part=part, meter=f"{t.beats_per_bar}/4", font=font)
                rows += _write_versions(root, "music21", piece, y, rng, "m4a" if j % 2 == 0 else "mp3", base)
            except (render.RenderError, OSError, ValueError) as e:
                failures.append(f"{piece}: {e}")
            j += 1
            if step(piece):
                break

    return _finish(root, rows, failures, {"part": part, "family": family, "soundfont": font, "chorale_half": half,
                                          "seed": seed, "count": count, "music21": music21})


def _finish(root: Path, rows: list[dict], failures: list[str], about: dict) -> tuple[Path, list[str]]:
    csv_path = root / TRUTH_CSV
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    (root / "corpus.json").write_text(json.dumps(dict(about, files=len(rows), failures=failures), indent=1))
    return csv_path, failures


def _build_repertoire(root: Path, part: str, seed: int, count: int, progress: Progress | None,
                      cancel: threading.Event | None, max_seconds: float | None,
                      exclude: Collection[str] = (), tempo_of: str = "beat") -> tuple[Path, list[str]]:
    font = repertoire.FONTS[part]
    why = render.available(font) or scores.available()
    if why:
        raise CorpusError(why)
    root.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    failures: list[str] = []
    chosen = repertoire.picks(part, seed, count, exclude)
    for j, (src, path, name, score, t) in enumerate(chosen):
        rng = np.random.default_rng([seed, 8, j])
        drawn = round(float(rng.uniform(*repertoire.BPM_RANGE)), 1)
        bpm = drawn * t.beat_ql if tempo_of == "beat" else drawn  # quarter notes a minute
        seconds = float(rng.uniform(*SECONDS))
        piece = f"r{j:04d}_{src}_{name}"[:60]
        midi = root / "repertoire" / f"{piece}.mid"
        midi.parent.mkdir(parents=True, exist_ok=True)
        try:
            scores.write_midi(score, midi, bpm, rng)
            y = render.render_midi(midi, min(seconds, t.quarter_length * 60.0 / bpm, max_seconds or seconds), font=font)
            base = dict(k=t.key, m=t.mode, bpm=round(bpm / t.beat_ql, 1), dur=len(y) / render.SR, drums=0,
                        source=repertoire.source_name(src, path, name), part=part, meter=t.metre, font=font)
            rows += _write_versions(root, "repertoire", piece, y, rng, "m4a" if j % 2 == 0 else "mp3", base)
        except Exception as e:  # music21's MIDI writer and fluidsynth both fail in many ways on odd scores
            failures.append(f"{piece}: {e}")
        if progress:
            progress(j + 1, len(chosen), piece)
        if cancel and cancel.is_set():
            break
    return _finish(root, rows, failures, {"part": part, "soundfont": font, "seed": seed, "count": count,
                                          "sources": repertoire.SOURCES[part], "tempo_of": tempo_of})


def used_scores(csv_paths: Iterable[str | Path]) -> set[str]:
    """The scores (chorales and repertoire pieces, as `source` names them) in these truth.csv files."""
    return {r["source"] for p in csv_paths for r in read_truth(p) if r["set"] in ("music21", "repertoire")}


def read_truth(csv_path: str | Path) -> list[dict]:
    """Rows of truth.csv with numbers as numbers and `file` as an absolute Path."""
    csv_path = Path(csv_path)
    out = []
    with open(csv_path, newline="") as f:
        for r in csv.DictReader(f):
            r["file"] = csv_path.parent / r["path"]
            for k in ("key", "mode", "tempo_bin", "drums"):
                r[k] = int(r[k])
            for k in ("tempo", "duration", "gain_db", "reverb_s"):
                r[k] = float(r[k])
            out.append(r)
    return out
