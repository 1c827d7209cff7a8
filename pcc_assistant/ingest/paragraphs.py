"""Split a report's body lines into its own paragraphs, tables, figures and footnotes.

The rules follow how UK council and police reports are written: numbered paragraphs
(``32.``, ``4.1.1``, ``- 64.``) run until the next number; numbered headings
(``4.1.1 Victims``) open a section whose unnumbered paragraphs are labelled after it
(``4.1.1 (2)``); a table keeps its title, column headings, rows and caption together.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from pcc_assistant.ingest.furniture import Line

# Bump when the rules change: the index collection is named after it.
PARAGRAPHING_VERSION = 1

_NUMBER = re.compile(r"^(?:[-•–]\s*)?(\d{1,3}(?:\.\d{1,3}){0,4})(\.?)\s+(?=[A-Za-z*'‘\"“(])")
_CAPTION = re.compile(
    r"^(Figure|Fig\.|Table|Chart|Graph|Map|Diagram)\s+(\d+[A-Za-z]?)\s*[:.–—-]\s*\S", re.I
)
_FOOTNOTE = re.compile(r"^([¹²³⁴⁵⁶⁷⁸⁹⁰]+)\s*\S")
_SUPERSCRIPT = str.maketrans("¹²³⁴⁵⁶⁷⁸⁹⁰", "1234567890")
_OUTCOME = re.compile(r"^(Outcome|Theme|Priority|Part|Section)\s+\d+\b")
_KPQ = re.compile(r"^KPQ\s*\d+\s*:")
_APPENDIX = re.compile(r"^(Appendix|Annex|Annexe|Schedule)\b")
_NUMERIC_CELL = r"(?:[-−–]?[£$€]?\d[\d,]*(?:\.\d+)?%?|N/?A|-|–)"
_PDF_ROW = re.compile(rf"(?:\s{_NUMERIC_CELL}){{2,}}$")
_MONTH = re.compile(r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\b", re.I)
_SENTENCE_INSIDE = re.compile(r"[.!?]\s+[A-Z(]")
_ITEM = re.compile(r"^(?:[-•–*]\s|[IVXivx]{1,5}\.\s|\(?[a-z0-9]{1,2}\)\s|\d{1,2}\.\s)")


@dataclass
class _Unit:
    label: str
    kind: str
    lines: list[Line] = field(default_factory=list)
    section: str = ""


@dataclass
class _Block:
    kind: str  # "num", "text", "table", "figure", "footnote", "heading"
    lines: list[Line]
    number: tuple[int, ...] | None = None
    label: str = ""
    heading: bool = False


def _ends_sentence(text: str) -> bool:
    return text.rstrip(" *'\"’”)]").endswith((".", "!", "?"))


def _is_row(line: Line) -> bool:
    if "\t" in line.text:
        return sum(1 for cell in line.text.split("\t") if cell.strip()) >= 2
    return bool(_PDF_ROW.search(" " + line.text))


def _follows(prev: tuple[int, ...] | None, cur: tuple[int, ...]) -> bool:
    """Whether ``cur`` can be the next paragraph number after ``prev``."""
    if prev is None:
        return cur[0] <= 5 and all(c <= 3 for c in cur[1:])
    for depth in range(len(prev)):
        for step in (1, 2, 3):
            if cur == (*prev[:depth], prev[depth] + step):
                return True
            if cur == (*prev[:depth], prev[depth] + step, 1):
                return True
    return cur in ((*prev, 1), (*prev, 1, 1))


class _Doc:
    """Per-document measures the rules need."""

    def __init__(self, lines: Sequence[Line]) -> None:
        self.lines = lines
        blanks = sum(1 for ln in lines if ln.blank_before)
        # Text exports put blank lines between paragraphs; PDFs wrap lines with none.
        self.wrapped = blanks < 0.15 * max(1, len(lines))
        lengths = sorted(len(ln.text) for ln in lines if len(ln.text.split()) >= 6)
        self.full = lengths[int(0.8 * (len(lengths) - 1))] if lengths else 80

    def short(self, line: Line) -> bool:
        return self.wrapped and len(line.text) < 0.8 * self.full


def _numbers(lines: Sequence[Line]) -> dict[int, tuple[int, ...]]:
    """Lines that start a numbered paragraph, keeping only numbers in sequence."""
    found: dict[int, tuple[int, ...]] = {}
    prev: tuple[int, ...] | None = None
    for i, line in enumerate(lines):
        m = _NUMBER.match(line.text)
        if not m:
            continue
        number = tuple(int(p) for p in m.group(1).split("."))
        rest = line.text[m.end() :]
        if len(number) == 1 and not m.group(2) and (not rest[:1].isupper() or _MONTH.match(rest)):
            continue  # "3 towns", "12 March 2020": a bare number is a heading's only with a capital
        if _follows(prev, number):
            found[i] = number
            prev = number
    return found


def _kinds(doc: _Doc, numbers: dict[int, tuple[int, ...]]) -> list[str]:
    """A first look at each line: number, caption, footnote, row, heading or text."""
    kinds: list[str] = []
    for i, line in enumerate(doc.lines):
        t = line.text
        if i in numbers:
            kinds.append("num")
        elif _CAPTION.match(t):
            kinds.append("caption")
        elif _FOOTNOTE.match(t):
            kinds.append("footnote")
        elif line.heading or _OUTCOME.match(t) or _KPQ.match(t) or _APPENDIX.match(t):
            kinds.append("forced")
        elif _is_row(line):
            kinds.append("row")
        else:
            kinds.append("text")
    return kinds


def _mark_tables(doc: _Doc, kinds: list[str]) -> list[str]:
    """Turn runs of rows, with the title and headings above them, into table lines."""
    lines = doc.lines
    out = list(kinds)
    i = 0
    while i < len(lines):
        if kinds[i] != "row":
            i += 1
            continue
        j = i
        while j < len(lines) and kinds[j] == "row":
            j += 1
        if j - i >= 2:
            start = i
            # Title and column headings: short lines just above, not prose.
            while start > 0 and i - start < 4 and kinds[start - 1] in ("text", "forced"):
                above = lines[start - 1].text
                if doc.wrapped:
                    if (
                        len(above.split()) > 14
                        or _ends_sentence(above)
                        or _SENTENCE_INSIDE.search(above)
                    ):
                        break
                elif lines[start].blank_before or _ends_sentence(above):
                    break
                start -= 1
            for k in range(start, j):
                out[k] = "table"
        i = j
    return out


def _mark_figures(doc: _Doc, kinds: list[str]) -> list[str]:
    """A caption takes the grid of short lines above it (a diagram's text) as its body."""
    out = list(kinds)
    if not doc.wrapped:
        return out
    for i, kind in enumerate(kinds):
        if kind != "caption":
            continue
        start = i
        while start > 0 and kinds[start - 1] in ("text", "forced"):
            above = doc.lines[start - 1]
            # A diagram's boxes may hold questions; only a full stop marks prose.
            ends_prose = above.text.rstrip(" *'\"’”)]").endswith(".")
            if not doc.short(above) or (ends_prose and kinds[start - 1] == "text"):
                break
            start -= 1
        if i - start >= 3:
            for k in range(start, i):
                out[k] = "grid"
    return out


def _quoted_heading(first: Line, prev: Line) -> bool:
    """A numbered objective in quotes (``6.1.2 'Ensure …'``) ends where the quote closes."""
    body = _NUMBER.sub("", first.text, count=1).lstrip()
    return body[:1] in "*'‘\"“" and prev.text.endswith(("'*", "’", "”", "'", '"', "*"))


def _continues(doc: _Doc, first: Line, prev: Line, line: Line, kind: str) -> bool:
    """Whether ``line`` carries on the block that began with ``first`` and so far ends
    with ``prev``."""
    if kind in ("num", "caption", "footnote", "forced"):
        return False
    starts_low = line.text[:1].islower()
    if doc.wrapped:
        if starts_low:
            return True
        if doc.short(prev) or _quoted_heading(first, prev):
            return False
        # A long line ending a sentence, then a short capitalised line: a heading or a
        # one-line paragraph begins.
        return not (_ends_sentence(prev.text) and doc.short(line))
    if not line.blank_before:
        return True
    if _quoted_heading(first, prev):
        return False
    # A blank line where a page ended mid-sentence is not a paragraph break.
    return not _ends_sentence(prev.text) and (
        starts_low or (len(prev.text.split()) > 12 and not prev.text.endswith(":"))
    )


def _blocks(doc: _Doc, kinds: list[str], numbers: dict[int, tuple[int, ...]]) -> list[_Block]:
    lines = doc.lines
    blocks: list[_Block] = []
    i = 0
    while i < len(lines):
        kind = kinds[i]
        if kind in ("table", "grid"):
            j = i
            while j < len(lines) and kinds[j] == kind:
                j += 1
            # The caption below a table or diagram belongs to it.
            if j < len(lines) and kinds[j] == "caption":
                j = _caption_end(doc, kinds, j)
            blocks.append(_Block("table" if kind == "table" else "figure", list(lines[i:j])))
            i = j
            continue
        if kind == "caption":
            j = _caption_end(doc, kinds, i)
            blocks.append(_Block("figure", list(lines[i:j])))
            i = j
            continue
        j = i + 1
        while (
            j < len(lines)
            and kinds[j] == "text"
            and _continues(doc, lines[i], lines[j - 1], lines[j], kinds[j])
            # After a footnote printed mid-paragraph, a lower-case line resumes the paragraph.
            and not (kind == "footnote" and lines[j].text[:1].islower())
        ):
            j += 1
        block_kind = {"num": "num", "footnote": "footnote", "forced": "heading"}.get(kind, "text")
        blocks.append(_Block(block_kind, list(lines[i:j]), numbers.get(i)))
        i = j
    return blocks


def _caption_end(doc: _Doc, kinds: list[str], i: int) -> int:
    j = i + 1
    while (
        j < len(doc.lines)
        and kinds[j] == "text"
        and ((doc.wrapped and not doc.short(doc.lines[j - 1])) or doc.lines[j].text[:1].islower())
        and not doc.lines[j].blank_before
    ):
        j += 1
    return j


def _headlike(block: _Block) -> bool:
    if block.kind == "heading":
        return True
    if block.kind != "text" or len(block.lines) > 2:
        return False
    text = " ".join(ln.text for ln in block.lines)
    return (
        len(text.split()) <= 14
        and not text.rstrip().endswith((".", ",", ";", ":", "!", "?"))
        and not text[:1].islower()
        and not _ITEM.match(text)
        and any(len(w) >= 3 and w.isalpha() for w in text.split())
    )


def _merge_short_runs(blocks: list[_Block]) -> list[_Block]:
    """Runs of three or more one-line fragments (signatures, forms, cover pages) become
    one block, so that they are neither headings nor a scatter of tiny paragraphs."""

    def fragment(n: int) -> bool:
        block = blocks[n]
        if block.kind != "text" or len(block.lines) != 1 or _ends_sentence(block.lines[0].text):
            return False
        # The last fragment before a numbered paragraph is that paragraph's heading.
        nxt = blocks[n + 1] if n + 1 < len(blocks) else None
        return not (nxt is not None and nxt.kind == "num" and _headlike(block))

    out: list[_Block] = []
    n = 0
    while n < len(blocks):
        m = n
        while m < len(blocks) and fragment(m):
            m += 1
        if m - n >= 3:
            out.append(_Block("text", [ln for b in blocks[n:m] for ln in b.lines]))
            n = m
        else:
            out.append(blocks[n])
            n += 1
    return out


def _is_heading(blocks: list[_Block], n: int) -> bool:
    block = blocks[n]
    if block.kind == "heading":
        return True
    if not _headlike(block):
        return False
    nxt = blocks[n + 1] if n + 1 < len(blocks) else None
    return nxt is not None and not _headlike(nxt) and nxt.kind != "footnote"


def _numbered_heading(block: _Block) -> bool:
    text = " ".join(ln.text for ln in block.lines)
    body = _NUMBER.sub("", text, count=1)
    quoted = body.lstrip()[:1] in "*'‘\"“"
    limit = 60 if quoted else 25
    lines = 4 if quoted else 2
    return (
        len(block.lines) <= lines
        and len(body.split()) <= limit
        and not _ends_sentence(body)
        and not body.rstrip().endswith((",", ";", ":"))
    )


def _rank(block: _Block) -> int:
    text = block.lines[0].text
    if _OUTCOME.match(text) or _APPENDIX.match(text):
        return 0
    if _KPQ.match(text):
        return 1
    if block.number is not None:
        return 1 + len(block.number)
    return 100


def _caption_label(block: _Block) -> str:
    for line in block.lines:
        m = _CAPTION.match(line.text)
        if m:
            name = m.group(1).capitalize().replace("Fig.", "Figure")
            return f"{name} {m.group(2)}"
    return ""


def _label_of(number: tuple[int, ...]) -> str:
    return ".".join(str(n) for n in number)


def _join(lines: Sequence[Line]) -> str:
    return joined(lines)[0]


def joined(lines: Sequence[Line]) -> tuple[str, list[int]]:
    """A unit's text (lines joined by newlines, a hyphen at a line end joining the word),
    and where each line starts in it."""
    parts: list[str] = []
    starts: list[int] = []
    at = 0
    for n, line in enumerate(lines):
        if n and not (
            parts[-1].endswith("-") and not parts[-1].endswith(" -") and line.text[:1].islower()
        ):
            parts.append("\n")
            at += 1
        starts.append(at)
        parts.append(line.text)
        at += len(line.text)
    return "".join(parts), starts


# After a sentence's end: its closing quotes or brackets, then the space before the next.
_SENTENCE_GAP = re.compile(r"(?<=[.!?…])[\"'’”)\]]*\s+")


def long_parts(text: str, cap: int) -> list[tuple[int, int]]:
    """(start, end) of the parts of ``text`` no longer than ``cap`` characters: the whole
    text when it fits, else cut at the last sentence end in each stretch of ``cap`` (at a
    space when a stretch holds none in its second half, at ``cap`` when it holds no space:
    hostile input, not prose). Parts are never shorter than half the cap, but the last."""
    spans: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > cap:
        limit = start + cap
        cut = 0
        for m in _SENTENCE_GAP.finditer(text, start + cap // 2, limit):
            cut = m.end()
        if not cut:
            half = start + cap // 2
            space = max(text.rfind(" ", half, limit), text.rfind("\n", half, limit))
            cut = space + 1 if space > start else limit
        end = cut
        while end > start and text[end - 1].isspace():
            end -= 1
        spans.append((start, end))
        start = cut
        while start < len(text) and text[start].isspace():
            start += 1
    if start < len(text):
        spans.append((start, len(text)))
    return spans


def split_paragraphs(lines: Sequence[Line]) -> list[tuple[str, str, str, list[Line]]]:
    """(label, kind, section, lines) for each unit, in document order."""
    if not lines:
        return []
    doc = _Doc(lines)
    numbers = _numbers(lines)
    kinds = _mark_figures(doc, _mark_tables(doc, _kinds(doc, numbers)))
    blocks = _merge_short_runs(_blocks(doc, kinds, numbers))

    units: list[_Unit] = []
    stack: list[tuple[int, str]] = []
    anchor = "front"
    open_unit: _Unit | None = None  # where following unnumbered text goes
    section_mode = False  # unnumbered paragraphs become units of their own
    counts: dict[str, int] = {}  # unnumbered units labelled after each anchor so far
    pending_first = False  # a numbered heading still waits for its first paragraph

    def section() -> str:
        return " > ".join(text for _, text in stack)

    def push_heading(rank: int, text: str) -> None:
        while stack and stack[-1][0] >= rank:
            stack.pop()
        stack.append((rank, text))

    def new_unit(label: str, kind: str, block_lines: list[Line]) -> _Unit:
        unit = _Unit(label, kind, list(block_lines), section())
        units.append(unit)
        return unit

    def next_label() -> str:
        # Before any number, the heading the text sits under names it ("Background (2)").
        base = anchor
        if anchor == "front" and stack:
            base = stack[-1][1][:40].rstrip(" :–-")
        counts[base] = counts.get(base, 0) + 1
        return f"{base} ({counts[base]})"

    for n, block in enumerate(blocks):
        heading_text = " ".join(ln.text for ln in block.lines)
        if block.kind == "num":
            assert block.number is not None
            anchor = _label_of(block.number)
            counts[anchor] = 1
            if _numbered_heading(block):
                push_heading(_rank(block), heading_text)
                nxt = blocks[n + 1] if n + 1 < len(blocks) else None
                if nxt is not None and nxt.kind == "text" and not _is_heading(blocks, n + 1):
                    open_unit = new_unit(anchor, "paragraph", block.lines)
                    open_unit.section = section()
                    section_mode = True
                    pending_first = True
                else:
                    open_unit, section_mode, pending_first = None, True, False
                    counts[anchor] = 0
                continue
            while stack and stack[-1][0] == 100:
                stack.pop()  # a numbered paragraph ends an unnumbered subsection
            open_unit = new_unit(anchor, "paragraph", block.lines)
            section_mode, pending_first = False, False
            continue
        if block.kind == "footnote":
            m = _FOOTNOTE.match(block.lines[0].text)
            mark = m.group(1).translate(_SUPERSCRIPT) if m else "?"
            new_unit(f"footnote {mark}", "footnote", block.lines)
            continue  # the paragraph around a footnote carries on after it
        if block.kind in ("table", "figure"):
            label = _caption_label(block) or next_label()
            new_unit(label, block.kind, block.lines)
            open_unit = None
            continue
        if _is_heading(blocks, n):
            push_heading(_rank(block), heading_text)
            open_unit = None
            section_mode = True
            pending_first = False
            continue
        # Unnumbered body text.
        if open_unit is not None and (not section_mode or pending_first):
            open_unit.lines.extend(block.lines)
            pending_first = False
            continue
        open_unit = new_unit(next_label(), "paragraph", block.lines)
        if section_mode:
            open_unit = None

    # Labels must be unique within a document (two "Figure 1"s, repeated numbering).
    seen: dict[str, int] = {}
    result: list[tuple[str, str, str, list[Line]]] = []
    for unit in units:
        label = unit.label
        if label in seen:
            seen[label] += 1
            label = f"{label} ({seen[label]})"
            while label in seen:
                label += "'"
        seen.setdefault(label, 1)
        result.append((label, unit.kind, unit.section, unit.lines))
    return result


def unit_text(lines: Sequence[Line]) -> str:
    """The text of a unit as it is indexed and quoted."""
    return _join(lines)
