"""The analysis area of the facade: analysing files in this process, one file's feature vector,
and the child-process protocol for callers that analyse in a `musicrec analyze --json` process.

The child-process protocol (documented in docs/ARCHITECTURE.md):
  command   analysis_command(paths, jobs) -> (argv, env): the CLI of this installation (the bundle's
            executable with `cli`, else `python -m musicrec_engine`) on this engine's data folder.
  stdout    one JSON object per file, as it finishes: {"path", "status": "ok"|"error", "error", ...}
            (AnalysisResult.to_json); read each line with read_analysis_line. An ok file is already
            stored in the library when its line appears, so engine.track(path) finds it.
  stderr    progress and messages, one plain line each; the caller must keep reading it (or send it
            to a file), or the child blocks once the pipe is full.
  cancel    SIGINT: the child finishes the database write in flight, stops its workers and exits 130.
  exit      0 every file ok, 1 some files failed or none were found, 2 usage error.
"""

from __future__ import annotations

import threading

from musicrec_engine import attributes
from musicrec_engine.jobs import Progress


class AnalysisArea:
    # What an analysis gives: the attribute names (Spotify's), the unit-scale ones, the key names.
    ALL_ATTRIBUTES: tuple[str, ...] = tuple(attributes.ALL_ATTRIBUTES)
    UNIT_ATTRIBUTES: tuple[str, ...] = tuple(attributes.UNIT_ATTRIBUTES)
    KEY_NAMES: tuple[str, ...] = tuple(attributes.KEY_NAMES)

    @property
    def feature_cache(self):
        with self._lock:
            if self._feature_cache is None:
                from musicrec_engine.features.cache import FeatureCache

                try:
                    self._feature_cache = FeatureCache(self.paths.cache / "features.sqlite3")
                except Exception:  # a full or read-only disk: analyse without the cache, say why in the log
                    import logging

                    logging.getLogger("musicrec.engine").warning("the feature cache cannot be used", exc_info=True)
                    return None
            return self._feature_cache

    def analyze(self, paths, jobs: int | None = None, progress: Progress | None = None,
                cancel: threading.Event | None = None, window: str = "full", cluster: str | None = None,
                path_map: list[str] | None = None):
        """Analyse files and folders (cached by content), storing each ok result in the library.

        Yields one AnalysisResult per file as it finishes; bad files are error results. With
        `cluster` (a Dask scheduler address) the files the cache does not know are analysed on its
        workers, which find them through `path_map` ("LOCAL=WORKER" folder pairs) when given."""
        import logging

        from musicrec_engine.analysis.pipeline import analyze_paths

        for result in analyze_paths(paths, jobs=jobs, progress=progress, cancel=cancel, cache=self.feature_cache,
                                    window=window, models_dir=self.paths.models, runner=_runner(cluster, path_map)):
            if result.status == "ok":
                try:
                    self.library.store_analysis(result)
                except Exception as e:  # not in the library is not ok; the analysis stays cached for a re-run
                    logging.getLogger("musicrec.engine").exception("could not store %s", result.path)
                    from dataclasses import replace

                    from musicrec_engine.errors import MusicRecError

                    why = str(e) if isinstance(e, MusicRecError) else f"{type(e).__name__}: {e}"
                    result = replace(result, status="error", error=f"analysed, but not stored in the library: {why}")
            yield result

    @staticmethod
    def build_catalog(paths, out, jobs: int | None = None, progress: Progress | None = None,
                      cancel: threading.Event | None = None, window: str = "full", cluster: str | None = None,
                      path_map: list[str] | None = None, on_result=None):
        """Analyse an archive's audio files into a catalog file (Parquet) for `import_catalog`, on
        the local process pool or, with `cluster`, on a Dask cluster (as `analyze`). Files the
        output already holds unchanged are skipped, so a re-run finishes an interrupted build.
        Returns cluster.catalog_build.BuildReport; `on_result(result)` after each analysed file."""
        from musicrec_engine.cluster.catalog_build import build_catalog

        return build_catalog(paths, out, jobs=jobs, runner=_runner(cluster, path_map), window=window,
                             progress=progress, cancel=cancel, on_result=on_result)

    def track_tags(self, file_or_id, analyse: bool = True) -> dict:
        """What the listening model heard in a library track (by id or path), or in a file, which is
        analysed and added to the library first when it is not there yet (`analyse`): {"track_id",
        "path", "tags": {"msd": {tag: prob}, "mtt": {...}}, "schema", "error"}. Raises MusicRecError
        when the file cannot be analysed."""
        from musicrec_engine.errors import MusicRecError
        from musicrec_engine.library import heard_tags as tagstore

        t = self.library.track(file_or_id)
        error = None
        if (t is None or t["status"] != "ok" or not tagstore.track_tags(self.library, t["id"])) and analyse \
                and not isinstance(file_or_id, int):
            result = next(iter(self.analyze([file_or_id], jobs=1)), None)
            if result is None:
                raise MusicRecError(f"{file_or_id}: not an audio file")
            if result.status != "ok":
                raise MusicRecError(f"{file_or_id}: {result.error}")
            error = result.listening_error
            t = self.library.track(result.path)
        if t is None:
            raise MusicRecError(f"{file_or_id}: not in the library; analyse it first (musicrec analyze PATH)")
        return {"track_id": t["id"], "path": t["path"], "tags": tagstore.track_tags(self.library, t["id"]),
                "schema": tagstore.listening_schema(self.library, t["id"]), "error": error}

    @staticmethod
    def listening_model_info() -> dict:
        """The shipped listening model's manifest (name, version, upstream, licence, licence_text),
        {} when it is missing: for credits."""
        import json

        from musicrec_engine.paths import SHIPPED_MODELS

        try:
            return json.loads((SHIPPED_MODELS / "musicnn" / "manifest.json").read_text())
        except (OSError, ValueError):
            return {}

    @staticmethod
    def tag_vocabulary() -> dict[str, list[str]]:
        """Every tag the listening model can give, per vocabulary ("msd", "mtt")."""
        from musicrec_engine.library import heard_tags as tagstore

        return tagstore.vocabulary()

    def features(self, path, pipeline: str = "mfcc", window: str = "full") -> dict:
        """One file's named feature vector: {"pipeline", "version", "schema_hash", "names", "values"}."""
        from musicrec_engine.analysis.pipeline import file_features

        return file_features(path, pipeline, window=window, cache=self.feature_cache)

    # --- the child-process protocol ---------------------------------------------------------------
    def analysis_command(self, paths, jobs: int | None = None, scan: bool = False) -> tuple[list[str], dict]:
        """The command line and environment that analyse `paths` in a child process, storing into
        this engine's library and printing one JSON line per file (see the module doc). With
        `scan`, an incremental scan of folders (`musicrec scan --each`): one line per analysed
        file, then one line {"summary": ScanReport}."""
        import os
        import sys

        env = dict(os.environ)
        if getattr(sys, "frozen", False):  # the bundle's one executable runs the CLI when asked with `cli`
            cmd = [sys.executable, "cli"]
        else:
            cmd = [sys.executable, "-m", "musicrec_engine"]
        p = self.paths
        if p.cache == p.data / "cache" and p.config == p.data / "config":
            cmd += ["--home", str(p.data)]
        else:  # the platform's own folders: the same defaults apply in the child
            env.pop("MUSICREC_HOME", None)
        cmd += ["scan", "--each"] if scan else ["analyze", "--json"]
        cmd += [*([f"--jobs={int(jobs)}"] if jobs else []), "--", *map(str, paths)]
        return cmd, env

    @staticmethod
    def read_analysis_line(line: str | bytes) -> dict | None:
        """One stdout line of the analysis child as {"path", "status", "error", ...}, or None for a
        line that is not a result. Bytes are decoded so that no file name can fail the read."""
        import json

        if isinstance(line, bytes):
            line = line.decode("utf-8", "surrogateescape")
        try:
            r = json.loads(line)
        except ValueError:
            return None
        if not isinstance(r, dict) or "path" not in r:
            return None
        r["path"] = str(r["path"])
        r.setdefault("status", "error")
        r.setdefault("error", None)
        return r

    @staticmethod
    def decode_preview(path, seconds: float | None = None):
        """The first `seconds` of a file (with None: as much as an analysis reads), mono float32,
        and its sample rate (the file is only read)."""
        from musicrec_engine.audio import decode as audio

        out = audio.decode(path) if seconds is None else audio.decode(path, max_seconds=seconds)
        return (out.y if seconds is None else out.y[: int(seconds * out.sr)]), out.sr


def _runner(cluster: str | None, path_map: list[str] | None):
    """The Dask runner for a scheduler address ("LOCAL=WORKER" folder pairs in `path_map`), or
    None for this machine's process pool. Dask is imported only here, only when asked for."""
    if not cluster:
        return None
    from musicrec_engine.cluster.dask_runner import DaskRunner
    from musicrec_engine.cluster.pathmap import PathMap

    return DaskRunner(cluster, PathMap.parse(path_map))
