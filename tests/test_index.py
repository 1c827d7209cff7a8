"""Into the index: incremental, replace, remove, prune, lock, crash safety. Real Chroma,
real model."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pcc_assistant import pipeline
from pcc_assistant.config import Settings
from pcc_assistant.index.indexer import Index

from .conftest import CAMBS, CORPUS, DURHAM, ROOT, shared_txt

pytestmark = pytest.mark.slow


def _consistent(index: Index) -> None:
    """Chroma holds exactly the record's vectors, of the record's generations."""
    gens = index.record.generations()
    expected = {f"{v.doc}@{gens[v.doc]}#{v.ordinal}.{v.window}" for v in index.record.vectors()}
    got = index.store._open().get(include=[])["ids"]
    assert len(got) == len(set(got))
    assert set(got) == expected


def test_sample_corpus_indexed(ingested: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    with Index(ingested.index_dir, embedder) as index:
        reports = {r.report.doc: r for r in index.record.reports()}
        assert set(reports) == {DURHAM, CAMBS}
        assert reports[DURHAM].report.title == "Durham PCVC performance report"
        _consistent(index)
        assert index.store.name == "pcc-all-MiniLM-L6-v2-p1-d384"
        # Long paragraphs are embedded in several windows, none past the model's limit.
        windows = [v for v in index.record.vectors() if v.window > 0]
        assert windows
        # Dense search finds the solved-rate paragraph.
        vec = embedder.embed(["Durham solved rate compared with England and Wales"])[0]
        hits = index.store.query(vec, 5)
        assert any(h.doc == DURHAM and h.ordinal in _ordinals(index, DURHAM, "32") for h in hits)
        # Keyword search finds acronyms.
        assert index.keywords.search("THRIVE", 5)[0].doc in {DURHAM, CAMBS}


def _ordinals(index: Index, doc: str, label: str) -> set[int]:
    return {p.ordinal for p in index.record.paragraphs(doc) if p.label == label}


def test_incremental_replace_remove_prune(  # type: ignore[no-untyped-def]
    tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()
    txt = folder / "durham.txt"
    shutil.copy(shared_txt(DURHAM), txt)
    shutil.copy(CORPUS / f"{CAMBS}.pdf", folder)
    settings = Settings(index_dir=tmp_path / "index")

    first = pipeline.ingest([folder], settings, embedder=embedder)
    assert sorted(first.added) == sorted(["durham", CAMBS]) and not first.failed

    with monkeypatch.context() as m:  # unchanged files are skipped by content hash, unparsed
        m.setattr(pipeline, "_parse", lambda *a: pytest.fail(f"parsed again: {a[0]}"))
        again = pipeline.ingest([folder], settings, embedder=embedder)
    assert sorted(again.unchanged) == sorted(["durham", CAMBS]) and not again.added

    txt.write_text(txt.read_text().replace("solved rate was 19%", "solved rate was 21%"))
    changed = pipeline.ingest([folder], settings, embedder=embedder)
    assert changed.updated == ["durham"] and changed.unchanged == [CAMBS]
    with Index(settings.index_dir, embedder) as index:
        texts = [p.text for p in index.record.paragraphs("durham")]
        assert any("solved rate was 21%" in t for t in texts)
        assert not any("solved rate was 19%" in t for t in texts)
        _consistent(index)

    removed, unknown = pipeline.remove(["durham", "nope"], settings)
    assert (removed, unknown) == (["durham"], ["nope"])
    (folder / f"{CAMBS}.pdf").unlink()
    pruned = pipeline.ingest([folder], settings, prune=True, embedder=embedder)
    assert pruned.removed == [CAMBS]
    assert pruned.added == ["durham"]  # removed by id, still in the folder: back again
    with Index(settings.index_dir, embedder) as index:
        assert [r.report.doc for r in index.record.reports()] == ["durham"]
        _consistent(index)
        assert {h.doc for h in index.keywords.search("Cambridgeshire victims", 10)} == {"durham"}


def test_second_writer_refused_at_once(tmp_path: Path) -> None:
    from filelock import FileLock

    index = tmp_path / "index"
    index.mkdir()
    with FileLock(str(index / "write.lock")):
        started = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "pcc_assistant", "--index", str(index), "ingest", str(CORPUS)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
    assert run.returncode == 1
    assert "another pcc process is writing" in run.stderr
    assert "Traceback" not in run.stderr
    assert time.perf_counter() - started < 30  # no waiting on the lock


def test_rebuild_from_record(tmp_path: Path, ingested: Settings, embedder) -> None:  # type: ignore[no-untyped-def]
    copy = tmp_path / "index"
    shutil.copytree(ingested.index_dir, copy)
    shutil.rmtree(copy / "chroma")
    count, other = pipeline.rebuild(Settings(index_dir=copy))
    assert other is None  # the record's vectors are this embedder's: copied, not re-embedded
    with Index(copy, embedder) as index:
        assert count == index.store.count() > 100
        _consistent(index)


def test_cli_paragraphs_and_list_json(ingested: Settings) -> None:
    pcc = [sys.executable, "-m", "pcc_assistant", "--index", str(ingested.index_dir)]
    run = subprocess.run([*pcc, "paragraphs", DURHAM, "--json"], capture_output=True, text=True)
    paras = json.loads(run.stdout)
    assert {"doc", "paragraph", "pages", "section", "text"} <= set(paras[0])
    p32 = next(p for p in paras if p["paragraph"] == "32")
    assert p32["pages"] == [7] and "19%" in p32["text"]
    listed = json.loads(
        subprocess.run([*pcc, "list", "--json"], capture_output=True, text=True).stdout
    )
    assert {r["doc"]: r["date"] for r in listed} == {DURHAM: "2020-03-12", CAMBS: "2020-05-26"}
    missing = subprocess.run([*pcc, "paragraphs", "nope"], capture_output=True, text=True)
    assert missing.returncode == 1 and "no indexed document 'nope'" in missing.stderr


def test_kill_minus_9_during_ingest_leaves_no_duplicate_or_half_document(
    tmp_path: Path,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    """A real `pcc ingest` killed with SIGKILL at several points; the next ingest
    leaves every document whole, once."""
    folder = tmp_path / "reports"
    folder.mkdir()
    for n in range(6):
        src = shared_txt(DURHAM if n % 2 else CAMBS)
        (folder / f"report-{n}.txt").write_text(src.read_text() + f"\n\nVersion {n}.\n")
    index = tmp_path / "index"
    cmd = [sys.executable, "-m", "pcc_assistant", "--index", str(index), "ingest", str(folder)]
    record = index / "record.sqlite"

    def version() -> int:
        try:
            with sqlite3.connect(record, timeout=1) as db:
                row = db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            return int(row[0]) if row else 0
        except sqlite3.Error:
            return 0

    kills = 0
    for attempt, extra_delay in enumerate((0.0, 0.05, 0.3, 0.01)):
        for n in range(6):  # change every file, so each round re-indexes all of them
            path = folder / f"report-{n}.txt"
            path.write_text(path.read_text() + f"\nRound {attempt}.\n")
        target = version() + 1 + attempt % 3
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while version() < target and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(extra_delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait()
    assert kills >= 3

    final = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert final.returncode == 0, final.stderr
    with Index(index, embedder) as idx:
        reports = idx.record.reports()
        assert sorted(r.report.doc for r in reports) == [f"report-{n}" for n in range(6)]
        for r in reports:
            text = Path(r.report.path).read_text()
            assert "Round 3." in text
            paragraphs = idx.record.paragraphs(r.report.doc)
            assert any("Round 3." in p.text for p in paragraphs)  # the latest version, whole
        _consistent(idx)
        assert idx.record.journal() == {}


def test_an_open_reader_loads_the_writers_keyword_index(  # type: ignore[no-untyped-def]
    tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat left open sees a colleague's ingest by loading the keyword index the writer
    built, not by cutting every paragraph again (8.6 s at 100,000 paragraphs)."""
    from pcc_assistant.retrieve import Retriever

    folder = tmp_path / "reports"
    folder.mkdir()
    shutil.copy(shared_txt(DURHAM), folder / "durham.txt")
    settings = Settings(index_dir=tmp_path / "index")
    pipeline.ingest([folder], settings, embedder=embedder)
    with pipeline.open_index(settings, embedder) as index:
        retriever = Retriever(index)
        assert retriever.search("THRIVE victims").evidence  # its keyword index is loaded

        shutil.copy(CORPUS / f"{CAMBS}.pdf", folder)
        pipeline.ingest([folder], settings, embedder=embedder)  # another process, in effect
        monkeypatch.setattr(
            Index, "build_keywords", lambda *a, **k: pytest.fail("rebuilt by the reader")
        )
        hits = index.keywords.search("VCAS Victim and Witness Hub", 5)
        assert all(h.doc == "durham" for h in hits)  # still the index it had
        found = retriever.search("Victim and Witness Hub referral rate").evidence
        assert found[0].paragraph.doc == CAMBS
        assert index.keywords.version() == index.record.version()


def test_ingest_embeds_through_onnx_without_torch_and_says_where_the_time_went(  # type: ignore[no-untyped-def]
    tmp_path: Path, embedder
) -> None:
    """Once the model is exported (the session's embedder did it), `pcc ingest` never
    imports torch; its closing line accounts for the time."""
    code = (
        "import sys\n"
        "from pcc_assistant.cli import main\n"
        f"sys.argv = ['pcc', '--index', {str(tmp_path / 'index')!r}, 'ingest', {str(CORPUS)!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert not exc.code, exc.code\n"
        "heavy = ('torch', 'transformers', 'sentence_transformers')\n"
        "print('heavy:', sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "heavy: []"
    assert lines[0].startswith("2 added, 0 updated, 0 unchanged, 0 failed: 164 paragraphs")
    assert " pages/s, " in lines[0] and " paragraphs/s" in lines[0]
    assert lines[1].startswith("time: embed ") and "store" in lines[1] and "parse" in lines[1]
    assert "note: exporting" not in done.stderr


def test_timings_and_pages_are_reported(tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[str, int, int]] = []

    class Seen(pipeline._Silent):
        def file_done(self, path: Path, status: str, paragraphs: int, pages: int = 0) -> None:
            seen.append((status, paragraphs, pages))

    result = pipeline.ingest(
        [CORPUS / f"{CAMBS}.pdf"],
        Settings(index_dir=tmp_path / "index"),
        embedder=embedder,
        progress=Seen(),
    )
    assert seen == [("added", 69, 6)]
    assert (result.pages, result.paragraphs) == (6, 69)
    t = result.timings
    assert t.parse > 0 and t.embed >= 0 and t.store > 0 and t.parse_work >= t.parse * 0.5
    assert abs(t.parse + t.embed + t.store + t.other - result.seconds) < 0.01


def test_an_index_of_other_vectors_is_embedded_again_not_mixed(  # type: ignore[no-untyped-def]
    tmp_path: Path, ingested: Settings, embedder
) -> None:
    """Switching to the int8 model (or upgrading to a pcc whose vectors differ) leaves an
    index whose vectors this embedder can't be compared with: questions are refused with
    what to run, and the next ingest embeds every paragraph again, then drops the old ones."""
    from pcc_assistant.ask import Assistant
    from pcc_assistant.errors import PccError

    copy = tmp_path / "index"
    shutil.copytree(ingested.index_dir, copy)
    int8 = Settings(index_dir=copy, embed_int8=True)
    with pytest.raises(
        PccError, match=r"another embedding \(pcc-all-MiniLM-L6-v2-p1-d384; .*pcc ingest"
    ):
        Assistant(int8)

    result = pipeline.ingest([CORPUS], int8)
    assert result.unchanged and not result.added  # no report parsed again
    assert (result.reembedded, result.reembedded_from) == (164, "pcc-all-MiniLM-L6-v2-p1-d384")
    with Index(copy, pipeline.make_embedder(int8)) as index:
        assert index.stale() is None
        assert index.record.get_meta("collection") == index.store.name
        assert index.store.name == "pcc-all-MiniLM-L6-v2-int8m1-p1-d384"
        names = {c.name for c in index.store.client().list_collections()}
        assert names == {index.store.name}
        _consistent(index)
    assistant = Assistant(int8)
    answer = assistant.ask("What was Durham's solved rate?")
    assistant.close()
    assert answer.answerable and "19%" in answer.text

    # And back, by `pcc rebuild`: copying the int8 vectors would mix them, so it re-embeds.
    count, other = pipeline.rebuild(Settings(index_dir=copy))
    assert other == "pcc-all-MiniLM-L6-v2-int8m1-p1-d384" and count > 164
    with Index(copy, embedder) as index:
        assert index.stale() is None
        _consistent(index)


def test_an_index_of_other_paragraphs_is_refused(tmp_path: Path, ingested: Settings) -> None:
    """Paragraphs cut by other rules can't be mended by embedding again: one line, nothing
    changed."""
    from pcc_assistant.errors import PccError
    from pcc_assistant.index.record import Record

    copy = tmp_path / "index"
    shutil.copytree(ingested.index_dir, copy)
    record = Record(copy / "record.sqlite")
    record.set_meta("collection", "pcc-all-MiniLM-L6-v2-p0-d384")
    record.close()
    with pytest.raises(PccError, match="cut by other rules"):
        pipeline.ingest([CORPUS], Settings(index_dir=copy))
