"""Training learned-attribute models: label files, matching, held-out metrics, saving with a manifest.

The files written and their manifest are described in attributes/modelfile.py, which learned.py
reads. The caller hands in how to analyse a file and the open library (the engine facade does),
so this module sits beside the analysis and library layers rather than above them.
"""

from __future__ import annotations

import csv
import json
import logging
import math
import os
import re
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from musicrec_engine.attributes import UNIT_ATTRIBUTES, modelfile, tempo_bin
from musicrec_engine.attributes.training import onnx_export
from musicrec_engine.attributes.training.stacking import CLASSIFICATION_GROUPS, REGRESSION_GROUPS, GroupSpec
from musicrec_engine.errors import MusicRecError, UsageError

log = logging.getLogger("musicrec.attributes.training")
DEFAULT_BUDGET = 4
TEST_SHARE = 0.2
MIN_ROWS = 30


class LabelError(MusicRecError):
    """A label file that cannot be trained on, with the reason."""


class ModelNotSaved(MusicRecError):
    """A trained model that has no faithful ONNX form: nothing is saved, the last good model stays."""


@dataclass
class TrainResult:
    groups: list  # fitted groups: name, kind, targets, output (value | proba), model (a fitted estimator)
    manifest: dict
    report_rows: list = field(default_factory=list)
    report_files: list = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
# Saving


def save_model(result: TrainResult, folder: Path, name: str) -> Path:
    """Write NAME.onnx and NAME.manifest.json (modelfile.py), each atomically, the manifest last, so
    a half-written model never loads. The ONNX graph must give the fitted models' values on rows
    around the training data, or nothing is written and ModelNotSaved says why. A pickled model
    of the same name left by an earlier version is removed once its replacement is saved."""
    folder = Path(folder)
    n_features = int(result.manifest["input"]["n_features"])
    try:
        data, described = onnx_export.convert(result.groups, n_features)
        onnx_export.check(result.groups, data, described, onnx_export.check_rows(result.groups, n_features))
    except onnx_export.NotConvertible as e:
        raise ModelNotSaved(f"the trained model was not saved: {e}") from None
    folder.mkdir(parents=True, exist_ok=True)
    path = modelfile.model_path(folder, name)
    manifest = dict(result.manifest, format=modelfile.FORMAT, kind=modelfile.KIND, file=path.name,
                    sha256=modelfile.bytes_sha256(data), groups=described)
    tmp = folder / f".{path.name}.tmp"
    tmp.write_bytes(data)
    mtmp = folder / f".{name}.manifest.json.tmp"
    mtmp.write_text(json.dumps(manifest, indent=1))
    os.replace(tmp, path)
    os.replace(mtmp, modelfile.manifest_path(path))
    for old in (f"{name}.joblib", f"{name}.compiled.npz"):
        (folder / old).unlink(missing_ok=True)
    return path


def _versions() -> dict:
    import onnx
    import onnxruntime
    import skl2onnx
    import sklearn
    import xgboost

    return {"sklearn": sklearn.__version__, "xgboost": xgboost.__version__, "numpy": np.__version__,
            "onnx": onnx.__version__, "skl2onnx": skl2onnx.__version__, "onnxruntime": onnxruntime.__version__}


# ------------------------------------------------------------------------------------------------
# Fitting groups and scoring them on the held-out rows


def _confidence(m: dict) -> float:
    """0..1 from held-out metrics: AUC rescaled (0.5 -> 0, 1 -> 1), else R2, else accuracy."""
    if "auc" in m:
        return round(max(0.0, 2 * m["auc"] - 1), 3)
    if "r2" in m:
        return round(max(0.0, m["r2"]), 3)
    return round(max(0.0, m.get("f1_weighted", m.get("accuracy", 0.0))), 3)


def fit_and_score(specs: list[GroupSpec], X_tr, Y_tr: dict, X_te, Y_te: dict, budget: int, seed: int = 0,
                  progress=None, cancel=None, jobs: int | None = None) -> tuple[list[dict], dict, list[dict]]:
    """Fit each group on its rows with labels, score on held-out rows. Y_* map target -> array (NaN = none)."""
    from threadpoolctl import threadpool_limits

    from musicrec_engine.attributes.training import stacking

    groups, metrics, report = [], {"attributes": {}, "groups": {}}, []
    for gi, spec in enumerate(specs):
        ytr = np.column_stack([Y_tr[t] for t in spec.targets])
        yte = np.column_stack([Y_te[t] for t in spec.targets])
        mtr, mte = ~np.isnan(ytr).any(axis=1), ~np.isnan(yte).any(axis=1)
        if mtr.sum() < MIN_ROWS or mte.sum() < 5:
            log.warning("group %s skipped: %d training / %d held-out rows with labels", spec.name, mtr.sum(), mte.sum())
            continue
        ytr_g, yte_g = ytr[mtr], yte[mte]
        if spec.kind == "classification":
            ytr_g, yte_g = ytr_g.astype(int), yte_g.astype(int)
            if len(np.unique(ytr_g)) < 2:
                log.warning("group %s skipped: only one class in the training rows", spec.name)
                continue

        def prog(d, n, msg, gi=gi):
            if progress:
                progress(gi, len(specs), msg)

        model = stacking.fit_group(spec, X_tr[mtr], ytr_g if ytr_g.shape[1] > 1 else ytr_g[:, 0], budget,
                                   seed=seed, progress=prog, cancel=cancel, jobs=jobs)
        with threadpool_limits(1):
            rows = stacking.compare(model, spec, X_te[mte], yte_g)
        report += rows
        gm = {}
        for r in rows:
            if r["model"] == "stack":
                metrics["attributes"].setdefault(r["target"], {"group": spec.name, "rows": int(mte.sum())})[r["metric"]] = \
                    round(r["score"], 4)
                gm.setdefault(r["metric"], []).append(r["score"])
        metrics["groups"][spec.name] = {k: round(float(np.mean(v)), 4) for k, v in gm.items()}
        metrics["groups"][spec.name]["targets"] = spec.targets
        groups.append({"name": spec.name, "kind": spec.kind, "targets": spec.targets, "model": model,
                       "output": {t: "value" for t in spec.targets}})
    for m in metrics["attributes"].values():
        m["confidence"] = _confidence(m)
    return groups, metrics, report


def train_default(train, test, budget: int = DEFAULT_BUDGET, report_dir=None, progress=None,
                  jobs: int | None = None) -> TrainResult:
    """The shipped model from trainset clips (npz from benchmarks/train_default_attributes.py)."""
    from musicrec_engine.attributes import estimated
    from musicrec_engine.attributes.training import stacking

    t0 = time.time()
    specs = [GroupSpec("speech", "regression", ["speechiness"]),
             GroupSpec("acoustic", "classification", ["acousticness"]),
             GroupSpec("live", "classification", ["liveness"]),
             GroupSpec("vocal", "classification", ["instrumentalness"])]
    Y_tr = {t: np.asarray(train[t], float) for s in specs for t in s.targets}
    Y_te = {t: np.asarray(test[t], float) for s in specs for t in s.targets}
    groups, metrics, report = fit_and_score(specs, train["X"], Y_tr, test["X"], Y_te, budget, progress=progress,
                                            jobs=jobs)
    # The targets asked for are detection AUCs: speech present vs absent for speechiness, and the three
    # binary facts for the others (instrumentalness: voice or speech present vs absent).
    from sklearn.metrics import r2_score, roc_auc_score

    for g in groups:
        if g["kind"] == "classification":
            g["output"] = {t: "proba" for t in g["targets"]}
    by = {g["targets"][0]: g for g in groups}
    for target, truth in (("speechiness", "speech_present"), ("acousticness", "acousticness"),
                          ("liveness", "liveness"), ("instrumentalness", "instrumentalness")):
        g, m = by[target], metrics["attributes"][target]
        ok = ~np.isnan(np.asarray(test[truth], float))
        X = test["X"][ok]
        score = onnx_export.fitted_values(g, X)[target]
        m["auc"] = round(float(roc_auc_score(np.asarray(test[truth])[ok].astype(int), score)), 4)
        m["task"] = {"speechiness": "speech present vs absent", "acousticness": "acoustic vs synthetic",
                     "liveness": "audience+hall vs studio", "instrumentalness": "no voice/speech vs voice or speech"}[target]
        if target == "speechiness":
            m["r2"] = round(float(r2_score(np.asarray(test[target])[ok], score)), 4)
        m["confidence"] = _confidence(m)
    files = stacking.write_report(report, report_dir) if report_dir else []
    manifest = {
        "format": modelfile.FORMAT, "kind": modelfile.KIND, "name": "default",
        "description": "Default model trained on generated clips with exact ground truth (tools/trainset.py)",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": {"pipeline": "descriptors", "schema_hash": estimated.descriptor_schema_hash(),
                  "n_features": int(train["X"].shape[1]), "names": estimated.descriptor_names()},
        "rows": {"train": int(len(train["X"])), "test": int(len(test["X"]))},
        "protocol": f"trained on trainset seed {int(train['seed'])}, evaluated on held-out seed {int(test['seed'])}",
        "budget": budget, "attributes": sorted(metrics["attributes"]), "metrics": metrics,
        "training_seconds": round(time.time() - t0, 1), "versions": _versions(),
    }
    return TrainResult(groups, manifest, report, files)


# ------------------------------------------------------------------------------------------------
# Label files (Spotify 1.2M / 114k datasets, Exportify exports, or any CSV with those columns)

RANGES = {**{a: (0.0, 1.0) for a in UNIT_ATTRIBUTES}, "loudness": (-60.0, 5.0), "tempo": (1.0, 300.0),
          "key": (-1, 11), "mode": (0, 1)}
ATTRIBUTE_COLUMNS = list(RANGES)
# Columns that those exports carry and we knowingly ignore (after normalisation, see _norm_col).
KNOWN_OTHER = {
    "id", "album", "album_id", "artist_ids", "track_number", "disc_number", "explicit", "duration_ms",
    "time_signature", "year", "release_date", "track_id", "album_name", "popularity", "track_genre", "unnamed:_0",
    "track_uri", "artist_uri(s)", "album_uri", "album_artist_uri(s)", "album_artist_name(s)", "album_release_date",
    "album_image_url", "track_duration_(ms)", "track_preview_url", "added_by", "added_at", "genres",
    "record_label", "isrc", "copyrights", "uri", "type", "track_href", "analysis_url", "duration", "genre", "",
}
ARTIST_COLS = ["artist", "artists", "artist_name(s)", "artist_name", "artist_names"]
TITLE_COLS = ["title", "name", "track_name", "track"]


def _norm_col(c: str) -> str:
    return re.sub(r"\s+", "_", c.strip().lower())


def normalise_name(s: str) -> str:
    """Lower-case, accents and punctuation removed, "feat." parts and bracketed suffixes dropped."""
    s = unicodedata.normalize("NFKD", s or "").encode("ascii", "ignore").decode()
    s = s.lower()
    s = re.sub(r"\s*[\(\[].*?[\)\]]", "", s)
    s = re.sub(r"\s+(feat\.?|ft\.?|featuring)\s.*$", "", s)
    s = re.sub(r"\s+-\s+(remaster(ed)?|live|radio edit|mono|stereo).*$", "", s)
    return re.sub(r"[^a-z0-9]+", " ", s).strip()


def _first_artist(v: str) -> str:
    """The Spotify 1.2M file writes artists as a Python list literal: "['A', 'B']"; 114k uses ';'."""
    v = (v or "").strip()
    if v.startswith("["):
        m = re.findall(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"", v)
        if m:
            return m[0][0] or m[0][1]
    return re.split(r"[;,]", v)[0]


@dataclass
class Labels:
    rows: list[dict]  # per usable row: line, path or (artist, title), values {attr: float or nan}
    attributes: list[str]
    warnings: list[str]
    by: str  # "path" | "tags"


def _rows_text(lines: list[int], limit: int = 8) -> str:
    s = ", ".join(str(n) for n in lines[:limit])
    return s + (f" and {len(lines) - limit} more" if len(lines) > limit else "")


def read_labels(csv_path: Path) -> Labels:
    """Parse and check a label file. Raises LabelError when nothing usable is left; otherwise the
    warnings name every row/column that was dropped and why."""
    csv_path = Path(csv_path)
    try:
        with open(csv_path, newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            header = reader.fieldnames or []
            raw_rows = list(reader)
    except OSError as e:
        raise UsageError(f"cannot read the label file {csv_path}: {e.strerror or e}") from None
    except (csv.Error, UnicodeDecodeError) as e:
        raise LabelError(f"{csv_path.name} is not a readable CSV file ({e})") from None
    if not header:
        raise LabelError(f"{csv_path.name} is empty: expected a header row with columns such as "
                         f"path or artist,title and {', '.join(ATTRIBUTE_COLUMNS)}")
    cols = {_norm_col(c): c for c in header}
    attrs = [a for a in ATTRIBUTE_COLUMNS if a in cols]
    path_col = cols.get("path")
    artist_col = next((cols[c] for c in ARTIST_COLS if c in cols), None)
    title_col = next((cols[c] for c in TITLE_COLS if c in cols), None)
    warnings: list[str] = []
    used = set(attrs) | {"path"} | set(ARTIST_COLS) | set(TITLE_COLS)
    unknown = [cols[c] for c in cols if c not in used and c not in KNOWN_OTHER]
    if not attrs:
        raise LabelError(f"{csv_path.name} has no attribute columns; expected some of: {', '.join(ATTRIBUTE_COLUMNS)} "
                         f"(Spotify audio-feature names; found: {', '.join(header[:12])})")
    if unknown:
        warnings.append(f"ignoring unknown column(s): {', '.join(unknown)}")
    if not path_col and not (artist_col and title_col):
        raise LabelError(f"{csv_path.name} needs a 'path' column, or artist and title columns "
                         "(e.g. artists + name, or 'Artist Name(s)' + 'Track Name') to find the tracks")
    if not raw_rows:
        raise LabelError(f"{csv_path.name} has a header but no rows")

    missing, bad, rows = {}, {}, []
    for i, r in enumerate(raw_rows, start=2):  # line 1 is the header
        values = {}
        for a in attrs:
            v = (r.get(cols[a]) or "").strip()
            if v == "" or v.lower() in ("nan", "na", "null", "none"):
                missing.setdefault(a, []).append(i)
                values[a] = math.nan
                continue
            try:
                x = float(v)
            except ValueError:
                bad.setdefault(a, []).append(i)
                values[a] = math.nan
                continue
            lo, hi = RANGES[a]
            if not (lo <= x <= hi) or not math.isfinite(x) or (a in ("key", "mode") and x != int(x)):
                bad.setdefault(a, []).append(i)
                values[a] = math.nan
                continue
            values[a] = x
        if "tempo" in values and not math.isnan(values["tempo"]):
            values["tempo_bin"] = float(tempo_bin(values["tempo"]))
        ident = {"line": i}
        if path_col and (r.get(path_col) or "").strip():
            ident["path"] = r[path_col].strip()
        elif artist_col and title_col and (r.get(artist_col) or "").strip() and (r.get(title_col) or "").strip():
            ident["artist"] = normalise_name(_first_artist(r[artist_col]))
            ident["title"] = normalise_name(r[title_col])
        else:
            missing.setdefault("path" if path_col else "artist/title", []).append(i)
            continue
        if all(math.isnan(values[a]) for a in attrs):
            continue
        rows.append({**ident, "values": values})
    for a, lines in missing.items():
        warnings.append(f"missing values in column {a!r} on row(s) {_rows_text(lines)}: those cells are not used")
    for a, lines in bad.items():
        lo, hi = RANGES[a]
        warnings.append(f"invalid or out-of-range values in column {a!r} (expected {lo}..{hi}) on row(s) "
                        f"{_rows_text(lines)}: those cells are not used")
    # Duplicates: the same track twice. Identical labels -> keep one; conflicting labels -> drop all.
    seen: dict = {}
    for r in rows:
        key = r.get("path") or (r["artist"], r["title"])
        seen.setdefault(key, []).append(r)
    out, dups, conflicts = [], [], []
    for group in seen.values():
        if len(group) == 1:
            out.append(group[0])
            continue
        same = all(json.dumps(g["values"], sort_keys=True) == json.dumps(group[0]["values"], sort_keys=True)
                   for g in group)
        if same:
            out.append(group[0])
            dups += [g["line"] for g in group[1:]]
        else:
            conflicts += [g["line"] for g in group]
    if dups:
        warnings.append(f"duplicate row(s) {_rows_text(dups)} repeat an earlier row: used once")
    if conflicts:
        warnings.append(f"row(s) {_rows_text(sorted(conflicts))} label the same track with different values: not used")
    if not out:
        raise LabelError(f"{csv_path.name} has no usable rows (every row lacked an identity or valid values)")
    return Labels(sorted(out, key=lambda r: r["line"]), attrs, warnings, "path" if path_col else "tags")


# ------------------------------------------------------------------------------------------------
# Features of the labelled tracks (the feature pipelines: mfcc + stats, with their schema hashes)

def _tags_of(path: Path) -> tuple[str, str]:
    """(artist, title) normalised, from the file's tags or an "Artist - Title" file name."""
    artist = title = ""
    try:
        import mutagen

        f = mutagen.File(str(path), easy=True)
        if f is not None and f.tags:
            artist = (f.tags.get("artist") or [""])[0]
            title = (f.tags.get("title") or [""])[0]
    except Exception:  # unreadable tags fall back to the file name
        pass
    if not (artist and title) and " - " in path.stem:
        artist, title = path.stem.split(" - ", 1)
    return normalise_name(artist), normalise_name(title)


def _iter_audio(folder: Path):
    from musicrec_engine.audio import files

    yield from files.iter_audio_files([folder])


def collect_features(labels: Labels, audio_dir: Path | None, csv_dir: Path, analyse, library=None,
                     progress=None, cancel=None) -> tuple[np.ndarray, list[dict], str, list[str]]:
    """Match label rows to tracks and fetch their features. Returns (X, matched rows, schema hash, warnings).

    `analyse(path)` gives an analysis result (status, error, features and schema_hash per
    pipeline); `library` (tracks(), features(pipeline, ids)) answers rows named by artist + title
    when no audio folder is given."""
    warnings: list[str] = []
    items: list[tuple[dict, Path | int]] = []
    if labels.by == "path":
        base = audio_dir or csv_dir
        for r in labels.rows:
            p = Path(r["path"]).expanduser()
            items.append((r, p if p.is_absolute() else base / p))
    elif audio_dir is not None:
        index: dict = {}
        for p in _iter_audio(audio_dir):
            index.setdefault(_tags_of(p), p)
        for r in labels.rows:
            p = index.get((r["artist"], r["title"]))
            if p is not None:
                items.append((r, p))
    elif library is not None:
        index = {}
        for t in library.tracks():
            index.setdefault((normalise_name(t.get("artist") or ""), normalise_name(t.get("title") or "")), t["id"])
        for r in labels.rows:
            tid = index.get((r["artist"], r["title"]))
            if tid is not None:
                items.append((r, tid))
    unmatched = len(labels.rows) - len(items)
    if not items:
        where = "the files listed" if labels.by == "path" else (f"the audio in {audio_dir}" if audio_dir
                                                                 else "the analysed library tracks")
        raise LabelError(f"no label row matched {where} (matching by "
                         f"{'path' if labels.by == 'path' else 'normalised artist + title'}); nothing to train on")
    if unmatched:
        warnings.append(f"{unmatched} of {len(labels.rows)} label rows matched no track")

    vecs, rows, hashes_seen, failed = [], [], {}, []
    lib_feats = {}
    if any(isinstance(x, int) for _, x in items):
        ids = [x for _, x in items]
        for p in modelfile.PIPELINES:
            tids, mat, _names, sh = library.features(p, ids)
            lib_feats[p] = ({int(t): mat[i] for i, t in enumerate(tids)}, sh)
    for n, (r, src) in enumerate(items):
        if cancel is not None and cancel.is_set():
            raise InterruptedError("training cancelled")
        if progress:
            progress(n, len(items), f"features {src}")
        if isinstance(src, int):
            if not all(src in lib_feats[p][0] for p in modelfile.PIPELINES):
                failed.append(f"row {r['line']}: the library track has no current features (re-analyse it)")
                continue
            vec = np.concatenate([lib_feats[p][0][src] for p in modelfile.PIPELINES])
            sh = {p: lib_feats[p][1] for p in modelfile.PIPELINES}
        else:
            if not src.exists():
                failed.append(f"row {r['line']}: {src} does not exist")
                continue
            res = analyse(src)
            if res.status != "ok":
                failed.append(f"row {r['line']}: {src.name}: {res.error}")
                continue
            vec = np.concatenate([np.asarray(res.features[p], np.float32) for p in modelfile.PIPELINES])
            sh = {p: res.schema_hash[p] for p in modelfile.PIPELINES}
        key = modelfile.combined_schema_hash(sh)
        hashes_seen[key] = hashes_seen.get(key, 0) + 1
        vecs.append((key, vec))
        rows.append(r)
    if failed:
        warnings.append(f"{len(failed)} matched track(s) could not be used: " + "; ".join(failed[:5])
                        + (" ..." if len(failed) > 5 else ""))
    if not vecs:
        raise LabelError("none of the matched tracks could be analysed; nothing to train on")
    key = max(hashes_seen, key=hashes_seen.get)
    keep = [i for i, (k, _) in enumerate(vecs) if k == key]
    X = np.stack([vecs[i][1] for i in keep]).astype(np.float32)
    return X, [rows[i] for i in keep], key, warnings


def train_user(labels: Labels, X: np.ndarray, rows: list[dict], schema_hash: str, budget: int, seed: int = 0,
               report_dir=None, progress=None, cancel=None, jobs: int | None = None) -> TrainResult:
    """Seed 000's groups on the user's labels: 80/20 split, stacks per group, held-out metrics."""
    from musicrec_engine.attributes.training import stacking

    t0 = time.time()
    if len(rows) < MIN_ROWS / (1 - TEST_SHARE):
        raise LabelError(f"only {len(rows)} labelled tracks could be used; at least "
                         f"{math.ceil(MIN_ROWS / (1 - TEST_SHARE))} are needed to train and keep a held-out fifth")
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(rows))
    n_te = max(5, int(round(TEST_SHARE * len(rows))))
    te, tr = order[:n_te], order[n_te:]
    Y = {t: np.array([r["values"].get(t, math.nan) for r in rows], float)
         for t in labels.attributes + (["tempo_bin"] if "tempo" in labels.attributes else [])}
    specs = []
    for name, targets in REGRESSION_GROUPS.items():
        have = [t for t in targets if t in Y]
        if have:
            specs.append(GroupSpec(name, "regression", have))
    for name, targets in CLASSIFICATION_GROUPS.items():
        if targets[0] in Y:
            specs.append(GroupSpec(name, "classification", targets))
    groups, metrics, report = fit_and_score(specs, X[tr], {t: v[tr] for t, v in Y.items()}, X[te],
                                            {t: v[te] for t, v in Y.items()}, budget, seed, progress, cancel, jobs)
    if not groups:
        raise LabelError("no attribute group had enough labelled rows to train (need "
                         f"{MIN_ROWS} training rows with every value of the group)")
    files = stacking.write_report(report, report_dir) if report_dir else []
    manifest = {
        "format": modelfile.FORMAT, "kind": modelfile.KIND, "name": "user",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "input": {"pipeline": "+".join(modelfile.PIPELINES), "schema_hash": schema_hash, "n_features": int(X.shape[1])},
        "rows": {"train": int(len(tr)), "test": int(len(te))},
        "protocol": f"random {int(TEST_SHARE * 100)}% of the matched rows held out (seed {seed}), never used in fitting",
        "budget": budget, "attributes": sorted(metrics["attributes"]), "metrics": metrics,
        "training_seconds": round(time.time() - t0, 1), "versions": _versions(),
    }
    return TrainResult(groups, manifest, report, files)


def train_from_labels(labels_path: Path, models_dir: Path, analyse, library=None, audio_dir: Path | None = None,
                      budget: int = DEFAULT_BUDGET, report_dir: Path | None = None, progress=None, cancel=None,
                      warn=None) -> tuple[TrainResult, Path, list[str]]:
    """The whole `attributes train` job: read and check the labels, match and featurise the tracks,
    train, and save the model only when training succeeded. Returns (result, model path, warnings).
    `analyse` and `library` as in collect_features; `library` is None when there is no analysed
    library yet."""
    labels_path = Path(labels_path)
    labels = read_labels(labels_path)
    warnings = list(labels.warnings)
    for w in labels.warnings:
        if warn:
            warn(w)
    if audio_dir is None and labels.by == "tags" and library is None:
        raise LabelError("the labels name tracks by artist and title, but there is no analysed library yet: "
                         "analyse your music first, or pass --audio DIR")
    X, rows, schema, more = collect_features(labels, audio_dir, labels_path.parent, analyse,
                                             library if audio_dir is None else None, progress, cancel)
    for w in more:
        if warn:
            warn(w)
    warnings += more
    if warn:
        warn(f"training on {len(rows)} tracks, {X.shape[1]} features, budget {budget}")
    result = train_user(labels, X, rows, schema, budget, report_dir=report_dir, progress=progress, cancel=cancel)
    path = save_model(result, models_dir, modelfile.USER_MODEL)
    return result, path, warnings
