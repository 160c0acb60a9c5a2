"""The bundle's entry point when a library starts a helper process with sys.executable: in the
bundle that is musicrec-app itself, so `musicrec attributes train` (joblib's process pool) would
start the app instead of a worker unless the entry runs Python command lines (-c / -m)."""

import os
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "packaging"))
import entry  # noqa: E402

RESOURCE_TRACKER = "from joblib.externals.loky.backend.resource_tracker import main; main(5, 0)"


@pytest.mark.parametrize("argv, call", [
    (["-B", "-S", "-I", "-c", RESOURCE_TRACKER], ("-c", RESOURCE_TRACKER, [])),
    (["-BSI", "-W", "ignore", "-Xfaulthandler", "-c", "pass", "x"], ("-c", "pass", ["x"])),
    (["-m", "joblib.externals.loky.backend.popen_loky_posix", "--process-name", "LokyProcess-1", "--pipe", "7"],
     ("-m", "joblib.externals.loky.backend.popen_loky_posix", ["--process-name", "LokyProcess-1", "--pipe", "7"])),
    # the app's and the CLI's own command lines are not Python's
    (["-v", "analyze", "song.mp3"], None),
    (["cli", "attributes", "train", "labels.csv"], None),
    (["--self-test"], None),
    (["-B", "song.mp3"], None),
    (["-c"], None),
    ([], None),
])
def test_python_command_lines_are_told_from_the_programs_own(argv, call):
    assert entry.interpreter_call(argv) == call


def _fake_bundle(tmp_path):
    """An executable that starts entry.main() as the frozen bundle would: sys.frozen set, the
    command line's arguments handed over untouched."""
    exe = tmp_path / "musicrec-app"
    boot = (f"import sys; sys.frozen = True; sys.argv = ['musicrec-app', *sys.argv[1:]]; "
            f"sys.path.insert(0, {str(ROOT / 'packaging')!r}); import entry; sys.exit(entry.main())")
    exe.write_text(f"#!/bin/sh\nexec {sys.executable} -c \"{boot}\" \"$@\"\n")
    exe.chmod(0o755)
    return exe


def _run(args, tmp_path, **kw):
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path, **kw)


def test_the_bundle_runs_code_and_modules_given_as_a_python_command_line(tmp_path):
    exe = _fake_bundle(tmp_path)
    r = _run([str(exe), "-B", "-S", "-I", "-c", "import sys; print('ran', sys.argv[1:])", "a", "b"], tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "ran ['a', 'b']"
    r = _run([str(exe), "-m", "json.tool"], tmp_path, input='{"b": 1}')
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.replace(" ", "").replace("\n", "") == '{"b":1}'
    r = _run([str(exe), "-c", "raise SystemExit(3)"], tmp_path)
    assert r.returncode == 3


def test_joblib_process_pool_workers_start_through_the_bundle_executable(tmp_path):
    """What `musicrec attributes train` does inside the bundle: a loky pool whose resource tracker
    and workers are started with the bundle's executable. Every worker must run the task."""
    exe = _fake_bundle(tmp_path)
    script = textwrap.dedent(f"""
        import sys
        sys.executable = {str(exe)!r}  # as in the bundle: helper processes start this program
        from joblib import Parallel, delayed

        def where(i):
            import os, sys
            return os.getpid(), getattr(sys, "frozen", False)

        out = Parallel(n_jobs=2, backend="loky")(delayed(where)(i) for i in range(8))
        print(len(out), len({{pid for pid, _ in out}}), all(frozen for _, frozen in out))
        from joblib.externals.loky import get_reusable_executor
        get_reusable_executor().shutdown(wait=True)
    """)
    r = _run([sys.executable, "-c", script], tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    n, workers, all_frozen = r.stdout.split()
    assert n == "8" and int(workers) >= 1 and all_frozen == "True", r.stdout + r.stderr[-2000:]
