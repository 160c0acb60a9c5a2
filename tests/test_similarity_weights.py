"""The user's similarity weights (Settings > Similarity weights) change what counts as similar."""

from test_catalog import SPOTIFY_HEADER, spotify_row, write_csv

from musicrec_engine.engine import Engine


def test_weights_move_the_neighbours_from_energy_to_key(tmp_path, home):
    rows = []
    for i in range(48):
        r = spotify_row(i, artist=f"Band {i % 6}")
        r.update(energy=(i % 10) / 10, danceability=(i % 10) / 10, tempo=80 + 8 * (i % 10), key=i % 12, mode=1)
        rows.append(r)
    q = spotify_row(1000, artist="Query Band", album="Query Album")
    q.update(energy=0.7, danceability=0.7, tempo=136.0, key=2, mode=1)
    rows.append(q)
    engine = Engine(home)
    try:
        engine.import_catalog(write_csv(tmp_path / "c.csv", SPOTIFY_HEADER, rows), name="cat")
        cid = engine.catalogs()[0]["id"]
        query = next(t for t in engine.library.catalog_tracks(cid) if t["external_id"] == "id001000")

        default = engine.similar(catalog_track_id=query["id"], top=3, source="catalog")
        assert all(abs(r["energy"] - 0.7) < 1e-6 for r in _rows(engine, cid, default))

        only_key = {n: 0.0 for n in ("energy", "valence", "danceability", "acousticness", "instrumentalness",
                                     "liveness", "speechiness", "loudness", "tempo", "mode")}
        engine.set_similarity_weights({**only_key, "key": 1.0, "tempo_bin": 0.0})
        by_key = engine.similar(catalog_track_id=query["id"], top=3, source="catalog")
        assert all(r["key"] == 2 for r in _rows(engine, cid, by_key))
    finally:
        engine.close()


def _rows(engine, cid, results):
    by_id = {t["id"]: t for t in engine.library.catalog_tracks(cid)}
    return [by_id[r["id"]] for r in results]
