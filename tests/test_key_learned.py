"""The learned key scorer: shipped weights, transposition, and progressions that used to fool the key."""

from __future__ import annotations

import numpy as np
import pytest
from test_measured_attributes import measure, piece

from musicrec_engine.attributes.measured import key as key_mod
from musicrec_engine.attributes.measured import key_learned

NATURAL_MINOR = [0, 2, 3, 5, 7, 8, 10]


def test_shipped_weights_are_read_and_fit_the_features():
    """Without its weights file the key silently falls back to the older hand-set method, so the
    file must be there, hold floats only and match the features' width."""
    model = key_learned.load_weights()
    assert model is not None
    vec, bass = np.ones(12), np.ones(12)
    ch = np.array([0, 5, 7, 0])
    width = key_learned.features(vec, bass, ch, key_mod.components(vec, bass, ch)).shape[1]
    assert model.W.shape == (2, width) and np.isfinite(model.W).all()
    assert sum(key_learned.BLOCKS.values()) == width


def test_transposed_evidence_moves_every_score_by_the_same_interval():
    """One weight set serves all twelve keys: evidence moved up t semitones moves each key's score
    up t semitones, in major and minor alike."""
    rng = np.random.default_rng(0)
    vec, bass = rng.random(12) ** 3, rng.random(12) ** 3
    ch = rng.integers(0, 24, 30)
    model = key_learned.load_weights()

    def scores(v, b, c):
        return key_learned.scores(key_learned.features(v, b, c, key_mod.components(v, b, c)), model.W, model.b)

    base = scores(vec, bass, ch)
    for t in (1, 5, 7, 11):
        moved = scores(np.roll(vec, t), np.roll(bass, t), (ch % 12 + t) % 12 + 12 * (ch // 12))
        assert np.allclose(np.r_[np.roll(base[:12], t), np.roll(base[12:], t)], moved)


@pytest.mark.parametrize("key,degrees,bright", [
    (1, (3, 0, 3, 0, 3, 0, 4, 0), 0.5),  # C sharp minor: iv i iv i, no V in the first 12 s; was F sharp minor
    (7, (3, 3, 0, 4), 0.15),  # G minor, iv iv i V, dull timbre: was C minor
])
def test_minor_piece_dwelling_on_iv_keeps_its_tonic(key, degrees, bright):
    for seed in (0, 1):
        a = measure(piece(key=key, mode=0, bpm=104.0, degrees=degrees, bright=bright, seed=seed))
        assert (a["key"].value, a["mode"].value) == (key, 0), (seed, a["key"].value, a["mode"].value)


@pytest.mark.parametrize("key,degrees", [(9, (0, 3, 6, 2)), (4, (0, 6, 5, 6))])
def test_natural_minor_loop_is_not_its_relative_major(key, degrees):
    """i iv VII III and i VII VI VII have no leading tone: every note also belongs to the relative
    major, and only where the harmony rests tells them apart."""
    a = measure(piece(key=key, mode=0, bpm=104.0, degrees=degrees, scale=NATURAL_MINOR))
    assert (a["key"].value, a["mode"].value) == (key, 0), (a["key"].value, a["mode"].value)


@pytest.mark.parametrize("key,mode,bright", [(2, 1, 0.15), (11, 0, 0.5)])
def test_plain_cadential_piece_is_confident_and_a_loop_of_iv_and_i_less_so(key, mode, bright):
    """Confidence 0.8 is meant as "right at least nine times in ten": a piece that states I IV V I
    earns it; a loop of IV and I in the same key (no V, so the key a fourth up is nearly as
    likely, and it is sometimes read so) is less sure."""
    plain = measure(piece(key=key, mode=mode, bpm=104.0, degrees=(0, 3, 4, 0), bright=bright))
    loop = measure(piece(key=key, mode=mode, bpm=104.0, degrees=(3, 3, 0, 0), bright=bright))
    assert (plain["key"].value, plain["mode"].value) == (key, mode)
    assert plain["key"].confidence >= 0.8
    assert loop["key"].confidence < plain["key"].confidence - 0.1
