"""An evaluation run written for people: Markdown with a chart (PNG) beside it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pcc_assistant.eval_run import HIT_AT, Run
from pcc_assistant.safe_text import clean


def _pct(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.0f}%"


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(clean(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def chart(run: Run, path: Path) -> None:
    """Accuracy by kind and the latency distribution, side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    by_kind = run.summary.get("by_kind", {})
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    kinds = list(by_kind)
    left.barh(kinds, [100 * (by_kind[k]["correct"] or 0) for k in kinds], color="#4c72b0")
    left.set_xlim(0, 100)
    left.set_xlabel("% right (answerable: right answer, right paragraph; else refused)")
    left.set_title("Accuracy by kind of question")
    left.invert_yaxis()
    latencies = [q["scores"]["latency_ms"] for q in run.questions]
    right.hist(latencies, bins=30, color="#55a868")
    right.set_xlabel("ms from question to verified answer")
    right.set_ylabel("questions")
    med = run.summary["latency_ms"]["median"]
    right.set_title(f"Latency (median {med:.0f} ms)" if med is not None else "Latency")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def markdown(run: Run, path: Path, comparison: dict[str, Any] | None = None) -> Path:
    """Write the report to ``path`` and its chart beside it; returns the chart's path."""
    png = path.with_suffix(".png")
    chart(run, png)
    s = run.summary
    r, c, a, lat = s["retrieval"], s["citations"], s["answers"], s["latency_ms"]
    out = [
        f"# Evaluation run, {s['date']}",
        "",
        f"{s['questions']} questions ({s['answerable']} answerable, {s['unanswerable']} not), "
        f"against {len(s['indexed_reports'])} indexed reports.",
        "",
        f"![accuracy by kind and latency]({png.name})",
        "",
        "| measure | value |",
        "|---|---|",
        *[f"| evidence in top {n} | {_pct(r[f'hit@{n}'])} |" for n in HIT_AT],
        f"| mean reciprocal rank | {r['mrr'] if r['mrr'] is not None else '–'} |",
        f"| answerable: right answer with the right paragraph cited | "
        f"{_pct(a['answerable_correct'])} |",
        f"| answerable: answer text matches | {_pct(a['answer_matches'])} |",
        f"| answerable: refused | {_pct(a['answerable_refused'])} |",
        f"| unanswerable: refused | {_pct(a['unanswerable_refused'])} |",
        f"| cited paragraphs holding all the evidence | {_pct(c['cited_all_evidence'])} |",
        f"| citations verbatim in their source | {_pct(c['verbatim'])} ({c['count']}) |",
        f"| latency median / 95th percentile | {lat['median']} ms / {lat['p95']} ms |",
        "",
    ]
    if "by_kind" in s:
        out += [
            "## By kind",
            "",
            "| kind | questions | right | evidence in top 5 |",
            "|---|---|---|---|",
        ]
        out += [
            f"| {k} | {v['questions']} | {_pct(v['correct'])} | {_pct(v['hit@5'])} |"
            for k, v in s["by_kind"].items()
        ]
        out.append("")
    if comparison:
        out += ["## Since the earlier run", ""]
        out.append(f"Better: {', '.join(comparison['better']) or 'none'}  ")
        out.append(f"Worse: {', '.join(comparison['worse']) or 'none'}")
        out.append("")
    if s["problems"]:
        out += ["## Problems with the question set", ""]
        out += [f"- {_cell(p, 400)}" for p in s["problems"]]
        out.append("")
    failed = [q for q in run.questions if not q["scores"]["correct"]]
    out += [f"## Questions not right ({len(failed)})", ""]
    for q in failed:
        out += [
            f"### {q['id']} ({q['kind'] or 'no kind'})",
            "",
            f"**Q:** {_cell(q['question'])}",
            "",
        ]
        if q["should_answer"]:
            expected = " and ".join("/".join(g) for g in q["expected"]) or "(no strings)"
            out.append(f"**Expected:** {_cell(expected)}  ")
            snippets = "; ".join(f"{e['doc']}: “{e['snippet']}”" for e in q["evidence"])
            out.append(f"**Evidence:** {_cell(snippets, 400)}  ")
        else:
            out.append("**Expected:** a refusal (the reports don't answer this)  ")
        out.append(f"**Answered:** {_cell(q['answer'], 600)}  ")
        if q["note"]:
            out.append(f"**Note:** {_cell(q['note'], 300)}  ")
        rank = q["scores"].get("hit_rank")
        out.append(f"**Evidence rank:** {rank if rank else 'not retrieved'}  ")
        out.append("**Retrieved:**")
        out.append("")
        out += [
            f"{i}. {r_['doc']} {r_['paragraph']}: {_cell(r_['text'], 140)}"
            for i, r_ in enumerate(q["retrieved"][:3], 1)
        ]
        out.append("")
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return png
