"""MusicRec's desktop program (PySide6). The only package that imports Qt; it never analyses audio
itself: it calls musicrec_engine through the Engine facade from worker threads."""
