"""Helpers shared by the benchmark scripts: machine facts, percentiles, RESULTS.md sections.

Not a benchmark itself; imported by ``benchmarks/query.py``, ``startup.py`` and
``baseline.py`` (each puts this folder on ``sys.path``).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import re
import resource
import shutil
import subprocess
from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PYTHON = ROOT / ".venv" / "bin" / "python"
PCC = ROOT / ".venv" / "bin" / "pcc"
SAMPLE_PDFS = ROOT / "corpus"
# The shared folder beside the checkout (real PDFs, their scale set); PCC_SHARED_DIR names
# another, e.g. for a git worktree that doesn't sit beside it.
SHARED = Path(os.environ.get("PCC_SHARED_DIR") or ROOT.parent / "shared")
REAL_PDFS = SHARED / "real-pdfs"
QUESTIONS = ROOT / "eval" / "questions.jsonl"


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    s = sorted(values)
    pos = (len(s) - 1) * q / 100
    lo = math.floor(pos)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process (or of its waited-for children), in MB."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} / {five:.2f} / {fifteen:.2f}"


def busy_processes(limit: int = 3) -> list[str]:
    """The other processes using the most CPU just now, to note contention."""
    try:
        out = subprocess.run(
            ["ps", "-eo", "pid,ppid,pcpu,args", "--sort=-pcpu", "--no-headers"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    except OSError:
        return []
    mine = {str(os.getpid()), str(os.getppid())}
    rows = []
    for line in out.splitlines():
        parts = line.split(None, 3)
        if len(parts) < 4 or parts[0] in mine or parts[1] in mine or "ps -eo" in parts[3]:
            continue
        try:
            if float(parts[2]) >= 20:
                rows.append(f"{parts[2]}% {parts[3][:70]}")
        except ValueError:
            continue
    return rows[:limit]


def pkg(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "absent"


def dir_size_mb(folder: Path) -> float:
    total = 0
    for p in folder.rglob("*"):
        if p.is_file():
            total += p.stat().st_size
    return total / 1e6


def machine_line(packages: Sequence[str]) -> str:
    versions = ", ".join(f"{p} {pkg(p)}" for p in packages)
    return (
        f"Run {dt.datetime.now().isoformat(timespec='minutes')} on {platform.platform()},"
        f" {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()};"
        f" {versions}."
    )


def embedder_description() -> str:
    """Which embedder ``pcc_assistant.pipeline.make_embedder`` gives with default settings."""
    from pcc_assistant.config import Settings
    from pcc_assistant.pipeline import make_embedder

    emb = make_embedder(Settings())
    return f"{type(emb).__module__}.{type(emb).__name__} (vectors named {emb.name!r})"


def write_section(title: str, body: str, out: Path = RESULTS) -> None:
    """Put ``## title`` with ``body`` into ``out``: replaced if there, appended if not.

    A section runs to the next ``## `` heading; everything else in the file is kept, and so
    are the section's own ``### `` subsections (the hand-written reading of the figures).
    """
    text = out.read_text() if out.is_file() else "# Benchmark results\n"
    block = f"## {title}\n\n{body.strip()}\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.DOTALL | re.MULTILINE)
    found = pattern.search(text)
    if found:
        kept = re.search(r"^### .*", found.group(0), re.DOTALL | re.MULTILINE)
        if kept:
            block += "\n" + kept.group(0).rstrip() + "\n"
        text = pattern.sub(lambda _: block + "\n", text, count=1).rstrip() + "\n"
    else:
        text = text.rstrip() + "\n\n" + block
    out.write_text(text)


def which(cmd: str) -> str | None:
    return shutil.which(cmd)


def ms(x: float) -> str:
    return f"{x:.1f}" if x < 100 else f"{x:.0f}"
