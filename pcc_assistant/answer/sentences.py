"""Sentences, table rows and figures: the pieces answers are made of and checked against."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from pcc_assistant.answer.tables import read_row
from pcc_assistant.types import Paragraph

_ABBREV = re.compile(
    r"\b(?:e\.g|i\.e|etc|excl|incl|approx|no|nos|vs|cf|dr|mr|mrs|ms|st|fig|para|paras|"
    r"ch|sec|p|pp|op|ltd|co|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\.$",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’')\]]*\s+(?=[\"“‘(\[]?[A-Z0-9*])")
_LEADING_LABEL = re.compile(r"^\s*(?:[-•▪●]\s+)?(?:\d+(?:\.\d+)*\.?\s+)")
_NUMBER = re.compile(
    r"(?<![\w.])[-−–]?(?:£|\$|€)?\d+(?:,\d{3})*(?:\.\d+)?(?:\s?(?:%|per\s?cent|percent))?"
    r"(?:st|nd|rd|th)?(?![\w])",
    re.IGNORECASE,
)
_QUOTED_LEAD = re.compile(r"^(\*?['‘][^\n]*?['’]\*?)\s+(?=[A-Z])")
_LIST_ITEM = re.compile(r"(?:^|\n|\s)[-•▪●]\s+(?=\S)")
_NUMERIC_ROW = re.compile(r"(?:\s[-−–]?\d[\d,]*(?:\.\d+)?%?){2,}\s*$")


@dataclass(frozen=True)
class Unit:
    """A sentence of a paragraph, or a row of a table with what it needs to be read."""

    text: str  # as shown in an answer: verbatim from the paragraph (rows carry headings)
    body: str  # the sentence or row alone, for matching the question against
    kind: str  # "sentence" or "row"
    role: str = ""  # "item" of a list, "opener" of one (ends with ":" or precedes items)


def fold(text: str) -> str:
    """For containment checks: NFKC, lower case, no whitespace at all, one kind of dash."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = text.replace("’", "'").replace("‘", "'").replace("“", '"').replace("”", '"')
    text = re.sub(r"[‐-―−]", "-", text)
    return re.sub(r"\s+", "", text)


def flatten(text: str) -> str:
    """A paragraph's lines as running text (a PDF's line breaks are not the author's)."""
    text = re.sub(r"(\w)-\n(\w)", r"\1-\2", text)
    return re.sub(r"\s+", " ", text).strip()


def figures(text: str) -> set[str]:
    """Numbers, percentages and amounts in ``text``, in one normal form: ``19%``, ``2.9``."""
    found = set()
    for m in _NUMBER.finditer(unicodedata.normalize("NFKC", text)):
        value = m.group(0).replace(",", "").replace("−", "-").replace("–", "-")
        value = re.sub(r"\s?(?:per\s?cent|percent)$", "%", value, flags=re.IGNORECASE)
        value = re.sub(r"(?<=\d)(?:st|nd|rd|th)$", "", value, flags=re.IGNORECASE)
        value = value.replace(" ", "").lstrip("-")
        found.add(value.lower())
    return found


def split_sentences(text: str) -> list[str]:
    out: list[str] = []
    pending = ""
    for piece in _SENTENCE_END.split(text):
        piece = (pending + " " + piece).strip() if pending else piece.strip()
        if _ABBREV.search(piece):
            pending = piece
            continue
        pending = ""
        if piece:
            out.append(piece)
    if pending:
        out.append(pending)
    return out


def _is_heading(line: str) -> bool:
    """A short first line with no sentence end: the paragraph's own heading."""
    s = line.strip()
    return (
        bool(s)
        and len(s) < 70
        and not s.endswith((".", ":", ";", ","))
        and (bool(re.match(r"^\d+(\.\d+)+\s", s)) or s.istitle())
    )


# "supported in three core ways: 1. Victims ... 2. Witnesses ...": a list run into a line.
_INLINE_ITEM = re.compile(r"(?:(?<=:)|(?<=[.;]))\s+(?:\(?\d{1,2}[.)]|\(?[a-h]\))\s+(?=\S)")


def units(p: Paragraph) -> list[Unit]:
    """A paragraph's sentences, list items and table rows, in order, each knowing its role:
    a sentence that opens a list is followed by the list's items."""
    if p.kind == "table":
        return table_units(p)
    lines = p.text.split("\n")
    if len(lines) > 1 and _is_heading(lines[0]):
        lines = lines[1:]
    text = _LEADING_LABEL.sub("", "\n".join(lines).lstrip(), count=1)
    out: list[Unit] = []
    # A quoted objective leading the paragraph ("*'Ensure that ...'*") is its own unit.
    m = _QUOTED_LEAD.match(flatten(text))
    if m:
        out.append(Unit(m.group(1).strip(), m.group(1).strip(), "sentence"))
        text = flatten(text)[m.end() :]
    # Items of a list ("- the SARC, which offers ...") are read one by one.
    chunks = [flatten(c) for c in _LIST_ITEM.split(text)]
    for n, chunk in enumerate(chunks):
        pieces = _inline_items(chunk)
        for k, piece in enumerate(pieces):
            item = n > 0 or k > 0
            sentences = [s for s in split_sentences(piece) if len(s) > 2]
            for i, sentence in enumerate(sentences):
                last = i == len(sentences) - 1
                opens = last and (
                    sentence.endswith(":") or (not item and (len(pieces) > 1 or len(chunks) > 1))
                )
                role = "item" if item and i == 0 else "opener" if opens else ""
                out.append(Unit(sentence, sentence, "sentence", role))
    return out


def _inline_items(text: str) -> list[str]:
    """A sentence ending in ":" followed by "1. ... 2. ..." split into opener and items."""
    if ":" not in text:
        return [text]
    head, colon, tail = text.partition(":")
    pieces = [p.strip() for p in _INLINE_ITEM.split(colon + " " + tail) if p.strip(" :")]
    if len(pieces) < 2:
        return [text]
    return [head + ":", *pieces]


def table_units(p: Paragraph) -> list[Unit]:
    """Each data row, shown with the table's caption and column headings."""
    lines = [ln.strip() for ln in p.text.split("\n") if ln.strip()]
    rows = [
        i
        for i, ln in enumerate(lines)
        if _NUMERIC_ROW.search(" " + ln) and re.search(r"[A-Za-z]", ln)
    ]
    if not rows:
        return [Unit(s, s, "sentence") for s in split_sentences(flatten(p.text))]
    first = rows[0]
    header = lines[first - 1] if first >= 1 else ""
    title = " ".join(lines[: max(first - 1, 0)])
    caption = next((ln for ln in lines[rows[-1] + 1 :] if ln.lower().startswith("figure")), "")
    context = flatten(title or caption)
    out = []
    for i in rows:
        cells = read_row(lines[i], header) if header else None
        if cells is not None:
            label, values = cells
            shown = f"{label}: " + ", ".join(f"{col} {value}" for col, value in values)
            out.append(Unit(f"{shown} ({context})" if context else shown, lines[i], "row"))
        elif header:
            lead = f"{context} (columns: {header})" if context else f"columns: {header}"
            out.append(Unit(f"{lead}: {lines[i]}", lines[i], "row"))
        else:
            out.append(Unit(f"{context}: {lines[i]}" if context else lines[i], lines[i], "row"))
    return out
