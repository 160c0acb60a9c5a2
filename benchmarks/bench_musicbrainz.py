"""Pacing, cost and cache of the MusicBrainz client, measured at the local fake server (never the internet).

    .venv/bin/python benchmarks/bench_musicbrainz.py [--threads 4] [--per-thread 3] [--albums 20]

1. Pacing: THREADS threads ask PER_THREAD distinct questions at once at the real 1 request/s; the
   fake server stamps every arrival. Reported: smallest and mean gap between arrivals, as ratios
   to the configured 1.0 s interval (the target: smallest gap >= 1.0), and the throughput reached.
2. Search cost: an artist with ALBUMS albums, searched end to end (engine.search_albums) at 20/s;
   requests counted at the server, cold and repeated; wall time against the time the limiter
   alone needs for that many requests (reference measured as requests x interval).
3. Cache: one answer from the library cache against the same answer over loopback HTTP with no
   limiter wait (a plain urllib GET to the fake server, measured in this run).
4. A burst of 503s: the same search with 4 failures first; extra requests and extra time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fake_musicbrainz import FakeMusicBrainz  # noqa: E402

from musicrec_engine import musicbrainz as mbz  # noqa: E402
from musicrec_engine.engine import Engine  # noqa: E402
from musicrec_engine.library import Library  # noqa: E402


def pacing(threads: int, per_thread: int) -> None:
    with FakeMusicBrainz() as mb:
        mb.add_artist("Pace", albums=threads * per_thread)
        c = mbz.MusicBrainz(mbz.Settings(host=mb.host, rate=1.0, contact="bench@example.com"))

        def ask(k):
            for j in range(per_thread):
                y = 1990 + k * per_thread + j
                c.search_release_groups(artist="Pace", years=(y, y))

        t0 = time.monotonic()
        ts = [threading.Thread(target=ask, args=(k,)) for k in range(threads)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        wall = time.monotonic() - t0
        gaps = mb.gaps()
    n = threads * per_thread
    print(f"\n1. Pacing at 1 request/s: {threads} threads x {per_thread} requests")
    print(f"{'requests':>9} {'min gap s':>10} {'mean gap s':>11} {'min/interval':>13} {'req/s':>7} {'wall s':>7}")
    print(f"{n:>9} {min(gaps):>10.3f} {statistics.mean(gaps):>11.3f} {min(gaps) / 1.0:>13.3f} "
          f"{(n - 1) / (max(r.t for r in mb.requests) - min(r.t for r in mb.requests)):>7.3f} {wall:>7.1f}")


def search_cost(albums: int) -> None:
    with FakeMusicBrainz() as mb, tempfile.TemporaryDirectory() as home:
        mb.add_artist("Cost", albums=albums, tracks=8)
        os.environ.update(MUSICREC_MB_HOST=mb.host, MUSICREC_MB_RATE="20", MUSICREC_CONTACT="bench@example.com")
        eng = Engine(home)
        interval = eng.musicbrainz_settings().interval
        rows = []
        for label in ("cold", "repeated"):
            before = len(mb.requests)
            t = time.monotonic()
            rep = eng.search_albums(artist="Cost")
            wall = time.monotonic() - t
            n = len(mb.requests) - before
            rows.append((label, len(rep["albums"]), n, wall, n * interval))
        mb.fail_next(4, status=503)
        eng.library._q("DELETE FROM http_cache")
        before = len(mb.requests)
        t = time.monotonic()
        rep = eng.search_albums(artist="Cost")
        rows.append(("503 x4 first", len(rep["albums"]), len(mb.requests) - before, time.monotonic() - t,
                     (len(mb.requests) - before) * interval))
        eng.close()
    print(f"\n2./4. {albums}-album search at 20 requests/s (engine.search_albums, 8 tracks per album)")
    print(f"{'run':>13} {'albums':>7} {'requests':>9} {'budget':>7} {'wall s':>7} {'limiter s':>10} {'wall/limiter':>13}")
    for label, n_alb, n, wall, ref in rows:
        ratio = f"{wall / ref:>13.2f}" if ref else f"{'-':>13}"
        print(f"{label:>13} {n_alb:>7} {n:>9} {albums + 1:>7} {wall:>7.2f} {ref:>10.2f} {ratio}")


def cache_speed() -> None:
    with FakeMusicBrainz() as mb, tempfile.TemporaryDirectory() as d:
        art = mb.add_artist("Cache", albums=1, tracks=12)
        lib = Library(Path(d) / "lib.sqlite3")
        c = mbz.MusicBrainz(mbz.Settings(host=mb.host, rate=1000, contact="bench@example.com"), cache=lib)
        rid = art.albums[0].release_id
        c.release_with_recordings(rid)
        url = f"{mb.url}/ws/2/release/{rid}?inc=recordings+artist-credits"
        http = []
        for _ in range(20):
            t = time.perf_counter()
            urllib.request.urlopen(url).read()
            http.append(time.perf_counter() - t)
        hit = []
        for _ in range(20):
            t = time.perf_counter()
            c.release_with_recordings(rid)
            hit.append(time.perf_counter() - t)
        lib.close()
    h, m = statistics.median(http), statistics.median(hit)
    print("\n3. One release (12 tracks): library cache hit against a loopback HTTP GET without limiter")
    print(f"{'loopback GET ms':>16} {'cache hit ms':>13} {'hit/GET':>8}")
    print(f"{h * 1000:>16.2f} {m * 1000:>13.2f} {m / h:>8.2f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--per-thread", type=int, default=3)
    ap.add_argument("--albums", type=int, default=20)
    a = ap.parse_args()
    pacing(a.threads, a.per_thread)
    search_cost(a.albums)
    cache_speed()


if __name__ == "__main__":
    main()
