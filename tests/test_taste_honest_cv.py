"""The taste model's accuracy figures are honest: artists are grouped by who they are, not by how
the credit is spelt; labels shuffled at random give chance-level scores with every context input
on; and the labels of a test fold cannot move any prediction for that fold."""

import numpy as np
import pytest

from musicrec_engine.taste.artists import primary_artist
from musicrec_engine.taste.context import Rows
from musicrec_engine.taste.cv import artist_groups, cross_validate, splits
from musicrec_engine.taste.features import encode_taste_rows
from musicrec_engine.taste.net import TasteParams
from tools.taste_bench import net_fit_predict

FAST = TasteParams.from_dict({"ensemble": 2, "epochs": 60, "patience": 10})
UNIT = ["energy", "valence", "danceability", "acousticness", "instrumentalness", "liveness", "speechiness"]


@pytest.mark.parametrize("a, b", [
    ("George Strait", "George Strait feat. Frank Sinatra"),
    ("Bon Iver", "Bon Iver & St. Vincent"),
    ("UnderOath", "Underoath"),
    ("Beyoncé", "Beyonce featuring JAY-Z"),
    ("Calvin Harris", "Calvin Harris, Dua Lipa"),
    ("Skrillex", "Skrillex x Rick Ross"),
    ("Daft Punk", "Daft Punk ft. Pharrell Williams"),
    ("Simon", "Simon and Garfunkel"),
])
def test_credits_of_one_artist_share_a_key(a, b):
    assert primary_artist(a) == primary_artist(b) != ""


@pytest.mark.parametrize("a, b", [("Xzibit", "Sandra"), ("Bon Iver", "St. Vincent"), ("The xx", "The Band")])
def test_different_artists_keep_different_keys(a, b):
    assert primary_artist(a) != primary_artist(b)


def test_an_artist_mbid_wins_over_the_spelling():
    mbid = "5b11f4ce-a62d-471e-81fc-a69a8278c7da"
    assert primary_artist("Nirvana (US)", mbid) == primary_artist("NIRVANA", mbid.upper()) == f"mbid:{mbid}"
    assert primary_artist(None) == "" and primary_artist(float("nan")) == ""


def test_grouped_folds_never_put_one_artist_on_both_sides():
    credits = []
    for i in range(30):
        base = f"Artist {i}"
        credits += [base, f"{base} feat. Guest {i}", base.upper(), f"{base} & Friend"]
    y = np.array([i % 2 for i in range(len(credits))])
    keys = artist_groups(credits)
    assert len(set(keys)) == 30
    for tr, te in splits(y, "artist", 5, credits, seed=3):
        assert not set(keys[tr]) & set(keys[te])


def listener(n, seed, shuffle=False):
    """Ratings that follow the artist (each artist all liked or all disliked), with a label and a
    genre that go with the artist: the situation in which a leak of a test row's own label through
    the artist, label or genre like-rates would show most. `shuffle` breaks every real link."""
    rng = np.random.default_rng(seed)
    artists = np.array([f"Artist {i % 40}" for i in range(n)], dtype=object)
    fan = np.array([int((i % 40) < 20) for i in range(n)])
    rows = [{**{a: float(rng.random()) for a in UNIT}, "loudness": -10.0, "tempo": 120.0, "key": 0, "mode": 1,
             "year": 2000} for _ in range(n)]
    enc = encode_taste_rows(rows)
    ctx = {"artist": artists,
           "label": np.array(["Good Records" if f else "Plain Records" for f in fan], dtype=object),
           "genre": np.array(["indie folk" if f else "country pop" for f in fan], dtype=object)}
    y = rng.permutation(fan) if shuffle else fan
    return Rows(enc.X, ctx), y, artists


@pytest.mark.parametrize("kind", ["stratified", "artist"])
def test_shuffled_labels_score_at_chance_with_all_context_on(kind):
    rows, y, artists = listener(600, 1, shuffle=True)
    res = cross_validate(rows, y, net_fit_predict(FAST), kind, 5, artists, repeats=2,
                         seen_artists_only=(kind == "stratified")).summary()
    assert abs(res["roc_auc_mean"] - 0.5) <= 0.05, res
    assert res["accuracy_mean"] <= res["majority_accuracy"] + 0.03, res


def test_real_structure_is_found_so_the_chance_test_can_fail():
    """The same data unshuffled: the artist like-rate makes rated artists easy (the control above
    would catch a leak because the model can use these inputs)."""
    rows, y, artists = listener(400, 2)
    res = cross_validate(rows, y, net_fit_predict(FAST), "stratified", 5, artists, seen_artists_only=True).summary()
    assert res["accuracy_mean"] >= 0.9


def test_the_labels_of_a_test_fold_do_not_move_its_predictions():
    """Through the whole cross-validation (context like-rates, scaling, nets, calibration): the
    test fold's labels are scrambled in the full label vector, the folds kept, and every
    prediction for that fold must come out the same."""
    rows, y, artists = listener(300, 3)
    folds = splits(y, "stratified", 5, artists, seed=0)
    te = folds[0][1]
    y2 = y.copy()
    y2[te] = np.random.default_rng(9).permutation(1 - y[te])  # flipped and shuffled
    assert not np.array_equal(y2[te], y[te])
    one = cross_validate(rows, y, net_fit_predict(FAST), "stratified", 5, artists, given_splits=folds[:1])
    two = cross_validate(rows, y2, net_fit_predict(FAST), "stratified", 5, artists, given_splits=folds[:1])
    (te1, p1), (te2, p2) = one.predictions[0], two.predictions[0]
    assert np.array_equal(te1, te) and np.array_equal(te2, te)
    np.testing.assert_allclose(p1, p2, atol=1e-6)


def test_repeated_cv_reports_an_interval_that_contains_its_mean():
    rows, y, artists = listener(200, 4, shuffle=True)  # noisy scores, so the interval has width
    res = cross_validate(rows, y, net_fit_predict(FAST), "artist", 4, artists, repeats=2).summary()
    lo, hi = res["accuracy_ci95"]
    assert res["repeats"] == 2 and len(res["accuracy_per_fold"]) == 8
    assert lo < res["accuracy_mean"] < hi and hi - lo < 0.6
