"""The facade: the one object the desktop app and the CLI talk to.

`Engine` owns the data folders and the library connection, and is composed of one small class per
area of the engine (engine/library.py, analysis.py, search.py, taste.py, albums.py, playlists.py,
settings.py, attributes.py). Each area's methods are thin: they delegate the work to the module that knows how
to do it. Long jobs take `progress(done, total, message)` and a `cancel` threading.Event (see
musicrec_engine/jobs.py) and never raise for one bad input: per-item failures come back as results.

Everything an Engine holds is set here, in __init__; the areas only read and replace it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from musicrec_engine import paths as data_paths
from musicrec_engine.engine.albums import AlbumsArea
from musicrec_engine.engine.analysis import AnalysisArea
from musicrec_engine.engine.attributes import AttributesArea
from musicrec_engine.engine.library import LibraryArea
from musicrec_engine.engine.playlists import PlaylistsArea
from musicrec_engine.engine.search import SearchArea
from musicrec_engine.engine.settings import SettingsArea
from musicrec_engine.engine.taste import TasteArea


class Engine(LibraryArea, AnalysisArea, SearchArea, TasteArea, AlbumsArea, PlaylistsArea, SettingsArea,
             AttributesArea):
    def __init__(self, home: str | Path | None = None):
        self.paths = data_paths.resolve(home).ensure()
        self._lock = threading.RLock()
        self._library = None  # library.store.Library, opened on first use
        self._feature_cache = None  # features.cache.FeatureCache, opened on first use
        self._similarity = None  # search.similarity.Similarity, rebuilt when the weights change
        self._similarity_weights: dict[str, float] = {}
        self._taste_model = None  # taste.model.TasteModel, loaded on first use
        self._taste_training = False
        self._cover_art = None  # online.coverart.CoverArt, made on first use
        self._playlist_pool = None  # (library stamp, similarity, playlists.generate.Pool), kept while unchanged
        self._pool_lock = threading.Lock()  # one pool built at a time, without holding _lock meanwhile

    def start_logging(self, verbose: bool = False) -> Path:
        """Log to a rotating file in this engine's log folder (and stderr when verbose); returns the file."""
        from musicrec_engine import logs

        return logs.setup(self.paths.logs, verbose=verbose)

    def close(self) -> None:
        with self._lock:
            if self._library is not None:
                self._library.close()
                self._library = None
            self._similarity = None

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
