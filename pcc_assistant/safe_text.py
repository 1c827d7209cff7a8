"""Text from reports, file names and models, made safe to put on a terminal.

Rich and Textual strip only a few control characters; an escape sequence in a PDF (ESC,
CSI, OSC 52 clipboard writes, the single byte 0x9B) or a bidi override could still move
the cursor, retitle the window or disguise text. Everything shown to a user passes here:
report text, titles, ids, paths and error lines (:func:`clean`, :func:`error_line`), and
JSON printed by a command (:func:`json_text`).
Markup is a separate matter: callers print with markup off (``markup=False``).
"""

from __future__ import annotations

import json
import re
from typing import Any

# C0 controls but tab and newline, DEL, C1 controls (0x80-0x9F, including CSI 0x9B),
# and the Unicode bidi embeddings, overrides and isolates.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")
# A whole escape sequence, so its parameters don't survive as junk ("[31m").
_ESCAPE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])"
    r"|\x9b[0-?]*[ -/]*[@-~]|\x9d[^\x07\x1b\x9c]*(?:\x07|\x9c)?"
)
# What json.dumps(ensure_ascii=False) leaves raw but a terminal obeys: DEL, C1, bidi.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def clean(text: str) -> str:
    """``text`` with terminal control sequences removed; newlines and tabs kept."""
    return _UNSAFE.sub("", _ESCAPE.sub("", text.replace("\r\n", "\n").replace("\r", "\n")))


def one_line(text: str) -> str:
    """``text`` cleaned and on one line (a file name may hold a newline)."""
    return " ".join(clean(text).split())


def error_line(message: str) -> str:
    """The one line a command prints for an error: ``error: ...``, cleaned."""
    return f"error: {one_line(message)}"


def json_text(value: Any, indent: int | None = 2) -> str:
    """``value`` as JSON for a terminal: non-ASCII text kept readable, and every character
    a terminal would obey escaped (json.dumps escapes C0 itself; DEL, C1 and bidi
    controls are escaped here), so the data is whole and the screen is safe."""
    text = json.dumps(value, indent=indent, ensure_ascii=False)
    return _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
