"""The Albums tab fills from an imported catalog and from a (fake, local) MusicBrainz search."""

import csv

import fake_musicbrainz
from fake_musicbrainz import FakeMusicBrainz
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
from PySide6.QtGui import QColor, QImage

from musicrec_engine.library.catalogs import import_csv

SPOTIFY_COLUMNS = ["id", "name", "album", "album_id", "artists", "danceability", "energy", "key", "loudness",
                   "mode", "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo",
                   "year"]


def write_spotify_catalog(path, albums):
    """albums: [(title, artist, year, n_tracks, energy)] in the Spotify 1.2M schema."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(SPOTIFY_COLUMNS)
        for a, (title, artist, year, n, energy) in enumerate(albums):
            for i in range(n):
                w.writerow([f"trk{a}x{i}", f"{title} {i + 1}", title, f"alb{a}", f"['{artist}']", 0.5, energy,
                            i % 12, -8.0, 1, 0.05, 0.2, 0.1, 0.1, 0.6, 120.0, year])




def card_titles(w) -> list[str]:
    return [c.album.get("title") for c in w.albums.cards]


def test_albums_tab_lists_the_albums_of_an_imported_catalog(window, qtbot, tmp_path):
    path = tmp_path / "catalog.csv"
    write_spotify_catalog(path, [("Quiet Hours", "Ann Example", 2001, 6, 0.2),
                                 ("Loud Nights", "Bob Example", 2010, 7, 0.9)])
    import_csv(window.engine.library, path, name="test catalog")
    # The user likes every track of one album: it must come first and be recommended.
    ids = [t["id"] for t in window.engine.library.catalog_tracks() if t["album"] == "Loud Nights"]
    for i in ids:
        window.engine.library.set_catalog_rating(i, 1)

    with qtbot.waitSignal(window.albums_shown, timeout=30000):
        window.tabs.setCurrentWidget(window.albums)
    assert set(card_titles(window)) == {"Quiet Hours", "Loud Nights"}
    top = window.albums.cards[0]
    assert top.album["title"] == "Loud Nights" and top.recommended
    assert "100% of tracks liked" in top.stats.text() and "7 tracks" in top.stats.text()
    assert window.albums.message.text() == "1 of 2 albums passes your thresholds."


def png_bytes(colour="#c04060") -> bytes:
    img = QImage(8, 8, QImage.Format.Format_RGB32)
    img.fill(QColor(colour))
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    return bytes(data)


def test_musicbrainz_search_fills_the_albums_tab_with_covers(window, qtbot, monkeypatch):
    # The fake's built-in 1x1 PNG fails its zlib check, so no decoder can show it; serve a real one.
    monkeypatch.setattr(fake_musicbrainz, "PNG", png_bytes())
    with FakeMusicBrainz() as mb:
        art = mb.add_artist("Search Me", tags=("dream pop",), albums=3, tracks=5, first_year=1995)
        monkeypatch.setenv("MUSICREC_MB_HOST", mb.host)
        monkeypatch.setenv("MUSICREC_MB_RATE", "20")
        monkeypatch.setenv("MUSICREC_CAA_URL", mb.url)
        monkeypatch.delenv("MUSICREC_CONTACT", raising=False)
        window.engine.save_musicbrainz_settings(contact="listener@example.org")  # asked once, stored
        window.tabs.setCurrentWidget(window.albums)
        qtbot.waitUntil(lambda: not window.workers.busy("albums"), timeout=30000)

        window.albums.artist.setText("Search Me")
        with qtbot.waitSignal(window.albums_shown, timeout=60000):
            qtbot.mouseClick(window.albums.search, Qt.MouseButton.LeftButton)
        assert sorted(card_titles(window)) == sorted(a.title for a in art.albums)
        good = sum(c.recommended for c in window.albums.cards)
        assert window.albums.message.text() == (f"3 albums found on MusicBrainz; {good} "
                                                f"{'passes' if good == 1 else 'pass'} your thresholds.")
        assert all(r.user_agent and "listener@example.org" in r.user_agent for r in mb.requests
                   if r.path.startswith("/ws/2"))
        card = next(c for c in window.albums.cards if c.album["title"] == art.albums[0].title)
        assert card.album["source"] == "musicbrainz"
        assert "musicbrainz.org/release-group/" in card.findChild(type(card.stats), "albumLink").text()
        # Covers arrive in the background from the (fake) Cover Art Archive and replace the placeholder.
        placeholder = card.cover.pixmap().toImage()
        qtbot.waitUntil(lambda: card.cover.pixmap().toImage() != placeholder, timeout=20000)
        centre = card.cover.pixmap().toImage().pixelColor(40, 40)
        assert (centre.red(), centre.green(), centre.blue()) == (0xC0, 0x40, 0x60)
        assert any(r.path.endswith("/front-250") for r in mb.requests)
        assert window.albums.search.isEnabled()  # the form is usable again after the search


def test_a_library_album_shows_the_cover_embedded_in_its_files(window, qtbot, tmp_path):
    from types import SimpleNamespace

    from test_albums_covers import tagged

    path = tagged(tmp_path / "album", ".flac")
    window.engine.library.store_analysis(
        SimpleNamespace(path=str(path), status="ok", error=None, duration=0.5, content_hash="c", features={},
                        feature_names={}, schema_hash={}, attributes={}),
        tags={"title": "Only", "artist": "Pictured", "album": "With Art"})
    with qtbot.waitSignal(window.albums_shown, timeout=30000):
        window.tabs.setCurrentWidget(window.albums)
    (card,) = window.albums.cards
    good = int(card.recommended)
    assert window.albums.message.text() == f"{good} of 1 album {'passes' if good else 'pass'} your thresholds."
    qtbot.waitUntil(lambda: card.cover.pixmap().toImage().pixelColor(40, 40) == QColor("#c04060"), timeout=10000)


def test_a_large_embedded_cover_reaches_the_card_as_a_small_thumbnail(window, qtbot, tmp_path):
    """A 3000 x 2000 JPEG embedded in a FLAC comes back as a 256 px wide, 3:2 picture of the same colours,
    and the album's card shows it."""
    from types import SimpleNamespace

    from audio_fixtures import music, write
    from mutagen.flac import FLAC, Picture

    big = QImage(3000, 2000, QImage.Format.Format_RGB32)
    big.fill(QColor("#2a7fd0"))
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    assert big.save(buf, "JPG", 95)
    path = write(tmp_path / "album" / "01 scan.flac", music(0.5))
    f = FLAC(path)
    pic = Picture()
    pic.type, pic.mime, pic.width, pic.height, pic.data = 3, "image/jpeg", 3000, 2000, bytes(data)
    f.add_picture(pic)
    f.save()
    window.engine.library.store_analysis(
        SimpleNamespace(path=str(path), status="ok", error=None, duration=0.5, content_hash="c", features={},
                        feature_names={}, schema_hash={}, attributes={}),
        tags={"title": "Only", "artist": "Scanned", "album": "Big Art"})
    with qtbot.waitSignal(window.album_jobs.local_cover_ready, timeout=30000) as ready:
        window.tabs.setCurrentWidget(window.albums)
    thumb = QImage(ready.args[1])
    assert thumb.width() == 256 and abs(thumb.height() - 256 * 2 / 3) < 1  # the picture's 3:2 kept
    assert abs(thumb.pixelColor(128, 85).blue() - 0xD0) < 8
    (card,) = window.albums.cards
    qtbot.waitUntil(lambda: abs(card.cover.pixmap().toImage().pixelColor(40, 40).blue() - 0xD0) < 8, timeout=10000)
