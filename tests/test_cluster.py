"""Analysing on a Dask cluster: a real LocalCluster of two single-threaded worker processes on
127.0.0.1 runs the same per-file analysis as the local process pool, streams results back, keeps
going when a worker is killed or cannot see a file, and cancels what is still out."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
import time

import numpy as np
import pytest
from audio_fixtures import music, write
from conftest import run_cli

distributed = pytest.importorskip("distributed", reason="the cluster tests need Dask: pip install 'musicrec[cluster]'")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """One cluster for the module (starting one costs seconds). The workers are spawned with this
    environment: one listening patch per file, as in the client, and a data folder of their own."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MUSICREC_LISTEN_PATCHES", "1")
        mp.setenv("MUSICREC_HOME", str(tmp_path_factory.mktemp("worker-home")))
        mp.setenv("MUSICREC_CLUSTER_TIMEOUT", "5")
        c = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                     dashboard_address=None)
        client = distributed.Client(c, set_as_default=False)
        try:
            yield c, client
        finally:
            client.close()
            c.close()


@pytest.fixture
def clips(tmp_path_factory):
    """Short generated tracks in different keys and tempos, one folder."""
    def make(n: int, seconds: float = 3.0):
        folder = tmp_path_factory.mktemp("music")
        return [str(write(folder / f"track {i}.flac", music(seconds, key=i % 12, mode=i % 2, bpm=90 + 9 * i,
                                                           seed=i))) for i in range(n)]
    return make


def _lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def test_the_cluster_gives_the_local_pools_results(cluster, clips):
    from musicrec_engine.analysis.pipeline import analyze_paths
    from musicrec_engine.cluster.dask_runner import DaskRunner

    files = clips(6)
    local = {r.path: r for r in analyze_paths(files, jobs=2)}  # 6 files: the two-process pool, as today
    remote = {r.path: r for r in analyze_paths(files, runner=DaskRunner(cluster[0].scheduler_address))}
    assert set(remote) == set(local) == set(files)
    for f in files:
        a, b = local[f], remote[f]
        assert a.ok and b.ok, (a.error, b.error)
        assert b.content_hash == a.content_hash and b.duration == pytest.approx(a.duration)
        for p in a.features:
            assert b.schema_hash[p] == a.schema_hash[p]
            np.testing.assert_allclose(b.features[p], a.features[p], rtol=1e-4, atol=1e-5)
        assert set(b.attributes) == set(a.attributes)
        for k, attr in a.attributes.items():
            assert b.attributes[k].value == pytest.approx(attr.value, rel=1e-4, abs=1e-5), k
            assert b.attributes[k].provenance == attr.provenance
        for v in a.embeddings:
            np.testing.assert_allclose(b.embeddings[v], a.embeddings[v], rtol=1e-4, atol=1e-5)
    tempos = sorted(round(float(local[f].attributes["tempo"].value)) for f in files)
    assert len(set(tempos)) > 1  # different tracks, different answers: not one value copied around


def test_analyze_on_the_cluster_stores_resumes_and_reports_files_a_worker_cannot_see(cluster, clips, tmp_path,
                                                                                       home):
    files = clips(3)
    here = os.path.dirname(files[0])
    there = tmp_path / "as the workers mount it"
    there.mkdir()
    for f in files[:2]:  # the third file is missing on the workers' side
        shutil.copy(f, there)
    cmd = ["analyze", here, "--json", "--cluster", cluster[0].scheduler_address, "--path-map", f"{here}={there}"]
    r = run_cli(*cmd, home=home)
    assert r.returncode == 1, r.stderr
    rows = {os.path.basename(x["path"]): x for x in _lines(r.stdout)}
    assert set(rows) == {"track 0.flac", "track 1.flac", "track 2.flac"}
    assert all(rows[f"track {i}.flac"]["status"] == "ok" and not rows[f"track {i}.flac"]["cached"] for i in (0, 1))
    missing = rows["track 2.flac"]
    assert missing["status"] == "error" and missing["error"].startswith("the file does not exist")
    assert str(there / "track 2.flac") in missing["error"] and "Dask worker" in missing["error"]
    assert rows["track 0.flac"]["path"] == files[0]  # named by the local path, not the worker's
    assert "1 of 3 files could not be analysed" in r.stderr

    from musicrec_engine.engine import Engine

    with Engine(home) as eng:
        stored = {t["path"]: t for t in eng.library.tracks()}
    assert {os.path.realpath(f) for f in files[:2]} <= set(stored)
    assert stored[os.path.realpath(files[0])]["attributes"]["tempo"]["value"] > 0

    again = run_cli(*cmd, home=home)  # resume: the two analysed files are answered before submission
    rows = {os.path.basename(x["path"]): x for x in _lines(again.stdout)}
    assert rows["track 0.flac"]["cached"] is True and rows["track 1.flac"]["cached"] is True
    assert rows["track 2.flac"]["status"] == "error"


def test_a_worker_killed_mid_batch_loses_no_file(cluster, clips):
    from musicrec_engine.cluster.dask_runner import DaskRunner

    c, client = cluster
    files = clips(8)
    results = DaskRunner(c.scheduler_address)(files, "full", threading.Event())
    first = next(results)
    busy = {w: keys for w, keys in client.processing().items() if keys}
    assert busy, "no worker had files in hand after the first result"
    victim = next(iter(busy))
    pid = client.run(os.getpid, workers=[victim])[victim]
    os.kill(pid, signal.SIGKILL)
    rest = list(results)
    paths = [first.path] + [r.path for r in rest]
    assert sorted(paths) == sorted(files)  # each file once: the killed worker's files were run again
    assert all(r.ok for r in [first, *rest]), [r.error for r in [first, *rest] if not r.ok]
    client.wait_for_workers(2, timeout=60)  # the nanny brings the worker back for the next tests


def test_cancel_withdraws_the_files_still_out(cluster, clips):
    from musicrec_engine.cluster.dask_runner import DaskRunner

    c, client = cluster
    files = clips(10)
    cancel = threading.Event()
    got = []
    for r in DaskRunner(c.scheduler_address)(files, "full", cancel):
        got.append(r)
        cancel.set()
    assert 1 <= len(got) < len(files) and all(r.ok for r in got)

    def tasks_left(dask_scheduler=None):
        return len(dask_scheduler.tasks)

    deadline = time.monotonic() + 10
    while client.run_on_scheduler(tasks_left) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert client.run_on_scheduler(tasks_left) == 0  # nothing left running or queued on the cluster


def test_losing_the_scheduler_stops_the_batch_with_one_reason(clips):
    from musicrec_engine.cluster.dask_runner import ClusterError, DaskRunner

    files = clips(4)
    own = distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=":0")  # the module's cluster may hold the default port
    got = []
    try:
        with pytest.raises(ClusterError, match="lost the connection to the Dask scheduler"):
            for r in DaskRunner(own.scheduler_address)(files, "full", threading.Event()):
                got.append(r)
                own.sync(own.scheduler.close)  # the scheduler goes away with files still out
    finally:
        with contextlib.suppress(TimeoutError):  # its worker waits for a scheduler that is gone
            own.close(timeout=2)
    assert len(got) == 1 and got[0].ok  # what arrived is kept; the rest are not called broken files


def test_workers_that_analyse_otherwise_are_refused_before_any_file_is_sent(cluster, clips, monkeypatch, tmp_path):
    from musicrec_engine.cluster.dask_runner import ClusterError, DaskRunner

    runner = DaskRunner(cluster[0].scheduler_address)
    monkeypatch.setenv("MUSICREC_LISTEN_PATCHES", "2")  # this machine listens to 2 patches, the workers to 1
    with pytest.raises(ClusterError, match=r"analyses differently from this machine \(other listening settings"):
        list(runner(clips(1), "full", threading.Event()))
    monkeypatch.setenv("MUSICREC_LISTEN_PATCHES", "1")
    monkeypatch.setenv("MUSICREC_ANALYSIS_PLAN", "whole")  # this machine reads long tracks whole
    with pytest.raises(ClusterError, match=r"other reading plan settings"):
        list(runner(clips(1), "full", threading.Event()))
    monkeypatch.delenv("MUSICREC_ANALYSIS_PLAN")
    models = tmp_path / "home" / "models"
    models.mkdir(parents=True)
    (models / "attributes.onnx").write_bytes(b"a model trained here, not copied to the workers")
    monkeypatch.setenv("MUSICREC_HOME", str(tmp_path / "home"))
    with pytest.raises(ClusterError, match=r"other attribute model settings.*copy the models folder"):
        list(runner(clips(1), "full", threading.Event()))
    (models / "attributes.onnx").unlink()  # the same models on both sides: analysed
    assert [r.ok for r in runner(clips(1), "full", threading.Event())] == [True]


def test_without_a_cluster_neither_dask_nor_pyarrow_is_imported(clips, tmp_path, home):
    """The app and the bundle do not pay for the cluster: analysing on this machine leaves Dask
    and pyarrow unloaded, and so does importing a CSV catalog for Dask (pandas 3 loads pyarrow
    itself where it is installed, for its text columns)."""
    import subprocess
    import sys

    from conftest import ROOT

    csv = tmp_path / "export.csv"
    csv.write_text("Track URI,Track Name,Album Name,Artist Name(s)\nspotify:track:a,Tune,Rec,X\n")
    code = ("import sys; from musicrec_engine.engine import Engine\n"
            "def loaded(): return ','.join(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'dask', 'distributed', 'pyarrow'})) or '-'\n"
            f"e = Engine({str(home)!r}); rs = list(e.analyze([{clips(1)[0]!r}], jobs=1)); after_analysis = loaded()\n"
            f"rep = e.import_catalog({str(csv)!r}); e.close()\n"
            "print(rs[0].status, after_analysis, rep.imported, loaded().replace('pyarrow', '').strip(',') or '-')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert r.stdout.split() == ["ok", "-", "1", "-"], r.stderr[-2000:]


def test_cluster_usage_errors_are_one_line(tmp_path, home, monkeypatch):
    song = write(tmp_path / "song.flac", music(2.0))
    r = run_cli("analyze", str(song), "--path-map", "/a=/b", home=home)
    assert r.returncode == 2 and "--path-map only applies with --cluster" in r.stderr
    monkeypatch.setenv("MUSICREC_CLUSTER_TIMEOUT", "1")
    r = run_cli("analyze", str(song), "--cluster", "tcp://127.0.0.1:9", home=home)
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.strip().startswith("musicrec: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
    assert len(r.stderr.strip().splitlines()) == 1


def test_catalog_build_on_the_cluster_and_again(cluster, clips, tmp_path, home):
    pq = pytest.importorskip("pyarrow.parquet", reason="catalog files need pyarrow")
    files = clips(3)
    out = tmp_path / "archive.parquet"
    cmd = ["catalog", "build", os.path.dirname(files[0]), "--out", str(out), "--cluster",
           cluster[0].scheduler_address, "--json"]
    r = run_cli(*cmd, home=home)
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert (rep["analysed"], rep["rows"], rep["failed"]) == (3, 3, [])
    table = pq.read_table(out, columns=["path", "tempo", "features_mfcc"])
    assert sorted(table.column("path").to_pylist()) == sorted(files)
    assert all(len(v) == 273 for v in table.column("features_mfcc").to_pylist())
    again = json.loads(run_cli(*cmd, home=home).stdout)  # nothing new: nothing sent to the cluster
    assert (again["held"], again["analysed"], again["rows"]) == (3, 0, 3)
