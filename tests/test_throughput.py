"""A long track is analysed from a few planned stretches (analysis/plan.py), decoded once for every
consumer, and the user sees the same key, tempo and attributes as from reading all of it."""

import numpy as np
import pytest
import soundfile as sf
from audio_fixtures import music, write
from test_tempo_levels import clip

from musicrec_engine.analysis import plan
from musicrec_engine.analysis.pipeline import analyze_file
from musicrec_engine.audio import decode as audio

SR = 22050
LOOP_SECONDS = 24.0  # 48 beats at 120 BPM: the loop repeats on a beat


@pytest.fixture(scope="module")
def long_track(tmp_path_factory):
    """Ten minutes of a cheap synthetic piece in A minor at 120 BPM (a 24-s loop), written once."""
    loop = music(LOOP_SECONDS, key=9, mode=0, bpm=120.0, seed=3)[: int(LOOP_SECONDS * SR)]
    y = np.tile(loop, int(600 / LOOP_SECONDS))
    return write(tmp_path_factory.mktemp("long") / "ten minutes.flac", 0.5 * y)


@pytest.fixture
def one_patch(monkeypatch):
    monkeypatch.setenv("MUSICREC_LISTEN_PATCHES", "1")  # the listening model's cost kept to one patch
    monkeypatch.delenv(plan.ENV, raising=False)


def test_a_long_track_is_analysed_from_the_planned_segments_with_the_whole_tracks_answers(
        long_track, one_patch, monkeypatch):
    planned = analyze_file(long_track)
    assert planned.ok, planned.error
    n, secs = plan.SEGMENTS, plan.SEGMENT_SECONDS
    assert planned.duration == pytest.approx(600.0, abs=0.1)  # the whole file's length is still reported
    assert planned.analysed_seconds == pytest.approx(n * secs, abs=0.1)  # only the planned stretches were read

    monkeypatch.setenv(plan.ENV, "whole")
    whole = analyze_file(long_track)
    assert whole.ok and whole.analysed_seconds == pytest.approx(600.0, abs=0.1)

    p, w = planned.attributes, whole.attributes
    assert (p["key"].value, p["mode"].value) == (w["key"].value, w["mode"].value) == (9, 0)
    assert p["tempo"].value == pytest.approx(w["tempo"].value, rel=0.04)
    assert w["tempo"].value == pytest.approx(120.0, rel=0.04)
    assert abs(p["loudness"].value - w["loudness"].value) <= 0.5  # dB
    for name in ("energy", "valence", "danceability", "acousticness", "instrumentalness"):
        assert abs(p[name].value - w[name].value) <= 0.1, name


def test_the_listening_model_hears_the_same_decode_as_the_features(long_track, one_patch):
    """Its tags equal those of a separate decode of the same stretches straight to 16 kHz."""
    import soxr

    from musicrec_engine import listening

    result = analyze_file(long_track)
    segs = plan.segments(600.0)
    with sf.SoundFile(str(long_track)) as f:
        parts = []
        for start, length in segs:
            f.seek(int(start * f.samplerate))
            parts.append(f.read(int(length * f.samplerate), dtype="float32"))
        y16 = soxr.resample(np.concatenate(parts), f.samplerate, 16000, quality="HQ")
    separate = listening.listen(y16, 16000, n_patches=1)
    for vocab, probs in separate.tags.items():
        got = np.array([result.tags[vocab][t] for t in probs])
        assert np.abs(got - np.array(list(probs.values()))).max() < 0.02, vocab


@pytest.mark.parametrize("bpm", [92.0, 150.0])
def test_a_songs_beat_is_read_sure_where_its_stretches_join_between_beats(tmp_path, one_patch, bpm):
    """A 100-s song with kick, snare and hi-hats under a pad: the three stretches the analysis reads
    start between beats, so the beat's phase jumps where they are joined. The song is read at its
    tempo and sure, as any one stretch of it is (read as one pattern across the joins, it was
    reported at double or half its tempo, unsure)."""
    y = clip(bpm, kit="backbeat", accomp="pad", seconds=100.0, seed=1)
    result = analyze_file(write(tmp_path / "song.flac", 0.5 * y))
    assert result.ok, result.error
    starts = [start for start, _ in plan.segments(result.duration)]
    gaps_in_beats = [(b - a - plan.SEGMENT_SECONDS) * bpm / 60.0 for a, b in zip(starts, starts[1:], strict=False)]
    assert len(starts) == 3 and all(0.1 < g % 1.0 < 0.9 for g in gaps_in_beats)  # the joins fall between beats
    tempo = result.attributes["tempo"]
    assert tempo.value == pytest.approx(bpm, rel=0.04) and tempo.confidence >= 0.8


@pytest.mark.parametrize("ext", ["mp3", "flac", "ogg", "opus", "m4a"])
def test_seeking_decoders_give_the_samples_of_a_whole_decode(tmp_path, ext):
    """Each stretch read after a seek holds the samples found at that place by reading from the
    start, in every decoder path (libsndfile for MP3/FLAC/Ogg Vorbis, FFmpeg for Opus and AAC)."""
    y = music(40.0, key=2, mode=1, bpm=100.0, seed=1)
    stereo = np.stack([y, np.roll(y, 300)], axis=1)
    path = write(tmp_path / f"clip.{ext}", stereo) if ext != "m4a" else _aac(tmp_path / "clip.m4a", stereo)
    segs = [(5.0, 6.0), (22.5, 6.0)]
    whole = audio.decode(path)
    part = audio.decode(path, plan=lambda duration: segs)
    assert part.segments == tuple(segs) and part.analysed_seconds == pytest.approx(12.0, abs=0.01)
    assert len(part.joins) == 1 and abs(part.joins[0] - 6.0 * SR) <= SR // 100  # where the second stretch begins
    for i, (start, length) in enumerate(segs):
        got = part.y[int(i * length * SR):int((i + 1) * length * SR)][SR // 10:-SR // 10]  # away from the joins
        ref = whole.y[int(start * SR):int((start + length) * SR)][SR // 10:-SR // 10]
        assert np.sqrt(np.mean((got - ref) ** 2)) < 0.01 * np.sqrt(np.mean(ref**2)) + 1e-4


def _aac(path, stereo):
    from musicrec_engine.audio.synth import write_pyav

    return write_pyav(path, stereo.mean(axis=1), SR)


def test_a_truncated_long_file_is_a_per_file_error(tmp_path, one_patch):
    y = np.tile(music(LOOP_SECONDS, seed=2)[: int(LOOP_SECONDS * SR)], 10)  # 4 minutes
    data = write(tmp_path / "full.flac", 0.5 * y).read_bytes()
    (tmp_path / "cut.flac").write_bytes(data[: len(data) * 2 // 5])  # the header still promises 4 minutes
    result = analyze_file(tmp_path / "cut.flac")
    assert result.status == "error" and "truncated" in result.error


def test_a_track_silent_where_the_plan_looks_is_read_whole(tmp_path, one_patch):
    """A hidden track: minutes of silence, then music. The planned stretches hear nothing, so the
    whole file is read rather than calling it silent."""
    y = np.zeros(int(200 * SR), np.float32)
    y[-int(12 * SR):] = 0.5 * music(12.0, seed=4)[: int(12 * SR)]
    result = analyze_file(write(tmp_path / "hidden.flac", y))
    assert result.ok, result.error
    assert result.analysed_seconds == pytest.approx(200.0, abs=0.1)
