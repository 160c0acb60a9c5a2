"""Library albums are grouped the way a person reads a shelf: by MusicBrainz release, by album
artist, or (a soundtrack whose tracks name only their own artists) by album within its folder; and
reasons say only what the numbers say."""

from musicrec_engine.albums import scoring as alb


def row(i, album, artist, path, album_artist=None, release=None, p=0.8, attrs=None):
    return {"id": i, "title": f"T{i}", "artist": artist, "album_artist": album_artist, "album": album,
            "path": path, "mb_release_id": release, "rating": None, "predicted_like": p,
            "attributes": {k: {"value": v} for k, v in (attrs or {}).items()}}


def test_a_soundtrack_with_per_track_artists_is_one_album():
    # as a real game soundtrack is tagged: every track by its own composer, no album artist
    rows = [row(i, "HyperRogue", a, f"/music/HyperRogue/{i:02d}.ogg")
            for i, a in enumerate(["Shawn Parrotte", "Brian Rivera", "4", "Shawn Parrotte", "Amazing Tunes"])]
    (a,) = alb.library_albums(rows)
    assert a.title == "HyperRogue" and a.artist == "Various Artists" and len(a.tracks) == 5


def test_same_title_different_album_artists_or_folders_stay_apart():
    rows = [row(1, "Greatest Hits", "Queen", "/m/a/1.flac", album_artist="Queen"),
            row(2, "Greatest Hits", "ABBA", "/m/a/2.flac", album_artist="ABBA"),
            row(3, "Live", "Band", "/m/live1/1.flac"), row(4, "Live", "Band", "/m/live2/1.flac")]
    albums = alb.library_albums(rows)
    assert sorted((a.artist, a.title, len(a.tracks)) for a in albums) == [
        ("ABBA", "Greatest Hits", 1), ("Band", "Live", 1), ("Band", "Live", 1), ("Queen", "Greatest Hits", 1)]


def test_a_release_id_or_disc_folders_hold_a_multi_disc_album_together():
    rel = "0a1b2c3d-0000-4000-8000-000000000001"
    rows = [row(1, "Box", "A", "/m/Box/CD1/1.flac", release=rel), row(2, "Box", "B", "/m/Box/CD2/1.flac", release=rel),
            row(3, "Opera", "C", "/m/Opera/Disc 1/1.flac"), row(4, "Opera", "C", "/m/Opera/Disc 2/1.flac")]
    albums = {a.title: a for a in alb.library_albums(rows)}
    assert len(albums["Box"].tracks) == 2 and albums["Box"].release_id == rel
    assert len(albums["Opera"].tracks) == 2 and albums["Opera"].artist == "C"


def test_reasons_never_call_low_speechiness_singing():
    quiet = {"speechiness": 0.04, "instrumentalness": 0.99}
    albums = [alb.Album("k:i", "Instrumentals", "X", "library",
                        [alb.AlbumTrack(f"t{i}", 0.9, dict(quiet)) for i in range(5)]),
              alb.Album("k:o", "Others", "Y", "library",
                        [alb.AlbumTrack(f"o{i}", 0.2, {"speechiness": 0.3, "instrumentalness": 0.1})
                         for i in range(5)])]
    ranked = alb.rank(albums, alb.Thresholds())
    text = " ".join(ranked[0].reasons)
    assert ranked[0].album.title == "Instrumentals" and "instrumental (instrumentalness 0.99" in text
    assert "sung" not in text and "speechiness" not in text


def test_reasons_give_tempo_and_loudness_in_their_units():
    said = alb.describe_attributes([{"tempo": 122.07, "loudness": -4.4}], {"tempo": (104.55, 10.0),
                                                                          "loudness": (-12.3, 3.0)})
    assert said == ["loud (loudness -4 dB vs -12 dB typical)", "fast (tempo 122 BPM vs 105 BPM typical)"]


def test_a_compilation_flag_read_from_real_files_makes_one_various_artists_album(eng, tmp_path):
    """MP3 (ID3 TCMP), M4A (cpil) and FLAC (COMPILATION=1), filed under each artist's folder with no
    album artist, scanned for real: one album, credited to Various Artists."""
    from audio_fixtures import music, tag_file, write
    from mutagen.id3 import ID3, TCMP
    from mutagen.mp4 import MP4

    from musicrec_engine.audio.synth import write_pyav

    made = {}
    for i, (artist, ext) in enumerate([("Ana", ".mp3"), ("Bo", ".m4a"), ("Cy", ".flac")]):
        path = tmp_path / artist / "Summer Mix" / f"0{i + 1} song{ext}"
        path.parent.mkdir(parents=True)
        y = music(1.0, key=i, bpm=100 + 10 * i, seed=i)
        write_pyav(path, y, 22050) if ext == ".m4a" else write(path, y)
        tag_file(path, title=f"Song {i}", artist=artist, album="Summer Mix")
        if ext == ".mp3":
            tags = ID3(path)
            tags.add(TCMP(encoding=3, text=["1"]))
            tags.save(path)
        elif ext == ".m4a":
            f = MP4(path)
            f["cpil"] = True
            f.save()
        else:
            tag_file(path, compilation="1")
        made[artist] = path
    # the same title by one artist, not flagged: an album of its own, credited to that artist
    alone = tmp_path / "Dee" / "Summer Mix" / "01 other.flac"
    alone.parent.mkdir(parents=True)
    tag_file(write(alone, music(1.0, key=5, seed=5)), title="Other", artist="Dee", album="Summer Mix")
    report = eng.scan([str(tmp_path)], jobs=1)
    assert (report.analysed, report.failed) == (4, [])
    flags = {t["artist"]: t["compilation"] for t in eng.library.tracks()}
    assert flags == {"Ana": 1, "Bo": 1, "Cy": 1, "Dee": None}
    albums = eng.albums(source="library", thresholds={"min_tracks": 1})["albums"]
    assert sorted((a["artist"], a["title"], a["total"]) for a in albums) == [
        ("Dee", "Summer Mix", 1), ("Various Artists", "Summer Mix", 3)]
    # one flagged file alone is still a compilation, not an album by its one artist
    assert alb.library_albums([row(1, "Hits", "Ana", "/m/Ana/Hits/1.mp3") | {"compilation": 1}])[0].artist \
        == "Various Artists"
