"""Junk CSVs through the real CLI: wrong columns, NaN, huge fields, mixed encodings, duplicate ids,
malformed lines and extra columns. Each gives a clear line, keeps every usable row, and counts
the rest; none ends in a traceback."""

from __future__ import annotations

import csv
import json

from conftest import run_cli
from faultkit import crashed, tally

HEADER = ["id", "name", "album", "album_id", "artists", "danceability", "energy", "key", "loudness", "mode",
          "speechiness", "acousticness", "instrumentalness", "liveness", "valence", "tempo"]
MBID = "a4ce8277-a761-4b15-a4da-9ce11ae4770a"


def row(i, **kw):
    r = {"id": f"id{i}", "name": f"Song {i}", "album": "LP", "album_id": "alb", "artists": "['A']",
         "danceability": 0.5, "energy": 0.5, "key": 1, "loudness": -8, "mode": 1, "speechiness": 0.1,
         "acousticness": 0.1, "instrumentalness": 0.1, "liveness": 0.1, "valence": 0.5, "tempo": 120}
    return {**r, **kw}


def write(path, rows, header=HEADER, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(rows)
    return path


def _clean(r, kind):
    tally(f"junk CSV: {kind}", crashes=crashed(r.stderr))
    assert "Traceback" not in r.stderr and "unexpected error" not in r.stderr, r.stderr


def test_wrong_columns_is_one_line_and_no_catalog(tmp_path, home):
    f = write(tmp_path / "x.csv", [{"a": 1, "b": 2}], header=["a", "b"])
    r = run_cli("catalog", "import", str(f), home=home)
    _clean(r, "wrong columns (catalog import)")
    assert r.returncode == 1 and "unknown catalog format" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert json.loads(run_cli("catalog", "list", "--json", home=home).stdout) == []


def test_nan_huge_fields_duplicates_and_malformed_lines_are_counted(tmp_path, home):
    rows = [row(i) for i in range(8)]
    rows[1]["energy"] = "NaN"  # unknown, not a failure
    rows[2]["tempo"] = "nan"
    rows[3]["name"] = "x" * 300_000  # a huge field is just a long title
    rows[5]["id"] = "id4"  # a duplicate id: the first row wins
    f = write(tmp_path / "c.csv", rows)
    with open(f, "a", encoding="utf-8") as fh:
        fh.write("id9,Too,Many,Fields,['B'],0.5,0.5,1,-8,1,0.1,0.1,0.1,0.1,0.5,120,extra,more\n")
        fh.write(",".join(str(v) for v in row(10).values()) + "\n")
    r = run_cli("catalog", "import", str(f), "--json", home=home)
    _clean(r, "NaN, 300,000-character field, duplicate id, malformed line (catalog import)")
    assert r.returncode == 0, r.stderr
    rep = json.loads(r.stdout)
    assert (rep["imported"], rep["duplicates"], rep["malformed"]) == (8, 1, 1)
    assert any("malformed line 10" in m for m in rep["messages"])


def test_mixed_encodings_are_read(tmp_path, home):
    rows = [row(i) for i in range(5000)]  # more than the 256 KiB the encoding is guessed from
    f = write(tmp_path / "c.csv", rows)
    with open(f, "ab") as fh:  # a spreadsheet appended a Windows-1252 line deep in a UTF-8 file
        fh.write(",".join(str(v) for v in row(9999, name="Caf\xe9").values()).encode("cp1252") + b"\n")
    r = run_cli("catalog", "import", str(f), "--json", home=home)
    _clean(r, "Windows-1252 line deep in a UTF-8 file (catalog import)")
    rep = json.loads(r.stdout)
    assert r.returncode == 0 and rep["imported"] == 5001
    assert any("Windows-1252" in m for m in rep["messages"])
    from musicrec_engine.engine import Engine

    eng = Engine(home)
    assert [t["title"] for t in eng.library.catalog_tracks(ids=[5001])] == ["Café"]
    eng.close()


def test_rating_csv_with_a_huge_field_keeps_the_good_rows(tmp_path, home):
    f = tmp_path / "likes.csv"
    f.write_text(f"mbid,liked\n{MBID},1\n{'f' * 131_073},1\n{MBID[:-1]}b,0\n")
    r = run_cli("rate", "--csv", str(f), "--json", home=home)
    _clean(r, "131,073-character field (rate --csv)")
    assert r.returncode == 1  # one row could not be used, and says which
    out = json.loads(r.stdout)
    assert out["ratings"] == 2 and out["problems"] == 1 and "line 3" in r.stderr


def test_catalog_ratings_with_an_extra_column_keeps_the_rows(tmp_path, home):
    f = tmp_path / "likes.csv"
    f.write_text(f"mbid,liked\n{MBID},1,a note someone typed\n{MBID[:-1]}b,0\nnot-an-id,1\n")
    r = run_cli("catalog", "ratings", str(f), "--json", home=home)
    _clean(r, "extra column (catalog ratings)")
    out = json.loads(r.stdout)
    assert out["matched"] + out["unmatched"] == 2 and out["problems"] == 1
