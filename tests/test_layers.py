"""The import contracts in pyproject.toml ([tool.importlinter]): the engine's layers point down
only, the engine never imports the app, Qt or the development tools, the CLI goes through the
facade, predicting never imports training. `lint-imports` must pass on the tree, and must fail
when a deliberate back-edge is added to a copy of it. Also: no module reaches for another
module's private names."""

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

PACKAGES = ("musicrec_engine", "app", "tools")
LINT = Path(sys.executable).with_name("lint-imports")


def lint(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(LINT), "--no-cache"], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_tree_keeps_every_import_contract():
    r = lint(ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout and "The engine's layers point down only KEPT" in r.stdout


@pytest.mark.parametrize("module, line, contract", [
    # the library storing analysis results must not reach up into the analysis that makes them
    ("musicrec_engine/library/tags.py", "import musicrec_engine.analysis.pipeline",
     "The engine's layers point down only"),
    # a sound-level module reaching up to the facade
    ("musicrec_engine/audio/files.py", "from musicrec_engine.engine import Engine",
     "The engine's layers point down only"),
    ("musicrec_engine/search/encoding.py", "import PySide6.QtCore",
     "The engine never imports the app, Qt or the development tools"),
    ("musicrec_engine/attributes/learned.py", "from musicrec_engine.attributes.training import stacking",
     "Predicting with a learned model never imports the training code"),
    ("musicrec_engine/cli/tracks.py", "from musicrec_engine.library.store import Library",
     "The CLI reaches the engine through the facade only"),
    ("app/controllers/library.py", "from musicrec_engine.library.store import Library",
     "The app reaches the engine through the facade only"),
])
def test_a_deliberate_back_edge_breaks_the_contract(tmp_path, module, line, contract):
    for pkg in PACKAGES:
        shutil.copytree(ROOT / pkg, tmp_path / pkg, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / module
    target.write_text(target.read_text() + f"\n{line}  # the deliberate violation\n")
    r = lint(tmp_path)
    assert r.returncode == 1, r.stdout[-2000:] + r.stderr[-2000:]
    assert f"{contract} BROKEN" in r.stdout
    assert "1 broken" in r.stdout  # only the added import, nothing else


def _private_reaches(path: Path, text: str) -> list[str]:
    """`from pkg.mod import _name` and `mod._name` where `mod` is one of our modules imported here."""
    tree = ast.parse(text)
    ours = {}  # local name -> module it names
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] in PACKAGES:
            for a in node.names:
                full = f"{node.module}.{a.name}"
                is_module = (ROOT / full.replace(".", "/")).is_dir() or (ROOT / (full.replace(".", "/") + ".py")).exists()
                if is_module:
                    ours[a.asname or a.name] = full
                elif a.name.startswith("_") and not a.name.startswith("__"):
                    found.append(f"{path}:{node.lineno} imports {a.name} from {node.module}")
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] in PACKAGES and a.asname:
                    ours[a.asname] = a.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in ours
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            found.append(f"{path}:{node.lineno} uses {ours[node.value.id]}.{node.attr}")
    return found


def test_no_module_uses_another_modules_private_names():
    found = []
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            found += _private_reaches(path.relative_to(ROOT), path.read_text(encoding="utf-8"))
    assert found == []


def test_the_private_name_check_sees_both_forms():
    text = ("from musicrec_engine.attributes import learned\nfrom musicrec_engine.library.store import _secret\n"
            "learned._cache.clear()\n")
    assert len(_private_reaches(Path("x.py"), text)) == 2


def test_the_facade_keeps_its_state_in_init():
    """Engine's areas read and replace state that Engine.__init__ sets; none probes for an
    attribute that may not exist yet (getattr(self, "_x", None))."""
    probes = [f"{p.name}:{n.lineno}" for p in sorted((ROOT / "musicrec_engine" / "engine").glob("*.py"))
              for n in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in ("getattr", "hasattr")
              and n.args and isinstance(n.args[0], ast.Name) and n.args[0].id == "self"]
    assert probes == []
