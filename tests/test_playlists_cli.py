"""`musicrec playlist` as a user runs it: the files it writes parse, list existing files in the
intended order, with no disliked track and the artist gap kept; saved playlists are listed,
shown, exported and deleted; bad input is one line and exit 2."""

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote, urlparse

from conftest import run_cli
from test_playlists import make_library

from musicrec_engine.engine import Engine


def _library(home, tmp_path):
    eng = Engine(home)
    ids = make_library(eng, tmp_path / "music")
    disliked = [ids[(3, 1)], ids[(3, 2)]]
    for tid in disliked:
        eng.rate(tid, 0)
    paths = {k: eng.library.track(v)["path"] for k, v in ids.items()}
    eng.close()
    return ids, paths, disliked


def _m3u8_paths(file: Path) -> list[str]:
    lines = file.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "#EXTM3U"
    out = []
    for info, path in zip(lines[2::2], lines[3::2], strict=True):  # after #EXTM3U and #PLAYLIST
        assert info.startswith("#EXTINF:") and "," in info
        out.append(os.path.normpath(file.parent / path))
    return out


def test_playlist_from_a_file_to_m3u8_and_back_from_the_library(home, tmp_path):
    ids, paths, disliked = _library(home, tmp_path)
    out = tmp_path / "out" / "mix.m3u8"
    out.parent.mkdir()
    r = run_cli("playlist", "from", paths[(3, 0)], "--size", "10", "--artist-gap", "3", "--out", str(out),
                "--relative", "--save", "Mix", "--json", home=home)
    assert r.returncode == 0, r.stderr
    pl = json.loads(r.stdout)
    tracks = pl["tracks"]
    assert len(tracks) == 10 and tracks[0]["path"] == paths[(3, 0)]
    listed = _m3u8_paths(out)
    assert listed == [os.path.normpath(t["path"]) for t in tracks]  # the intended order
    assert all(Path(p).is_file() for p in listed)
    assert not {t["id"] for t in tracks} & set(disliked)
    artists = [t["artist"] for t in tracks]
    assert all(artists[i] not in artists[max(0, i - 3):i] for i in range(len(artists)))
    assert all(t["why"] for t in tracks)
    assert pl["saved"]["name"] == "Mix" and pl["exported"]["written"] == 10

    r = run_cli("playlist", "list", "--json", home=home)
    assert [(p["name"], p["count"]) for p in json.loads(r.stdout)] == [("Mix", 10)]
    r = run_cli("playlist", "show", "mix", home=home)  # any case
    assert r.returncode == 0 and r.stdout.startswith("Mix: 10 tracks")
    assert "the seed you chose" in r.stdout and "sounds like" in r.stdout
    xspf = tmp_path / "out" / "mix.xspf"
    r = run_cli("playlist", "export", "Mix", str(xspf), home=home)
    assert r.returncode == 0 and f"wrote 10 tracks to {xspf}" in r.stdout
    ns = {"x": "http://xspf.org/ns/0/"}
    locs = [unquote(urlparse(el.text).path) for el in ET.parse(xspf).getroot().iterfind(".//x:location", ns)]
    assert locs == [t["path"] for t in tracks]
    r = run_cli("playlist", "delete", "Mix", home=home)
    assert r.returncode == 0
    r = run_cli("playlist", "show", "Mix", home=home)
    assert r.returncode == 1 and r.stderr.strip() == "musicrec: no playlist named 'Mix' (see 'musicrec playlist list')"


def test_path_and_filter_from_the_command_line(home, tmp_path):
    ids, paths, disliked = _library(home, tmp_path)
    r = run_cli("playlist", "path", paths[(0, 0)], paths[(5, 0)], "--size", "6", "--json", home=home)
    assert r.returncode == 0, r.stderr
    tracks = json.loads(r.stdout)["tracks"]
    assert [tracks[0]["path"], tracks[-1]["path"]] == [paths[(0, 0)], paths[(5, 0)]] and len(tracks) == 6
    out = tmp_path / "rock.xspf"
    r = run_cli("playlist", "filter", "tag:rock", "--minutes", "15", "--out", str(out), home=home)
    assert r.returncode == 0, r.stderr
    assert "matches tag:rock (rock)" in r.stdout and f"to {out}" in r.stdout
    root = ET.parse(out).getroot()
    files = [unquote(urlparse(el.text).path) for el in root.iterfind(".//{http://xspf.org/ns/0/}location")]
    rock = {paths[(a, i)] for a in (2, 3) for i in range(6)} - {paths[(3, 1)], paths[(3, 2)]}
    assert files and set(files) <= rock  # rock only, and never the two disliked rock tracks
    ms = [int(el.text) for el in root.iterfind(".//{http://xspf.org/ns/0/}duration")]
    assert sum(ms) >= 15 * 60_000 > sum(ms[:-1])


def test_bad_input_is_one_line_and_exit_2(home, tmp_path):
    _library(home, tmp_path)
    for argv, said in [(["playlist", "filter", "energy<<1"], "cannot read 'energy<<1'"),
                       (["playlist", "taste", "--diversity", "2"], "--diversity must be between 0 and 1"),
                       (["playlist", "taste", "--size", "3", "--minutes", "4"], "not allowed with argument"),
                       (["playlist", "taste", "--out", "x.txt"], "ends in .m3u8 or .xspf"),
                       (["playlist", "path", "1"], "the following arguments are required: FILE")]:
        r = run_cli(*argv, home=home)
        assert r.returncode == 2, (argv, r.stderr)
        assert said in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    r = run_cli("playlist", "from", str(tmp_path / "nowhere.wav"), home=home)
    assert r.returncode == 1 and "nowhere.wav: not in the library" in r.stderr
