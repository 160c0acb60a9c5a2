"""The taste net's cross-validation on the album recommender's AcousticBrainz feature CSV: a
development tool (python -m tools.taste_bench), run as a real subprocess."""

import json
import subprocess
import sys

import numpy as np
from conftest import ROOT
from test_rate_taste_cli import ab_frame


def run_bench(*argv):
    return subprocess.run([sys.executable, "-m", "tools.taste_bench", *argv], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


def test_taste_bench_cli_on_the_acousticbrainz_layout(tmp_path):
    df = ab_frame(150)
    df.loc[7, "bpm"] = np.nan
    f = tmp_path / "ab.csv"
    df.to_csv(f, index=False)
    r = run_bench("--ab-csv", str(f), "--cv", "artist", "--folds", "3", "--repeats", "1", "--ensemble", "2",
                  "--baseline", "--json")
    assert r.returncode == 0, r.stderr
    assert f"{df.mbid[7]}: missing or non-numeric bpm" in r.stderr
    res = json.loads(r.stdout)
    assert res["rows"] == 149 and res["cv"] == "artist" and len(res["net"]["accuracy_per_fold"]) == 3
    assert res["net"]["accuracy_mean"] >= 0.75 and res["gbm"]["accuracy_mean"] >= 0.75
    assert res["net"]["roc_auc_mean"] > 0.8

    bad = tmp_path / "bad.csv"
    df.drop(columns=["bpm", "key_key"]).to_csv(bad, index=False)
    r = run_bench("--ab-csv", str(bad))
    assert r.returncode == 1
    assert "not the album recommender's AcousticBrainz feature CSV (missing columns: bpm, key_key)" in r.stderr
    r = run_bench()
    assert r.returncode == 2 and "--ab-csv" in r.stderr


def test_taste_bench_uses_artist_label_and_genre_unless_told_not_to(tmp_path):
    """Likes that follow the artist, not the sound: the net finds them through the artist column,
    and `--context none` (sound and year only) cannot."""
    df = ab_frame(150, seed=2)
    df["liked"] = [int(i % 25 < 12) for i in range(150)]
    df["label"] = ["Good Records" if v else "Other Records" for v in df["liked"]]
    df["genre"] = ""
    f = tmp_path / "ab.csv"
    df.to_csv(f, index=False)
    args = ["--ab-csv", str(f), "--cv", "stratified", "--folds", "3", "--repeats", "1", "--ensemble", "2", "--json"]
    r = run_bench(*args)
    assert r.returncode == 0, r.stderr
    with_ctx = json.loads(r.stdout)
    assert with_ctx["context"] == ["artist", "label", "genre"] and with_ctx["net"]["accuracy_mean"] >= 0.9
    r = run_bench(*args, "--context", "none")
    assert r.returncode == 0, r.stderr
    without = json.loads(r.stdout)
    assert without["context"] == [] and without["net"]["accuracy_mean"] < 0.7
    r = run_bench(*args, "--context", "artist,mood")
    assert r.returncode == 2 and "--context takes some of artist,label,genre or 'none'" in r.stderr
