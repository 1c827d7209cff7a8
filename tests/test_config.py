from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pcc_assistant.config import load_settings

from .conftest import ROOT


def test_precedence_option_env_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pcc.toml").write_text('index_dir = "from-toml"\nparse_timeout_s = 5\n')
    assert load_settings().index_dir == Path("from-toml")
    assert load_settings().parse_timeout_s == 5
    monkeypatch.setenv("PCC_INDEX_DIR", "from-env")
    assert load_settings().index_dir == Path("from-env")
    assert load_settings(index_dir=Path("from-option")).index_dir == Path("from-option")


def test_bad_settings_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "pcc.toml").write_text("parse_timeout_s = 'soon'\n")
    run = subprocess.run(
        [sys.executable, "-m", "pcc_assistant", "list"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )
    assert run.returncode == 2
    assert run.stderr.startswith("error: settings:") and "Traceback" not in run.stderr


def test_missing_index_and_paths_are_clear(tmp_path: Path) -> None:
    pcc = [sys.executable, "-m", "pcc_assistant", "--index", str(tmp_path / "none")]
    listed = subprocess.run([*pcc, "list"], capture_output=True, text=True)
    assert listed.returncode == 1 and "no index in" in listed.stderr
    ingest = subprocess.run(
        [*pcc, "ingest", str(tmp_path / "nowhere")], capture_output=True, text=True, cwd=ROOT
    )
    assert ingest.returncode == 1 and "nowhere: no such file or folder" in ingest.stderr


def test_an_unexpected_error_is_one_line_unless_debugging() -> None:
    """A bug reaches the user as one line saying what to do; PCC_DEBUG=1 shows where."""
    import os

    code = (
        "from pcc_assistant import cli\n"
        "def boom(**kw):\n    raise RuntimeError('disk on fire')\n"
        "cli.cli = boom\ncli.main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PCC_DEBUG"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.startswith("error: unexpected RuntimeError: disk on fire")
    assert "PCC_DEBUG=1" in r.stderr
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**env, "PCC_DEBUG": "1"}
    )
    assert r.returncode == 1 and "Traceback" in r.stderr
