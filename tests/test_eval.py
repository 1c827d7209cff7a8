"""`pcc eval`: scores, the JSON and Markdown it writes, comparison, and bad question lines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pcc_assistant.cli import cli
from pcc_assistant.config import Settings
from pcc_assistant.eval_run import compare, load_run
from pcc_assistant.evaluate import load_questions
from tests.conftest import DURHAM

pytestmark = pytest.mark.slow

QUESTIONS = [
    {
        "id": "solved",
        "question": "What was Durham's solved rate?",
        "answerable": True,
        "answer_all": [["19%"]],
        "kind": "figure",
        "evidence": [{"doc": DURHAM, "snippet": "Durham’s solved rate was 19%"}],
    },
    {
        "id": "thrive",
        "question": "What does THRIVE stand for?",
        "answerable": True,
        "answer_all": [["Threat, Harm, Risk"]],
        "kind": "definition",
        "evidence": [
            {
                "doc": "cambridgeshire-victims-performance-2020-05-26",
                "snippet": "Thrive stands for Threat, Harm, Risk",
            }
        ],
    },
    {
        "id": "budget",
        "question": "What is Durham Constabulary's budget for 2020/21?",
        "answerable": False,
        "answer_all": [],
        "evidence": [],
        "kind": "unanswerable",
    },
    {
        "id": "elsewhere",
        "question": "What was the solved rate?",
        "answerable": True,
        "answer_all": [["19%"]],
        "kind": "figure",
        "evidence": [{"doc": "a-report-not-indexed", "snippet": "solved rate was 19%"}],
    },
]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


def test_malformed_lines_are_reported_by_number(tmp_path: Path) -> None:
    qs = _write(
        tmp_path / "q.jsonl",
        [
            json.dumps(QUESTIONS[0]),
            "{not json",
            "[1, 2]",
            json.dumps({"id": "x", "question": "?"}),
            json.dumps(QUESTIONS[0]),
        ],
    )
    loaded = load_questions(qs)
    assert [q.id for q in loaded.questions] == ["solved"]
    assert [p.split(":")[0] for p in loaded.problems] == ["line 2", "line 3", "line 4", "line 5"]
    assert "used twice" in loaded.problems[-1]


def test_eval_scores_writes_json_markdown_and_compares(ingested: Settings, tmp_path: Path) -> None:
    qs = _write(tmp_path / "q.jsonl", [json.dumps(q) for q in QUESTIONS] + ["oops"])
    out, md = tmp_path / "run.json", tmp_path / "report" / "run.md"
    runner = CliRunner()
    r = runner.invoke(
        cli,
        [
            "--index",
            str(ingested.index_dir),
            "eval",
            str(qs),
            "--json",
            str(out),
            "--markdown",
            str(md),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "line 5" in r.output and "a-report-not-indexed" in r.output
    run = json.loads(out.read_text())
    s = run["summary"]
    assert s["questions"] == 4 and s["answerable"] == 3 and s["unanswerable"] == 1
    assert s["retrieval"]["hit@10"] == 1.0  # the unknown doc's question is left out
    assert s["answers"]["unanswerable_refused"] == 1.0
    assert s["citations"]["verbatim"] == 1.0
    assert set(s["by_kind"]) == {"figure", "definition", "unanswerable"}
    assert {"median", "p95"} == set(s["latency_ms"])
    first = run["questions"][0]
    assert first["id"] == "solved" and first["should_answer"] and first["answerable"]
    budget = run["questions"][2]
    assert budget["should_answer"] is False and budget["answerable"] is False
    assert {
        "question",
        "answer",
        "answerable",
        "answerer",
        "citations",
        "retrieved",
        "timings_ms",
        "scores",
    } <= set(first)
    assert first["scores"]["correct"] and first["scores"]["hit@1"] in (True, False)
    assert "unknown_evidence_docs" in run["questions"][3]["scores"]
    text = md.read_text()
    assert "evidence in top 5" in text and "run.png" in text and "## By kind" in text
    assert md.with_suffix(".png").stat().st_size > 1000

    # A second run compared with the first: a question made worse shows up by id.
    earlier = load_run(out)
    earlier["questions"][2]["scores"]["correct"] = False  # pretend it used to fail
    (tmp_path / "earlier.json").write_text(json.dumps(earlier))
    r = runner.invoke(
        cli,
        [
            "--index",
            str(ingested.index_dir),
            "eval",
            str(qs),
            "--compare",
            str(tmp_path / "earlier.json"),
        ],
    )
    assert r.exit_code == 0, r.output
    assert "better since" in r.output and "budget" in r.output


def test_compare_names_better_and_worse() -> None:
    from pcc_assistant.eval_run import Run

    now = Run(
        {"answers": {"answerable_correct": 0.5}},
        [
            {"id": "a", "scores": {"correct": True}},
            {"id": "b", "scores": {"correct": False}},
            {"id": "n", "scores": {"correct": True}},
        ],
    )
    before = {
        "summary": {"answers": {"answerable_correct": 0.75}},
        "questions": [
            {"id": "a", "scores": {"correct": False}},
            {"id": "b", "scores": {"correct": True}},
            {"id": "g", "scores": {"correct": True}},
        ],
    }
    c = compare(now, before)
    assert c == {
        "better": ["a"],
        "worse": ["b"],
        "new": ["n"],
        "gone": ["g"],
        "answers_delta": {"answerable_correct": -0.25},
    }


def test_eval_errors_are_one_line(ingested: Settings, tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["--index", str(ingested.index_dir), "eval", str(tmp_path / "no.jsonl")])
    assert r.exit_code == 1 and "no such question file" in r.output
    empty = _write(tmp_path / "e.jsonl", ["garbage"])
    r = runner.invoke(cli, ["--index", str(ingested.index_dir), "eval", str(empty)])
    assert r.exit_code == 1 and "no questions" in r.output
    # An output that can't be written is refused before any question is asked.
    qs = _write(tmp_path / "q.jsonl", [json.dumps(QUESTIONS[0])])
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    r = runner.invoke(
        cli,
        ["--index", str(ingested.index_dir), "eval", str(qs), "--json", str(blocker / "run.json")],
    )
    assert r.exit_code == 1 and "can't write there" in r.output and "a-file" in r.output
    assert r.exception is None or isinstance(r.exception, SystemExit)
