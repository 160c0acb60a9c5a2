"""Matching label rows to tracks and fetching their features (the feature pipelines: mfcc + stats,
with their schema hashes): by path, by artist + title in an audio folder, or in the library."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from musicrec_engine.attributes import modelfile
from musicrec_engine.attributes.training.labels import LabelError, Labels, normalise_name


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
