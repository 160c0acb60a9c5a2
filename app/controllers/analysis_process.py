"""The analysis runs in a child process (`musicrec analyze --json`, from Engine.analysis_command),
which stores each result in the library; this process reads one JSON line per file and fetches the
finished rows. Coordinating a process pool from inside the GUI process kept several Python threads
busy next to the GUI thread, and on a loaded machine every hand-over of the interpreter lock cost
the GUI tens of milliseconds.

What keeps the child from hanging or outliving the app:
- its stderr (progress every 25 files, errors) is drained by a thread all the time: a pipe that
  nobody reads fills at 64 KiB and then both processes wait for each other for ever;
- its stdout is read as bytes and decoded with surrogateescape, and the child writes with
  surrogateescape too, so a file name that is not UTF-8 is one more result, not a crash;
- it runs in its own session (process group): Cancel interrupts the child, lets it finish its
  database write for a moment, then ends the whole group, so no worker process lives on.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import signal
import subprocess
import threading
import time

from app.display import readable

CANCEL_GRACE_S = 3.0  # time for the child to finish the database write in flight after Cancel
BATCH_S, BATCH_MAX = 0.2, 500  # results go to the GUI thread at most 5 times a second
STDERR_LINES = 20  # the last lines of the child's stderr, for a message when it fails
PROGRESS_LINE = re.compile(r"^\[\d+/(\d+)\] ")


def analyze(engine, paths: list[str], job, jobs: int | None = None, scan: bool = False) -> dict | None:
    """Analyse `paths` (files or folders) and emit job items, each a list of per-file results
    {"path", "status", "error", "track"}, track being the library row of an ok file.

    With `scan`, the folders are scanned incrementally (only new and changed files are analysed,
    so the total is not known ahead); returns the scan's report (found, new, moved, missing…)."""
    total = 0 if scan else len(engine.audio_files(paths))
    job.progress(0, total, "")
    if total == 0 and not scan:
        return None
    cmd, env = engine.analysis_command(paths, jobs=jobs, scan=scan)
    env["PYTHONIOENCODING"] = "utf-8:surrogateescape"
    posix = os.name == "posix"
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=posix,
                            creationflags=0 if posix else subprocess.CREATE_NEW_PROCESS_GROUP)
    tail: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
    counts = {"total": total}  # a scan learns its total from the child's progress lines
    drain = threading.Thread(target=_drain, args=(proc.stderr, tail, None if total else counts),
                             name="analysis-stderr", daemon=True)
    drain.start()
    watch = threading.Thread(target=_watch, args=(proc, job.cancel), name="analysis-watch", daemon=True)
    watch.start()
    done, report, batch, sent = 0, None, [], time.monotonic()

    def send():
        # One hand-over to the GUI thread per batch, not per file: with thousands of quick files,
        # a signal per file kept both threads trading the interpreter lock (5x slower in total).
        nonlocal batch, sent
        if batch:
            job.progress(done, max(counts["total"], done), readable(batch[-1]["path"]))
            job.item(batch)
            batch, sent = [], time.monotonic()

    try:
        for line in proc.stdout:
            r = engine.read_analysis_line(line)
            if r is None:
                report = _summary(line) or report
                continue
            done += 1
            batch.append(_item(engine, r))
            if len(batch) >= BATCH_MAX or time.monotonic() - sent >= BATCH_S:
                send()
        send()
    finally:
        code = proc.wait()
        watch.join(CANCEL_GRACE_S + 1)
        drain.join(1)
    if code not in (0, 1) and not job.cancel.is_set():
        last = [ln for ln in tail if ln.strip()]
        raise RuntimeError(last[-1] if last else f"the analysis stopped unexpectedly (exit status {code})")
    return report


def _summary(line: bytes) -> dict | None:
    """The scan's closing line {"summary": {...}}, or None."""
    try:
        out = json.loads(line.decode("utf-8", "surrogateescape"))
    except ValueError:
        return None
    return out.get("summary") if isinstance(out, dict) else None


def _item(engine, r: dict) -> dict:
    item = {"path": r["path"], "status": r["status"], "error": r["error"], "track": None}
    if item["status"] == "ok":
        try:
            item["track"] = engine.track(item["path"])
        except Exception as exc:  # a path the library cannot look up: that file's problem, not the batch's
            item["track"] = None
            item["error"] = f"analysed, but it could not be read back from the library: {exc}"
        if item["track"] is None:
            item["status"] = "error"
            item["error"] = item["error"] or "analysed, but it is not in the library."
    return item


def _drain(stream, tail: collections.deque, counts: dict | None) -> None:
    """Read the child's stderr to the end, keeping its last lines; with `counts`, the total of
    files to analyse is taken from its plain progress lines ("[12/340] message")."""
    with contextlib.suppress(ValueError, OSError):  # the pipe closed under us: nothing more to read
        for raw in stream:
            line = raw.decode("utf-8", "replace").rstrip()
            tail.append(line)
            m = PROGRESS_LINE.match(line) if counts is not None else None
            if m:
                counts["total"] = int(m.group(1))


def _watch(proc: subprocess.Popen, cancel: threading.Event) -> None:
    """On Cancel: SIGINT to the child's group (the child finishes the file it is storing), then
    whatever is left of the group is killed.
    When the child exits by itself, helpers it left behind are stopped too, so nothing holds the
    output pipes open and keeps this process waiting."""
    while proc.poll() is None:
        if cancel.wait(0.2):
            with contextlib.suppress(OSError):  # the whole group: the pool's workers stop too
                if os.name == "posix":
                    os.killpg(proc.pid, signal.SIGINT)
                else:
                    proc.send_signal(signal.CTRL_BREAK_EVENT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(CANCEL_GRACE_S)
            break
    _end_group(proc)


def _end_group(proc: subprocess.Popen) -> None:
    if os.name == "posix":
        with contextlib.suppress(OSError):  # the group is empty already
            os.killpg(proc.pid, signal.SIGKILL)
    elif proc.poll() is None:
        proc.kill()
