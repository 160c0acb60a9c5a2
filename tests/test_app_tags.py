"""Tags in the app: an analysed track shows what the listening model heard as chips with their
probabilities and in the Tags column; clicking a chip, or typing tag:NAME, filters the library to
the tracks with that tag; About credits MusiCNN and its licence. Real window, real analysis."""

from __future__ import annotations

import pytest
from audio_fixtures import drums, music, write
from PySide6.QtCore import Qt
from test_app_analysis import drop

from app.widgets.library_model import COLUMNS


@pytest.fixture(autouse=True)
def one_patch(monkeypatch):
    monkeypatch.setenv("MUSICREC_LISTEN_PATCHES", "1")


def shown_paths(page) -> set[str]:
    return {page.proxy.index(r, 0).data(Qt.ItemDataRole.ToolTipRole).rsplit("/", 1)[-1]
            for r in range(page.proxy.rowCount())}


def test_tag_chips_show_and_a_click_filters_the_library(window, qtbot, tmp_path):
    files = [write(tmp_path / "beat one.wav", drums(5.0, bpm=126, seed=1)),
             write(tmp_path / "beat two.wav", drums(5.0, bpm=140, seed=2)),
             write(tmp_path / "tune.wav", music(5.0, key=4, bpm=76, seed=7))]
    with qtbot.waitSignal(window.analysis_finished, timeout=600000):  # a busy machine: the analysis child is slow to start
        drop(window.library.currentWidget(), files)
    page = window.library
    assert page.model.rowCount() == 3
    by_name = {t["path"].rsplit("/", 1)[-1]: t for t in page.model.tracks}
    for row, t in enumerate(page.model.tracks):
        assert t["tags"], "an analysed track has tags"
        assert page.model.index(row, COLUMNS.index("Tags")).data().startswith(t["tags"][0]["tag"])

    page.select_track_id(by_name["beat one.wav"]["id"])
    chips = page.detail.tags.chips
    assert chips and page.detail.tags.isVisible()
    beat_tags = [t["tag"] for t in by_name["beat one.wav"]["tags"]]
    assert [c.property("tag") for c in chips] == beat_tags[: len(chips)]
    assert chips[0].text().endswith("%") and "probability" in chips[0].toolTip()

    # a tag the drum tracks have and the tune has not: clicking it leaves the drum tracks
    tune_tags = {t["tag"] for t in by_name["tune.wav"]["tags"]}
    chip = next((c for c in chips if c.property("tag") not in tune_tags), None)
    assert chip is not None, (beat_tags, tune_tags)
    tag = chip.property("tag")
    qtbot.mouseClick(chip, Qt.MouseButton.LeftButton)
    assert page.filter.text() == "tag:" + tag.replace(" ", "_")
    expected = {n for n, t in by_name.items() if tag in {x["tag"] for x in t["tags"]}}
    assert "beat one.wav" in expected and "tune.wav" not in expected
    assert shown_paths(page) == expected
    assert page.count_label.text() == f"{len(expected)} of 3 tracks"

    # typing the term does the same; an unknown tag shows nothing; clearing shows all
    page.filter.clear()
    qtbot.keyClicks(page.filter, "tag:" + next(iter(tune_tags)).replace(" ", "_"))
    assert "tune.wav" in shown_paths(page)
    page.filter.setText("tag:no_such_tag")
    assert shown_paths(page) == set()
    page.filter.clear()
    assert page.proxy.rowCount() == 3


def test_about_credits_the_listening_model(qtbot, home):
    from app.about import AboutDialog

    dlg = AboutDialog(str(home))
    qtbot.addWidget(dlg)
    text = dlg.text.toPlainText()
    assert "MusiCNN" in text and "ISC" in text and "Universitat Pompeu Fabra" in text
    assert "Permission to use, copy, modify" in text
