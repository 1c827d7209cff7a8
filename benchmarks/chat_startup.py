"""`pcc chat` start-up: time to first paint, to "ready" (index open, models warm), and to
the first answer, in a real pseudo-terminal; with the process's peak memory.

    .venv/bin/python benchmarks/chat_startup.py [--index DIR] [--runs 5]

Without --index, the sample reports are ingested into a temporary index first (not timed).
The first paint is the first frame holding the conversation pane; "ready" is the status
bar's "ready"; the first answer is its figure ("19%") on screen after a question typed as
soon as the window is drawn (so it also measures the queue while the index loads).
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PCC, ROOT, embedder_description, load_average, machine_line, write_section

QUESTION = b"What was Durham's solved rate?\r"


_ESC = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]")


def once(index: Path, timeout: float = 120.0) -> dict[str, float]:
    (index / "chat-session.json").unlink(missing_ok=True)  # start with no conversation
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the real command, as a user starts it
        os.environ["TERM"] = "xterm-256color"
        os.chdir(ROOT)
        os.execv(str(PCC), [str(PCC), "--index", str(index), "chat"])
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    buf = b""
    marks: dict[str, float] = {}
    asked_at = 0
    while "answer" not in marks and time.perf_counter() - t0 < timeout:
        ready, _, _ = select.select([fd], [], [], 0.005)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        buf += chunk
        now = time.perf_counter() - t0
        if "paint" not in marks and b"Conversation" in buf:
            marks["paint"] = now
            os.write(fd, QUESTION)  # typed at once: answered when the index is ready
            asked_at = len(buf)
        if "paint" in marks and "ready" not in marks and b"ready" in buf:
            marks["ready"] = now
        if asked_at and b"19%" in _ESC.sub(b"", buf[asked_at:]):
            marks["answer"] = now
    os.write(fd, b"\x11")  # ctrl+q
    _, _, usage = os.wait4(pid, 0)
    os.close(fd)
    marks["peak_mb"] = usage.ru_maxrss / 1024
    return marks


def sample_index(folder: Path) -> Path:
    index = folder / "index"
    subprocess.run(
        [str(PCC), "--index", str(index), "ingest", str(ROOT / "corpus")],
        check=True,
        capture_output=True,
    )
    return index


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, help="an index to open (default: the sample reports)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="don't touch RESULTS.md")
    args = ap.parse_args()
    before = load_average()
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or sample_index(Path(tmp))
        runs = [once(index) for _ in range(args.runs)]
        # The session is kept between runs; it doesn't change what is timed.
    after = load_average()

    def med(key: str) -> str:
        values = [r[key] for r in runs if key in r]
        return f"{statistics.median(values):.2f}" if values else "–"

    def span(key: str) -> str:
        values = [r[key] for r in runs if key in r]
        return f"{min(values):.2f}–{max(values):.2f}" if values else "–"

    body = "\n".join(
        [
            machine_line(["textual", "chromadb", "onnxruntime"]),
            f"Embedder: `{embedder_description()}`.",
            "",
            f"Command: `.venv/bin/python benchmarks/chat_startup.py --runs {args.runs}`: "
            "`pcc chat` in a 100×30 pseudo-terminal on the sample-report index; the question "
            "is typed as soon as the window is drawn.",
            "",
            f"| from process start to | median s (of {args.runs}) | range s | aim |",
            "|---|---|---|---|",
            f"| first paint (window drawn, typing accepted) | {med('paint')} | {span('paint')}"
            " | < 0.5 |",
            f"| ready (index open, models warm) | {med('ready')} | {span('ready')} | < 3 |",
            f"| first answer on screen | {med('answer')} | {span('answer')} | |",
            "",
            f"Peak memory of the chat process: {med('peak_mb')} MB (median).",
            "",
            f"Load average (1/5/15 min) before: {before}; after: {after}.",
        ]
    )
    print(body)
    if not args.no_write:
        write_section("Chat start-up (`benchmarks/chat_startup.py`)", body)


if __name__ == "__main__":
    main()
