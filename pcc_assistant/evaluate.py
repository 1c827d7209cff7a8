"""Question sets (``../shared/eval/README.md`` format) and how an answer is scored."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pcc_assistant.answer.model import Answer
from pcc_assistant.answer.sentences import fold


@dataclass(frozen=True)
class EvidenceItem:
    doc: str
    snippet: str


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answerable: bool
    answer_all: tuple[tuple[str, ...], ...]
    evidence: tuple[EvidenceItem, ...]
    kind: str = ""
    line: int = 0


@dataclass
class QuestionSet:
    questions: list[EvalQuestion] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "line 7: ..." for malformed lines


def load_questions(path: Path) -> QuestionSet:
    from pcc_assistant.errors import PccError
    from pcc_assistant.limits import read_bytes

    out = QuestionSet()
    try:
        lines = read_bytes(path, "question set").decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise PccError(f"{path}: can't read the question set ({exc})") from exc
    seen: set[str] = set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            q = _parse(json.loads(line), n)
        except (ValueError, TypeError, KeyError) as exc:
            out.problems.append(f"line {n}: {exc}")
            continue
        if q.id in seen:
            out.problems.append(f"line {n}: id {q.id!r} is used twice")
            continue
        seen.add(q.id)
        out.questions.append(q)
    return out


def _parse(obj: Any, line: int) -> EvalQuestion:
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    for key in ("id", "question", "answerable"):
        if key not in obj:
            raise ValueError(f"missing {key!r}")
    if not isinstance(obj["question"], str) or not obj["question"].strip():
        raise ValueError("'question' must be a non-empty string")
    if not isinstance(obj["answerable"], bool):
        raise ValueError("'answerable' must be true or false")
    groups = obj.get("answer_all", [])
    if not isinstance(groups, list) or not all(
        isinstance(g, list) and all(isinstance(s, str) for s in g) for g in groups
    ):
        raise ValueError("'answer_all' must be a list of lists of strings")
    evidence = obj.get("evidence", [])
    if not isinstance(evidence, list):
        raise ValueError("'evidence' must be a list")
    items = tuple(EvidenceItem(str(e["doc"]), str(e["snippet"])) for e in evidence)
    return EvalQuestion(
        id=str(obj["id"]),
        question=obj["question"],
        answerable=obj["answerable"],
        answer_all=tuple(tuple(g) for g in groups),
        evidence=items,
        kind=str(obj.get("kind", "")),
        line=line,
    )


def answer_matches(q: EvalQuestion, answer_text: str) -> bool:
    """Every group has at least one of its strings in the answer (folded)."""
    text = fold(answer_text)
    return all(any(fold(s) in text for s in group) for group in q.answer_all)


def hits(q: EvalQuestion, passages: list[tuple[str, str]]) -> bool:
    """Every evidence item is contained in one of the (doc, text) passages."""
    folded = [(doc, fold(text)) for doc, text in passages]
    return all(
        any(doc == e.doc and fold(e.snippet) in text for doc, text in folded) for e in q.evidence
    )


def first_hit_rank(q: EvalQuestion, passages: list[tuple[str, str]]) -> int | None:
    """Smallest n such that the first n passages hold all the evidence (1-based)."""
    for n in range(1, len(passages) + 1):
        if hits(q, passages[:n]):
            return n
    return None


def score(q: EvalQuestion, a: Answer) -> dict[str, Any]:
    retrieved = [(e.paragraph.doc, e.paragraph.text) for e in a.retrieved]
    cited = [(e.paragraph.doc, e.paragraph.text) for e in a.cited()]
    rank = first_hit_rank(q, retrieved) if q.evidence else None
    out: dict[str, Any] = {
        "refused": not a.answerable,
        "hit_rank": rank,
    }
    if q.answerable:
        out["answer_correct"] = a.answerable and answer_matches(q, a.text)
        out["cited_evidence"] = a.answerable and bool(q.evidence) and hits(q, cited)
        out["correct"] = out["answer_correct"] and (out["cited_evidence"] or not q.evidence)
    else:
        out["correct"] = not a.answerable
    return out
