"""Loaders that misbehave as a hostile file makes a parser misbehave (for isolation tests).

They run in the parser worker, which imports this module by name: tests put this folder
on PYTHONPATH.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from pcc_assistant.ingest.source import SourceText


class Hang:
    suffixes = (".pdf",)
    isolate = True

    def load(self, path: Path, password: str) -> SourceText:
        time.sleep(3600)
        raise AssertionError


class Crash:
    suffixes = (".pdf",)
    isolate = True

    def load(self, path: Path, password: str) -> SourceText:
        os.kill(os.getpid(), signal.SIGSEGV)
        raise AssertionError


class Hog:
    suffixes = (".pdf",)
    isolate = True

    def load(self, path: Path, password: str) -> SourceText:
        hoard = [bytearray(64 * 1024 * 1024) for _ in range(1000)]
        raise AssertionError(len(hoard))
