"""The generated training audio's two pools: every General MIDI program, drum kit, espeak-ng voice
(accent and speaker) and sentence belongs to one pool only, so clips of the held-out pool share
none of them with training; and the held-out SoundFont renders music training never heard."""

import shutil

import numpy as np
import pytest

from tools import trainset


def _programs(pool):
    fams = trainset.families(pool)
    return {(role, p) for roles in fams.values() for role, progs in roles.items() for p in progs}


def test_programs_kits_voices_and_sentences_are_split_between_the_pools():
    train, held = _programs("train"), _programs("heldout")
    melodic = lambda s: {p for role, p in s if role != "kits"}  # noqa: E731
    kits = lambda s: {p for role, p in s if role == "kits"}  # noqa: E731
    assert not melodic(train) & (melodic(held) | set(trainset.choir("heldout")))
    assert not set(trainset.choir("train")) & melodic(held)
    assert not kits(train) & kits(held)
    for pool in trainset.POOLS:  # every role of both families can be played from either pool
        for fam, roles in trainset.families(pool).items():
            assert all(roles.values()), (pool, fam, roles)
        assert trainset.choir(pool) and len(trainset.sentences(pool)) >= 10 and len(trainset.voices(pool)) >= 20
    assert not set(trainset.sentences("train")) & set(trainset.sentences("heldout"))
    bases = {p: {v.split("+")[0] for v in trainset.voices(p)} for p in trainset.POOLS}
    variants = {p: {v.split("+")[1] for v in trainset.voices(p)} for p in trainset.POOLS}
    assert not bases["train"] & bases["heldout"] and not variants["train"] & variants["heldout"]


def test_a_held_out_clip_plan_draws_only_on_the_held_out_pool():
    held = _programs("heldout")
    voices, seen = set(trainset.voices("heldout")), set()
    for i in range(200):
        p = trainset.plan_clip(2, i, 6.0, "heldout")
        seen |= {p["chords"], p["bass"], p["lead"]}
        fam = trainset.CANDIDATES["acoustic" if p["family"] == "acoustic" else "synthetic"]
        assert {("chords", p["chords"]), ("bass", p["bass"]), ("lead", p["lead"]), ("kits", p["kit"])} <= held, (fam, p)
        assert p["choir"] in trainset.choir("heldout") and set(p["voices"]) <= voices
    assert len(seen) > 20  # the plans use the pool, not a corner of it
    with pytest.raises(ValueError, match="pool"):
        trainset.plan_clip(2, 0, 6.0, "everything")


@pytest.mark.skipif(shutil.which("fluidsynth") is None or shutil.which("espeak-ng") is None
                    or not trainset.SOUNDFONTS["musescore"].exists(),
                    reason="fluidsynth, espeak-ng or the MuseScore General SoundFont is missing")
def test_the_unseen_generator_renders_sounding_music_with_the_second_soundfont():
    clips = list(trainset.generate(4, seed=5, seconds=3.0, batch=4, pool="heldout", soundfont="musescore"))
    music = [(y, lab) for y, lab in clips if lab["music"]]
    assert music, "no clip with music among four"
    for y, lab in music:
        # no silent instruments: the clip's music is far above its -65 dBFS noise floor
        assert np.sqrt(np.mean(y**2)) > 10 ** (-40 / 20), lab
    with pytest.raises(ValueError, match="soundfont"):
        next(trainset.generate(1, seed=5, soundfont="FluidR3_GS"))
