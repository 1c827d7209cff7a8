"""``pcc`` run in this process, as ``pcc_assistant.cli.main`` runs it: the same output
and exit status as the command, without a new interpreter and its imports (about 2 s a
run on the CI machines). For tests whose subject is what a command prints; tests of
processes (kill -9, two writers) run the real command."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str


def pcc(*args: str, cwd: Path | None = None) -> Run:
    from pcc_assistant.cli import main

    out, err = io.StringIO(), io.StringIO()
    argv, here = sys.argv, os.getcwd()
    sys.argv = ["pcc", *args]
    code = 0
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main()
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = argv
        os.chdir(here)
    return Run(code, out.getvalue(), err.getvalue())
