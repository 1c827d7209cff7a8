"""An evaluation run: every question of a set answered against the current index, scored,
summarised (overall and by kind), compared with an earlier run, and written up."""

from __future__ import annotations

import datetime as dt
import json
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pcc_assistant.answer.model import Answer, answer_json
from pcc_assistant.answer.sentences import fold
from pcc_assistant.evaluate import EvalQuestion, QuestionSet, answer_matches, first_hit_rank, hits

HIT_AT = (1, 3, 5, 10)


@dataclass
class Run:
    summary: dict[str, Any]
    questions: list[dict[str, Any]]
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"summary": self.summary, "questions": self.questions}


def score_question(
    q: EvalQuestion, a: Answer, indexed: dict[tuple[str, str], str]
) -> dict[str, Any]:
    """Scores of one answer. ``indexed`` maps (doc, paragraph label) to the indexed text."""
    docs = {doc for doc, _ in indexed}
    unknown = sorted({e.doc for e in q.evidence} - docs)
    retrieved = [(e.paragraph.doc, e.paragraph.text) for e in a.retrieved]
    cited = [(e.paragraph.doc, e.paragraph.text) for e in a.cited()]
    s: dict[str, Any] = {"refused": not a.answerable, "unknown_evidence_docs": unknown}
    scorable = bool(q.evidence) and not unknown
    if scorable:
        rank = first_hit_rank(q, retrieved)
        s["hit_rank"] = rank
        for n in HIT_AT:
            s[f"hit@{n}"] = rank is not None and rank <= n
        s["reciprocal_rank"] = 1.0 / rank if rank else 0.0
        s["cited_evidence"] = a.answerable and hits(q, cited)
    by_marker = {e.marker: e for e in a.retrieved}
    verbatim = total = 0
    for c in a.claims:
        if not c.verified:
            continue
        for m in c.markers:
            e = by_marker.get(m)
            if e is None:
                continue
            total += 1
            source = indexed.get((e.paragraph.doc, e.paragraph.label))
            same = source is not None and fold(source) == fold(e.paragraph.text)
            quoted = all(fold(piece) in fold(e.paragraph.text) for piece in c.support)
            verbatim += same and quoted
    s["citations"] = total
    s["citations_verbatim"] = verbatim
    if q.answerable:
        s["answer_match"] = a.answerable and answer_matches(q, a.text)
        s["correct"] = s["answer_match"] and (s.get("cited_evidence", True) or not scorable)
    else:
        s["correct"] = not a.answerable
    s["latency_ms"] = a.timings_ms.get("total", 0.0)
    return s


def _share(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarise(rows: list[dict[str, Any]]) -> dict[str, Any]:
    ans = [r for r in rows if r["should_answer"]]
    una = [r for r in rows if not r["should_answer"]]
    scorable = [r for r in ans if "hit_rank" in r["scores"]]
    latencies = sorted(r["scores"]["latency_ms"] for r in rows)
    cites = sum(r["scores"]["citations"] for r in rows)
    out: dict[str, Any] = {
        "questions": len(rows),
        "answerable": len(ans),
        "unanswerable": len(una),
        "retrieval": {
            f"hit@{n}": _share([r["scores"][f"hit@{n}"] for r in scorable]) for n in HIT_AT
        }
        | {
            "mrr": round(statistics.fmean(r["scores"]["reciprocal_rank"] for r in scorable), 4)
            if scorable
            else None
        },
        "citations": {
            "cited_all_evidence": _share([r["scores"]["cited_evidence"] for r in scorable]),
            "verbatim": round(sum(r["scores"]["citations_verbatim"] for r in rows) / cites, 4)
            if cites
            else None,
            "count": cites,
        },
        "answers": {
            "answerable_correct": _share([r["scores"]["correct"] for r in ans]),
            "answer_matches": _share([r["scores"]["answer_match"] for r in ans]),
            "unanswerable_refused": _share([r["scores"]["refused"] for r in una]),
            "answerable_refused": _share([r["scores"]["refused"] for r in ans]),
        },
        "latency_ms": {
            "median": round(statistics.median(latencies), 2) if latencies else None,
            "p95": round(latencies[max(0, int(0.95 * len(latencies)) - 1)], 2)
            if latencies
            else None,
        },
    }
    kinds = sorted({r["kind"] for r in rows if r["kind"]})
    if kinds:
        out["by_kind"] = {
            k: {
                "questions": len(group),
                "correct": _share([r["scores"]["correct"] for r in group]),
                "hit@5": _share([r["scores"]["hit@5"] for r in group if "hit@5" in r["scores"]]),
            }
            for k in kinds
            for group in [[r for r in rows if r["kind"] == k]]
        }
    return out


def run(
    ask: Callable[[str], Answer],
    qset: QuestionSet,
    indexed: dict[tuple[str, str], str],
    progress: Callable[[EvalQuestion], None] | None = None,
) -> Run:
    rows = []
    problems = list(qset.problems)
    docs = {doc for doc, _ in indexed}
    for q in qset.questions:
        a = ask(q.question)
        scores = score_question(q, a, indexed)
        if scores["unknown_evidence_docs"]:
            problems.append(
                f"line {q.line} ({q.id}): evidence names "
                f"{', '.join(scores['unknown_evidence_docs'])}, which is not in the index; "
                "its retrieval and citation scores are left out"
            )
        rows.append(
            {
                "id": q.id,
                "kind": q.kind,
                "should_answer": q.answerable,  # the answer's own "answerable" follows
                "expected": [list(g) for g in q.answer_all],
                "evidence": [{"doc": e.doc, "snippet": e.snippet} for e in q.evidence],
                **answer_json(a),
                "scores": scores,
            }
        )
        if progress:
            progress(q)
    summary = summarise(rows)
    summary["problems"] = problems
    summary["indexed_reports"] = sorted(docs)
    summary["date"] = dt.datetime.now().isoformat(timespec="seconds")
    return Run(summary, rows, problems)


def compare(now: Run, earlier: dict[str, Any]) -> dict[str, Any]:
    """Which questions got better or worse since ``earlier`` (a ``--json`` file's object)."""
    before = {q["id"]: q for q in earlier.get("questions", [])}
    better, worse, new = [], [], []
    for q in now.questions:
        old = before.get(q["id"])
        if old is None:
            new.append(q["id"])
            continue
        was, is_ = bool(old["scores"]["correct"]), bool(q["scores"]["correct"])
        if is_ and not was:
            better.append(q["id"])
        elif was and not is_:
            worse.append(q["id"])
    gone = sorted(set(before) - {q["id"] for q in now.questions})
    old_sum = earlier.get("summary", {}).get("answers", {})
    deltas = {
        k: round(v - old_sum[k], 4)
        for k, v in now.summary["answers"].items()
        if v is not None and isinstance(old_sum.get(k), int | float)
    }
    return {"better": better, "worse": worse, "new": new, "gone": gone, "answers_delta": deltas}


def load_run(path: Path) -> dict[str, Any]:
    from pcc_assistant.errors import PccError
    from pcc_assistant.limits import read_bytes

    try:
        data = json.loads(read_bytes(path, "`pcc eval --json` run").decode("utf-8"))
    except ValueError as exc:
        raise PccError(f"{path}: can't read an earlier run ({exc})") from exc
    if not isinstance(data, dict) or "questions" not in data:
        raise PccError(f"{path}: not a `pcc eval --json` file (no 'questions')")
    return data
