"""Where a claim's supporting sentences sit in the paragraph shown to the reader.

A claim's ``support`` holds sentences verbatim from the paragraph, but the paragraph
keeps the PDF's line breaks where the sentence has spaces (and a table row's sentence
carries its headings). So matching folds both sides the way verification does: no
whitespace, one kind of quote and dash, NFKC, lower case.
"""

from __future__ import annotations

import re
import unicodedata

from pcc_assistant.answer.model import Answer
from pcc_assistant.safe_text import clean
from pcc_assistant.types import Paragraph

_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
_DASH = re.compile(r"[‐-―−]")
_MIN_PIECE = 8  # a heading fragment shorter than this would light up stray words


def _fold_char(ch: str) -> str:
    if ch.isspace():
        return ""
    return _DASH.sub("-", unicodedata.normalize("NFKC", ch).lower().translate(_QUOTES))


def _folded(text: str) -> tuple[str, list[int]]:
    """``text`` folded, and for each folded character the index it came from."""
    chars: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for f in _fold_char(ch):
            chars.append(f)
            origin.append(i)
    return "".join(chars), origin


def _fold(text: str) -> str:
    return "".join(_fold_char(ch) for ch in text)


def spans(text: str, sentences: tuple[str, ...] | list[str]) -> list[tuple[int, int]]:
    """Character ranges of ``text`` holding each of ``sentences``, merged and sorted."""
    hay, origin = _folded(text)
    found: list[tuple[int, int]] = []
    for sentence in sentences:
        sentence = clean(sentence)
        pieces = [sentence]
        if _fold(sentence) not in hay:  # a table row: "caption: headings: row"
            pieces = [p for p in sentence.split(": ") if len(p.strip()) >= _MIN_PIECE]
        for piece in pieces:
            needle = _fold(piece)
            if not needle:
                continue
            at = hay.find(needle)
            while at >= 0:
                found.append((origin[at], origin[at + len(needle) - 1] + 1))
                at = hay.find(needle, at + len(needle))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(found):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def display_text(p: Paragraph) -> str:
    """The paragraph as shown: terminal-safe; running text unless it is a table."""
    text = clean(p.text)
    if p.kind == "table":
        return text.strip()
    return re.sub(r"\s+", " ", re.sub(r"(\w)-\n(\w)", r"\1-\2", text)).strip()


def support_for(answer: Answer, marker: int) -> tuple[str, ...]:
    """The sentences of paragraph ``marker`` that the answer's verified claims rest on."""
    out: list[str] = []
    for claim in answer.claims:
        if claim.verified and marker in claim.markers:
            out.extend(s for s in claim.support or (claim.text,) if s not in out)
    return tuple(out)
