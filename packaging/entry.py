"""The bundle's one executable, `musicrec-app`: the desktop app; the `musicrec` CLI when started
under that name (a symlink in the bundle) or with `cli` as first argument; and, since it is the
bundle's sys.executable, a Python command line (-c CODE / -m MODULE) when a library starts a helper
process with one. One executable keeps one copy of every library and needs one PyInstaller analysis."""

import os
import sys
import warnings

# The bundle carries torch's byte code without its .py sources (46 MB; see musicrec.spec), so
# TorchScript's overload registry cannot read them: harmless for a net that is never scripted.
warnings.filterwarnings("ignore", message="Unable to retrieve source for @torch.jit._overload")


# Python's own flags that take no value (-B, -S, -I, ... and runs of them such as -BSI), and the two
# that take one (-W, -X); see `python --help`.
_FLAGS_WITHOUT_VALUE = set("bBdEiIOqsSuvx")
_FLAGS_WITH_VALUE = ("-W", "-X")


def interpreter_call(argv: list[str]) -> tuple[str, str, list[str]] | None:
    """("-c", code, args) or ("-m", module, args) when `argv` is a Python command line: any of
    Python's flags, then -c CODE or -m MODULE. Libraries that start helper processes run
    `sys.executable` that way, and in the bundle sys.executable is this program: joblib's process
    pool (loky, which attribute training uses) starts its resource tracker with
    `-B -S -I -c "from ... import main; main(...)"` and its workers with `-m <module> --pipe N`.
    None for anything else, e.g. the app's and the CLI's own arguments (`-v analyze ...`)."""
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-c", "-m"):
            return (a, argv[i + 1], argv[i + 2:]) if i + 1 < len(argv) else None
        if a in _FLAGS_WITH_VALUE:
            i += 2
        elif a.startswith(_FLAGS_WITH_VALUE) or (len(a) > 1 and a[0] == "-" and set(a[1:]) <= _FLAGS_WITHOUT_VALUE):
            i += 1
        else:
            return None
    return None


def run_interpreter_call(kind: str, target: str, args: list[str]) -> int:
    """Do what `python -c CODE args` or `python -m MODULE args` would (the flags are irrelevant here:
    the bundle writes no byte code, has no site-packages and ignores PYTHON* variables anyway)."""
    import runpy

    if kind == "-c":
        sys.argv = ["-c", *args]
        exec(compile(target, "<string>", "exec"), {"__name__": "__main__", "__builtins__": __builtins__})
    else:
        sys.argv = [target, *args]  # runpy puts the module's file name in sys.argv[0]
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    return 0


def main() -> int:
    import multiprocessing

    # Worker processes of the analysis pool re-run this executable; this lets them become workers.
    multiprocessing.freeze_support()
    argv = sys.argv[1:]
    call = interpreter_call(argv) if getattr(sys, "frozen", False) else None
    if call is not None:  # a helper process another library started with sys.executable
        return run_interpreter_call(*call)
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
