"""What an exported answer rested on, and whether it still holds.

Every citation that leaves the program (``pcc ask --json``, ``pcc ask --markdown``, the
chat's Markdown export) carries the report's content hash and the time it was indexed.
:mod:`pcc_assistant.notes` reads them back from such a file, and :func:`check` compares each
quoted paragraph with what the index holds now: still there word for word ("holds"),
changed (and how), or gone.

In Markdown the provenance is one small line under each quoted paragraph::

    <sub>doc durham-pcvc-performance-2020-03-12 · ¶32 · p.7 · sha256 1a2b…(64 hex) ·
    indexed 2026-11-27T10:00:00+00:00</sub>

(on one line). It stays readable when pasted into briefing notes, and the block quote
above it gives back the paragraph's text, so nothing hidden has to survive the paste.
Only the record is read: no model, no Chroma, so ``pcc verify`` starts fast.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from pcc_assistant.answer.model import Evidence, pages_text, paragraph_mark
from pcc_assistant.notes import Cited
from pcc_assistant.safe_text import clean
from pcc_assistant.types import Paragraph

Status = Literal["holds", "changed", "gone"]

SIMILAR = 0.5  # word-level similarity above which a paragraph is the cited one, changed
DIFF_CONTEXT = 3  # words shown either side of a change
DIFF_HUNKS = 6  # changes shown before "(N more)"


# -- writing --------------------------------------------------------------------------------
def _escape(text: str) -> str:
    """As the Markdown export escapes report text: what would restyle it."""
    return re.sub(r"([\\`*<])", r"\\\1", text)


def provenance_line(e: Evidence) -> str:
    """The line under a quoted paragraph that says which indexed version it is."""
    parts = [f"doc {_escape(e.paragraph.doc)}", _escape(paragraph_mark(e.paragraph))]
    pages = pages_text(e.paragraph)
    if pages:
        parts.append(pages)
    parts.append(f"sha256 {e.report.sha256 or '?'}")
    parts.append(f"indexed {e.indexed_at or '?'}")
    return "<sub>" + " · ".join(" ".join(clean(p).split()) for p in parts) + "</sub>"


# -- checking -------------------------------------------------------------------------------
class RecordReader(Protocol):
    """What checking needs of the record (:class:`pcc_assistant.index.record.Record`)."""

    def report(self, doc: str) -> Any: ...

    def paragraphs(self, doc: str | None = None) -> list[Paragraph]: ...


@dataclass(frozen=True)
class Change:
    """One word-level difference: words removed and added, with a little context."""

    before: str
    removed: str
    added: str
    after: str


@dataclass(frozen=True)
class Check:
    cited: Cited
    status: Status
    reason: str
    current: Paragraph | None = None  # the paragraph matched in the index now
    current_sha256: str = ""
    current_indexed_at: str = ""
    reingested: bool = False  # the report's hash (or time indexed) differs from the cited
    label_moved: bool = False
    similarity: float = 1.0
    changes: tuple[Change, ...] = field(default=())
    more_changes: int = 0  # changes left out of ``changes``


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"'})
_DASH = re.compile(r"[‐-―−]")


def fold(text: str) -> str:
    """Text as compared for "word for word": layout, quote style and dash style aside
    (a paste into a word processor changes those), case and every character kept."""
    text = unicodedata.normalize("NFKC", clean(text)).translate(_QUOTES)
    return _DASH.sub("-", re.sub(r"\s+", "", text))


def words(text: str) -> list[str]:
    return clean(text).split()


def similarity(a: list[str], b: list[str]) -> float:
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    if m.real_quick_ratio() < SIMILAR or m.quick_ratio() < SIMILAR:
        return m.quick_ratio()
    return m.ratio()


def word_changes(old: str, new: str) -> tuple[list[Change], int]:
    """The word-level changes from ``old`` to ``new`` (at most ``DIFF_HUNKS``), and how
    many more there are."""
    a, b = words(old), words(new)
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    changes = []
    for op, i1, i2, j1, j2 in m.get_opcodes():
        if op == "equal":
            continue
        changes.append(
            Change(
                " ".join(a[max(0, i1 - DIFF_CONTEXT) : i1]),
                " ".join(a[i1:i2]),
                " ".join(b[j1:j2]),
                " ".join(a[i2 : i2 + DIFF_CONTEXT]),
            )
        )
    return changes[:DIFF_HUNKS], max(0, len(changes) - DIFF_HUNKS)


def diff_text(c: Check) -> str:
    """The changes as ``… was [-19%-] {+21%+} compared …`` (git's word-diff style)."""
    parts = []
    for ch in c.changes:
        bits = [f"…{ch.before}" if ch.before else ""]
        if ch.removed:
            bits.append(f"[-{ch.removed}-]")
        if ch.added:
            bits.append(f"{{+{ch.added}+}}")
        bits.append(f"{ch.after}…" if ch.after else "")
        parts.append(" ".join(b for b in bits if b))
    if c.more_changes:
        parts.append(f"(and {c.more_changes} more changes)")
    return "  ".join(parts)


def _when(iso: str) -> str:
    """``2026-11-27T10:00:00+00:00`` as ``2026-11-27 10:00 UTC``, for reading."""
    if iso.endswith("+00:00") and len(iso) >= 16:
        return iso[:16].replace("T", " ") + " UTC"
    return iso


def mark(label: str) -> str:
    """``¶32``, ``§4.1.1``, ``Figure 9``: as :func:`paragraph_mark` writes a label."""
    if not label[:1].isdigit():
        return label
    return f"§{label}" if "." in label.split(" ")[0] else f"¶{label}"


def _check_one(c: Cited, record: RecordReader, cache: dict[str, list[Paragraph]]) -> Check:
    indexed = record.report(c.doc)
    if indexed is None:
        return Check(c, "gone", "its report is no longer in the index", similarity=0.0)
    sha, at = indexed.report.sha256, indexed.indexed_at
    reingested = (c.sha256 != sha) if c.sha256 else (bool(c.indexed_at) and c.indexed_at != at)
    base = Check(c, "holds", "", current_sha256=sha, current_indexed_at=at, reingested=reingested)
    again = f" (report re-ingested {_when(at)})" if reingested else ""
    if c.doc not in cache:
        cache[c.doc] = record.paragraphs(c.doc)
    paragraphs = cache[c.doc]
    target = fold(c.text)
    same = [p for p in paragraphs if fold(p.text) == target]
    for p in same:
        if p.label == c.label:
            why = "word for word"
            if reingested:
                why += f"; the report was re-ingested {_when(at)}, this paragraph unchanged"
            return replace(base, reason=why, current=p)
    if same:
        p = same[0]
        why = f"word for word, but now labelled {mark(p.label)}, not {mark(c.label)}{again}"
        return replace(base, status="changed", reason=why, current=p, label_moved=True)
    old = words(c.text)
    scored = [(similarity(old, words(p.text)), p) for p in paragraphs]
    by_label = [sp for sp in scored if sp[1].label == c.label]
    best = max(by_label, key=lambda sp: sp[0], default=None)
    moved = False
    if best is None or best[0] < SIMILAR:
        best = max(scored, key=lambda sp: sp[0], default=None)
        moved = True
    if best is None or best[0] < SIMILAR:
        what = "now holds different text" if by_label else "is no longer in the report"
        return replace(
            base,
            status="gone",
            reason=f"{mark(c.label)} {what}{again}",
            similarity=best[0] if best else 0.0,
        )
    score, p = best
    changes, more = word_changes(c.text, p.text)
    why = "text changed"
    if moved:
        why += f"; now labelled {mark(p.label)}, not {mark(c.label)}"
    why += again or "; the report is unchanged, so was the quote edited after export?"
    return replace(
        base,
        status="changed",
        reason=why,
        current=p,
        label_moved=moved,
        similarity=score,
        changes=tuple(changes),
        more_changes=more,
    )


def check(citations: Sequence[Cited], record: RecordReader) -> list[Check]:
    """Each citation compared with the paragraph the index holds now."""
    cache: dict[str, list[Paragraph]] = {}
    return [_check_one(c, record, cache) for c in citations]


def check_json(c: Check) -> dict[str, Any]:
    """One line of ``pcc verify --json``."""
    p = c.current
    return {
        "question": c.cited.question,
        "marker": c.cited.marker,
        "doc": c.cited.doc,
        "paragraph": c.cited.label,
        "pages": c.cited.pages,
        "sha256": c.cited.sha256,
        "indexed_at": c.cited.indexed_at,
        "line": c.cited.line or None,
        "status": c.status,
        "reason": c.reason,
        "report_reingested": c.reingested,
        "label_moved": c.label_moved,
        "similarity": round(c.similarity, 3),
        "current": None
        if p is None
        else {
            "paragraph": p.label,
            "pages": list(p.pages),
            "sha256": c.current_sha256,
            "indexed_at": c.current_indexed_at,
            "text": p.text,
        },
        "changes": [
            {"before": ch.before, "removed": ch.removed, "added": ch.added, "after": ch.after}
            for ch in c.changes
        ],
        "more_changes": c.more_changes,
        "diff": diff_text(c),
    }
