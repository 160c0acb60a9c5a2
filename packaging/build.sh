#!/usr/bin/env bash
# Build the one-folder bundle and its .tar.gz:  ./dev bundle   (or bash packaging/build.sh)
# Output: dist/MusicRec/ and dist/MusicRec-<version>-<os>-<arch>.tar.gz
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
VERSION=$("$PY" -c "import musicrec_engine; print(musicrec_engine.__version__)")
OS=$(uname -s | tr '[:upper:]' '[:lower:]'); ARCH=$(uname -m)
OUT=dist/MusicRec

"$PY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller packaging/musicrec.spec
INTERNAL=$OUT/_internal

# Torch ships test and backend-demo libraries and headers that nothing loads at run time.
rm -rf "$INTERNAL"/torch/include "$INTERNAL"/torch/test "$INTERNAL"/torch/share
find "$INTERNAL"/torch/bin -type f ! -name torch_shm_manager -delete 2>/dev/null || true
rm -f "$INTERNAL"/torch/lib/lib*test*.so* "$INTERNAL"/torch/lib/libbackend_with_compiler.so \
      "$INTERNAL"/torch/lib/libaoti_custom_ops.so
# Symbol tables are a large share of torch's and Python's libraries. Only these are stripped:
# the auditwheel-patched libraries of numpy/scipy (OpenBLAS) stop loading when strip rewrites them.
if command -v strip >/dev/null && [ "$(uname -s)" = Linux ]; then
  strip "$INTERNAL"/torch/lib/libtorch_cpu.so "$INTERNAL"/torch/lib/libtorch_python.so \
        "$INTERNAL"/libpython3.11.so.1.0 2>/dev/null || true
fi
# Qt translations of Qt's own dialogs are not used (the app's text is English).
rm -rf "$INTERNAL"/PySide6/Qt/translations

ln -sf musicrec-app "$OUT/musicrec"
cp packaging/musicrec.desktop "$OUT/"
[ -f resources/icons/musicrec.png ] && cp resources/icons/musicrec.png "$OUT/musicrec.png"

# The self-test, as a user's machine would run it: empty environment, no PATH (so no ffmpeg).
# No PATH: proves the bundle needs no system ffmpeg or any other program.
env -i HOME="$(mktemp -d)" PATH=/nonexistent LC_ALL=C.UTF-8 QT_QPA_PLATFORM=offscreen "$OUT/musicrec-app" --self-test --quiet

TARBALL=dist/MusicRec-$VERSION-$OS-$ARCH.tar.gz
tar -C dist -czf "$TARBALL" MusicRec
echo "bundle: $OUT  $(du -sh "$OUT" | cut -f1) unpacked; $TARBALL $(du -sh "$TARBALL" | cut -f1)"
