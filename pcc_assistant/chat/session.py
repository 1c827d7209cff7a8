"""The chat's conversation as plain data: kept between runs, and exported as Markdown.

The saved file holds each answer whole (claims with their supporting sentences, every
retrieved paragraph with its report), so a reopened chat can show and highlight the
sources without asking again. No Textual types here.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pcc_assistant.answer.model import REFUSAL, Answer, Claim, Evidence, citation_text
from pcc_assistant.chat.highlight import display_text, spans, support_for
from pcc_assistant.provenance import provenance_line
from pcc_assistant.safe_text import clean
from pcc_assistant.types import Paragraph, Report

if TYPE_CHECKING:
    from pcc_assistant.compare import Comparison

SESSION_FILE = "chat-session.json"
FORMAT = 1
KEEP = 50  # exchanges kept in the saved session; older ones are dropped
CLOSEST = 3  # closest matches shown and exported with a refusal


@dataclass
class Exchange:
    """One question and what came of it: an answer, an error, or nothing yet."""

    question: str
    answer: Answer | None = None
    error: str = ""
    comparison: Comparison | None = None  # a /compare entry's table, once it is made

    @property
    def done(self) -> bool:
        return self.answer is not None or bool(self.error)


def citation_line(e: Evidence) -> str:
    """``Durham PCVC performance report, 12 Mar 2020, ¶32, p.7``, terminal-safe."""
    return " ".join(clean(citation_text(e).removeprefix("[").removesuffix("]")).split())


def markers_of(answer: Answer) -> list[int]:
    """The markers a reader can select: cited paragraphs, or a refusal's closest matches."""
    if answer.answerable:
        return [e.marker for e in answer.cited()]
    return [e.marker for e in answer.retrieved[:CLOSEST]]


# -- saving ---------------------------------------------------------------------------------
def _report_from(d: dict[str, Any]) -> Report:
    date = dt.date.fromisoformat(d["date"]) if d.get("date") else None
    return Report(
        d["doc"], d["title"], d["organisation"], date, d["path"], d["sha256"], int(d["pages"])
    )


def _paragraph_from(d: dict[str, Any]) -> Paragraph:
    return Paragraph(
        d["doc"],
        int(d["ordinal"]),
        d["label"],
        d["kind"],
        tuple(int(p) for p in d["pages"]),
        d["section"],
        d["text"],
        int(d["start"]),
        int(d["end"]),
    )


def _report_to_dict(r: Report) -> dict[str, Any]:
    d = asdict(r)
    d["date"] = r.date.isoformat() if r.date else ""
    return d


def answer_to_dict(a: Answer) -> dict[str, Any]:
    """Everything needed to show ``a`` again; ``answer_from_dict`` reads it back."""
    retrieved = [
        {
            "marker": e.marker,
            "score": e.score,
            "indexed_at": e.indexed_at,
            "paragraph": asdict(e.paragraph),
            "report": _report_to_dict(e.report),
        }
        for e in a.retrieved
    ]
    return {
        "question": a.question,
        "answerer": a.answerer,
        "answerable": a.answerable,
        "note": a.note,
        "claims": [asdict(c) for c in a.claims],
        "retrieved": retrieved,
        "timings_ms": a.timings_ms,
        "signals": a.signals,
    }


def answer_from_dict(d: dict[str, Any]) -> Answer:
    claims = [
        Claim(
            c["text"],
            tuple(int(m) for m in c["markers"]),
            bool(c.get("verified", True)),
            c.get("problem", ""),
            tuple(c.get("support", ())),
        )
        for c in d["claims"]
    ]
    retrieved = [
        Evidence(
            int(e["marker"]),
            _paragraph_from(e["paragraph"]),
            _report_from(e["report"]),
            float(e["score"]),
            e.get("indexed_at", ""),
        )
        for e in d["retrieved"]
    ]
    return Answer(
        d["question"],
        d["answerer"],
        bool(d["answerable"]),
        claims,
        retrieved,
        d.get("note", ""),
        dict(d.get("timings_ms", {})),
        dict(d.get("signals", {})),
    )


def comparison_to_dict(c: Comparison) -> dict[str, Any]:
    """A comparison's rows; each reported row names its paragraph by the answer's marker."""
    return {
        "measure": c.measure,
        "rows": [
            {
                "report": _report_to_dict(row.report),
                "indexed_at": row.indexed_at,
                "figure": asdict(row.figure) if row.figure else None,
                "marker": row.evidence.marker if row.evidence else None,
                "flagged": row.flagged,
                "dating": {
                    **asdict(row.dating),
                    "date": row.dating.date.isoformat() if row.dating.date else None,
                },
            }
            for row in c.rows
        ],
    }


def comparison_from_dict(d: dict[str, Any], answer: Answer) -> Comparison:
    """Read back ``comparison_to_dict``; the cited paragraphs come from ``answer``."""
    from pcc_assistant.compare import Comparison, Dating, Figure, Row

    by_marker = {e.marker: e for e in answer.retrieved}
    rows = []
    for r in d["rows"]:
        figure = Figure(**r["figure"]) if r.get("figure") else None
        evidence = by_marker[int(r["marker"])] if r.get("marker") is not None else None
        dating = dict(r.get("dating") or {})
        when = dating.pop("date", None)
        rows.append(
            Row(
                _report_from(r["report"]),
                str(r["indexed_at"]),
                figure,
                evidence,
                str(r["flagged"]),
                Dating(dt.date.fromisoformat(when) if when else None, **dating),
            )
        )
    return Comparison(str(d["measure"]), rows)


def save_session(path: Path, exchanges: list[Exchange]) -> None:
    """Write the finished exchanges (the last ``KEEP``) atomically."""
    items: list[dict[str, Any]] = []
    for x in exchanges:
        if x.answer is not None:
            item = {"question": x.question, "answer": answer_to_dict(x.answer)}
            if x.comparison is not None:
                item["comparison"] = comparison_to_dict(x.comparison)
            items.append(item)
        elif x.error:
            items.append({"question": x.question, "error": x.error})
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(
        json.dumps({"format": FORMAT, "exchanges": items[-KEEP:]}, ensure_ascii=False),
        encoding="utf-8",
    )
    os.replace(tmp, path)


def load_session(path: Path) -> list[Exchange]:
    """The saved exchanges; none if there is no file. Raises ValueError if it is unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} can't be read ({exc})") from None
    try:
        if data.get("format") != FORMAT:
            raise ValueError(f"{path} was saved by another version (format {data.get('format')})")
        out = []
        for item in data["exchanges"]:
            answer = answer_from_dict(item["answer"]) if "answer" in item else None
            compared = None
            if answer is not None and item.get("comparison"):
                compared = comparison_from_dict(item["comparison"], answer)
            out.append(
                Exchange(str(item["question"]), answer, str(item.get("error", "")), compared)
            )
        return out
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"{path} is not a saved conversation ({exc})") from None


# -- exporting ------------------------------------------------------------------------------
def default_export_name(now: dt.datetime) -> str:
    return f"pcc-chat-{now:%Y-%m-%d-%H%M}.md"


def _one_line(text: str) -> str:
    return " ".join(clean(text).split())


def _md(text: str) -> str:
    """Report text as Markdown shows it: the characters that would restyle it escaped."""
    return re.sub(r"([\\`*<])", r"\\\1", text)


def _quote(e: Evidence, support: tuple[str, ...], provenance: bool = False) -> list[str]:
    """The paragraph as a block quote, the sentences the answer rests on in bold; with
    ``provenance``, the line under it that ``pcc verify`` reads back (report hash, time
    indexed)."""
    body = display_text(e.paragraph)
    marked = []
    at = 0
    for start, end in spans(body, support):
        marked += [_md(body[at:start]), "**", _md(body[start:end]).strip(), "**"]
        at = end
    marked.append(_md(body[at:]))
    lines = [f"**[{e.marker}]** {citation_line(e)}", ""]
    for line in "".join(marked).splitlines() or [""]:
        lines.append("> " + line if line.strip() else ">")
    if provenance:
        lines += ["", provenance_line(e)]
    return [*lines, ""]


def _exchange_markdown(n: int, question: str, a: Answer) -> list[str]:
    out = [f"## {n}. {_md(_one_line(question))}", ""]
    if a.answerable:
        known = {e.marker for e in a.retrieved}
        sentences = []
        for c in a.claims:
            if c.verified:
                marks = " ".join(f"[{m}]" for m in c.markers if m in known)
                sentences.append(f"{_one_line(c.text)} {marks}".rstrip())
        out += [_md(" ".join(sentences)), ""]
    else:
        out += [REFUSAL, ""]
    if a.note:
        out += [f"*Note: {_md(_one_line(a.note))}*", ""]
    if a.answerable:
        out += ["Sources:", ""]
        for e in a.cited():
            out += _quote(e, support_for(a, e.marker), provenance=True)
    elif a.retrieved:
        out += ["Closest matches:", ""]
        for e in a.retrieved[:CLOSEST]:
            out += _quote(e, ())
    return [*out, f"*Answered by the {a.answerer} answerer.*", ""]


def export_markdown(exchanges: list[Exchange], now: dt.datetime) -> str:
    """The answered questions as Markdown for briefing notes: each answer with its [n]
    markers, then every cited paragraph quoted in full under its citation, and under the
    quote the report's hash and time indexed (read back by ``pcc verify``)."""
    pairs = [(x.question, x.answer) for x in exchanges if x.answer is not None]
    blocks = ["\n".join(_exchange_markdown(n, q, a)) for n, (q, a) in enumerate(pairs, 1)]
    head = f"# Questions to the reports, {now:%d %B %Y %H:%M}\n\n"
    return head + "\n---\n\n".join(blocks)
