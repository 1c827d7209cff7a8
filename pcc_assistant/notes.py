"""Citations read back from exported notes: a Markdown export (the chat's ctrl+s, or
``pcc ask --markdown``) or ``pcc ask --json`` / ``pcc eval --json`` output.

In Markdown each citation is a block quote (the paragraph's text) followed by the
provenance line :func:`pcc_assistant.provenance.provenance_line` writes; in JSON it is
an answer's ``citations`` entry. :func:`read_citations` says what is wrong with a file
that holds neither.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pcc_assistant.errors import PccError


class NotesError(PccError):
    """The file to verify can't be read, or holds no citation to check."""


def _unescape(text: str) -> str:
    """Undo the export's escaping (``provenance._escape``) and drop its ``**`` bold
    marks, in one pass."""
    return re.sub(r"\\([\\`*<])|\*\*", lambda m: m.group(1) or "", text)


_PROVENANCE = re.compile(
    r"<sub>\s*doc (?P<doc>.+?) · (?P<mark>.+?)(?: · (?P<pages>pp?\.\s?[0-9][0-9–,\- ]*))?"
    r" · sha256 (?P<sha>\S+) · indexed (?P<at>\S+?)\s*</sub>"
)
_MARKER = re.compile(r"^\*\*\[(\d+)\]\*\*")
_QUESTION = re.compile(r"^## (?:\d+\. )?(.*)$")


@dataclass(frozen=True)
class Cited:
    """One citation as the file gives it."""

    question: str
    marker: int | None
    doc: str
    label: str
    pages: str  # as written ("p.7"), for display
    sha256: str  # "" when the file doesn't say
    indexed_at: str
    text: str  # the quoted paragraph
    line: int = 0  # where in a Markdown file (1-based); 0 for JSON


def _label(mark: str) -> str:
    """``¶32`` -> ``32``, ``§4.1.1 (2)`` -> ``4.1.1 (2)``; ``Figure 9`` as it is."""
    if mark[:1] in "¶§" and mark[1:2].isdigit():
        return mark[1:]
    return mark


def _known(value: str) -> str:
    return "" if value == "?" else value


def _markdown_citations(text: str) -> list[Cited]:
    lines = text.splitlines()
    out: list[Cited] = []
    question = ""
    for n, line in enumerate(lines):
        heading = _QUESTION.match(line)
        if heading:
            question = _unescape(heading.group(1)).strip()
            continue
        found = _PROVENANCE.search(line)
        if not found:
            continue
        at = n - 1
        while at >= 0 and not lines[at].strip():
            at -= 1
        quoted: list[str] = []
        while at >= 0 and lines[at].lstrip().startswith(">"):
            quoted.append(re.sub(r"^\s*> ?", "", lines[at]))
            at -= 1
        while at >= 0 and not lines[at].strip():
            at -= 1
        marker = _MARKER.match(lines[at]) if at >= 0 else None
        out.append(
            Cited(
                question=question,
                marker=int(marker.group(1)) if marker else None,
                doc=_unescape(found["doc"]),
                label=_label(_unescape(found["mark"])),
                pages=found["pages"] or "",
                sha256=_known(found["sha"]),
                indexed_at=_known(found["at"]),
                text=_unescape("\n".join(reversed(quoted))),
                line=n + 1,
            )
        )
    return out


def _json_values(text: str, name: str) -> Iterator[Any]:
    """Every JSON value in ``text``: one, or several written one after another
    (``pcc ask --json ... >> notes.json``)."""
    decoder = json.JSONDecoder()
    at = 0
    while True:
        while at < len(text) and text[at].isspace():
            at += 1
        if at >= len(text):
            return
        try:
            value, at = decoder.raw_decode(text, at)
        except json.JSONDecodeError as exc:
            raise NotesError(
                f"{name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                "give a `pcc ask --json` output or a Markdown export"
            ) from None
        yield value


def _answers(value: Any) -> Iterator[dict[str, Any]]:
    """The answer objects (those with ``citations``) anywhere in a JSON value: a
    ``pcc ask --json`` object, or each question of a ``pcc eval --json`` run."""
    if isinstance(value, dict):
        if isinstance(value.get("citations"), list):
            yield value
            return
        for v in value.values():
            yield from _answers(v)
    elif isinstance(value, list):
        for v in value:
            yield from _answers(v)


def _json_citations(text: str, name: str) -> tuple[list[Cited], int]:
    """The citations, and how many answers there were (to explain finding none)."""
    out: list[Cited] = []
    answers = 0
    for value in _json_values(text, name):
        for a in _answers(value):
            answers += 1
            for n, c in enumerate(a["citations"], 1):
                try:
                    pages = [int(p) for p in c.get("pages", [])]
                    out.append(
                        Cited(
                            question=str(a.get("question", "")),
                            marker=int(c["marker"]) if c.get("marker") is not None else None,
                            doc=str(c["doc"]),
                            label=str(c["paragraph"]),
                            pages=_pages(pages),
                            sha256=str(c.get("sha256") or ""),
                            indexed_at=str(c.get("indexed_at") or ""),
                            text=str(c["text"]),
                        )
                    )
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    raise NotesError(
                        f"{name}: citation {n} of {a.get('question', 'an answer')!r} "
                        f"is incomplete ({type(exc).__name__}: {exc})"
                    ) from None
    return out, answers


def _pages(pages: Sequence[int]) -> str:
    if not pages:
        return ""
    return f"p.{pages[0]}" if len(pages) == 1 else f"pp.{pages[0]}–{pages[-1]}"


def read_citations(path: Path) -> tuple[str, list[Cited]]:
    """The file's format (``markdown`` or ``json``) and its citations; raises
    :class:`NotesError` saying what is wrong with the file."""
    name = str(path)
    if not path.exists():
        raise NotesError(f"{name}: no such file")
    if path.is_dir():
        raise NotesError(f"{name}: is a folder; give the exported notes file")
    from pcc_assistant.limits import read_bytes

    try:
        raw = read_bytes(path, "file of notes")
    except PccError as exc:
        raise NotesError(str(exc)) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise NotesError(f"{name}: not a text file (not UTF-8)") from None
    if not text.strip():
        raise NotesError(f"{name}: the file is empty")
    suffix = path.suffix.lower()
    is_json = suffix == ".json" or (
        suffix not in (".md", ".markdown", ".txt") and text.lstrip()[:1] in "{["
    )
    if is_json:
        citations, answers = _json_citations(text, name)
        if not citations:
            why = (
                "its answers cite nothing (refused?)"
                if answers
                else "no `citations` in it; is it a `pcc ask --json` output?"
            )
            raise NotesError(f"{name}: no citations to check: {why}")
        return "json", citations
    citations = _markdown_citations(text)
    if not citations:
        why = (
            "its answers were refused, so they cite nothing"
            if "\nClosest matches:" in text and "\nSources:" not in text
            else "no provenance lines (`<sub>doc … · sha256 …`) under quoted paragraphs; "
            "export from `pcc chat` (ctrl+s) or `pcc ask --markdown`"
        )
        raise NotesError(f"{name}: no citations to check: {why}")
    return "markdown", citations
