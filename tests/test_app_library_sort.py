"""Sorting the library by a header click, in the real window: numbers in numeric order, text without
regard to case, empty cells last in both directions; the search filter, the selection and rating
edits keep working on a sorted table, and a reload comes back in the order the user chose."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from PySide6.QtCore import QPoint, Qt

from app.widgets.library_model import COLUMNS
from app.widgets.rating import LIKE

# title, artist, tempo (None: not measured); "9" < "60" < "100" only when compared as numbers
TRACKS = [("banana split", "Zappa", 100.0), ("Apple pie", "abba", 9.0), ("cherry", None, 60.0),
          ("Date night", "Beck", None), ("elderberry", "beck", 140.0)]


def fill(engine) -> None:
    from musicrec_engine.attributes import Attribute

    for i, (title, artist, tempo) in enumerate(TRACKS):
        attrs = {"energy": Attribute(0.1 * (i + 1), "measured", 1.0)}
        if tempo is not None:
            attrs["tempo"] = Attribute(tempo, "measured", 1.0)
        res = SimpleNamespace(path=f"/music/{i}.flac", status="ok", error=None, duration=60.0 + i,
                              content_hash=f"h{i}", features={}, feature_names={}, schema_hash={}, attributes=attrs)
        engine.library.store_analysis(res, tags={"title": title, **({"artist": artist} if artist else {})})


@pytest.fixture
def w(open_window, qtbot):
    w = open_window(fill, persist_state=False)
    qtbot.waitUntil(lambda: w.loaded_once, timeout=10000)
    assert w.model.rowCount() == len(TRACKS)
    return w


def click_header(qtbot, page, name: str) -> Qt.SortOrder:
    """Click a column's header as a user does; returns the order the header now shows."""
    hh = page.table.horizontalHeader()
    col = COLUMNS.index(name)
    x = hh.sectionViewportPosition(col) + hh.sectionSize(col) // 2
    qtbot.mouseClick(hh.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, hh.height() // 2))
    assert hh.sortIndicatorSection() == col
    return hh.sortIndicatorOrder()


def shown(page, name: str) -> list[str]:
    col = COLUMNS.index(name)
    return [page.proxy.index(r, col).data() for r in range(page.proxy.rowCount())]


def expect(values: list, order: Qt.SortOrder, key=lambda v: v) -> list:
    """The order a user expects: by value, empty cells last whichever way the column is sorted."""
    present = sorted((v for v in values if v), key=key, reverse=order == Qt.SortOrder.DescendingOrder)
    return present + [v for v in values if not v]


def test_a_header_click_sorts_numbers_numerically_and_text_without_case(w, qtbot):
    page = w.library
    bpm = [f"{t:.0f}" if t is not None else "" for _, _, t in TRACKS]
    first = click_header(qtbot, page, "BPM")
    second = click_header(qtbot, page, "BPM")
    assert {first, second} == {Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder}
    assert shown(page, "BPM") == expect(bpm, second, key=float)
    click_header(qtbot, page, "BPM")
    assert shown(page, "BPM") == expect(bpm, first, key=float)
    assert shown(page, "BPM")[:3] == (["9", "60", "100"] if first == Qt.SortOrder.AscendingOrder else
                                      ["140", "100", "60"])

    titles = [t for t, _, _ in TRACKS]
    for _ in range(2):
        order = click_header(qtbot, page, "Title")
        assert shown(page, "Title") == expect(titles, order, key=str.casefold)
    artists = [a or "" for _, a, _ in TRACKS]
    for _ in range(2):
        order = click_header(qtbot, page, "Artist")
        # "Beck" and "beck" are one artist to the sort: which of them comes first is left open
        assert [a.casefold() for a in shown(page, "Artist")] == [
            a.casefold() for a in expect(artists, order, key=str.casefold)]
        assert shown(page, "Artist")[-1] == ""  # the track without an artist, last both ways
    # the rows are whole rows: each title still sits beside its own tempo
    pairs = dict(zip(shown(page, "Title"), shown(page, "BPM"), strict=True))
    assert pairs == {t: (f"{b:.0f}" if b is not None else "") for t, _, b in TRACKS}


def test_filter_selection_and_ratings_keep_working_on_a_sorted_table(w, qtbot):
    page = w.library
    order = click_header(qtbot, page, "BPM")
    page.filter.setText("e")  # apple, date, cherry, elderberry; not "banana split"
    assert sorted(shown(page, "Title")) == ["Apple pie", "Date night", "cherry", "elderberry"]
    bpm = {t: f"{b:.0f}" if b is not None else "" for t, _, b in TRACKS}
    assert shown(page, "BPM") == expect([bpm[t] for t in shown(page, "Title")], order, key=float)
    assert page.count_label.text() == f"4 of {len(TRACKS)} tracks"
    page.filter.clear()
    assert len(shown(page, "Title")) == len(TRACKS)

    # a selected track stays selected when the table is sorted again
    page.select_titles({"cherry"})
    click_header(qtbot, page, "Title")
    assert [t["title"] for t in page.selected_tracks()] == ["cherry"]
    (sel,) = page.table.selectionModel().selectedRows()
    assert sel.data() == "cherry"

    # rating it while sorted by rating: its cell changes and its row does not move
    click_header(qtbot, page, "Rating")
    before = shown(page, "Title")
    page.select_titles({"cherry"})
    with qtbot.waitSignal(w.jobs.rated, timeout=10000):
        w.rate_selected(LIKE)
    assert shown(page, "Title") == before
    assert shown(page, "Rating")[before.index("cherry")] == "♥ liked"
    assert [t["title"] for t in page.selected_tracks()] == ["cherry"]


def test_a_reload_comes_back_in_the_order_the_user_chose(w, qtbot):
    page = w.library
    order = click_header(qtbot, page, "BPM")
    expected = shown(page, "Title")
    page.filter.setText("e")
    with qtbot.waitSignal(w.library_loaded, timeout=10000):
        w.jobs.load()  # as after an analysis batch that moved files
    assert page.table.horizontalHeader().sortIndicatorOrder() == order
    assert shown(page, "Title") == [t for t in expected if "e" in t.casefold()]
    page.filter.clear()
    assert shown(page, "Title") == expected
