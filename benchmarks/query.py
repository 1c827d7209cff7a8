"""Query latency and memory at about 1,000, 10,000 and 100,000 indexed paragraphs.

    .venv/bin/python benchmarks/query.py [--sizes 1000,10000,100000] [--timings 200]
        [--noise 0.005] [--base DIR] [--profile] [--no-write]

Measures, per size: median and 95th percentile of question -> verified extractive answer
(``Assistant.ask``, warm: models loaded, after 3 warm-up questions), split into retrieval
and answering, with a finer split (query embedding, Chroma, BM25, SQLite paragraph reads,
sentence scoring and verification) from a second, instrumented pass; the peak memory of the
process that answers; how long the index took to build; its size on disk.

How the corpora are made (real text, real vectors): ``../shared/real-pdfs`` and ``corpus/``
are ingested once into a temporary index (``pipeline.ingest``). The two sample reports are
always in every corpus, once, so the questions keep their answers; the other real documents
fill the rest, first as themselves and then as copies (new doc ids, dates shifted back a
quarter per copy), reusing the stored vectors with a little Gaussian noise (``--noise``, per
component, then renormalised) so that HNSW does not hold exact duplicates. The last document
is cut so each corpus has exactly the paragraphs asked for. Each size is built by one
subprocess (``Index.replace`` per document, then ``refresh_keywords``) and answered by a fresh
one, so peaks don't accumulate; each index lives in a temporary folder, deleted afterwards.

Writes the "Query" section of benchmarks/RESULTS.md unless --no-write.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import datetime as dt
import io
import json
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    PYTHON,
    QUESTIONS,
    REAL_PDFS,
    SAMPLE_PDFS,
    busy_processes,
    dir_size_mb,
    load_average,
    machine_line,
    ms,
    peak_rss_mb,
    percentile,
    write_section,
)

SAMPLE_DOCS = (
    "durham-pcvc-performance-2020-03-12",
    "cambridgeshire-victims-performance-2020-05-26",
)
WARMUP = 3


# -- stage: base (ingest the real documents once) ---------------------------------------------
def stage_base(folder: Path) -> dict[str, Any]:
    from pcc_assistant import pipeline
    from pcc_assistant.config import Settings

    folders = [SAMPLE_PDFS] + ([REAL_PDFS] if REAL_PDFS.is_dir() else [])
    result = pipeline.ingest(folders, Settings(index_dir=folder))
    return {
        "paragraphs": result.paragraphs,
        "files": len(result.added),
        "failed": [str(f) for f in result.failed],
        "seconds": result.seconds,
    }


# -- stage: build (one corpus of a given size) ------------------------------------------------
def _noisy(vector: Any, rng: Any, noise: float) -> Any:
    import numpy as np

    if noise <= 0:
        return vector
    v = vector + rng.normal(0.0, noise, vector.shape).astype(np.float32)
    return (v / np.linalg.norm(v)).astype(np.float32)


def stage_build(base: Path, target: Path, size: int, noise: float) -> dict[str, Any]:
    import numpy as np

    from pcc_assistant.config import Settings
    from pcc_assistant.index.indexer import Index
    from pcc_assistant.index.record import Record
    from pcc_assistant.pipeline import make_embedder
    from pcc_assistant.types import ParsedDocument

    rec = Record(base / "record.sqlite")
    reports = {r.report.doc: r.report for r in rec.reports()}
    paragraphs: dict[str, list[Any]] = defaultdict(list)
    for p in rec.paragraphs():
        paragraphs[p.doc].append(p)
    vectors: dict[str, list[tuple[int, int, Any]]] = defaultdict(list)
    for row in rec.vectors():
        vectors[row.doc].append((row.ordinal, row.window, row.vector.copy()))
    rec.close()
    missing = [d for d in SAMPLE_DOCS if d not in reports]
    if missing:
        raise SystemExit(f"the base index lacks the sample reports {missing}")
    others = [d for d in sorted(reports) if d not in SAMPLE_DOCS]

    rng = np.random.default_rng(size)
    # The embedder is only asked for its name and dimension (the collection's name): the
    # vectors come from the base index, so no model is loaded here.
    index = Index(target, make_embedder(Settings(index_dir=target)))
    index.lock()
    index.check_model()
    started = time.perf_counter()
    total = windows = docs = copies = 0
    plan = [(d, 0) for d in SAMPLE_DOCS] + [(d, 0) for d in others]
    copy = 1
    while total < size:
        if not plan:
            plan = [(d, copy) for d in others]
            copy += 1
        doc, n = plan.pop(0)
        keep = paragraphs[doc][: size - total]
        report = reports[doc]
        if n:
            report = dataclasses.replace(
                report,
                doc=f"{doc}--copy{n:03d}",
                date=report.date - dt.timedelta(days=91 * n) if report.date else None,
                sha256=f"{report.sha256[:48]}copy{n:03d}",
            )
            keep = [dataclasses.replace(p, doc=report.doc) for p in keep]
            copies += 1
        ordinals = {p.ordinal for p in keep}
        vecs = [
            (o, w, _noisy(v, rng, noise) if n else v) for o, w, v in vectors[doc] if o in ordinals
        ]
        index.replace(ParsedDocument(report, tuple(keep)), vecs)
        total += len(keep)
        windows += len(vecs)
        docs += 1
    stored = time.perf_counter()
    index.refresh_keywords()
    done = time.perf_counter()
    index.close()
    return {
        "size": size,
        "paragraphs": total,
        "vectors": windows,
        "documents": docs,
        "copies": copies,
        "store_s": stored - started,
        "bm25_s": done - stored,
        "build_s": done - started,
        "disk_mb": dir_size_mb(target),
        "peak_mb": peak_rss_mb(),
    }


# -- stage: serve (answer the questions) -------------------------------------------------------
class _Timers:
    """Wraps the functions a question passes through and adds up the time in each."""

    def __init__(self) -> None:
        self.total: dict[str, float] = defaultdict(float)

    def wrap(self, name: str | Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
        """``name`` may be a function of the call's arguments, to split one stage in two."""

        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                label = name if isinstance(name, str) else name(*args, **kwargs)
                self.total[label] += time.perf_counter() - t

        return timed


def _chroma_label(vector: Any, k: int, where: Any = None) -> str:
    return "Chroma query, scoped to named reports" if where else "Chroma query, all reports"


def _questions() -> list[str]:
    from pcc_assistant.evaluate import load_questions

    return [q.question for q in load_questions(QUESTIONS).questions]


def stage_serve(target: Path, timings: int, profile: bool) -> dict[str, Any]:
    import pcc_assistant.ask as ask_module
    from pcc_assistant.ask import Assistant
    from pcc_assistant.config import Settings
    from pcc_assistant.errors import PccError

    t0 = time.perf_counter()
    assistant = Assistant(Settings(index_dir=target))
    assistant.warm()
    warm_s = time.perf_counter() - t0
    embedder = type(assistant.index.embedder).__name__
    questions = _questions()
    for q in questions[:WARMUP]:
        assistant.ask(q)
    rounds = -(-timings // len(questions))
    runs: list[dict[str, float]] = []
    answered = 0
    errors = 0
    # The query embedding's own time, per question: on a shared machine it is the part most
    # hurt by other processes (torch's threads wait on each other), and it does not grow
    # with the index. Two clock reads a question; nothing else is instrumented here.
    embed = assistant.index.embedder.embed
    spent = [0.0]

    def clocked(texts: list[str]) -> Any:
        t = time.perf_counter()
        try:
            return embed(texts)
        finally:
            spent[0] += time.perf_counter() - t

    assistant.index.embedder.embed = clocked  # type: ignore[method-assign]
    for r in range(rounds):
        for q in questions:
            spent[0] = 0.0
            try:
                a = assistant.ask(q)
            except PccError:
                errors += 1
                continue
            runs.append({**a.timings_ms, "embed": spent[0] * 1000})
            if r == 0:
                answered += a.answerable
    assistant.index.embedder.embed = embed  # type: ignore[method-assign]

    # One more round, instrumented, for where the time goes.
    timers = _Timers()
    idx = assistant.index
    idx.embedder.embed = timers.wrap("query embedding", idx.embedder.embed)  # type: ignore[method-assign]
    idx.store.query = timers.wrap(_chroma_label, idx.store.query)  # type: ignore[method-assign]
    idx.keywords.search = timers.wrap("BM25 search", idx.keywords.search)  # type: ignore[method-assign]
    idx.record.paragraphs_at = timers.wrap(  # type: ignore[method-assign]
        "SQLite paragraph reads", idx.record.paragraphs_at
    )
    idx.record.version = timers.wrap("SQLite version check", idx.record.version)  # type: ignore[method-assign]
    ask_module.extract = timers.wrap("sentence scoring (extract)", ask_module.extract)  # type: ignore[assignment]
    ask_module.verify = timers.wrap("verification", ask_module.verify)  # type: ignore[assignment]
    t = time.perf_counter()
    for q in questions:
        assistant.ask(q)
    instrumented = time.perf_counter() - t
    stages = {k: v * 1000 / len(questions) for k, v in timers.total.items()}
    stages["everything else"] = instrumented * 1000 / len(questions) - sum(stages.values())

    top = ""
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        for q in questions:
            assistant.ask(q)
        prof.disable()
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(25)
        top = buf.getvalue()
    assistant.close()
    return {
        "embedder": embedder,
        "warm_s": warm_s,
        "timings": runs,
        "questions": len(questions),
        "answered": answered,
        "errors": errors,
        "stages_ms": stages,
        "peak_mb": peak_rss_mb(),
        "profile": top,
    }


# -- the driver ------------------------------------------------------------------------------
def _run(args: list[str]) -> dict[str, Any]:
    proc = subprocess.run(
        [str(PYTHON), __file__, *args], capture_output=True, text=True, check=False
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"stage {args[:2]} failed ({proc.returncode})")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


_ORDER = (
    "query embedding",
    "Chroma query, all reports",
    "Chroma query, scoped to named reports",
    "BM25 search",
    "SQLite paragraph reads",
    "SQLite version check",
    "sentence scoring (extract)",
    "verification",
    "everything else",
)


def _stage_order(name: str) -> int:
    return _ORDER.index(name) if name in _ORDER else len(_ORDER)


def _report(
    base: dict[str, Any], rows: list[tuple[dict[str, Any], dict[str, Any]]], args: Any, notes: str
) -> str:
    embedder = rows[0][1]["embedder"] if rows else "?"
    lines = [
        machine_line(["chromadb", "bm25s", "sentence-transformers", "torch", "onnxruntime"]),
        f"Embedder for the question: `{embedder}` (what `pipeline.make_embedder` gave).",
        "",
        "Command: `.venv/bin/python benchmarks/query.py"
        + (f" --sizes {args.sizes}" if args.sizes != "1000,10000,100000" else "")
        + (" --profile" if args.profile else "")
        + "`",
        "",
        "Warm latency of `Assistant.ask` (question -> verified extractive answer), models"
        f" loaded, after {WARMUP} warm-up questions; the {rows[0][1]['questions']} questions of"
        f" eval/questions.jsonl asked in turn until at least {args.timings} timings per size."
        " Peak memory is that of the process answering (a fresh one per size); build is a"
        " separate process.",
        "",
        "| paragraphs | vectors | reports | median ms | p95 ms | retrieve median |"
        " answer median | query embedding median | median without it | p95 without it |"
        " answered | peak MB (ask) | build s (Chroma+record / BM25) | build peak MB | disk MB |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for b, s in rows:
        tot = [t["total"] for t in s["timings"]]
        ret = [t["retrieve"] for t in s["timings"]]
        ans = [t["answer"] for t in s["timings"]]
        emb = [t.get("embed", 0.0) for t in s["timings"]]
        rest = [t["total"] - t.get("embed", 0.0) for t in s["timings"]]
        lines.append(
            f"| {b['paragraphs']:,} | {b['vectors']:,} | {b['documents']} |"
            f" {ms(percentile(tot, 50))} | {ms(percentile(tot, 95))} |"
            f" {ms(percentile(ret, 50))} | {ms(percentile(ans, 50))} |"
            f" {ms(percentile(emb, 50))} | {ms(percentile(rest, 50))} |"
            f" {ms(percentile(rest, 95))} |"
            f" {s['answered']}/{s['questions']} | {s['peak_mb']:.0f} |"
            f" {b['build_s']:.0f} ({b['store_s']:.0f} / {b['bm25_s']:.1f}) |"
            f" {b['peak_mb']:.0f} | {b['disk_mb']:.0f} |"
        )
    names = sorted({n for _, s in rows for n in s["stages_ms"]}, key=_stage_order)
    lines += [
        "",
        "Where the time goes (instrumented pass, one round of the questions, mean ms per"
        " question):",
        "",
        "| stage | " + " | ".join(f"{b['paragraphs']:,}" for b, _ in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    for name in names:
        lines.append(
            f"| {name} | " + " | ".join(ms(s["stages_ms"].get(name, 0.0)) for _, s in rows) + " |"
        )
    lines += [
        "",
        f"Base corpus: {base['files']} files ingested once ({base['paragraphs']:,} paragraphs,"
        + (f" {base['seconds']:.0f} s)." if base["seconds"] else " reused with `--base`).")
        + f" Copies of the {int(base['files']) - 2} non-sample documents"
        " use the stored"
        f" vectors plus Gaussian noise σ={args.noise} per component, renormalised (cosine to"
        " the original ≈ 0.995).",
    ]
    if notes:
        lines += ["", notes]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--timings", type=int, default=200, help="at least this many per size")
    parser.add_argument("--noise", type=float, default=0.005)
    parser.add_argument("--base", type=Path, help="reuse an index already built by --stage base")
    parser.add_argument("--profile", action="store_true", help="cProfile the largest size")
    parser.add_argument("--no-write", action="store_true", help="don't touch RESULTS.md")
    parser.add_argument("--json", type=Path, help="also write the raw figures here")
    parser.add_argument("--stage", choices=["base", "build", "serve"], help=argparse.SUPPRESS)
    parser.add_argument("--target", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.stage == "base":
        print(json.dumps(stage_base(args.target)))
        return
    if args.stage == "build":
        print(json.dumps(stage_build(args.base, args.target, args.size, args.noise)))
        return
    if args.stage == "serve":
        print(json.dumps(stage_serve(args.target, args.timings, args.profile)))
        return

    sizes = [int(s) for s in args.sizes.split(",")]
    load_before = load_average()
    busy = busy_processes()
    with tempfile.TemporaryDirectory(prefix="pcc-bench-query-") as tmp:
        if args.base:
            base_dir = args.base
            base = {"files": "?", "paragraphs": 0, "seconds": 0.0}
            from pcc_assistant.index.record import Record

            rec = Record(base_dir / "record.sqlite")
            base["files"] = len(rec.reports())
            base["paragraphs"] = len(rec.paragraphs())
            rec.close()
        else:
            base_dir = Path(tmp) / "base"
            print("ingesting the base corpus ...", file=sys.stderr)
            base = _run(["--stage", "base", "--target", str(base_dir)])
        rows = []
        for size in sizes:
            target = Path(tmp) / f"index-{size}"
            print(f"{size}: building ...", file=sys.stderr)
            b = _run(
                [
                    "--stage", "build", "--base", str(base_dir), "--target", str(target),
                    "--size", str(size), "--noise", str(args.noise),
                ]
            )  # fmt: skip
            print(f"{size}: built in {b['build_s']:.0f} s; asking ...", file=sys.stderr)
            serve = ["--stage", "serve", "--target", str(target), "--timings", str(args.timings)]
            if args.profile and size == max(sizes):
                serve.append("--profile")
            s = _run(serve)
            tot = [t["total"] for t in s["timings"]]
            print(
                f"{size}: median {percentile(tot, 50):.1f} ms, p95 {percentile(tot, 95):.1f} ms,"
                f" peak {s['peak_mb']:.0f} MB, stages {json.dumps(s['stages_ms'])}",
                file=sys.stderr,
            )
            if s["profile"]:
                print(s["profile"], file=sys.stderr)
            rows.append((b, s))
            shutil.rmtree(target, ignore_errors=True)
    load_after = load_average()
    notes = f"Load average (1/5/15 min) before: {load_before}; after: {load_after}."
    if busy:
        notes += " Other busy processes at the start: " + "; ".join(f"`{b}`" for b in busy) + "."
    body = _report(base, rows, args, notes)
    print(body)
    if args.json:
        args.json.write_text(json.dumps({"base": base, "rows": rows}, default=str, indent=1))
    if not args.no_write:
        write_section("Query (`benchmarks/query.py`)", body)


if __name__ == "__main__":
    main()
