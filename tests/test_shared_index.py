"""One contract for both stores (embedded folder, real `chroma run` server), and what a
shared server adds: a record every client sees, clear errors, recovery, a token proxy."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from pcc_assistant import pipeline
from pcc_assistant.config import Settings
from pcc_assistant.errors import DocumentError, PccError
from pcc_assistant.index.indexer import Index
from pcc_assistant.retrieve import Filters, Retriever
from tests.chroma_server import ChromaServer, Proxy, free_port, nginx
from tests.conftest import CORPUS, DURHAM, ROOT

pytestmark = pytest.mark.slow

NORTH_MAR = "northshire-performance-2021-03-12"
NORTH_JUN = "northshire-performance-2021-06-11"
SOUTH_JUN = "southshire-performance-2021-06-18"

_TEXT = {
    NORTH_MAR: (
        "Northshire Police and Crime Panel\nPerformance report\n12 March 2021\n\n"
        "1. How safe are our communities?\n\n"
        "1.1 Victim satisfaction in Northshire was 81% in the 12 months to January 2021, "
        "compared with 76% a year earlier.\n\n"
        "1.2 The solved rate for burglary rose to 9% from 6%.\n\n"
        "2. How well are victims supported?\n\n"
        "2.1 The victims' hub contacted 4,210 victims in the quarter, 92% within two days.\n"
    ),
    NORTH_JUN: (
        "Northshire Police and Crime Panel\nPerformance report\n11 June 2021\n\n"
        "1. How safe are our communities?\n\n"
        "1.1 Victim satisfaction in Northshire was 79% in the 12 months to April 2021.\n\n"
        "1.2 Anti-social behaviour incidents fell by 14% against the previous quarter.\n\n"
        "2. How well are victims supported?\n\n"
        "2.1 The victims' hub contacted 3,980 victims in the quarter.\n"
    ),
    SOUTH_JUN: (
        "Southshire Police and Crime Panel\nPerformance report\n18 June 2021\n\n"
        "1. Road safety\n\n"
        "1.1 Speeding offences detected by mobile cameras numbered 12,400 in the year.\n\n"
        "1.2 Killed or seriously injured casualties were 301, the lowest for a decade.\n\n"
        "2. Rural crime\n\n"
        "2.1 Thefts of farm machinery fell to 41 cases from 66.\n"
    ),
}
_ORG = {NORTH_MAR: "Northshire PCP", NORTH_JUN: "Northshire PCP", SOUTH_JUN: "Southshire PCP"}


def write_reports(folder: Path, docs: tuple[str, ...] = tuple(_TEXT)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for doc in docs:
        (folder / f"{doc}.txt").write_text(_TEXT[doc])
        (folder / f"{doc}.meta.toml").write_text(f'organisation = "{_ORG[doc]}"\n')
    return folder


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChromaServer]:
    srv = ChromaServer(tmp_path_factory.mktemp("chroma")).start()
    yield srv
    srv.stop()


@pytest.fixture(params=["embedded", "server"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.param == "embedded":
        return Settings(index_dir=tmp_path / "index")
    srv: ChromaServer = request.getfixturevalue("server")
    srv.empty()
    return Settings(index_dir=tmp_path / "index", chroma_url=srv.url)


def _consistent(index: Index) -> None:
    """Chroma holds exactly the record's committed generations, whole."""
    gens = index.record.generations()
    held = index.store.held()
    assert {doc for doc, _ in held} == set(gens)
    assert all(gens[doc] == gen for doc, gen in held), (held, gens)
    if index.shared:
        paragraphs = index.record.held()  # type: ignore[union-attr]
        counts = {r.report.doc: r.paragraphs for r in index.record.reports()}
        assert paragraphs == {(doc, gens[doc]): counts[doc] for doc in gens}


def test_contract_add_search_filters_counts(backend: Settings, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = write_reports(tmp_path / "corpus")
    result = pipeline.ingest([corpus], backend, embedder=embedder)
    assert sorted(result.added) == sorted(_TEXT) and not result.failed
    with pipeline.open_index(backend, embedder) as index:
        reports = {r.report.doc: r for r in index.record.reports()}
        assert set(reports) == set(_TEXT)
        assert reports[SOUTH_JUN].report.organisation == "Southshire PCP"
        assert str(reports[NORTH_JUN].report.date) == "2021-06-11"
        assert {d: r.paragraphs for d, r in reports.items()} == {
            NORTH_MAR: 6,
            NORTH_JUN: 6,
            SOUTH_JUN: 4,  # its short numbered lines are headings
        }
        assert len(index.record.paragraphs()) == 16
        assert index.store.count() == sum(index.store.held().values()) >= 16
        _consistent(index)

        retriever = Retriever(index)
        top = retriever.search("thefts of farm machinery").evidence[0]
        assert (top.paragraph.doc, top.paragraph.label) == (SOUTH_JUN, "2.1")
        assert "41 cases" in top.paragraph.text

        cases = {
            Filters(docs=(NORTH_MAR,)): {NORTH_MAR},
            Filters(organisations=("Northshire",)): {NORTH_MAR, NORTH_JUN},
            Filters(since=__import__("datetime").date(2021, 6, 1)): {NORTH_JUN, SOUTH_JUN},
            Filters(until=__import__("datetime").date(2021, 6, 12)): {NORTH_MAR, NORTH_JUN},
        }
        for filters, allowed in cases.items():
            found = retriever.search("victim satisfaction", filters).evidence
            assert found and {e.paragraph.doc for e in found} <= allowed, filters

        from pcc_assistant.cli_status import gather

        status = gather(backend)
        assert status["index"] == ("server" if backend.chroma_url else "embedded")
        assert (status["answers"], status["reports"], status["paragraphs"]) == (True, 3, 16)
        assert sum(status["vectors"].values()) == index.store.count()

        vector = embedder.embed(["victims contacted by the hub"])[0]
        hits = index.store.query(vector, 5, {"doc": {"$in": [NORTH_JUN]}})
        assert hits and {h.doc for h in hits} == {NORTH_JUN}


def test_contract_replace_and_remove(backend: Settings, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    corpus = write_reports(tmp_path / "corpus")
    pipeline.ingest([corpus], backend, embedder=embedder)
    path = corpus / f"{NORTH_MAR}.txt"
    path.write_text(path.read_text().replace("was 81%", "was 83%"))

    again = pipeline.ingest([corpus], backend, embedder=embedder)
    assert again.updated == [NORTH_MAR] and sorted(again.unchanged) == [NORTH_JUN, SOUTH_JUN]
    with pipeline.open_index(backend, embedder) as index:
        text = {p.label: p.text for p in index.record.paragraphs(NORTH_MAR)}
        assert "was 83%" in text["1.1"] and "81%" not in text["1.1"]
        assert len(index.record.paragraphs()) == 16
        _consistent(index)
        hit = Retriever(index).search("victim satisfaction in the 12 months to January 2021")
        assert any("was 83%" in e.paragraph.text for e in hit.evidence)
        assert not any("was 81%" in e.paragraph.text for e in hit.evidence)

    removed, unknown = pipeline.remove([SOUTH_JUN, "no-such-report"], backend)
    assert (removed, unknown) == ([SOUTH_JUN], ["no-such-report"])
    with pipeline.open_index(backend, embedder) as index:
        assert {r.report.doc for r in index.record.reports()} == {NORTH_MAR, NORTH_JUN}
        assert len(index.record.paragraphs()) == 12
        _consistent(index)
        found = Retriever(index).search("thefts of farm machinery").evidence
        assert SOUTH_JUN not in {e.paragraph.doc for e in found}


def test_a_client_rebuilds_its_keywords_from_the_changed_reports_only(  # type: ignore[no-untyped-def]
    server: ChromaServer, tmp_path: Path, embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a colleague's ingest a client fetches the new report's paragraphs, not all."""
    from pcc_assistant.index.keyword import KeywordIndex
    from pcc_assistant.index.shared_record import FRESH_S, ChromaRecord

    server.empty()
    writer = Settings(index_dir=tmp_path / "w", chroma_url=server.url, cache_dir=tmp_path / "wc")
    reader = Settings(index_dir=tmp_path / "r", chroma_url=server.url, cache_dir=tmp_path / "rc")
    corpus = write_reports(tmp_path / "corpus")
    (corpus / f"{SOUTH_JUN}.txt").rename(tmp_path / "south.txt")
    pipeline.ingest([corpus], writer, embedder=embedder)

    fetched: list[str] = []
    real_of = ChromaRecord._paragraphs_of
    real_get = ChromaRecord._get

    def one_report(self: ChromaRecord, doc: str, gen: int) -> list[Any]:
        fetched.append(doc)
        return real_of(self, doc, gen)

    def paged(self: ChromaRecord, col: Any, doing: str, **kwargs: Any) -> dict[str, Any]:
        if doing == "reading paragraphs" and "where" not in kwargs:
            fetched.append("every paragraph")
        return real_get(self, col, doing, **kwargs)

    monkeypatch.setattr(ChromaRecord, "_paragraphs_of", one_report)
    monkeypatch.setattr(ChromaRecord, "_get", paged)

    with pipeline.open_index(reader, embedder) as index:
        retriever = Retriever(index)
        retriever.refresh()
        assert sorted(fetched) == [NORTH_MAR, NORTH_JUN]  # two reports: one request each
        fetched.clear()

        # a colleague adds a report, and replaces another
        (tmp_path / "south.txt").rename(corpus / f"{SOUTH_JUN}.txt")
        path = corpus / f"{NORTH_MAR}.txt"
        path.write_text(path.read_text().replace("was 81%", "was 83%"))
        done = pipeline.ingest([corpus], writer, embedder=embedder)
        assert done.added == [SOUTH_JUN] and done.updated == [NORTH_MAR]
        fetched.clear()  # what the writer read
        time.sleep(FRESH_S)  # a reader may be this far behind (it remembers the reports)

        top = retriever.search("thefts of farm machinery").evidence[0]
        assert top.paragraph.doc == SOUTH_JUN
        assert sorted(fetched) == [NORTH_MAR, SOUTH_JUN]  # not NORTH_JUN again

        # the same index as one built from every paragraph at once
        fresh = KeywordIndex(tmp_path / "fresh")
        fresh.build(index.record.paragraphs(), 0, persist=False)
        for query in ("victim satisfaction 83%", "farm machinery", "1.1", "January 2021"):
            assert index.keywords.search(query, 10) == fresh.search(query, 10), query
        cached = sorted((tmp_path / "rc").rglob("tokens/*.json"))
        assert len(cached) == 3  # one per committed generation; NORTH_MAR's old one pruned

    pipeline.remove([SOUTH_JUN], writer)
    with pipeline.open_index(reader, embedder) as index:
        retriever = Retriever(index)
        fetched.clear()
        assert SOUTH_JUN not in {e.paragraph.doc for e in retriever.search("farm").evidence}
        assert not fetched  # the keyword index is loaded, or rebuilt from the cache
        assert len(sorted((tmp_path / "rc").rglob("tokens/*.json"))) == 2


def test_contract_answers_cite_the_paragraph(backend: Settings, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    from pcc_assistant.ask import Assistant

    pipeline.ingest([write_reports(tmp_path / "corpus")], backend, embedder=embedder)
    # The reader is another user: none of the writer's cache.
    reader = backend.model_copy(update={"cache_dir": tmp_path / "reader-cache"})
    assistant = Assistant(reader, embedder=embedder)
    try:
        answer = assistant.ask("How many killed or seriously injured casualties were there?")
        assert answer.answerable, answer.text
        cited = {(e.paragraph.doc, e.paragraph.label) for e in answer.cited()}
        assert (SOUTH_JUN, "1.2") in cited
        assert "301" in answer.text
        version = assistant.index.record.version()
    finally:
        assistant.close()
    stamps = list((tmp_path / "reader-cache").glob("servers/*/keyword/pcc-keys.json"))
    if backend.chroma_url:  # the reader kept the keyword index it built, for next time
        assert [json.loads(p.read_text())["version"] for p in stamps] == [version]
    else:  # a reader never writes an embedded index, nor a cache
        assert not stamps


# -- a shared server --------------------------------------------------------------------


def _pcc(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pcc_assistant", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def _one_error_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_server_down_is_one_line_naming_the_url(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    corpus = write_reports(tmp_path / "corpus", (SOUTH_JUN,))
    for args in (
        ("status",),
        ("list",),
        ("ask", "What is the solved rate?"),
        ("ingest", str(corpus)),
    ):
        line = _one_error_line(_pcc("--index", str(tmp_path / "i"), "--chroma-url", url, *args))
        assert url in line and "not answering" in line, (args, line)
    bad = _pcc("--chroma-url", "ftp://example", "status")
    assert bad.returncode != 0 and "not an http(s)://host:port URL" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_server_that_hangs_is_given_up_on(tmp_path: Path) -> None:
    """It accepts connections and never answers: one line after the connect timeout."""
    import socket

    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(8)
        url = f"http://127.0.0.1:{hung.getsockname()[1]}"
        line = _one_error_line(_pcc("--index", str(tmp_path / "i"), "--chroma-url", url, "list"))
    assert url in line and "gave no answer within 5 s" in line


def test_status_and_list_over_the_server(server: ChromaServer, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    server.empty()
    settings = Settings(index_dir=tmp_path / "index", chroma_url=server.url)
    pipeline.ingest([write_reports(tmp_path / "corpus")], settings, embedder=embedder)
    env = {"PCC_CHROMA_URL": server.url, "PCC_INDEX_DIR": str(tmp_path / "elsewhere")}
    status = _pcc("status", env=env)
    assert status.returncode == 0, status.stderr
    assert f"Chroma server {server.url}" in status.stdout and "answers" in status.stdout
    assert "reports:    3" in status.stdout and "paragraphs: 16" in status.stdout
    listed = _pcc("list", "--json", env=env)
    assert {r["doc"] for r in __import__("json").loads(listed.stdout)} == set(_TEXT)
    assert not (tmp_path / "elsewhere" / "record.sqlite").exists()


def test_server_killed_mid_ingest_then_rerun_leaves_nothing_half_indexed(
    tmp_path: Path,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    srv = ChromaServer(tmp_path / "chroma").start()
    try:
        settings = Settings(index_dir=tmp_path / "index", chroma_url=srv.url)
        corpus = write_reports(tmp_path / "corpus", (NORTH_MAR,))
        pipeline.ingest([corpus], settings, embedder=embedder)
        write_reports(corpus, (NORTH_JUN, SOUTH_JUN))
        path = corpus / f"{NORTH_MAR}.txt"
        path.write_text(path.read_text().replace("was 81%", "was 83%"))

        killer = threading.Timer(0.05, srv.kill)

        class KillOnStore(pipeline._Silent):
            def step(self, path: Path, what: str) -> None:
                # the server dies while the first file is being written (once: a second
                # timer could kill the restarted server)
                if what == "storing" and not killer.is_alive() and not killer.finished.is_set():
                    killer.start()

        with pytest.raises(PccError, match=srv.url.replace(".", r"\.")):
            pipeline.ingest([corpus], settings, embedder=embedder, progress=KillOnStore())
        killer.join()

        srv.start()  # same folder, same port
        result = pipeline.ingest([corpus], settings, embedder=embedder)
        assert not result.failed
        with pipeline.open_index(settings, embedder) as index:
            assert set(index.record.generations()) == set(_TEXT)
            _consistent(index)
            text = {p.label: p.text for p in index.record.paragraphs(NORTH_MAR)}
            assert "was 83%" in text["1.1"]
    finally:
        srv.stop()


def _plant(index: Index, parsed: Any, gen: int) -> None:
    """What a writer killed between writing and committing leaves: a generation's
    vectors and paragraphs with no report entry naming it."""
    import numpy as np

    from pcc_assistant.index.indexer import _metadata, _vector_id

    vectors = index.embed(parsed)
    doc = parsed.report.doc
    index.store.add(
        [_vector_id(doc, gen, o, w) for o, w, _ in vectors],
        np.stack([v for _, _, v in vectors]),
        [_metadata(parsed.paragraphs[o], gen, w, parsed.report) for o, w, _ in vectors],
    )
    index.record.write_paragraphs(parsed.paragraphs, gen)  # type: ignore[union-attr]


def test_a_dead_writers_generation_is_invisible_and_cleaned(
    server: ChromaServer,
    tmp_path: Path,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    from pcc_assistant.ingest.document import parse_document

    server.empty()
    settings = Settings(index_dir=tmp_path / "index", chroma_url=server.url)
    corpus = write_reports(tmp_path / "corpus", (NORTH_MAR,))
    pipeline.ingest([corpus], settings, embedder=embedder)
    path = corpus / f"{NORTH_MAR}.txt"
    path.write_text(path.read_text().replace("was 81%", "was 99%"))
    with pipeline.open_index(settings, embedder) as index:
        gen = index.record.next_generation()
        _plant(index, parse_document(path, sha256="half"), gen)
    with pipeline.open_index(settings, embedder) as index:
        found = Retriever(index).search("victim satisfaction in Northshire").evidence
        assert found and not any("99%" in e.paragraph.text for e in found)
        assert all("99%" not in p.text for p in index.record.paragraphs())
        assert (NORTH_MAR, gen) in index.store.held()
    pipeline.ingest([corpus], settings, embedder=embedder)  # the re-run
    with pipeline.open_index(settings, embedder) as index:
        _consistent(index)
        assert "was 99%" in {p.label: p.text for p in index.record.paragraphs(NORTH_MAR)}["1.1"]


def test_repair_deletes_what_dead_writers_left(
    server: ChromaServer,
    tmp_path: Path,
    embedder,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Older generations go at once; uncommitted newer ones (and reports never
    committed) once they are old enough that no live writer can own them."""
    from pcc_assistant.index import shared_record
    from pcc_assistant.ingest.document import parse_document

    server.empty()
    settings = Settings(index_dir=tmp_path / "index", chroma_url=server.url)
    corpus = write_reports(tmp_path / "corpus", (NORTH_MAR, SOUTH_JUN))
    pipeline.ingest([corpus], settings, embedder=embedder)
    ghost = write_reports(tmp_path / "ghost", (NORTH_JUN,))
    with pipeline.open_index(settings, embedder) as index:
        committed = index.record.generations()
        older, newer = committed[SOUTH_JUN] - 1, index.record.next_generation()
        _plant(index, parse_document(corpus / f"{SOUTH_JUN}.txt", sha256="x"), older)
        _plant(index, parse_document(corpus / f"{NORTH_MAR}.txt", sha256="x"), newer)
        _plant(index, parse_document(ghost / f"{NORTH_JUN}.txt", sha256="x"), newer)
    pipeline.remove([], settings)  # a write: it repairs first
    with pipeline.open_index(settings, embedder) as index:
        held = index.store.held()
        assert (SOUTH_JUN, older) not in held
        assert {(NORTH_MAR, newer), (NORTH_JUN, newer)} <= set(held)  # may be a live writer's
    monkeypatch.setattr(shared_record, "STALE_AFTER_S", 0.0)
    pipeline.remove([], settings)
    with pipeline.open_index(settings, embedder) as index:
        _consistent(index)


@pytest.mark.skipif(
    nginx() is None, reason="nginx is not installed (scripts/setup --dev installs it)"
)
def test_proxy_requires_the_bearer_token(server: ChromaServer, tmp_path: Path) -> None:
    server.empty()
    token = "test-token-0123456789abcdef"
    proxy = Proxy(tmp_path, server.port, token).start()
    try:
        assert httpx.get(proxy.url + "/api/v2/heartbeat").status_code == 401
        assert (
            httpx.get(
                proxy.url + "/api/v2/heartbeat", headers={"Authorization": "Bearer wrong"}
            ).status_code
            == 401
        )
        base = {"PCC_CHROMA_URL": proxy.url, "PCC_INDEX_DIR": str(tmp_path / "i")}
        line = _one_error_line(_pcc("status", env=base))
        assert proxy.url in line and "without a token (HTTP 401)" in line
        line = _one_error_line(_pcc("list", env={**base, "PCC_CHROMA_TOKEN": "wrong"}))
        assert "with the token given (HTTP 401)" in line

        good = {**base, "PCC_CHROMA_TOKEN": token}
        corpus = write_reports(tmp_path / "corpus", (SOUTH_JUN,))
        ingest = _pcc("ingest", str(corpus), env=good)
        assert ingest.returncode == 0, ingest.stderr
        ask = _pcc("ask", "--json", "How many thefts of farm machinery were there?", env=good)
        assert ask.returncode == 0, ask.stderr
        cited = __import__("json").loads(ask.stdout)["citations"]
        assert [(c["doc"], c["paragraph"]) for c in cited][:1] == [(SOUTH_JUN, "2.1")]
    finally:
        proxy.stop()


def _lines(path: Path) -> list[dict[str, object]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def test_readers_never_see_a_half_ingested_report(
    server: ChromaServer,
    tmp_path: Path,
    embedder,  # type: ignore[no-untyped-def]
) -> None:
    """Three reader processes ask questions while a `pcc ingest` process adds two reports
    (one of them the 95-paragraph Durham PDF) and replaces a third."""
    server.empty()
    settings = Settings(index_dir=tmp_path / "index", chroma_url=server.url)
    corpus = write_reports(tmp_path / "corpus", (NORTH_MAR,))
    pipeline.ingest([corpus], settings, embedder=embedder)
    with pipeline.open_index(settings, embedder) as index:
        allowed: dict[tuple[str, str], set[str]] = {}
        for p in index.record.paragraphs():
            allowed.setdefault((p.doc, p.label), set()).add(p.text)

    write_reports(corpus, (NORTH_JUN, SOUTH_JUN))
    shutil.copy(CORPUS / f"{DURHAM}.pdf", corpus)
    path = corpus / f"{NORTH_MAR}.txt"
    path.write_text(path.read_text().replace("was 81%", "was 83%"))

    stop = tmp_path / "stop"
    outs = [tmp_path / f"reader-{i}.jsonl" for i in range(3)]
    readers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.shared_reader", server.url, str(out), str(stop)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
        )
        for out in outs
    ]
    try:
        _wait_for(lambda: all(_lines(o) for o in outs), 180, "every reader's first answer")
        env = {"PCC_CHROMA_URL": server.url, "PCC_INDEX_DIR": str(tmp_path / "writer")}
        writer = _pcc("ingest", str(corpus), env=env)
        assert writer.returncode == 0, writer.stderr
        assert "3 added, 1 updated" in writer.stdout, writer.stdout
        done = time.time()
        _wait_for(
            lambda: all(sum(float(str(r["t"])) > done for r in _lines(o)) >= 5 for o in outs),
            180,
            "five answers from every reader after the ingest",
        )
    finally:
        stop.touch()
        for r in readers:
            r.wait(timeout=60)

    with pipeline.open_index(settings, embedder) as index:
        _consistent(index)
        for p in index.record.paragraphs():
            allowed.setdefault((p.doc, p.label), set()).add(p.text)
    rows = [row for o in outs for row in _lines(o)]
    errors = [row["error"] for row in rows if "error" in row]
    assert not errors, errors[0]
    cited = [c for row in rows for c in row["cited"]]  # type: ignore[attr-defined]
    assert cited
    for c in cited:
        assert c["whole"], c
        assert c["text"] in allowed[(c["doc"], c["label"])], c
    after = [c["doc"] for row in rows if float(str(row["t"])) > done for c in row["cited"]]  # type: ignore[attr-defined]
    assert {DURHAM, SOUTH_JUN} <= set(after)
    assert all(
        "was 81%" not in c["text"]
        for row in rows
        if float(str(row["t"])) > done
        for c in row["cited"]
    )  # type: ignore[attr-defined]


def test_compare_and_verify_over_the_server(server: ChromaServer, tmp_path: Path, embedder) -> None:  # type: ignore[no-untyped-def]
    server.empty()
    settings = Settings(index_dir=tmp_path / "index", chroma_url=server.url)
    corpus = write_reports(tmp_path / "corpus", (NORTH_MAR, NORTH_JUN))
    pipeline.ingest([corpus], settings, embedder=embedder)
    env = {"PCC_CHROMA_URL": server.url, "PCC_INDEX_DIR": str(tmp_path / "client")}

    compare = _pcc("compare", "--json", "victim satisfaction", env=env)
    assert compare.returncode == 0, compare.stderr
    rows = json.loads(compare.stdout)
    rows = rows["rows"] if isinstance(rows, dict) else rows
    values = {(r["doc"], r["value"]) for r in rows if r.get("value")}
    assert {(NORTH_MAR, "81%"), (NORTH_JUN, "79%")} <= values, rows

    ask = _pcc("ask", "--json", "What was victim satisfaction in the March 2021 report?", env=env)
    assert ask.returncode == 0, ask.stderr
    notes = tmp_path / "answer.json"
    notes.write_text(ask.stdout)
    held = _pcc("verify", str(notes), env=env)
    assert held.returncode == 0, held.stdout + held.stderr

    path = corpus / f"{NORTH_MAR}.txt"
    path.write_text(path.read_text().replace("was 81%", "was 83%"))
    pipeline.ingest([corpus], settings, embedder=embedder)
    changed = _pcc("verify", str(notes), env=env)
    assert changed.returncode == 1 and "changed" in changed.stdout, changed.stdout


def test_two_writers_on_one_report_the_later_wins(
    server: ChromaServer, tmp_path: Path, embedder
) -> None:  # type: ignore[no-untyped-def]
    """Writers on two machines aren't kept apart by a lock: the generations decide."""
    from pcc_assistant.ingest.document import parse_document

    server.empty()
    settings = Settings(index_dir=tmp_path / "index", chroma_url=server.url)
    corpus = write_reports(tmp_path / "corpus", (SOUTH_JUN,))
    parsed = parse_document(corpus / f"{SOUTH_JUN}.txt", sha256="first")
    with (
        pipeline.open_index(settings, embedder) as slow,
        pipeline.open_index(settings, embedder) as fast,
    ):
        slow_gen = slow.record.next_generation()  # the slow writer starts first ...
        fast.replace(parsed, fast.embed(parsed))  # ... the fast one commits meanwhile
        slow.record.next_generation = lambda: slow_gen  # type: ignore[method-assign]
        with pytest.raises(DocumentError, match="newer version of southshire"):
            slow.replace(parsed, slow.embed(parsed))
        assert fast.record.generations()[SOUTH_JUN] > slow_gen
        _consistent(fast)
