"""The real-recording benchmark sets: the held-out set must never share a recording with the set the
listening settings were tuned on, or its figures would not be held out."""

import hashlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import realmusic  # noqa: E402
import realmusic_heldout  # noqa: E402


def test_an_unknown_set_name_is_refused_with_the_names_that_exist():
    with pytest.raises(ValueError, match="tuning, heldout"):
        realmusic.albums(which="held-out")


def test_copyright_paragraphs_give_each_listed_file_its_holder(tmp_path, monkeypatch):
    doc = tmp_path / "usr/share/doc/somegame-data"
    doc.mkdir(parents=True)
    (doc / "copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: *\nCopyright: The Game Authors\nLicense: GPL-2+\n\n"
        "Files: ./dat/snd/music/calm.ogg ./dat/snd/music/storm.ogg\n"
        "       ./dat/snd/music/dawn.ogg\nCopyright: 2007, Jane Doe <jane@example.org>\nLicense: CC-BY-3.0\n\n"
        "Files: data/music/track_*.ogg\nCopyright: Someone Else\nLicense: CC0\n")
    real_path = Path

    def fake_path(p, *rest):  # the module reads /usr/share/doc/<package>/copyright
        p = str(p)
        return real_path(str(tmp_path) + p if p.startswith("/usr/share/doc/") else p, *rest)

    monkeypatch.setattr(realmusic_heldout, "Path", fake_path)
    got = realmusic_heldout.copyright_holders("somegame-data", "snd/music/")
    assert got == {"calm": "Jane Doe", "storm": "Jane Doe", "dawn": "Jane Doe"}
    assert realmusic_heldout.copyright_holders("absent-package", "music/") == {}


def _installed(packages) -> bool:
    return any(Path(f"/usr/share/doc/{p}").exists() for p in packages)


@pytest.mark.skipif(not (_installed(realmusic.PACKAGES) and _installed(realmusic_heldout.PACKAGES)),
                    reason="the Debian game-music packages of both real-recording sets are not installed")
def test_the_held_out_set_shares_no_recording_with_the_tuning_set():
    tuning = realmusic.all_tracks(realmusic.albums())
    heldout = realmusic.all_tracks(realmusic.albums(which="heldout"))
    assert heldout and tuning
    assert not {t.key for _, t in tuning} & {t.key for _, t in heldout}
    assert not {t.source for _, t in tuning} & {t.source for _, t in heldout}

    # byte-identical copies: only files of equal size can be, so only those are read
    sizes = {Path(t.source).stat().st_size: t for _, t in tuning if t.kind == "file"}
    for _, t in heldout:
        twin = sizes.get(Path(t.source).stat().st_size)
        if twin is not None:
            assert hashlib.sha1(Path(t.source).read_bytes()).digest() != \
                hashlib.sha1(Path(twin.source).read_bytes()).digest(), (t.key, twin.key)
    assert all(t.seconds >= realmusic.MIN_SECONDS for _, t in heldout)
    assert not any(t.key in realmusic_heldout.EXCLUDED for _, t in heldout)
