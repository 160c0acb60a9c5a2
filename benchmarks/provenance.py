"""What every benchmark prints first: its own command line, the code revision and the machine,
so a table in docs/BENCHMARKS.md can be traced to the run that printed it and re-run."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def revision() -> str:
    """Short git revision of the working tree, with '+changes' when it differs from the commit."""
    def git(*args):
        r = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return r.stdout.strip() if r.returncode == 0 else ""

    rev = git("rev-parse", "--short", "HEAD") or "unknown"
    return rev + ("+changes" if git("status", "--porcelain", "--untracked-files=no") else "")


def cpu_name() -> str:
    """The processor's model name ("?" where /proc/cpuinfo does not say)."""
    info = Path("/proc/cpuinfo")
    lines = info.read_text().splitlines() if info.exists() else []
    return next((ln.split(":", 1)[1].strip() for ln in lines if ln.startswith("model name")), "?")


def announce(args=None) -> None:
    """Print the command line, the parsed arguments, the revision and the machine, as comments."""
    cpu = cpu_name()
    script = Path(sys.argv[0]).name
    print(f"# {script} {' '.join(sys.argv[1:])}".rstrip())
    if args is not None:
        print(f"# arguments: {vars(args)}")
    print(f"# git {revision()}; {os.cpu_count()} cores ({cpu}); Python {platform.python_version()}; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
