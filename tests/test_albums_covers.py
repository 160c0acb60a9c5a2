"""A library album shows its own cover: the picture embedded in its files (FLAC, MP3/ID3, Ogg
Vorbis, MP4) or an image beside them, read with mutagen, cached, and the files left untouched."""

import base64
import hashlib
from pathlib import Path
from types import SimpleNamespace

import pytest
from audio_fixtures import music, write
from fake_musicbrainz import PNG

from musicrec_engine.albums.covers import album_cover
from musicrec_engine.audio.synth import write_pyav
from musicrec_engine.engine import Engine


def _picture(kind=3):
    from mutagen.flac import Picture

    p = Picture()
    p.type, p.mime, p.data = kind, "image/png", PNG
    return p


def tagged(folder, ext):
    """A short real file of that format with the PNG embedded as its front cover."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"01 track{ext}"
    y = music(0.5)
    if ext == ".m4a":
        write_pyav(path, y, 22050)
    else:
        write(path, y)
    if ext == ".flac":
        from mutagen.flac import FLAC

        f = FLAC(path)
        f.add_picture(_picture())
        f.save()
    elif ext == ".mp3":
        from mutagen.id3 import APIC, ID3

        tags = ID3()
        tags.add(APIC(encoding=3, mime="image/png", type=3, desc="front", data=PNG))
        tags.save(path)
    elif ext == ".ogg":
        from mutagen.oggvorbis import OggVorbis

        f = OggVorbis(path)
        f["metadata_block_picture"] = [base64.b64encode(_picture().write()).decode()]
        f.save()
    elif ext == ".m4a":
        from mutagen.mp4 import MP4, MP4Cover

        f = MP4(path)
        f["covr"] = [MP4Cover(PNG, imageformat=MP4Cover.FORMAT_PNG)]
        f.save()
    return path


@pytest.mark.parametrize("ext", [".flac", ".mp3", ".ogg", ".m4a"])
def test_the_embedded_picture_is_found_and_the_file_is_not_written(tmp_path, ext):
    path = tagged(tmp_path / "album", ext)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    cache = tmp_path / "cache"
    found = album_cover([str(path)], cache)
    assert found is not None and found.read_bytes() == PNG and found.parent == cache
    assert album_cover([str(path)], cache) == found  # cached: the same copy
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_a_cover_beside_the_files_and_none_at_all(tmp_path):
    plain = write(tmp_path / "a" / "1.wav", music(0.3))
    assert album_cover([str(plain)], tmp_path / "cache") is None  # the initials tile stays
    (tmp_path / "a" / "Folder.PNG").write_bytes(PNG)
    found = album_cover([str(plain)], tmp_path / "cache")
    assert found is not None and found.read_bytes() == PNG
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "cover.jpg").write_bytes(b"<html>not an image</html>")  # a picture in name only
    other = write(tmp_path / "b" / "1.wav", music(0.3))
    assert album_cover([str(other)], tmp_path / "cache") is None


def test_the_engine_finds_a_library_album_s_cover(home, tmp_path):
    path = tagged(tmp_path / "album", ".flac")
    eng = Engine(home)
    tid = eng.library.store_analysis(SimpleNamespace(path=str(path), status="ok", error=None, duration=0.5,
                                                     content_hash="c", features={}, feature_names={},
                                                     schema_hash={}, attributes={}),
                                     tags={"title": "t", "artist": "A", "album": "With Art"})
    found = eng.library_album_cover([tid])
    assert found and Path(found).read_bytes() == PNG and str(eng.paths.cache) in found
    eng.close()
