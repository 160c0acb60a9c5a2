"""The library table stays fast and correct at 50,000 rows: cell look-ups, filtering, sorting."""

import random
import time

from PySide6.QtCore import Qt

from app.widgets.library_model import COLUMNS, LibraryFilter, LibraryModel


def fake_library(n: int, seed: int = 0) -> list[dict]:
    """Rows shaped like Library.tracks(): tags, duration, attributes with provenance, rating, prediction."""
    rng = random.Random(seed)
    names = ["Bach", "Coltrane", "Dylan", "Eno", "Fela", "Gould", "Holiday"]
    rows = []
    for i in range(n):
        attrs = {name: {"value": rng.random(), "provenance": "estimated", "confidence": 0.5}
                 for name in ("energy", "valence", "danceability", "acousticness")}
        attrs["tempo"] = {"value": rng.uniform(60, 180), "provenance": "measured", "confidence": 0.9}
        attrs["key"] = {"value": rng.randrange(12), "provenance": "measured", "confidence": 0.8}
        attrs["mode"] = {"value": rng.randrange(2), "provenance": "measured", "confidence": 0.8}
        artist = f"{names[i % 7]} {i % 500}"
        rows.append({"id": i + 1, "path": f"/music/{artist}/album {i % 3000}/track {i}.flac",
                     "title": f"Track {i}", "artist": artist, "album": f"Album {i % 3000}",
                     "duration": rng.uniform(60, 600), "attributes": attrs,
                     "rating": rng.choice([None, None, 1, 0]), "predicted_like": rng.random()})
    return rows


def test_cells_are_fast_on_50000_rows(qapp):
    model = LibraryModel()
    model.set_tracks(fake_library(50_000))
    assert model.rowCount() == 50_000 and model.columnCount() == len(COLUMNS)
    indexes = [model.index(r, c) for r in range(0, 50_000, 25) for c in range(len(COLUMNS))]
    role = Qt.ItemDataRole.DisplayRole
    t0 = time.perf_counter()
    for _ in range(3):
        for ix in indexes:
            model.data(ix, role)
    per_cell = (time.perf_counter() - t0) / (3 * len(indexes))
    assert per_cell < 1e-4, f"data() took {per_cell * 1e3:.3f} ms per cell"


def test_filter_and_sort_find_what_a_user_asks_for(qapp):
    model = LibraryModel()
    tracks = fake_library(5_000, seed=1)
    model.set_tracks(tracks)
    proxy = LibraryFilter()
    proxy.setSourceModel(model)

    proxy.set_text("COLTRANE  Minor")
    expected = {t["id"] for t in tracks if t["artist"].startswith("Coltrane") and t["attributes"]["mode"]["value"] == 0}
    shown = {proxy.index(r, 0).data(Qt.ItemDataRole.UserRole + 2) for r in range(proxy.rowCount())}
    assert shown == expected and shown

    proxy.set_text("")
    assert proxy.rowCount() == 5_000
    tempo_col = COLUMNS.index("BPM")
    proxy.sort(tempo_col, Qt.SortOrder.DescendingOrder)
    fastest = max(tracks, key=lambda t: t["attributes"]["tempo"]["value"])
    assert proxy.index(0, 0).data() == fastest["title"]
    assert proxy.index(0, tempo_col).data() == f"{fastest['attributes']['tempo']['value']:.0f}"


def test_rating_and_prediction_updates_show_in_their_columns(qapp):
    model = LibraryModel()
    model.set_tracks(fake_library(10, seed=2))
    model.set_field({3: 1, 4: 0}, "rating")
    model.set_field({3: 0.876}, "predicted_like")
    row = model.row_of(3)
    assert model.index(row, COLUMNS.index("Rating")).data() == "♥ liked"
    assert model.index(model.row_of(4), COLUMNS.index("Rating")).data() == "✕ disliked"
    assert model.index(row, COLUMNS.index("Like %")).data() == "88%"
    assert model.counts()[0] >= 1
