"""Album covers as small cached thumbnails. A picture embedded in a file can be a 5 MB scan of
4000 px; a card shows it at 88 px. The thumbnail is made once, in a worker thread (QImage, never
QPixmap, outside the GUI thread), and kept beside the engine's cached copy, so the window only
ever loads the small file. Qt does the decoding: the engine stays free of Qt, and Pillow is not a
dependency of the app."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImageReader

log = logging.getLogger(__name__)
THUMB = 256  # px on the longer side: sharp at 88 px on a 2x screen, and room for larger tiles


def thumbnail(path: str | None, size: int = THUMB) -> str | None:
    """The path of a copy of the picture at `path` at most `size` px on its longer side (the same
    picture when it is that small already); None when it cannot be read as an image."""
    if not path:
        return None
    src = Path(path)
    out = src.with_name(f"{src.stem}.thumb{size}.png")
    if out.is_file():
        return str(out)
    reader = QImageReader(str(src))
    reader.setAutoTransform(True)  # a photo's EXIF rotation
    full = reader.size()
    if full.isValid() and max(full.width(), full.height()) <= size:
        return str(src)
    if full.isValid():  # JPEG decodes straight to the smaller size: the whole scan is never in memory
        reader.setScaledSize(full.scaled(QSize(size, size), Qt.AspectRatioMode.KeepAspectRatio))
    img = reader.read()
    if img.isNull():
        log.info("cover %s not readable: %s", src, reader.errorString())
        return None
    if max(img.width(), img.height()) > size:  # a format whose size is known only once decoded
        img = img.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
    part = out.with_name(out.name + ".part")
    if not img.save(str(part), "PNG"):
        return None
    os.replace(part, out)  # a reader never sees half a file
    return str(out)
