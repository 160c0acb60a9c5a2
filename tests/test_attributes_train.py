"""`musicrec attributes train`: label files, bad input, the saved model and its use by `analyze`."""

import csv
import json
import shutil

import pytest
from audio_fixtures import music, write
from conftest import SHARED_DATA, run_cli

from musicrec_engine.attributes.training import train as training


def _write_csv(path, header, rows):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """40 short generated tracks labelled with energy (drums and level) and mode; one training run."""
    root = tmp_path_factory.mktemp("train")
    audio, home = root / "audio", root / "home"
    rows = []
    for i in range(40):
        drums, gain, mode = i % 2 == 0, 0.2 + 0.8 * (i % 5) / 4, (i // 2) % 2
        write(audio / f"t{i:02d}.wav", gain * music(2.5, key=i % 12, mode=mode, bpm=80 + 3 * i, drums=drums, seed=i))
        rows.append([f"t{i:02d}.wav", round(0.3 * gain + 0.5 * drums, 3), mode])
    labels = _write_csv(audio / "labels.csv", ["path", "energy", "mode"], rows)
    (home / "models").mkdir(parents=True)
    (home / "models" / "attributes.joblib").write_bytes(b"a model pickled by an earlier version")
    r = run_cli("attributes", "train", "--labels", str(labels), "--budget", "0", "--report", str(root / "report"),
                home=home)
    return {"root": root, "audio": audio, "home": home, "run": r}


@pytest.mark.slow
def test_training_prints_held_out_metrics_and_saves_model_with_manifest(trained):
    r = trained["run"]
    assert r.returncode == 0, r.stderr
    assert "energy_mood" in r.stdout and "mode" in r.stdout and "R2" in r.stdout
    models = trained["home"] / "models"
    manifest = json.loads((models / "attributes.manifest.json").read_text())
    # the earlier version's pickled model is replaced, so status no longer reports it refused
    assert sorted(p.name for p in models.iterdir()) == ["attributes.manifest.json", "attributes.onnx"]
    status = run_cli("attributes", "status", home=trained["home"]).stdout
    assert "refused" not in status and f"used: {models / 'attributes.onnx'} (energy, mode;" in status
    assert manifest["input"]["schema_hash"].startswith("feat-")
    assert manifest["rows"] == {"train": 32, "test": 8}
    assert set(manifest["attributes"]) == {"energy", "mode"}
    assert "r2" in manifest["metrics"]["attributes"]["energy"]
    assert "f1_weighted" in manifest["metrics"]["groups"]["mode"]
    assert manifest["created"][:4].isdigit()
    # energy is learnable from these tracks (drums + level); a held-out R2 far below 0 means a broken stack
    assert manifest["metrics"]["attributes"]["energy"]["r2"] > 0.3
    with open(trained["root"] / "report" / "comparison.csv") as f:
        models_seen = {row["model"] for row in csv.DictReader(f)}
    assert models_seen == {"rf", "xgb", "svm", "ridge", "lasso", "elasticnet", "stack"}
    try:
        import matplotlib  # noqa: F401  (optional: plots only when it is installed)
    except ImportError:
        assert "CSV only" in r.stdout
    else:
        assert (trained["root"] / "report" / "comparison.png").exists()


@pytest.mark.slow
def test_analyze_uses_the_trained_model_with_its_held_out_confidence(trained):
    r = run_cli("analyze", str(trained["audio"] / "t03.wav"), "--json", home=trained["home"])
    assert r.returncode == 0, r.stderr
    attrs = json.loads(r.stdout.splitlines()[0])["attributes"]
    manifest = json.loads((trained["home"] / "models" / "attributes.manifest.json").read_text())
    assert attrs["energy"]["provenance"] == "learned"
    assert attrs["energy"]["confidence"] == pytest.approx(manifest["metrics"]["attributes"]["energy"]["confidence"])
    assert attrs["mode"]["provenance"] == "measured"  # measured beats learned
    assert attrs["valence"]["provenance"] in ("estimated", "learned")


@pytest.mark.slow
def test_model_with_other_feature_schema_is_refused_with_a_sentence(trained, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(trained["home"] / "models", home / "models")
    mpath = home / "models" / "attributes.manifest.json"
    manifest = json.loads(mpath.read_text())
    manifest["input"]["schema_hash"] = "feat-0000000000000000"
    mpath.write_text(json.dumps(manifest))
    r = run_cli("attributes", "status", home=home)
    assert r.returncode == 0
    assert "refused" in r.stdout and "schema" in r.stdout and "retrain" in r.stdout
    assert "Traceback" not in r.stdout + r.stderr
    r = run_cli("analyze", str(trained["audio"] / "t03.wav"), "--json", home=home)
    # the refused model gives nothing: energy comes from the listening model's tags
    energy = json.loads(r.stdout.splitlines()[0])["attributes"]["energy"]
    assert energy["provenance"] == "learned" and energy["source"] == "MusiCNN tags (MSD+MTT)"


@pytest.mark.slow
def test_tampered_model_file_is_not_loaded(trained, tmp_path):
    home = tmp_path / "home"
    shutil.copytree(trained["home"] / "models", home / "models")
    with open(home / "models" / "attributes.onnx", "ab") as f:
        f.write(b"\0")
    r = run_cli("attributes", "status", home=home)
    assert "refused" in r.stdout and "checksum" in r.stdout


def test_label_file_without_attribute_columns_is_an_error_naming_them(home, tmp_path):
    labels = _write_csv(tmp_path / "l.csv", ["path", "colour", "mood"], [["a.wav", "red", "sad"]])
    r = run_cli("attributes", "train", "--labels", str(labels), home=home)
    assert r.returncode == 1
    assert "no attribute columns" in r.stderr and "energy" in r.stderr and "colour" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_bad_cells_and_duplicates_are_named_by_row_and_column(tmp_path):
    rows = [
        ["a.wav", "0.5", "1"],
        ["b.wav", "", "0"],        # line 3: missing energy
        ["c.wav", "1.7", "0"],     # line 4: energy out of range
        ["d.wav", "0.2", "3"],     # line 5: mode not 0/1
        ["a.wav", "0.5", "1"],     # line 6: exact duplicate of line 2
        ["e.wav", "0.1", "0"],
        ["e.wav", "0.9", "1"],     # lines 7, 8: conflicting labels for one file
        ["f.wav", "x", "1"],       # line 9: not a number
    ]
    labels = training.read_labels(_write_csv(tmp_path / "l.csv", ["path", "energy", "mode", "notes"], rows))
    text = "\n".join(labels.warnings)
    assert "unknown column(s): notes" in text
    assert "missing values in column 'energy' on row(s) 3" in text
    assert "column 'energy'" in text and "4, 9" in text
    assert "column 'mode'" in text and "row(s) 5" in text
    assert "duplicate row(s) 6" in text
    assert "row(s) 7, 8 label the same track with different values" in text
    used = {r["path"]: r["values"] for r in labels.rows}
    assert set(used) == {"a.wav", "b.wav", "c.wav", "d.wav", "f.wav"}
    assert used["c.wav"]["mode"] == 0 and used["c.wav"]["energy"] != used["c.wav"]["energy"]  # NaN, not 1.7


def test_no_matching_tracks_is_an_error(home, tmp_path):
    write(tmp_path / "audio" / "Someone - Something.wav", music(1.0))
    labels = _write_csv(tmp_path / "l.csv", ["artists", "name", "energy"], [["['Nobody']", "Nothing", "0.4"]])
    r = run_cli("attributes", "train", "--labels", str(labels), "--audio", str(tmp_path / "audio"), home=home)
    assert r.returncode == 1
    assert "no label row matched" in r.stderr and "artist + title" in r.stderr


def test_missing_label_file_is_a_usage_error(home, tmp_path):
    r = run_cli("attributes", "train", "--labels", str(tmp_path / "nope.csv"), home=home)
    assert r.returncode == 2 and "cannot read the label file" in r.stderr


def test_exportify_export_is_understood(tmp_path):
    header = ["Track URI", "Track Name", "Artist Name(s)", "Album Name", "Danceability", "Energy", "Key", "Loudness",
              "Mode", "Speechiness", "Acousticness", "Instrumentalness", "Liveness", "Valence", "Tempo"]
    row = ["spotify:track:1", "Song (Remastered)", "Band A, Band B", "LP", "0.5", "0.6", "5", "-7.5", "1", "0.04",
           "0.1", "0.0", "0.12", "0.7", "121.0"]
    labels = training.read_labels(_write_csv(tmp_path / "e.csv", header, [row]))
    assert labels.by == "tags" and labels.warnings == []
    assert len(labels.attributes) == 11
    r = labels.rows[0]
    assert (r["artist"], r["title"]) == ("band a", "song")
    assert r["values"]["tempo_bin"] == 3


@pytest.mark.skipif(not (SHARED_DATA / "spotify-sample").is_dir(), reason="../shared/data/spotify-sample is absent")
def test_spotify_dataset_file_is_understood():
    labels = training.read_labels(SHARED_DATA / "spotify-sample" / "tracks_features_sample_1k.csv")
    assert len(labels.attributes) == 11 and labels.by == "tags"
    assert not any("unknown column" in w for w in labels.warnings)
    assert labels.rows[0]["artist"] == "noam chomsky"
    assert len(labels.rows) > 900
