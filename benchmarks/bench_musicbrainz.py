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
5. Albums of a big catalog: a generated Spotify-schema catalog of CATALOG_ROWS rows (10 tracks
   per album, a prediction on every tenth track), engine.albums("catalog") time and peak Python
   memory (tracemalloc) against paging through the same rows with Library.catalog_tracks alone.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import tracemalloc
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fake_musicbrainz import FakeMusicBrainz  # noqa: E402
from provenance import announce  # noqa: E402

from musicrec_engine.engine import Engine  # noqa: E402
from musicrec_engine.library.store import Library  # noqa: E402
from musicrec_engine.online import musicbrainz as mbz  # noqa: E402


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
        eng.library.query("DELETE FROM http_cache")
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


def big_catalog(rows: int) -> None:
    from musicrec_engine.library.catalogs import import_csv

    rnd = random.Random(0)
    cols = ["id", "name", "album", "album_id", "artists", "danceability", "energy", "key", "loudness", "mode",
            "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo", "year"]
    with tempfile.TemporaryDirectory() as home:
        path = Path(home) / "big.csv"
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(cols)
            for i in range(rows):
                a = i // 10
                w.writerow([f"t{i}", f"Track {i}", f"Album {a}", f"al{a}", f"['Artist {a % 997}']",
                            *(round(rnd.random(), 3) for _ in range(2)), rnd.randrange(12), -10.0, 1,
                            *(round(rnd.random(), 3) for _ in range(5)), 120.0, 2000])
        eng = Engine(home)
        import_csv(eng.library, path, name="big")
        ids = [r["id"] for r in eng.library.catalog_tracks(limit=rows)][::10]
        eng.library.set_catalog_predictions({i: rnd.random() for i in ids})

        def measure(fn):
            tracemalloc.start()
            t = time.perf_counter()
            out = fn()
            wall = time.perf_counter() - t
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            return out, wall, peak

        def page_only():
            n, offset = 0, 0
            while page := eng.library.catalog_tracks(limit=20_000, offset=offset):
                n += len(page)
                offset += len(page)
            return n

        n, ref_wall, ref_peak = measure(page_only)
        rep, wall, peak = measure(lambda: eng.albums("catalog"))
        eng.close()
    print(f"\n5. Albums of a {rows}-row catalog ({rows // 10} albums, predictions on 10 % of tracks)")
    print(f"{'':>22} {'wall s':>7} {'peak MB':>8}")
    print(f"{'page through rows':>22} {ref_wall:>7.2f} {ref_peak / 1e6:>8.1f}")
    print(f"{'engine.albums':>22} {wall:>7.2f} {peak / 1e6:>8.1f}")
    print(f"{'ratio':>22} {wall / ref_wall:>7.2f} {peak / ref_peak:>8.2f}   ({len(rep['albums'])} albums listed)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--per-thread", type=int, default=3)
    ap.add_argument("--albums", type=int, default=20)
    ap.add_argument("--catalog-rows", type=int, default=100_000)
    ap.add_argument("--only", choices=["pacing", "search", "cache", "catalog"])
    a = ap.parse_args()
    announce(a)
    if a.only in (None, "pacing"):
        pacing(a.threads, a.per_thread)
    if a.only in (None, "search"):
        search_cost(a.albums)
    if a.only in (None, "cache"):
        cache_speed()
    if a.only in (None, "catalog"):
        big_catalog(a.catalog_rows)


if __name__ == "__main__":
    main()
