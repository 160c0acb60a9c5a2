"""Where the workers find the files: `--path-map LOCAL=WORKER` pairs, when the machines mount the
music under other folders than this one (e.g. /home/me/Music=/mnt/music)."""

from __future__ import annotations

import os

from musicrec_engine.errors import UsageError


class PathMap:
    """Local path prefixes -> the same folders as the workers see them. The longest matching
    prefix wins; a prefix matches whole folder names only (/music does not match /musical)."""

    def __init__(self, pairs: list[tuple[str, str]] | None = None):
        self.pairs = sorted(((_clean(a), _clean(b)) for a, b in pairs or []), key=lambda p: -len(p[0]))

    @classmethod
    def parse(cls, texts: list[str] | None) -> PathMap:
        """From `LOCAL=WORKER` texts; a usage error names the one that is not of that form."""
        pairs = []
        for t in texts or []:
            local, sep, remote = t.partition("=")
            if not sep or not local.strip() or not remote.strip():
                raise UsageError(f"--path-map {t!r}: expected LOCAL=WORKER, e.g. /home/me/Music=/mnt/music")
            pairs.append((os.path.abspath(os.path.expanduser(local.strip())), remote.strip()))
        return cls(pairs)

    def to_worker(self, path: str) -> str:
        """The absolute path a worker opens for this local file."""
        path = os.path.abspath(path)
        for local, remote in self.pairs:
            if path == local:
                return remote
            if path.startswith(local + "/"):
                return remote + path[len(local):]
        return path

    def __bool__(self) -> bool:
        return bool(self.pairs)


def _clean(p: str) -> str:
    return p.rstrip("/") or "/"
