"""The library area of the facade: tracks, folder scans, catalogs, ratings files, the demo library."""

from __future__ import annotations

import threading
from pathlib import Path

from musicrec_engine.audio.files import AUDIO_EXTENSIONS
from musicrec_engine.jobs import Progress


class LibraryArea:
    # The audio file name endings the engine reads (the app's file dialogs offer the same list).
    AUDIO_EXTENSIONS: tuple[str, ...] = tuple(sorted(AUDIO_EXTENSIONS))

    @property
    def library(self):
        """The library database, opened on first use (the engine's own handle: callers outside
        the engine use the facade's methods)."""
        with self._lock:
            if self._library is None:
                from musicrec_engine.library.store import Library

                self._library = Library(self.paths.library_db)
            return self._library

    # --- tracks ---------------------------------------------------------------------------------
    def tracks(self, *, filter: str | None = None, include_missing: bool = False, ids=None) -> list[dict]:
        """Library tracks as dicts (tags, file facts, attributes, rating, predicted_like), in album
        order. `filter` keeps the tracks matching every word of it, as the app's filter box does."""
        rows = self.library.tracks(include_missing=include_missing, ids=ids)
        if filter:
            from musicrec_engine.library.filter import TrackFilter

            rows = TrackFilter(filter).apply(rows)
        return rows

    def track(self, id_or_path) -> dict | None:
        """One library track by id or file path, or None."""
        return self.library.track(id_or_path)

    @staticmethod
    def track_filter(text: str):
        """The library's text filter (library.filter.TrackFilter): `.matches(track)`, and for a view
        that keeps each row's text, `TrackFilter.search_text(track)` and `.matches_text(text, track)`."""
        from musicrec_engine.library.filter import TrackFilter

        return TrackFilter(text)

    @staticmethod
    def audio_files(paths) -> list[str]:
        """The audio files under `paths` (files and folders), each once, as the analysis finds them."""
        from musicrec_engine.audio.files import iter_audio_files

        return [str(p) for p in iter_audio_files(paths)]

    def scan(self, folders, progress: Progress | None = None, cancel: threading.Event | None = None,
             jobs: int | None = None, on_result=None):
        """Incremental re-scan of music folders: new and changed files analysed, moves followed,
        gone files marked missing (ratings kept). Returns library.scan.ScanReport.
        `on_result(result)` is called for each analysed file once it is stored."""
        from musicrec_engine.analysis.pipeline import analyze_paths
        from musicrec_engine.library import scan

        def run(paths, **kw):
            # through the analysis area's feature cache, so a re-added file is not decoded again
            for result in analyze_paths(paths, cache=self.feature_cache, models_dir=self.paths.models, **kw):
                yield result
                if on_result is not None:  # the scan stored it before asking for the next one
                    on_result(result)

        return scan.scan(self.library, folders, analyze_paths=run, progress=progress, cancel=cancel, jobs=jobs)

    # --- catalogs -------------------------------------------------------------------------------
    def import_catalog(self, csv_path, name: str | None = None, progress: Progress | None = None,
                       cancel: threading.Event | None = None):
        """Stream a catalog CSV or Parquet file into the library, then build its similarity index.
        Returns catalogs.ImportReport."""
        from musicrec_engine.library import catalogs

        rep = catalogs.import_file(self.library, csv_path, name=name, progress=progress, cancel=cancel)
        if not rep.cancelled and rep.imported:
            self.similarity.forget_catalog(rep.catalog_id)
            self.similarity.catalog_index(rep.catalog_id, progress=progress, cancel=cancel)
        return rep

    def catalogs(self) -> list[dict]:
        return self.library.catalogs()

    def catalog_tracks(self, catalog=None, ids=None, limit: int | None = None, offset: int = 0) -> list[dict]:
        """Rows of one catalog (by id or name; all catalogs when None), with rating and prediction."""
        cat_id = None
        if catalog is not None:
            cat = self.library.catalog(catalog)
            if cat is None:
                return []
            cat_id = cat["id"]
        return self.library.catalog_tracks(cat_id, ids=ids, limit=limit, offset=offset)

    def remove_catalog(self, id_or_name) -> bool:
        cat = self.library.catalog(id_or_name)
        if cat is None:
            return False
        self.similarity.forget_catalog(cat["id"])
        for f in (self.paths.data / "index").glob(f"catalog-{cat['id']}-*.npy"):
            f.unlink(missing_ok=True)
        return self.library.remove_catalog(cat["id"])

    # --- ratings by MusicBrainz id and the damaged-library way out -------------------------------
    def rate_by_mbid_csv(self, csv_path) -> dict:
        """Likes and dislikes from an `mbid, liked` CSV, attached to every library and catalog track
        with that recording id (and kept for tracks that arrive later).

        Returns {"ratings", "matched", "unmatched", "problems": [one sentence per skipped row]};
        a file that cannot be read or has no such columns raises MusicRecError."""
        from musicrec_engine.taste.ratings import read_ratings_csv

        rf = read_ratings_csv(csv_path)
        counts = self.library.rate_by_mbid(rf.ratings) if rf.ratings else {"matched": 0, "unmatched": 0}
        return {"ratings": len(rf.ratings), **counts, "problems": rf.problems}

    def restore_ratings_backup(self, path=None) -> dict:
        """Bring ratings back from a backup file (default: the newest of the dated copies kept beside
        the library after every change). Returns {"file", "ratings", "restored", "waiting"}: ratings
        whose track is not there yet wait and attach when it arrives."""
        from musicrec_engine.errors import MusicRecError
        from musicrec_engine.library import ratings_backup

        path = path or ratings_backup.latest(self.library.db_path)
        if not path:
            raise MusicRecError(f"no ratings backup yet in {ratings_backup.folder(self.library.db_path)}")
        saved = ratings_backup.read(path)
        n = self.library.restore_ratings(saved)
        return {"file": str(path), "ratings": len(saved), "restored": n, "waiting": len(saved) - n}

    def reset_library(self) -> dict:
        """Set a damaged library file aside and start a new one, keeping the ratings.
        Returns {"set_aside", "ratings_saved", "ratings_file"}."""
        from musicrec_engine.library.store import start_afresh

        self.close()
        return start_afresh(self.paths.library_db)

    # --- the demo library -----------------------------------------------------------------------
    @property
    def demo_folder(self) -> Path:
        """Where the demo library's generated tracks live, inside the data folder."""
        from musicrec_engine.library.demo import DEMO_FOLDER

        return self.paths.data / DEMO_FOLDER

    def make_demo_library(self, seconds: float = 12.0) -> list[str]:
        """Generate the demo library's tagged tracks in the data folder (those not there yet) and
        return their paths, for the caller to analyse: the app in its analysis child process
        (analysis_command), anything else with analyze()."""
        from musicrec_engine.library import demo

        return [str(p) for p in demo.write_tracks(self.demo_folder, seconds)]
