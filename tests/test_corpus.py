"""The evaluation corpus: composed MIDI in the right key and tempo, rendered audio, truth.csv."""

from __future__ import annotations

import csv
import hashlib

import numpy as np
import pytest

from musicrec_engine.attributes import measured, tempo_bin
from musicrec_engine.features.spectrum import Spectrum
from tools import corpus
from tools.corpus import compose, render, scores

needs_fluidsynth = pytest.mark.skipif(render.available() is not None, reason=str(render.available()))
needs_music21 = pytest.mark.skipif(scores.available() is not None, reason=str(scores.available()))


def _notes(mid):
    out = []
    for track in mid.tracks:
        for msg in track:
            if msg.type == "note_on" and msg.velocity > 0:
                out.append((msg.channel, msg.note))
    return out


@pytest.mark.parametrize("key,mode,family", [(0, 1, "a"), (9, 0, "a"), (6, 1, "b"), (1, 0, "b")])
def test_composed_piece_stays_in_its_key_and_tempo(key, mode, family):
    for seed in range(6):  # several draws: metres, minor forms, accompaniments differ
        rng = np.random.default_rng([key, seed])
        spec = compose.random_spec(rng, key=key, mode=mode, family=family)
        mid = compose.compose(spec, rng)
        scale = {(key + s) % 12 for s in (compose.MAJOR if mode == 1 else compose.NATURAL_MINOR)}
        pitched = [n for ch, n in _notes(mid) if ch != 9]
        assert pitched and {n % 12 for n in pitched} <= compose.pitch_classes(spec)
        if mode == 0:  # raised notes only where minor keys raise them: the 7th, and the 6th in melodic minor
            assert compose.pitch_classes(spec) - scale <= {(key + 11) % 12, (key + 9) % 12}
        tempos = [m.tempo for t in mid.tracks for m in t if m.type == "set_tempo"]
        quarter_bpm = spec.bpm * compose.METERS[spec.meter][1]  # 6/8 counts dotted quarters
        assert len(tempos) == 1 and abs(60e6 / tempos[0] - quarter_bpm) < 0.01
        assert mid.length >= spec.seconds  # long enough to trim to the drawn length


def test_generator_families_and_parts_share_nothing_learnable():
    draws = {f: [compose.random_spec(np.random.default_rng(i), family=f) for i in range(60)] for f in ("a", "b")}
    for part in ("accompaniment", "chord_program", "melody_program", "bass_program"):
        a, b = ({getattr(s, part) for s in draws[f]} for f in ("a", "b"))
        assert a - b and b - a  # each family has its own figures and timbres
        if part != "accompaniment":
            assert not a & b
    seen = {s.meter for f in draws for s in draws[f]}
    assert seen == {"4/4", "3/4", "6/8"}
    assert {s.drum_style for f in draws for s in draws[f]} == {"none", "sparse", "full"}
    assert any(s.progression[0] != 0 for s in draws["a"]) and any(s.progression[0] != 0 for s in draws["b"])
    assert corpus.PARTS["tune"][1] != corpus.PARTS["heldout"][1]  # SoundFonts


def test_six_eight_beat_is_the_dotted_quarter():
    rng = np.random.default_rng(1)
    spec = compose.random_spec(rng, key=2, mode=1, bpm=60.0)
    spec.meter, spec.beats_per_bar, spec.drum_style, spec.drums = "6/8", 2, "full", True
    mid = compose.compose(spec, rng)
    ts = [m for t in mid.tracks for m in t if m.type == "time_signature"][0]
    assert (ts.numerator, ts.denominator) == (6, 8)
    kicks = []
    for track in mid.tracks:
        now = 0
        for m in track:
            now += m.time
            if m.type == "note_on" and m.channel == 9 and m.note == compose.DRUM["kick"] and m.velocity:
                kicks.append(now / compose.TPB)
    # One kick per bar of two dotted quarters (three quarter notes).
    assert np.allclose(np.diff(kicks[:4]), 3.0)


@needs_music21
def test_chorale_halves_are_disjoint_and_stable():
    paths = scores.chorale_paths()
    halves = [scores.chorale_half(p) for p in paths]
    assert 0.4 < np.mean(halves) < 0.6
    # The half depends on the file name only, not on where it sits in the list.
    assert [scores.chorale_half(p) for p in reversed(paths)] == halves[::-1]


def test_drum_only_piece_has_only_drum_notes():
    rng = np.random.default_rng(3)
    spec = compose.random_spec(rng)
    spec.drums = True
    notes = _notes(compose.compose(spec, rng, parts=("drums",)))
    assert notes and {ch for ch, _ in notes} == {9}


@needs_music21
def test_chorale_truth_comes_from_the_notation():
    from music21 import corpus as m21corpus

    t = scores.truth(m21corpus.parse("bach/bwv10.7"), "bwv10.7")
    assert (t.key, t.mode, t.beats_per_bar) == (7, 0, 4)  # G minor, 4/4
    with pytest.raises(scores.ScoreSkipped, match="modal"):
        scores.truth(m21corpus.parse("bach/bwv121.6"), "bwv121.6")


@needs_fluidsynth
def test_rendered_piece_is_measured_right(tmp_path):
    rng = np.random.default_rng(11)
    spec = compose.random_spec(rng, key=2, mode=0, bpm_range=(118.0, 118.0))
    spec.seconds, spec.drums = 12.0, True
    midi = tmp_path / "p.mid"
    compose.compose(spec, rng).save(str(midi))
    y = render.render_midi(midi, spec.seconds)
    assert len(y) == int(12.0 * render.SR) and np.abs(y).max() > 0.01
    a = measured.measure(Spectrum(render.normalise(y)))
    assert (a["key"].value, a["mode"].value) == (2, 0)
    assert abs(a["tempo"].value - 118.0) <= 0.04 * 118.0


def test_degrade_sets_gain_and_noise_level():
    rng = np.random.default_rng(0)
    y = (0.1 * np.sin(np.arange(22050 * 2) * 0.05)).astype(np.float32)
    out = render.degrade(y, rng, gain_db=-6.0, snr_db=20.0)
    noise = out / 10 ** (-6 / 20) - y
    snr = 10 * np.log10(np.mean(y**2) / np.mean(noise**2))
    assert snr == pytest.approx(20.0, abs=0.3)


@needs_fluidsynth
@needs_music21
def test_build_writes_truth_next_to_the_audio_and_is_reproducible(tmp_path):
    csv_a, failures = corpus.build(tmp_path / "a", seed=5, count=2, music21=1, max_seconds=6.0)
    assert failures == []
    rows = corpus.read_truth(csv_a)
    assert [(r["set"], r["variant"]) for r in rows] == [
        ("composed", "clean"), ("composed", "mp3"), ("composed", "clean"), ("composed", "m4a"),
        ("music21", "clean"), ("music21", "m4a")]
    from musicrec_engine.audio import decode as audio

    for r in rows:
        d = audio.decode(r["file"])
        assert d.duration == pytest.approx(r["duration"], abs=0.2)
        assert r["tempo_bin"] == tempo_bin(r["tempo"]) and 0 <= r["key"] <= 11
    assert 50 <= rows[0]["tempo"] <= 210
    assert {r["part"] for r in rows} == {"tune"} and {r["soundfont"] for r in rows} == {"FluidR3_GM"}
    tuning_chorale = [r for r in rows if r["set"] == "music21"][0]["piece"].split("_", 1)[1]
    assert scores.chorale_half(scores.chorale_paths()[0].with_name(tuning_chorale + ".mxl")) == 0
    csv_b, _ = corpus.build(tmp_path / "b", seed=5, count=2, music21=0, max_seconds=6.0)
    with open(csv_a) as fa, open(csv_b) as fb:
        assert list(csv.reader(fa))[:5] == list(csv.reader(fb))[:5]
    digest = [hashlib.sha256((p / "composed" / "c0000.flac").read_bytes()).hexdigest()
              for p in (tmp_path / "a", tmp_path / "b")]
    assert digest[0] == digest[1]


@needs_fluidsynth
def run_tool(*argv):
    """The corpus builder is a development tool, run as `python -m tools.corpus`."""
    import subprocess
    import sys

    from conftest import ROOT

    return subprocess.run([sys.executable, "-m", "tools.corpus", *argv], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


def test_tool_builds_a_corpus(tmp_path):
    r = run_tool("build", str(tmp_path / "c"), "--count", "1", "--music21", "0", "--seed", "2", "--json")
    assert r.returncode == 0, r.stderr
    import json

    out = json.loads(r.stdout)
    assert out["files"] == 2 and (tmp_path / "c" / "truth.csv").exists()


def test_tool_rejects_a_negative_count(tmp_path):
    r = run_tool("build", str(tmp_path / "c"), "--count", "-1")
    assert r.returncode == 2
    assert "must be 0 or more" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_repertoire_halves_share_no_composer_and_no_soundfont():
    from tools.corpus import repertoire

    tune, held = (set(repertoire.SOURCES[p]) for p in ("repertoire-tune", "repertoire-heldout"))
    assert tune and held and not tune & held
    fonts = repertoire.FONTS
    # The held-out half's SoundFont is heard nowhere else: not by its tuning half, not by the generated corpus.
    assert fonts["repertoire-heldout"] not in {fonts["repertoire-tune"], *(f for _, f, _ in corpus.PARTS.values())}
    # No source is the Bach chorales, which the generated corpus already uses.
    assert "bach" not in tune | held


@needs_fluidsynth
@needs_music21
def test_repertoire_piece_is_a_real_score_with_truth_from_its_notation(tmp_path):
    csv_path, failures = corpus.build(tmp_path / "r", part="repertoire-tune", seed=1, count=2, max_seconds=4.0)
    assert failures == []
    rows = corpus.read_truth(csv_path)
    assert [(r["set"], r["variant"]) for r in rows] == [("repertoire", v) for v in ("clean", "m4a", "clean", "mp3")]
    from tools.corpus import repertoire

    sources = set()
    for r in rows[::2]:
        src, rest = r["source"].split("/", 1)
        file_name, name = rest.split("#", 1)
        sources.add(src)
        assert src in repertoire.SOURCES["repertoire-tune"] and r["soundfont"] == "FluidR3_GM"
        # The truth is the one the notation gives: parse the same score again and read it.
        path = next(p for p in repertoire.source_paths(src) if p.name == file_name)
        t = scores.truth(repertoire.score_named(path, name), name, any_metre=True)
        assert (r["key"], r["mode"], r["meter"]) == (t.key, t.mode, t.metre)
        assert r["duration"] == pytest.approx(4.0, abs=0.2)
    assert len(sources) == 2  # round-robin over composers and collections


@needs_fluidsynth
@needs_music21
def test_a_repertoire_piece_in_six_eight_plays_its_dotted_quarter_at_the_drawn_tempo(tmp_path):
    """The tempo truth is the notated beat, so the beat is what the drawn tempo sets: a 6/8
    movement's dotted quarter lands at 60..140 BPM, where listeners tap. Draws made before
    drew the quarter's tempo (--tempo-of quarter), which played jigs and reels at a third or
    half of their speed; those draws can still be rebuilt."""
    import mido

    from tools.corpus import repertoire

    tempi = {}
    for tempo_of in repertoire.TEMPO_OF:
        root = tmp_path / tempo_of
        csv_path, failures = corpus.build(root, part="repertoire-tune", seed=5, count=1, max_seconds=2.0,
                                          tempo_of=tempo_of)
        assert failures == []
        row = corpus.read_truth(csv_path)[0]
        assert row["meter"] == "6/8"  # this seed's first pick: a Haydn movement in 6/8
        midi = mido.MidiFile(str(root / "repertoire" / f"{row['piece']}.mid"))
        quarter_bpm = next(60e6 / m.tempo for t in midi.tracks for m in t if m.type == "set_tempo")
        tempi[tempo_of] = (row["tempo"], quarter_bpm)
    truth, quarter = tempi["beat"]
    assert repertoire.BPM_RANGE[0] <= truth <= repertoire.BPM_RANGE[1]
    assert quarter == pytest.approx(1.5 * truth, rel=0.002)
    old_truth, old_quarter = tempi["quarter"]
    assert old_quarter == pytest.approx(truth, abs=0.1)  # the same draw, once for the quarter
    assert old_truth == pytest.approx(old_quarter / 1.5, abs=0.1)


@needs_fluidsynth
@needs_music21
def test_a_set_can_leave_out_every_chorale_an_earlier_set_used(tmp_path):
    """Seeds draw chorales from one pool, so two seeds share some; a set meant to be unheard is
    built with --not-in the earlier sets' truth.csv and then shares none. The same seed without
    it would draw the very same chorale."""
    first = tmp_path / "a"
    r = run_tool("build", str(first), "--part", "heldout", "--count", "0", "--music21", "1", "--seed", "3")
    assert r.returncode == 0, r.stderr
    used = corpus.used_scores([first / "truth.csv"])
    assert len(used) == 1
    r = run_tool("build", str(tmp_path / "b"), "--part", "heldout", "--count", "0", "--music21", "1", "--seed", "3",
                 "--not-in", str(first / "truth.csv"))
    assert r.returncode == 0, r.stderr
    unheard = corpus.used_scores([tmp_path / "b" / "truth.csv"])
    assert len(unheard) == 1 and not unheard & used


@needs_fluidsynth
@needs_music21
def test_a_repertoire_draw_can_leave_out_the_pieces_of_earlier_draws(tmp_path):
    first, _ = corpus.build(tmp_path / "a", part="repertoire-tune", seed=1, count=2, max_seconds=2.0)
    used = corpus.used_scores([first])
    again, failures = corpus.build(tmp_path / "b", part="repertoire-tune", seed=1, count=2, max_seconds=2.0,
                                   exclude=used)
    assert failures == [] and len(used) == 2
    assert len(corpus.used_scores([again])) == 2 and not corpus.used_scores([again]) & used


def test_not_in_a_missing_truth_file_is_one_clear_line(tmp_path):
    r = run_tool("build", str(tmp_path / "c"), "--count", "1", "--not-in", str(tmp_path / "nowhere" / "truth.csv"))
    assert r.returncode == 1
    assert "cannot read" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "c").exists()
