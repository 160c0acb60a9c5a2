"""The listening model's tags beyond the track itself: a library track without a genre tag lends
the taste model its audio tags as genre words, and an album's reasons name the tags its liked
tracks share."""

from __future__ import annotations

import numpy as np

from musicrec_engine.albums.scoring import Thresholds, library_albums, score_album
from musicrec_engine.taste.context import ContextEncoder
from musicrec_engine.taste.features import encode_taste_rows


def track(i: int, tags: list[str], genre: str | None = None, album: str = "Blue", rating=None, p=None) -> dict:
    return {"id": i, "title": f"t{i}", "artist": "A", "album": album, "album_artist": "A", "genre": genre,
            "rating": rating, "predicted_like": p, "year": 2001,
            "attributes": {"energy": {"value": 0.5}, "valence": {"value": 0.4}, "tempo": {"value": 100.0}},
            "tags": [{"tag": t, "prob": 0.5 - 0.01 * k, "vocabulary": "msd"} for k, t in enumerate(tags)]}


def test_untagged_files_give_the_taste_model_their_audio_tags_as_genre_words():
    rows = [track(i, ["jazz", "piano"] if i % 2 else ["metal", "rock"]) for i in range(8)]
    rows.append(track(8, ["jazz", "piano"], genre="Bebop"))  # a file's own genre tag is kept
    enc = encode_taste_rows(rows)
    genres = list(enc.context["genre"])
    assert genres[:2] == ["metal rock", "jazz piano"] and genres[8] == "Bebop"
    y = np.array([i % 2 for i in range(9)])
    ctx = ContextEncoder(fields=("genre",), min_count=3)
    cols = ctx.fit_transform(enc.context, y)
    assert {"jazz", "piano", "metal", "rock"} <= set(ctx.vocab)
    names = ctx.names()
    jazz = cols[:, names.index("genre_word=jazz")]
    assert jazz.tolist() == [float(i % 2) for i in range(9)]  # "Bebop" is not "jazz": the file's tag wins


def test_album_reasons_name_the_tags_its_liked_tracks_share():
    rows = [track(1, ["jazz", "piano", "slow"], rating=1), track(2, ["piano", "jazz", "soft"], p=0.9),
            track(3, ["piano", "classical"], p=0.8), track(4, ["metal"], p=0.1), track(5, ["jazz"], p=0.7)]
    (album,) = library_albums(rows)
    reasons = score_album(album, Thresholds(min_tracks=3)).reasons
    sound = [r for r in reasons if r.startswith("they sound")]
    assert len(sound) == 1, reasons
    named = sound[0].removeprefix("they sound ").split(" (")[0].split(", ")
    assert sorted(named) == ["jazz", "piano"]  # 3 of the 4 liked tracks each; "slow", "metal" are not shared
    # no tags, no such reason
    bare = [{**r, "tags": []} for r in rows]
    assert not [r for r in score_album(library_albums(bare)[0], Thresholds(min_tracks=3)).reasons
                if r.startswith("they sound")]
