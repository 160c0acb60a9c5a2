"""The taste model on its own: learning a known preference, cold start, calibration, explanations,
saving and refusing files it did not write, and bad inputs."""

import json
import threading

import numpy as np
import pytest

from musicrec_engine.jobs import Cancelled
from musicrec_engine.taste.features import encode_taste_rows
from musicrec_engine.taste.model import MIN_RATINGS, ModelStore, TasteError, TasteModel
from musicrec_engine.taste.net import TasteParams

FAST = {"ensemble": 2, "epochs": 80, "patience": 15}
UNIT = ["energy", "valence", "danceability", "acousticness", "instrumentalness", "liveness", "speechiness"]


def tracks(n, seed):
    rng = np.random.default_rng(seed)
    return [{**{a: float(rng.random()) for a in UNIT}, "loudness": float(-12 + 4 * rng.standard_normal()),
             "tempo": float(rng.uniform(70, 170)), "key": int(rng.integers(12)), "mode": int(rng.integers(2)),
             "year": int(rng.integers(1965, 2022))} for _ in range(n)]


def taste(rows):
    """The listener: likes energetic tracks and dislikes speechy ones."""
    return np.array([int(r["energy"] - r["speechiness"] > 0.0) for r in rows])


@pytest.fixture(scope="module")
def trained():
    rows = tracks(160, 1)
    return TasteModel.train(encode_taste_rows(rows), taste(rows), FAST)


def test_net_learns_a_preference_and_knows_its_accuracy(trained):
    held_out = tracks(400, 2)
    p = trained.predict_proba(encode_taste_rows(held_out).X)
    acc = float(((p >= 0.5) == taste(held_out)).mean())
    assert trained.mode == "net"
    assert acc >= 0.8
    cv = trained.accuracy["rated_artists"]  # no artists known: every row counts as "rated"
    assert cv["folds"] == 5 and 0.65 <= cv["accuracy_mean"] <= 1.0 and trained.accuracy["new_artists"] is None
    # the estimate in the manifest is an estimate of exactly this: accuracy on unseen tracks
    assert abs(cv["accuracy_mean"] - acc) < 0.15
    lo, hi = cv["accuracy_ci95"]
    assert lo <= cv["accuracy_mean"] <= hi
    assert "for artists you have rated, over 160 ratings" in trained.describe()


def test_probabilities_are_calibrated(trained):
    held_out = tracks(600, 3)
    p = trained.predict_proba(encode_taste_rows(held_out).X)
    y = taste(held_out)
    confident = p >= 0.8
    assert confident.sum() > 50 and y[confident].mean() >= 0.75
    unsure = (p > 0.35) & (p < 0.65)
    assert 0.2 <= y[unsure].mean() <= 0.8 if unsure.sum() >= 10 else True
    brier = float(np.mean((p - y) ** 2))
    assert brier < 0.15


def test_early_stopping_uses_validation_rows_from_training_data(trained):
    for h in trained.manifest["metrics"]["validation"]:
        assert h["val_rows"] == round(160 * 0.15) and h["best_epoch"] <= h["epochs_run"] <= 80


def test_explain_says_what_pushes_towards_like_and_dislike(trained, tmp_path):
    e = trained.explain()
    assert e.towards_like[0] == "more energy"
    assert "more speechiness" in e.towards_dislike[:2]
    assert {g["group"] for g in e.grouped[:2]} == {"energy", "speechiness"}
    files = {p.name for p in e.write_csvs(tmp_path)}
    assert {"bias.csv", "grouped_feature_importance.csv", "top_10_features.csv", "weights_net1_layer1.csv",
            "summary.txt"} <= files
    top = (tmp_path / "top_10_features.csv").read_text().splitlines()
    assert len(top) == 11 and top[1].startswith(("energy,", "speechiness,"))
    w = (tmp_path / "weights_net1_layer1.csv").read_text().splitlines()
    assert len(w) == 1 + 64 and w[0].split(",")[1:] == trained.feature_names


def test_cold_start_scores_by_similarity_and_says_so(tmp_path):
    rows = tracks(12, 4)
    y = taste(rows)
    m = TasteModel.train(encode_taste_rows(rows), y, FAST)
    assert m.mode == "cold-start" and f"only 12 ratings, and the net needs {MIN_RATINGS}" in m.describe()
    # tracks like the liked ones score clearly high, like the disliked ones clearly low
    liked = [r for r, v in zip(rows, y, strict=True) if v == 1]
    disliked = [r for r, v in zip(rows, y, strict=True) if v == 0]
    p_like = m.predict_proba(encode_taste_rows(liked).X)
    p_dis = m.predict_proba(encode_taste_rows(disliked).X)
    assert np.median(p_like) >= 0.75 and p_like.min() > 0.5
    assert np.median(p_dis) <= 0.25 and p_dis.max() < 0.5
    # and unrated tracks spread out instead of all sitting at "50 %"
    p = m.predict_proba(encode_taste_rows(tracks(300, 99)).X)
    assert np.percentile(p, 10) < 0.3 and np.percentile(p, 90) > 0.6
    # the spread survives saving and loading
    assert np.allclose(TasteModel.load(m.save(tmp_path / "m")).predict_proba(
        encode_taste_rows(liked).X), p_like)


def test_one_class_only_is_a_cold_start_with_advice():
    rows = tracks(40, 5)
    m = TasteModel.train(encode_taste_rows(rows), np.ones(40, int), FAST)
    assert m.mode == "cold-start"
    assert "only likes so far; rate some tracks you dislike too" in m.describe()
    p = m.predict_proba(encode_taste_rows([rows[0], tracks(1, 99)[0]]).X)
    assert p[0] > p[1]


@pytest.mark.parametrize("labels,message", [
    ([], "no ratings yet"),
    ([1, 0, 2] * 10, "ratings must be 1 (like) or 0 (dislike), found 2"),
])
def test_bad_labels_are_refused(labels, message):
    enc = encode_taste_rows(tracks(len(labels), 6))
    with pytest.raises(TasteError, match=message.replace("(", r"\(").replace(")", r"\)")):
        TasteModel.train(enc, labels, FAST)


def test_nan_features_are_refused_with_the_feature_named():
    enc = encode_taste_rows(tracks(30, 7))
    enc.X[3, enc.names.index("energy")] = np.nan
    with pytest.raises(TasteError, match=r"1 rated tracks have missing \(NaN\) features \(energy\)"):
        TasteModel.train(enc, taste(tracks(30, 7)), FAST)


def test_bad_hyper_parameters_are_refused():
    with pytest.raises(Exception, match="test_size must be between 0.05 and 0.5"):
        TasteParams.from_dict({"test_size": 0.9})


def test_save_load_round_trip_and_refusals(trained, tmp_path):
    store = ModelStore(tmp_path / "models", shipped=tmp_path / "none")
    folder = store.save(trained, "library")
    X = encode_taste_rows(tracks(50, 8)).X
    assert np.allclose(store.load("library").predict_proba(X), trained.predict_proba(X))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["feature_schema_hash"] and manifest["training"]["ratings"] == 160
    assert manifest["version"] and manifest["metrics"]["cv_rated_artists"]["accuracy_mean"] > 0

    # a model file changed after MusicRec wrote it is not loaded
    data = bytearray((folder / "model.npz").read_bytes())
    data[-100] ^= 0xFF
    (folder / "model.npz").write_bytes(bytes(data))
    with pytest.raises(TasteError, match="changed or damaged"):
        store.load("library")
    # nor is a folder that some other program wrote
    (folder / "manifest.json").write_text(json.dumps({**manifest, "app": "something-else"}))
    with pytest.raises(TasteError, match="not loading it"):
        TasteModel.load(folder)


def test_failed_training_never_replaces_the_last_good_model(trained, tmp_path):
    store = ModelStore(tmp_path / "models", shipped=tmp_path / "none")
    store.save(trained, "library")
    before = store.current_folder("library")
    cancel = threading.Event()
    cancel.set()
    rows = tracks(60, 9)
    with pytest.raises(Cancelled):
        store.save(TasteModel.train(encode_taste_rows(rows), taste(rows), FAST, cancel=cancel), "library")
    with pytest.raises(TasteError):
        store.save(TasteModel.train(encode_taste_rows(rows), [1, 0, 7] * 20, FAST), "library")
    assert store.current_folder("library") == before
    assert store.load("library").manifest["training"]["ratings"] == 160


def test_predicting_with_the_wrong_feature_count_is_refused(trained):
    with pytest.raises(TasteError, match=f"expects {len(trained.feature_names)} features per track, got 5"):
        trained.predict_proba(np.zeros((3, 5), np.float32))


def test_scoring_in_one_pass_matches_the_nets_that_explain_it(trained):
    """Scoring packs all nets into one wide network with the scaling folded in; it must give what
    the per-net weights in the explanation files give."""
    import torch

    X = encode_taste_rows(tracks(300, 10)).X
    ens = trained.ensemble
    a, b = ens.platt
    with torch.no_grad():
        Xs = torch.from_numpy(ens.scaler.transform(X))
        slow = torch.stack([torch.sigmoid(a * net(Xs)[:, 0] + b) for net in ens.nets()]).mean(0).numpy()
    assert np.abs(trained.predict_proba(X) - slow).max() < 1e-5


def with_context(rows, artists, genres):
    enc = encode_taste_rows(rows)
    enc.context = {"artist": np.array(artists, dtype=object), "genre": np.array(genres, dtype=object)}
    return enc


def test_artist_and_genre_are_learnt_from_the_ratings(tmp_path):
    """A listener who likes some artists whatever they sound like: the net learns the artists
    from the ratings, and the genre tags carry over to artists it has never seen."""
    rows = tracks(240, 12)
    artists = [f"Artist {i % 24}" for i in range(240)]
    liked_artist = [i % 24 < 12 for i in range(240)]
    genres = [("indie folk" if la else "country pop") if i % 5 else "" for i, la in enumerate(liked_artist)]
    y = np.array(liked_artist, int)
    m = TasteModel.train(with_context(rows, artists, genres), y, FAST)
    assert m.mode == "net" and m.accuracy["rated_artists"]["accuracy_mean"] >= 0.9
    assert m.explain().grouped[0]["group"] in ("artist", "genre")

    new = tracks(40, 13)
    p_fan = m.predict_proba(with_context(new, ["Artist 3"] * 40, [""] * 40))
    p_not = m.predict_proba(with_context(new, ["Artist 15"] * 40, [""] * 40))
    assert p_fan.mean() > 0.75 and p_not.mean() < 0.25
    # new artists: judged by their genre tag; with neither, the sound decides (no lean here)
    p_folk = m.predict_proba(with_context(new, ["Someone New"] * 40, ["folk"] * 40))
    p_country = m.predict_proba(with_context(new, ["Someone New"] * 40, ["country"] * 40))
    assert p_folk.mean() > p_country.mean() + 0.2
    p_bare = m.predict_proba(encode_taste_rows(new).X)
    assert 0.25 < p_bare.mean() < 0.75

    loaded = TasteModel.load(m.save(tmp_path / "m"))
    assert np.allclose(loaded.predict_proba(with_context(new, ["Artist 3"] * 40, [""] * 40)), p_fan)
    assert loaded.feature_names[-2:] != m.input_names[-2:] and "artist_like_share" in loaded.feature_names


def test_cancel_during_the_artist_cross_validation_stops_training_at_once():
    """Cancel in the first cross-validation must not be taken for "too few artists" and run on."""
    rows = tracks(120, 21)
    enc = with_context(rows, [f"Artist {i % 20}" for i in range(120)], [""] * 120)
    cancel = threading.Event()
    steps = []

    def progress(done, total, msg):
        steps.append(msg)
        cancel.set()

    with pytest.raises(Cancelled):
        TasteModel.train(enc, taste(rows), FAST, progress=progress, cancel=cancel)
    assert len(steps) == 1, steps
