"""The truth benchmarks/bench_midi_tempo.py reads from MIDI songs: the tempo that actually holds, a
stretch where it is constant, songs whose tempo is only a format's clock, music lumps of WAD files;
and from LMMS projects: the tempo in the header, a song whose tempo is automated left out."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import mido

from benchmarks.bench_midi_tempo import (
    EXCERPT_S,
    clock_tempo,
    constant_stretch,
    lmms_projects,
    lmms_song,
    midi_from_wads,
    tempo_map,
)


def song(path: Path, tempi: list[tuple[int, float]], ticks_per_beat: int = 480, beats: int = 200) -> Path:
    """A one-note-per-beat MIDI file with tempo events (tick, BPM) in the order given."""
    mid = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    meta, notes = mido.MidiTrack(), mido.MidiTrack()
    last = 0
    for tick, bpm in tempi:
        meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(bpm), time=tick - last))
        last = tick
    meta.insert(0, mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0))
    for _ in range(beats):
        notes.append(mido.Message("note_on", channel=9, note=36, velocity=100, time=0))
        notes.append(mido.Message("note_off", channel=9, note=36, velocity=0, time=ticks_per_beat))
    mid.tracks += [meta, notes]
    mid.save(path)
    return path


def test_of_two_tempi_set_at_the_first_tick_the_later_one_holds(tmp_path):
    tmap, meter, drums, _ = tempo_map(song(tmp_path / "a.mid", [(0, 120.0), (0, 150.0)]))
    start, bpm = constant_stretch(tmap, 80.0)
    assert bpm == 150.0 and start >= 2.0
    assert meter == "4/4" and drums


def test_a_song_whose_tempo_keeps_changing_has_no_stretch_to_score(tmp_path):
    changes = [(i * 480 * 16, 100.0 + 5 * i) for i in range(12)]  # a new tempo every 16 beats (< 10 s)
    path = song(tmp_path / "b.mid", changes)
    tmap, *_ = tempo_map(path)
    assert constant_stretch(tmap, mido.MidiFile(path).length) is None
    assert EXCERPT_S > 10


def test_a_tempo_that_only_restates_the_mus_clock_is_recognised(tmp_path):
    tmap, _, _, tpb = tempo_map(song(tmp_path / "c.mid", [(0, 95.0)], ticks_per_beat=89))
    assert clock_tempo(tmap, tpb)
    tmap, _, _, tpb = tempo_map(song(tmp_path / "d.mid", [(0, 95.0)], ticks_per_beat=480))
    assert not clock_tempo(tmap, tpb)


def wad(path: Path, lumps: list[tuple[str, bytes]]) -> Path:
    data, directory = b"", b""
    for name, body in lumps:
        directory += struct.pack("<ii8s", 12 + len(data), len(body), name.encode())
        data += body
    path.write_bytes(struct.pack("<4sii", b"IWAD", len(lumps), 12 + len(data)) + data + directory)
    return path


def test_only_the_midi_music_of_a_wad_is_taken_and_a_song_two_wads_share_once(tmp_path):
    midi = song(tmp_path / "e.mid", [(0, 128.0)], beats=8).read_bytes()
    one = wad(tmp_path / "one.wad", [("D_RUNNIN", midi), ("D_OLD", b"MUS\x1a" + bytes(32)), ("PLAYPAL", bytes(64))])
    two = wad(tmp_path / "two.wad", [("D_AGAIN", midi)])
    songs = midi_from_wads([one, two], tmp_path / "out")
    assert [p.name for p in songs] == ["one_D_RUNNIN.mid"]
    assert songs[0].read_bytes() == midi


def project(path: Path, head: str) -> Path:
    """An LMMS project with this header; .mmpz files are compressed as Qt's qCompress does it."""
    xml = f'<?xml version="1.0"?><lmms-project version="1.0"><head {head}</head><song/></lmms-project>'.encode()
    data = struct.pack(">I", len(xml)) + zlib.compress(xml) if path.suffix == ".mmpz" else xml
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_lmms_tempo_comes_from_the_header_of_plain_and_compressed_projects(tmp_path):
    plain = lmms_song(project(tmp_path / "demos" / "a.mmp", 'bpm="87" timesig_numerator="4" timesig_denominator="4">'))
    packed = lmms_song(project(tmp_path / "demos" / "b.mmpz", 'bpm="177" timesig_numerator="6" timesig_denominator="8">'))
    assert (plain.tmap, plain.meter, plain.left_out) == ([(0.0, 87.0)], "4/4", "")
    assert (packed.tmap, packed.meter, packed.left_out) == ([(0.0, 177.0)], "6/8", "")


def test_lmms_song_with_automated_tempo_is_left_out_and_tutorials_are_not_songs(tmp_path):
    automated = project(tmp_path / "demos" / "c.mmpz", 'timesig_numerator="4" timesig_denominator="4"><bpm value="140" id="7"/>')
    project(tmp_path / "tutorials" / "d.mmp", 'bpm="140">')
    assert lmms_song(automated).left_out == "its tempo is automated"
    assert [p.name for p in lmms_projects(tmp_path)] == ["c.mmpz"]
