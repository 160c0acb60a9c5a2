"""Playlist jobs: making one (seeds, taste radio, path, filter), the saved playlists (list, open,
save, edit, delete), exports, and playing a playlist through app.playback.Player. Engine calls run
in the worker pool; answers come back by signals in the GUI thread."""

from __future__ import annotations

import contextlib
import logging

from PySide6.QtCore import QObject, QTimer, Signal

from app import playback
from app.workers import Workers, collector_paused

log = logging.getLogger(__name__)
PREPARE_DELAY_MS = 300


class PlaylistsController(QObject):
    made = Signal(object)  # a playlist dict from Engine.make_playlist (not saved yet)
    opened = Signal(object)  # a saved playlist (Engine.playlist)
    listed = Signal(object)  # the saved playlists
    exported = Signal(object)  # Engine.export_playlist's report (+ "open": bool)
    failed = Signal(str)
    busy = Signal(bool)
    # playback
    now_playing = Signal(int, float)  # the playlist row playing, its length in seconds
    position = Signal(float)
    stopped = Signal()
    play_failed = Signal(str)
    _track_ended = Signal(str)  # from PortAudio's thread, queued to the GUI thread

    def __init__(self, engine, workers: Workers, parent=None):
        super().__init__(parent)
        self.engine, self.workers = engine, workers
        self.player = None
        self.queue: list[dict] = []  # the tracks of the playlist being played
        self.row = -1
        self.tick = QTimer(self)
        self.tick.setInterval(200)
        self.tick.timeout.connect(lambda: self.player and self.position.emit(self.player.position))
        self._track_ended.connect(self._next_after_end)
        # The preparation waits a moment after the library loads: its first run imports NumPy and
        # the engine's search modules, which hold the GIL while the window paints its new table
        # for the first time, and opening a 10,000-track library stood still for 53-82 ms instead
        # of 28-30. Loads and analysis batches that end together make one preparation.
        self.prepare_timer = QTimer(self)
        self.prepare_timer.setSingleShot(True)
        self.prepare_timer.setInterval(PREPARE_DELAY_MS)
        self.prepare_timer.timeout.connect(self.prepare)

    def _decode(self, path: str):
        """Whole tracks for the player, through the engine's decoder (files are only read)."""
        return self.engine.decode_preview(path)

    # --- making and keeping --------------------------------------------------------------------
    def make(self, kind: str, **kwargs) -> None:
        self.busy.emit(True)
        self.workers.run("make playlist", lambda j: self.engine.make_playlist(kind, **kwargs), finished=self.made.emit,
                         failed=self.failed.emit, done=lambda: self.busy.emit(False))

    def prepare(self):
        """Read the library and fit (or load) the sound space in a worker, so the first "Make
        playlist" does not wait for it: after the library loads and after each analysis batch.
        Returns the job."""
        return self.workers.run("prepare playlists", lambda j: self._prepare(),
                                failed=lambda m: log.info("playlists not prepared ahead: %s", m))

    def prepare_soon(self) -> None:
        self.prepare_timer.start()

    def _prepare(self) -> int:
        # Building the pool makes a few hundred thousand objects (10,000 tracks' dicts); a full
        # collection set off among them stopped the window for half a second and more
        # (benchmarks/bench_app.py). The pool lives until the library changes, so it is frozen in.
        # (Sweeping the new objects first held the GIL another 0.1 s for the few reference cycles
        # a build leaves, which freezing keeps.)
        with collector_paused():
            return self.engine.prepare_playlists()

    def refresh_list(self) -> None:
        self.workers.run("playlists", lambda j: self.engine.playlists(), finished=self.listed.emit,
                         failed=self.failed.emit)

    def open(self, name_or_id) -> None:
        self.workers.run("open playlist", lambda j: self.engine.playlist(name_or_id), finished=self.opened.emit,
                         failed=self.failed.emit)

    def save(self, name: str, playlist, replace: bool = False) -> None:
        def done(p):
            self.opened.emit(p)
            self.refresh_list()

        self.workers.run("save playlist", lambda j: self.engine.save_playlist(name, playlist, replace=replace),
                         finished=done, failed=self.failed.emit)

    def set_tracks(self, name_or_id, ids: list[int]) -> None:
        def done(p):
            self.opened.emit(p)
            self.refresh_list()

        self.workers.run("edit playlist", lambda j: self.engine.set_playlist_tracks(name_or_id, ids),
                         finished=done, failed=self.failed.emit)

    def delete(self, name_or_id) -> None:
        self.workers.run("delete playlist", lambda j: self.engine.delete_playlist(name_or_id),
                         finished=lambda _: self.refresh_list(), failed=self.failed.emit)

    def export(self, playlist, file: str, relative: bool = False, open_after: bool = False) -> None:
        self.workers.run("export playlist",
                         lambda j: {**self.engine.export_playlist(playlist, file, relative=relative),
                                    "open": open_after},
                         finished=self.exported.emit, failed=self.failed.emit)

    def export_for_player(self, playlist) -> None:
        """Write the playlist to the cache as M3U8 and hand it to the system's default player."""
        import re

        name = (playlist.get("name") if isinstance(playlist, dict) else str(playlist)) or "playlist"
        folder = self.engine.paths.cache / "playlists"
        folder.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^\w .-]+", "_", name).strip() or "playlist"
        self.export(playlist, str(folder / f"{safe}.m3u8"), open_after=True)

    # --- playing -------------------------------------------------------------------------------
    def play_from(self, tracks: list[dict], row: int) -> None:
        """Play tracks[row], then the ones after it."""
        self.queue = list(tracks)
        self._start(row)

    def _start(self, row: int) -> None:
        if not (0 <= row < len(self.queue)):
            self.stop()
            return
        if self.player is None:
            self.player = playback.Player(self._decode, on_end=self._ended_elsewhere)
        self.row = row
        path = self.queue[row].get("path")

        def load(job):
            return self.player.load(path)

        def loaded(seconds):
            if self.row != row:  # the user moved on while it decoded
                return
            try:
                self.player.play()
            except Exception as exc:  # no device after all, or it went away
                self.play_failed.emit(f"Could not play: {exc}")
                return
            self.tick.start()
            self.now_playing.emit(row, float(seconds))

        self.workers.run("load track", load, finished=loaded,
                         failed=lambda m: (self.play_failed.emit(f"{path}: {m}"), self._start(row + 1)))

    def _ended_elsewhere(self, path) -> None:
        with contextlib.suppress(RuntimeError):  # the window closed meanwhile
            self._track_ended.emit(str(path))

    def _next_after_end(self, _path: str) -> None:
        self._start(self.row + 1)

    def toggle(self) -> None:
        if self.player is not None and self.player.path:
            self.player.toggle()

    def next(self) -> None:
        if self.queue:
            self._start(self.row + 1)

    def seek(self, seconds: float) -> None:
        if self.player is not None:
            self.player.seek(seconds)
            self.position.emit(self.player.position)

    def set_volume(self, v: float) -> None:
        if self.player is None:
            self.player = playback.Player(self._decode, on_end=self._ended_elsewhere)
        self.player.volume = v

    def stop(self) -> None:
        self.tick.stop()
        if self.player is not None:
            self.player.stop()
        self.row = -1
        self.stopped.emit()
