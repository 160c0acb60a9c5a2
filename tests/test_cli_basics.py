"""The command line contract: help, version, usage errors and the data folder."""

from conftest import run_cli

from musicrec_engine import __version__, paths

CONTRACT = ["analyze", "features", "similar", "rate", "taste", "catalog", "albums"]


def test_help_lists_every_command_of_the_contract(home):
    r = run_cli("--help", home=home)
    assert r.returncode == 0
    for cmd in CONTRACT:
        assert cmd in r.stdout


def test_version():
    r = run_cli("--version")
    assert r.returncode == 0
    assert r.stdout.strip() == f"musicrec {__version__}"


def test_usage_error_is_one_line_exit_2(home):
    r = run_cli("rate", "x.mp3", home=home)  # neither --like nor --dislike
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1
    assert "Traceback" not in r.stderr


def test_unknown_command_is_a_usage_error(home):
    r = run_cli("frobnicate", home=home)
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_home_option_puts_data_and_log_there(tmp_path):
    target = tmp_path / "elsewhere"
    r = run_cli("--home", str(target), "albums", "--json")
    assert (target / "logs" / "musicrec.log").exists(), r.stderr


def test_musicrec_home_env_overrides_platform_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("MUSICREC_HOME", str(tmp_path / "h"))
    p = paths.resolve()
    assert p.data == (tmp_path / "h").resolve()
    assert p.library_db.parent == p.data
