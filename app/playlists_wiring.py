"""How the Playlists page, its controller and the rest of the window are connected: the Library's
selection feeds the page, "Make playlist from this" opens it, exports ask for a file and report
in the status bar. Kept out of window.py so the window stays a table of contents."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QFileDialog


def connect_playlists(window) -> None:
    page, jobs, library = window.playlists, window.playlist_jobs, window.library
    library.playlist_wanted.connect(lambda tracks: playlist_from(window, tracks))
    library.table.selectionModel().selectionChanged.connect(lambda *_a: page.set_selection(library.selected_tracks()))
    for signal, slot in (
        (page.make_requested, lambda kind, args: jobs.make(kind, **args)),
        (page.open_requested, jobs.open), (page.save_requested, jobs.save), (page.edit_requested, jobs.set_tracks),
        (page.delete_requested, jobs.delete), (page.export_requested, lambda p: export_dialog(window, p)),
        (page.open_in_player_requested, jobs.export_for_player),
        (page.add_selection_requested, lambda: page.add_tracks(library.selected_tracks())),
        (page.play_requested, jobs.play_from), (page.toggle_requested, jobs.toggle),
        (page.stop_requested, jobs.stop), (page.next_requested, jobs.next), (page.seek_requested, jobs.seek),
        (page.volume_changed, jobs.set_volume),
        (jobs.made, lambda p: page.show_playlist(p, saved=False)),
        (jobs.opened, lambda p: page.show_playlist(p, saved=True)),
        (jobs.listed, page.set_saved), (jobs.failed, page.show_message), (jobs.busy, page.set_busy),
        (jobs.exported, lambda rep: exported(window, rep)), (jobs.now_playing, page.now_playing),
        (jobs.position, page.set_position), (jobs.stopped, page.playback_stopped),
        (jobs.play_failed, lambda m: window.statusBar().showMessage(m, 8000)),
        (page.demo_requested, window.load_demo),
        (window.library_loaded, lambda: page.set_library_size(window.model.rowCount())),
        (window.analysis_finished, lambda: page.set_library_size(window.model.rowCount())),
        # the first playlist's reading and fitting, done ahead in a worker while the user looks around
        (window.library_loaded, jobs.prepare_soon), (window.analysis_finished, jobs.prepare_soon),
    ):
        signal.connect(slot)


def playlist_from(window, tracks: list) -> None:
    """"Make playlist from this": more like the selected tracks, on the Playlists page."""
    page = window.playlists
    page.set_selection(tracks)
    page.kind.setCurrentIndex(page.kind.findData("seeds"))
    window.tabs.setCurrentWidget(page)
    window.playlist_jobs.make("seeds", seeds=[t["id"] for t in tracks], **page.options())


def export_dialog(window, playlist: dict) -> None:
    file, chosen = QFileDialog.getSaveFileName(
        window, "Export playlist", str(Path.home() / f"{playlist['name']}.m3u8"),
        "M3U8 playlist (*.m3u8);;M3U8, paths relative to the playlist (*.m3u8);;XSPF playlist (*.xspf)")
    if file:
        if not file.lower().endswith((".m3u8", ".xspf")):
            file += ".xspf" if "XSPF" in chosen else ".m3u8"
        window.playlist_jobs.export(playlist, file, relative="relative" in chosen)


def exported(window, rep: dict) -> None:
    left = f"; {len(rep['skipped'])} missing file(s) left out" if rep["skipped"] else ""
    status = window.statusBar()
    if rep.get("open"):
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(rep["file"])):
            status.showMessage(f"No player opened {rep['file']}", 8000)
            return
        status.showMessage(f"Opened the playlist in your player ({rep['written']} tracks{left})", 8000)
    else:
        status.showMessage(f"Exported {rep['written']} tracks to {rep['file']}{left}", 8000)
