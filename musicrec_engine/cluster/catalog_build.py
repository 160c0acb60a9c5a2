"""`catalog build`: an archive of audio files turned into a catalog file (Parquet) that `catalog
import` reads, analysed on this machine's process pool or on a Dask cluster (a runner, as for
`analyze --cluster`). Files the output already holds, unchanged, are not analysed again, so an
interrupted build is finished by running it again; a file that cannot be analysed is reported
and the build goes on (it gets no row, and the next run tries it again)."""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field

from musicrec_engine.analysis.pipeline import Runner, analyze_paths
from musicrec_engine.audio.files import iter_audio_files
from musicrec_engine.cluster.catalog_file import CatalogWriter
from musicrec_engine.jobs import Progress
from musicrec_engine.library.tags import read_tags


@dataclass
class BuildReport:
    out: str
    files: int = 0  # audio files found
    held: int = 0  # already in the output and unchanged: not analysed again
    analysed: int = 0  # analysed now and written
    failed: list[dict] = field(default_factory=list)  # {"path", "error"} per file that could not be analysed
    rows: int = 0  # rows in the finished file
    cancelled: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        if self.cancelled:
            return (f"catalog build stopped: {self.analysed} files analysed now, {self.held} held from before; "
                    f"run the same command again to finish {self.out}")
        s = (f"catalog file {self.out}: {self.rows} tracks ({self.analysed} analysed now, {self.held} already "
             f"in it) in {self.seconds:.1f} s")
        return s + (f"; {len(self.failed)} files could not be analysed" if self.failed else "")

    def to_dict(self) -> dict:
        return asdict(self)


def build_catalog(paths, out, *, jobs: int | None = None, runner: Runner | None = None, window: str = "full",
                  progress: Progress | None = None, cancel: threading.Event | None = None,
                  on_result=None) -> BuildReport:
    """Analyse the audio files under `paths` that `out` does not hold yet and write the catalog
    file. `on_result(result)` after each analysed file (e.g. to print it)."""
    t0 = time.perf_counter()
    cancel = cancel or threading.Event()
    writer = CatalogWriter(out, window)
    files = [str(p) for p in iter_audio_files(paths)]
    todo = [f for f in files if not writer.holds(f)]
    rep = BuildReport(out=str(out), files=len(files), held=len(files) - len(todo))

    def step(done: int, total: int, path: str) -> None:
        if progress:
            progress(rep.held + done, rep.files, path)

    for result in analyze_paths(todo, jobs=jobs, progress=step, cancel=cancel, window=window, runner=runner):
        if result.ok:
            writer.add(result, read_tags(result.path))
            rep.analysed += 1
        else:
            rep.failed.append({"path": result.path, "error": result.error})
        if on_result:
            on_result(result)
    rep.cancelled = cancel.is_set() and rep.analysed + len(rep.failed) < len(todo)
    if not rep.cancelled:
        rep.rows = writer.finish()
    rep.seconds = time.perf_counter() - t0
    return rep

