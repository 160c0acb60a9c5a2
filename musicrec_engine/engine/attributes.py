"""The learned-attributes area of the facade: which attribute models are used, and training one."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from musicrec_engine.jobs import Progress


class AttributesArea:
    def attribute_models(self) -> list[dict]:
        """Learned-attribute models found: used (attributes, metrics) or refused (one-sentence reason)."""
        from musicrec_engine import features
        from musicrec_engine.attributes import learned

        return learned.status({p: features.schema(p).hash for p in features.PIPELINES}, self.paths.models)

    def train_attributes(self, labels_csv: str | Path, audio_dir: str | Path | None = None, budget: int | None = None,
                         progress: Progress | None = None, cancel: threading.Event | None = None,
                         report_dir: str | Path | None = None, warn: Callable[[str], None] | None = None) -> dict:
        """Train the learned attributes' stacking ensemble (the audio recommender's design) on a label
        file; returns the manifest plus the model path, warnings and report files. A bad label file
        raises MusicRecError with its reason; the last good model stays in place. `warn(sentence)`
        hears each warning as it comes."""
        from musicrec_engine.analysis.pipeline import analyze_file
        from musicrec_engine.attributes import learned
        from musicrec_engine.attributes.training import train as training

        # training reads rows named by artist + title from the analysed library, if there is one
        library = self.library if self.paths.library_db.exists() else None
        result, path, warnings = training.train_from_labels(
            Path(labels_csv), self.paths.models, analyze_file, library, Path(audio_dir) if audio_dir else None,
            training.DEFAULT_BUDGET if budget is None else budget,
            Path(report_dir) if report_dir else self.paths.data / "reports" / "attributes", progress, cancel, warn)
        learned.forget_loaded()
        return dict(result.manifest, model=str(path), warnings=warnings, report=result.report_files)
