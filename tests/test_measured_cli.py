"""`musicrec analyze --json` carries the measured attributes with their confidence."""

from __future__ import annotations

import json

from audio_fixtures import drums, music, write
from conftest import run_cli


def test_analyze_json_has_measured_tempo_key_mode_loudness(tmp_path, home):
    path = write(tmp_path / "a_minor_96.flac", music(10.0, key=9, mode=0, bpm=96.0, seed=9))
    r = run_cli("analyze", str(path), "--json", home=home)
    assert r.returncode == 0, r.stderr
    attrs = json.loads(r.stdout.strip().splitlines()[-1])["attributes"]
    for name in ("tempo", "tempo_bin", "key", "mode", "loudness"):
        assert attrs[name]["provenance"] == "measured"
        assert 0.0 <= attrs[name]["confidence"] <= 1.0
    assert abs(attrs["tempo"]["value"] - 96.0) <= 0.04 * 96.0
    assert attrs["tempo_bin"]["value"] == 1  # 80-100 BPM
    assert (attrs["key"]["value"], attrs["mode"]["value"]) == (9, 0)
    assert -30.0 < attrs["loudness"]["value"] < -5.0


def test_analyze_prints_each_files_tempo_and_key_on_its_line(tmp_path, home):
    music_file = write(tmp_path / "a_minor_96.flac", music(10.0, key=9, mode=0, bpm=96.0, seed=9))
    drums_file = write(tmp_path / "drums.flac", drums(8.0, bpm=120.0))
    r = run_cli("analyze", str(music_file), str(drums_file), home=home)
    assert r.returncode == 0, r.stderr
    lines = {line.split()[-1].rsplit("/", 1)[-1]: line for line in r.stdout.splitlines()}
    assert "96 BPM" in lines["a_minor_96.flac"] and "A minor" in lines["a_minor_96.flac"]
    assert "no key" in lines["drums.flac"]
