"""Ratings and the taste model through the engine and the real `musicrec` command: rating library
tracks, importing the album recommender's rating CSV, training, status and explanations."""

import json
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from audio_fixtures import music, write
from conftest import run_cli

from musicrec_engine.attributes import Attribute
from musicrec_engine.engine import Engine
from musicrec_engine.errors import MusicRecError
from musicrec_engine.taste.features import AB_LOW

FAST = {"ensemble": 2}
UNIT = ["energy", "valence", "danceability", "acousticness", "instrumentalness", "liveness", "speechiness"]


def add_tracks(eng, folder, n, seed=0, genre=None):
    """n real (short) files in the library with known attributes; energetic ones are the liked kind."""
    rng = np.random.default_rng(seed)
    clip = music(0.3)
    out = []
    for i in range(n):
        path = write(folder / f"track{i:03d}.wav", clip)
        attrs = {a: Attribute(float(rng.random()), "estimated", 0.5) for a in UNIT}
        attrs.update(tempo=Attribute(float(rng.uniform(70, 170)), "measured", 0.9),
                     key=Attribute(float(rng.integers(12)), "measured", 0.9),
                     mode=Attribute(float(rng.integers(2)), "measured", 0.9),
                     loudness=Attribute(float(-10 + 3 * rng.standard_normal()), "measured", 1.0))
        mbid = f"00000000-0000-4000-8000-{i:012d}"
        tid = eng.library.store_analysis(
            SimpleNamespace(path=str(path), status="ok", error=None, duration=0.3, content_hash=f"h{seed}-{i}",
                            features={}, feature_names={}, schema_hash={}, attributes=attrs),
            tags={"title": f"Song {i}", "artist": f"Artist {i % 7}", "year": 1990 + i % 30, "mb_recording_id": mbid,
                  "genre": genre(i) if genre else None})
        out.append((tid, path, mbid, int(attrs["energy"].value > 0.5)))
    return out


def test_rating_a_file_that_is_not_in_the_library_says_so(home, tmp_path, eng):
    stray = write(tmp_path / "stray.wav", music(0.3))
    (tid, path, _, _), = add_tracks(eng, tmp_path / "lib", 1)
    eng.close()
    r = run_cli("rate", str(path), str(stray), "--like", home=home)
    assert r.returncode == 1
    assert f"{stray}: not in the library; analyse it first" in r.stderr
    assert Engine(home).library.track(tid)["rating"] == 1  # the good one was still rated
    r = run_cli("rate", str(path), "--clear", home=home)
    assert r.returncode == 0 and Engine(home).library.track(tid)["rating"] is None
    r = run_cli("rate", str(path), home=home)
    assert r.returncode == 2 and "say --like, --dislike or --clear" in r.stderr


def test_ratings_train_predict_and_go_stale(eng, tmp_path):
    tracks = add_tracks(eng, tmp_path / "lib", 90)
    rated, unrated = tracks[:60], tracks[60:]
    assert eng.taste_status()["state"] == "untrained"
    for _tid, path, _, liked in rated[:5]:
        eng.rate(path, liked)
    eng.train_taste(params=FAST)
    assert eng.taste_status()["state"] == "cold-start"
    for tid, _, _, liked in rated[5:]:
        eng.rate(tid, liked)
    assert eng.taste_status()["state"] == "stale"
    steps = []
    out = eng.train_taste(progress=lambda d, t, m: steps.append((d, t)), params=FAST)
    st = eng.taste_status()
    assert st["state"] == "ready" and out["mode"] == "net" and steps[-1][0] == steps[-1][1]
    rated = st["accuracy"]["rated_artists"]
    assert 0.5 <= rated["accuracy_mean"] <= 1.0 and rated["rows_scored"] > 0
    assert "for artists you have rated" in st["description"]
    # predictions were written for every library track; the unrated energetic ones rank higher
    p = {t["id"]: t["predicted_like"] for t in eng.library.tracks()}
    assert all(p[tid] is not None for tid, *_ in tracks)
    liked_p = np.mean([p[tid] for tid, _, _, liked in unrated if liked])
    disliked_p = np.mean([p[tid] for tid, _, _, liked in unrated if not liked])
    assert liked_p > disliked_p + 0.2
    eng.rate(unrated[0][0], 1)
    assert eng.taste_status()["state"] == "stale"

    # an imported catalog is scored by the next training, so album suggestions can use it
    rng = np.random.default_rng(5)
    cat = pd.DataFrame({"id": [f"sp{i}" for i in range(30)], "name": "x", "album": "A", "album_id": "a1",
                        "artists": "['B']", **{a: rng.random(30) for a in UNIT}, "key": 1, "loudness": -8.0,
                        "mode": 1, "tempo": 120.0})
    cat.to_csv(tmp_path / "cat.csv", index=False)
    eng.import_catalog(tmp_path / "cat.csv", name="cat")
    out = eng.train_taste(params=FAST)
    assert out["catalog_predicted"] == 30
    rows = eng.library.catalog_tracks()
    hi = np.mean([r["predicted_like"] for r in rows if r["energy"] > 0.6])
    lo = np.mean([r["predicted_like"] for r in rows if r["energy"] < 0.4])
    assert hi > lo + 0.2
    with pytest.raises(MusicRecError, match="not in the library"):
        eng.rate(tmp_path / "nowhere.wav", 1)


def test_the_library_model_learns_artists_and_genres_from_the_tags(eng, tmp_path):
    """A listener who likes three artists whatever their tracks sound like: after training, the
    unrated tracks of those artists are predicted liked and the others not."""
    tracks = add_tracks(eng, tmp_path / "lib", 140, seed=3, genre=lambda i: "indie folk" if i % 7 < 3 else "trap")
    fan = {tid: int(i % 7 < 3) for i, (tid, *_) in enumerate(tracks)}
    for tid, *_ in tracks[:100]:
        eng.rate(tid, fan[tid])
    out = eng.train_taste(params=FAST)
    # artists already rated: their like-rate decides. Seven artists are too few for a grouped
    # estimate of new artists (two per fold are needed), so that figure waits for more ratings.
    assert out["mode"] == "net" and out["accuracy"]["rated_artists"]["accuracy_mean"] >= 0.9
    assert out["accuracy"]["new_artists"] is None
    r = run_cli("taste", "status", home=eng.paths.data)
    assert "accuracy for artists you have not rated: not enough ratings yet" in r.stdout, r.stdout
    assert eng.taste_model().manifest["training"]["context"] == ["artist", "label", "genre"]
    p = {t["id"]: t["predicted_like"] for t in eng.library.tracks()}
    unrated = [tid for tid, *_ in tracks[100:]]
    assert min(p[t] for t in unrated if fan[t]) > max(p[t] for t in unrated if not fan[t])
    assert eng.explain_taste().grouped[0]["group"] in ("artist", "genre")


def test_rating_csv_import_reports_every_bad_row(home, tmp_path, eng):
    tracks = add_tracks(eng, tmp_path / "lib", 4)
    eng.close()
    csv = tmp_path / "ratings.csv"
    csv.write_text('"mbid","liked"\n'
                   f'"{tracks[0][2]}","1"\n'
                   f'"{tracks[1][2]}","0"\n'
                   f'"{tracks[2][2]}","2"\n'
                   '"not-an-id","1"\n'
                   '"11111111-2222-4333-8444-555555555555","1"\n')
    r = run_cli("rate", "--csv", str(csv), home=home)
    assert r.returncode == 1
    assert "line 4: liked is '2', expected 1 (like) or 0 (dislike)" in r.stderr
    assert "line 5: 'not-an-id' is not a MusicBrainz recording id" in r.stderr
    assert "3 ratings read: 2 attached to library or catalog tracks, 1 ids not found yet" in r.stdout
    lib = Engine(home).library
    assert [lib.track(t[0])["rating"] for t in tracks] == [1, 0, None, None]
    r = run_cli("rate", "--csv", str(tmp_path / "missing.csv"), home=home)
    assert r.returncode == 1 and "cannot read the rating file" in r.stderr


def test_taste_cli_train_status_explain(home, tmp_path, eng):
    tracks = add_tracks(eng, tmp_path / "lib", 40, seed=3)
    for tid, _, _, liked in tracks:
        eng.rate(tid, liked)
    eng.close()
    r = run_cli("taste", "train", "--ensemble", "2", "--epochs", "60", "--json", home=home)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["mode"] == "net" and out["ratings"] == 40 and out["accuracy"]["rated_artists"]["folds"] == 5
    r = run_cli("taste", "status", "--json", home=home)
    assert json.loads(r.stdout)["state"] == "ready"
    r = run_cli("taste", "explain", "--out", str(tmp_path / "why"), home=home)
    assert r.returncode == 0, r.stderr
    assert "Pushes towards like: more energy" in r.stdout
    assert (tmp_path / "why" / "grouped_feature_importance.csv").read_text().startswith("group,importance")
    r = run_cli("taste", "train", "--test-size", "0.9", home=home)
    assert r.returncode == 1 and "test_size must be between 0.05 and 0.5" in r.stderr
    assert Engine(home).taste_status()["state"] == "ready"  # the failed training changed nothing


def ab_frame(n, seed=0):
    """A small file in the album recommender's AcousticBrainz layout; likes follow mood_happy and the era."""
    rng = np.random.default_rng(seed)
    high = ["danceable", "mood_happy", "mood_sad", "mood_party", "mood_relaxed", "genre_dortmund_rock",
            "genre_dortmund_pop", "genre_rosamerica_roc", "moods_mirex_Cluster1", "ismir04_rhythm_Waltz",
            "voice_instrumental", "timbre"]
    df = pd.DataFrame({c: rng.random(n) for c in high})
    for c in AB_LOW:
        df[c] = rng.standard_normal(n) * 10 + 50
    keys = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
    df["key_key"] = rng.choice(keys, n)
    df["chords_key"] = rng.choice(keys, n)
    df["key_scale"] = rng.choice(["major", "minor"], n)
    df["chords_scale"] = rng.choice(["major", "minor"], n)
    df["release_year"] = rng.integers(1960, 2020, n).astype(float)
    df["artist"] = [f"Artist {i % 25}" for i in range(n)]
    df["mbid"] = [f"00000000-0000-4000-8000-{i:012d}" for i in range(n)]
    df["liked"] = ((df["mood_happy"] + (df["release_year"] > 1990) * 0.5) > 0.8).astype(int)
    return df


def test_ab_training_with_a_rating_file_reports_unknown_ids(home, tmp_path):
    df = ab_frame(60, seed=1)
    f = tmp_path / "ab.csv"
    df.drop(columns=["liked"]).to_csv(f, index=False)
    ratings = tmp_path / "r.csv"
    lines = ["mbid,liked"] + [f"{m},{v}" for m, v in zip(df.mbid, df.liked, strict=True)]
    lines += ["99999999-0000-4000-8000-000000000000,1", f"{df.mbid[0]},yes"]
    ratings.write_text("\n".join(lines) + "\n")
    r = run_cli("taste", "train", "--ab-csv", str(f), "--ratings", str(ratings), "--ensemble", "2", "--json",
                home=home)
    assert r.returncode == 0, r.stderr
    assert "1 rated ids have no features in ab.csv and were left out" in r.stderr
    assert "line 63: liked is 'yes', expected 1 (like) or 0 (dislike)" in r.stderr
    assert json.loads(r.stdout)["ratings"] == 60
    r = run_cli("taste", "explain", "--ab", "--json", home=home)
    assert r.returncode == 0, r.stderr
    expl = json.loads(r.stdout)
    assert expl["grouped_importance"][0]["group"] in ("mood", "release year")
    assert any(p.endswith("top_10_features.csv") for p in expl["files"])
