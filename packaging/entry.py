"""The bundle's one executable, `musicrec-app`: the desktop app; the `musicrec` CLI when started
under that name (a symlink in the bundle) or with `cli` as first argument. One executable keeps
one copy of every library and needs one PyInstaller analysis."""

import os
import sys
import warnings

# The bundle carries torch's byte code without its .py sources (46 MB; see musicrec.spec), so
# TorchScript's overload registry cannot read them: harmless for a net that is never scripted.
warnings.filterwarnings("ignore", message="Unable to retrieve source for @torch.jit._overload")


def main() -> int:
    import multiprocessing

    # Worker processes of the analysis pool re-run this executable; this lets them become workers.
    multiprocessing.freeze_support()
    argv = sys.argv[1:]
    if os.path.splitext(os.path.basename(sys.argv[0]))[0] == "musicrec" or argv[:1] == ["cli"]:
        from musicrec_engine.cli import main as cli_main

        return cli_main(argv[1:] if argv[:1] == ["cli"] else argv)
    if "--self-test" in argv:
        from app.selftest import main as self_test

        return self_test([a for a in argv if a != "--self-test"])
    from app.__main__ import main as app_main

    return app_main(argv)


if __name__ == "__main__":
    sys.exit(main())
