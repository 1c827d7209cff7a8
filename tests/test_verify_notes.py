"""``pcc verify``: exported answers checked against a real index that is re-ingested,
changed and emptied under them. Real model, real Chroma, real re-ingest; no fakes."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pcc_assistant import pipeline
from pcc_assistant.answer.model import answer_json
from pcc_assistant.ask import Assistant
from pcc_assistant.chat.session import Exchange, export_markdown
from pcc_assistant.cli import cli
from pcc_assistant.config import Settings
from pcc_assistant.notes import read_citations

from .conftest import CAMBS, CORPUS, DURHAM, shared_txt

pytestmark = pytest.mark.slow

Q_SOLVED = "What was Durham's solved rate, and how does it compare nationally?"
Q_CAMBS = "How does Cambridgeshire measure victim satisfaction?"
OLD = "solved rate was 19%"
NEW = "solved rate was 21%"


def _verify(settings: Settings, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--index", str(settings.index_dir), "verify", *args])


def _verify_json(settings: Settings, notes: Path) -> tuple[int, dict[str, Any]]:
    r = _verify(settings, "--json", str(notes))
    return r.exit_code, json.loads(r.stdout)


def _by_doc(out: dict[str, Any], doc: str) -> list[dict[str, Any]]:
    return [c for c in out["citations"] if c["doc"] == doc]


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> dict[str, Any]:
    """The sample corpus (Durham as its .txt, so a paragraph can be edited) in an index
    of this module's own, and answers exported from it three ways."""
    folder = tmp_path_factory.mktemp("verify")
    reports = folder / "reports"
    shutil.copytree(CORPUS, reports)
    (reports / f"{DURHAM}.pdf").unlink()
    txt = reports / f"{DURHAM}.txt"
    shutil.copy(shared_txt(DURHAM), txt)
    settings = Settings(index_dir=folder / "index")
    result = pipeline.ingest([reports], settings, embedder=embedder)
    assert not result.failed and sorted(result.added) == sorted([DURHAM, CAMBS])

    assistant = Assistant(settings, embedder=embedder)
    try:
        answers = [assistant.ask(q) for q in (Q_SOLVED, Q_CAMBS)]
    finally:
        assistant.close()
    md = folder / "notes.md"
    exported = export_markdown(
        [Exchange(q, a) for q, a in zip((Q_SOLVED, Q_CAMBS), answers, strict=True)],
        dt.datetime(2026, 11, 27, 10, 0),
    )
    md.write_text(exported, encoding="utf-8")
    as_json = folder / "answer.json"
    as_json.write_text(json.dumps(answer_json(answers[0]), indent=2), encoding="utf-8")
    runner = CliRunner()
    index = ["--index", str(settings.index_dir)]
    ask_md = runner.invoke(cli, [*index, "ask", "--markdown", Q_CAMBS])
    assert ask_md.exit_code == 0, ask_md.output
    (folder / "ask.md").write_text(ask_md.stdout, encoding="utf-8")
    ask_json = runner.invoke(cli, [*index, "ask", "--json", Q_SOLVED])
    assert ask_json.exit_code == 0, ask_json.output
    (folder / "ask.json").write_text(ask_json.stdout, encoding="utf-8")
    return {"settings": settings, "txt": txt, "reports": reports, "folder": folder}


def test_export_carries_provenance_that_reads_back(notes: dict[str, Any]) -> None:
    settings, folder = notes["settings"], notes["folder"]
    md = (folder / "notes.md").read_text(encoding="utf-8")
    from pcc_assistant.index.record import Record

    record = Record(settings.index_dir / "record.sqlite")
    durham = record.report(DURHAM)
    record.close()
    assert durham is not None
    line = (
        f"<sub>doc {DURHAM} · ¶32 · sha256 {durham.report.sha256} · "
        f"indexed {durham.indexed_at}</sub>"
    )
    assert line in md
    kind, cited = read_citations(folder / "notes.md")
    assert kind == "markdown"
    solved = next(c for c in cited if c.doc == DURHAM and c.label == "32")
    assert solved.question == Q_SOLVED and solved.marker == 1
    assert OLD in solved.text and "**" not in solved.text
    assert {c.doc for c in cited} == {DURHAM, CAMBS}
    assert "<sub>doc " in (folder / "ask.md").read_text(encoding="utf-8")
    for c in json.loads((folder / "ask.json").read_text())["citations"]:
        assert len(c["sha256"]) == 64 and c["indexed_at"]


def test_verify_follows_reingest_change_and_removal(notes: dict[str, Any], embedder: Any) -> None:
    settings, txt, reports, folder = (
        notes["settings"],
        notes["txt"],
        notes["reports"],
        notes["folder"],
    )
    files = [folder / n for n in ("notes.md", "answer.json", "ask.md", "ask.json")]
    original = txt.read_text(encoding="utf-8")

    for f in files:  # as exported: everything holds
        r = _verify(settings, str(f))
        assert r.exit_code == 0, (f, r.output)
        assert "all hold word for word" in r.stdout or "1 citation: holds word" in r.stdout

    # Another paragraph edited: the report's hash differs, the cited paragraphs hold.
    assert original.count("considers KPQs 1-4") == 1
    txt.write_text(original.replace("considers KPQs 1-4", "considers KPQs 1 to 4"), "utf-8")
    assert pipeline.ingest([reports], settings, embedder=embedder).updated == [DURHAM]
    code, out = _verify_json(settings, folder / "notes.md")
    assert code == 0 and out["holds"]
    for c in _by_doc(out, DURHAM):
        assert c["status"] == "holds" and c["report_reingested"]
        assert "re-ingested" in c["reason"] and c["current"]["sha256"] != c["sha256"]
    assert all(not c["report_reingested"] for c in _by_doc(out, CAMBS))

    # The cited paragraph edited and re-ingested: changed, with a word diff; exit 1.
    assert original.count(OLD) == 1
    txt.write_text(original.replace(OLD, NEW), "utf-8")
    assert pipeline.ingest([reports], settings, embedder=embedder).updated == [DURHAM]
    for f in (folder / "notes.md", folder / "answer.json"):
        code, out = _verify_json(settings, f)
        assert code == 1 and not out["holds"] and out["summary"]["changed"] >= 1
        solved = next(c for c in _by_doc(out, DURHAM) if c["paragraph"] == "32")
        assert solved["status"] == "changed" and not solved["label_moved"]
        assert solved["current"]["paragraph"] == "32" and NEW in solved["current"]["text"]
        assert [(ch["removed"], ch["added"]) for ch in solved["changes"]] == [("19%,", "21%,")]
        assert "[-19%,-] {+21%,+}" in solved["diff"]
    assert all(c["status"] == "holds" for c in _by_doc(out, CAMBS))
    r = _verify(settings, str(folder / "notes.md"))
    assert r.exit_code == 1 and "changed" in r.stdout and "no longer hold" in r.stdout
    assert "[-19%,-]" in r.stdout and "{+21%,+}" in r.stdout

    # The report removed: gone.
    assert pipeline.remove([DURHAM], settings) == ([DURHAM], [])
    code, out = _verify_json(settings, folder / "notes.md")
    assert code == 1 and out["summary"]["gone"] == len(_by_doc(out, DURHAM)) >= 1
    assert all("no longer in the index" in c["reason"] for c in _by_doc(out, DURHAM))
    assert all(c["status"] == "holds" for c in _by_doc(out, CAMBS))

    # Re-ingested unchanged: same hash, everything holds again.
    txt.write_text(original, "utf-8")
    assert pipeline.ingest([reports], settings, embedder=embedder).added == [DURHAM]
    for f in files:
        code, out = _verify_json(settings, f)
        assert code == 0 and out["holds"], (f, out)
        assert all(not c["report_reingested"] for c in out["citations"])


def test_a_paragraph_whose_label_moved(notes: dict[str, Any]) -> None:
    """The same words under another label: the citation as written no longer holds."""
    folder = notes["folder"]
    md = (folder / "notes.md").read_text(encoding="utf-8")
    moved = folder / "moved.md"
    moved.write_text(md.replace(f"doc {DURHAM} · ¶32 ·", f"doc {DURHAM} · ¶31 ·"), "utf-8")
    code, out = _verify_json(notes["settings"], moved)
    solved = next(c for c in _by_doc(out, DURHAM) if c["paragraph"] == "31")
    assert code == 1 and solved["status"] == "changed" and solved["label_moved"]
    assert solved["current"]["paragraph"] == "32" and "now labelled ¶32" in solved["reason"]


@pytest.mark.parametrize(
    ("name", "content", "says"),
    [
        ("missing.md", None, "no such file"),
        ("empty.md", "", "the file is empty"),
        ("plain.md", "# Notes\n\nNothing cited here.\n", "no citations to check"),
        ("garbage.json", '{"question": "x", "citations": [', "not valid JSON (line 1"),
        ("refused.json", '{"answerable": false, "citations": []}', "cite nothing"),
        ("other.json", '{"a": 1}', "no `citations`"),
        ("binary.md", b"\xff\xfe\x00garbage", "not UTF-8"),
        ("folder", "dir", "is a folder"),
        ("bad.json", '{"citations": [{"doc": "x"}]}', "incomplete"),
    ],
)
def test_unreadable_notes_are_one_line_exit_2(
    tmp_path: Path, name: str, content: str | bytes | None, says: str
) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    r = _verify(Settings(index_dir=tmp_path / "no-index"), str(path))
    assert r.exit_code == 2, r.output
    assert r.stdout == "" and r.stderr.count("\n") == 1
    assert r.stderr.startswith(f"error: {path}: ") and says in r.stderr, r.stderr


def test_no_index_is_exit_2_from_the_real_command(tmp_path: Path) -> None:
    notes = tmp_path / "a.json"
    notes.write_text(
        json.dumps({"citations": [{"doc": DURHAM, "paragraph": "32", "text": OLD}]}), "utf-8"
    )
    pcc = [sys.executable, "-m", "pcc_assistant", "--index", str(tmp_path / "none")]
    r = subprocess.run(
        [*pcc, "verify", str(notes)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2 and r.stderr.startswith("error: no index in")
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_every_indexed_paragraph_reads_back_from_markdown(notes: dict[str, Any]) -> None:
    """Each paragraph kind (numbered, section, table, figure, footnote) quoted in an
    export, read back and checked: all hold, so a "changed" is never the export's doing."""
    from pcc_assistant.answer.model import Answer, Claim, Evidence
    from pcc_assistant.index.record import Record
    from pcc_assistant.provenance import check

    record = Record(notes["settings"].index_dir / "record.sqlite")
    try:
        exchanges = []
        for ir in record.reports():
            paragraphs = record.paragraphs(ir.report.doc)
            ev = [
                Evidence(n, p, ir.report, 1.0, ir.indexed_at) for n, p in enumerate(paragraphs, 1)
            ]
            claims = [
                Claim(p.text[:60], (n,), support=(p.text[:40],))
                for n, p in enumerate(paragraphs, 1)
            ]
            exchanges.append(Exchange(ir.report.doc, Answer("q", "extractive", True, claims, ev)))
        path = notes["folder"] / "everything.md"
        path.write_text(export_markdown(exchanges, dt.datetime(2026, 11, 27)), "utf-8")
        _, cited = read_citations(path)
        assert len(cited) == len(record.paragraphs()) > 100
        assert {p.kind for p in record.paragraphs()} >= {"paragraph", "table", "footnote"}
        checks = check(cited, record)
    finally:
        record.close()
    assert [(c.cited.doc, c.cited.label) for c in checks if c.status != "holds"] == []
