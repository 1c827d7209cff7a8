"""Question in, verified answer out: retrieval, an answerer, the check, the refusal rule.

The one entry point that the command line, the chat and the evaluation all use, so they
all give the same answer to the same question.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, replace

from pcc_assistant.answer.extractive import extract
from pcc_assistant.answer.model import Answer, Claim, numbered
from pcc_assistant.answer.refusal import Signals, Thresholds, calibrated
from pcc_assistant.answer.verify import NOT_IN_REPORTS, parse_claims, verify
from pcc_assistant.config import Settings
from pcc_assistant.errors import PccError
from pcc_assistant.index.embedder import Embedder
from pcc_assistant.index.indexer import Index
from pcc_assistant.retrieve import Filters, Retrieval, Retriever, mentions_month

ANSWERERS = ("extractive", "openai", "ollama", "local")
GENERATIVE_PARAGRAPHS = 6  # what a small model's context holds, with room to answer
MAX_QUESTION = 1000  # characters; a question longer than this is most likely pasted text


class Assistant:
    """Holds the open index and the loaded models between questions."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        thresholds: Thresholds | None = None,
    ) -> None:
        from pcc_assistant.pipeline import location, make_embedder

        folder = settings.index_dir
        if not settings.chroma_url and not (folder / "record.sqlite").is_file():
            raise PccError(
                f"there is no index in {folder}: run `pcc ingest corpus/` first "
                "(or point --index / PCC_INDEX_DIR at one)"
            )
        self.settings = settings
        self.index = Index(
            folder, embedder or make_embedder(settings), location(settings), settings.cache_dir
        )
        self.index.exists()  # a server that doesn't answer: one line now, not mid-question
        old = self.index.stale()
        if old is not None:  # its vectors can't be compared with this embedder's questions
            self.index.close()
            raise PccError(self.index.stale_message(old))
        self.retriever = Retriever(self.index)
        self.thresholds = thresholds or calibrated()

    def close(self) -> None:
        self.index.close()

    def warm(self) -> None:
        """Load the models and caches now, so the first question is as fast as the rest."""
        self.retriever.refresh()
        self.index.embedder.embed(["warm up"])
        self.index.store.count()

    def ask(
        self,
        question: str,
        filters: Filters | None = None,
        answerer: str | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        question = " ".join(question.split())
        answerer = answerer or self.settings.answerer
        if answerer not in ANSWERERS:
            raise PccError(f"unknown answerer {answerer!r}: choose one of {', '.join(ANSWERERS)}")
        if not question:
            raise PccError("the question is empty")
        if len(question) > MAX_QUESTION:
            raise PccError(
                f"the question is {len(question)} characters long; ask in under {MAX_QUESTION}"
            )
        t0 = time.perf_counter()
        self.retriever.refresh()
        if not self.retriever.reports:
            raise PccError(
                f"the {self.index.describe()} holds no reports: run `pcc ingest corpus/` first"
            )
        if filters is not None and not filters.empty and not self.retriever.admitted(filters):
            raise PccError(f"no indexed report matches {filters.describe()}: see `pcc list`")
        retrieval = self.retriever.search(question, filters)
        t1 = time.perf_counter()
        answer = self._extractive(question, retrieval)
        if not answer.answerable and mentions_month(question):
            # "in March 2021" found nothing for that month: it may name the report of that date
            again = self.retriever.search(question, filters, bare_dates=True)
            if again.scope != retrieval.scope:
                second = self._extractive(question, again)
                if second.answerable:
                    retrieval, answer = again, second
        if answerer != "extractive" and answer.answerable:
            answer = self._generative(question, retrieval, answer, answerer, on_token)
        elif on_token is not None:
            on_token(answer.text)
        answer = numbered(answer)
        t2 = time.perf_counter()
        answer.timings_ms = {
            "retrieve": (t1 - t0) * 1000,
            "answer": (t2 - t1) * 1000,
            "total": (t2 - t0) * 1000,
        }
        return answer

    # -- answerers ------------------------------------------------------------------------
    def _extractive(self, question: str, retrieval: Retrieval) -> Answer:
        ev = retrieval.evidence
        note = retrieval.scope_note
        if not ev or not re.search(r"[A-Za-z]{2}", question):
            return Answer(question, "extractive", False, [], ev, note)
        found = extract(
            retrieval.topic or question, ev, self.retriever.weight, retrieval.cross_report
        )
        best = found.best
        if best is None:
            return Answer(question, "extractive", False, [], ev, note)
        signals = Signals(
            similarity=retrieval.best_similarity,
            coverage=best.coverage,
            context=best.context,
            figure_missing=found.figure_missing,
            name_missing=found.name_missing,
            type_missing=found.type_missing,
            year_missing=found.year_missing,
        )
        seen = {k: float(v) for k, v in asdict(signals).items()}
        why = self.thresholds.why(signals)
        if why:
            if why.startswith("the reports don't give"):
                what = _TYPE_WORDS.get(found.asked.figure if found.asked else "", "")
                if what:
                    why = f"the reports don't give {what} for this"
                why += "; the closest passages are below, as context, not as the answer"
            return Answer(question, "extractive", False, [], ev, _join(note, why), signals=seen)
        claims = verify(found.claims, ev)
        shown = [c for c in claims if c.verified]
        if found.unaddressed:
            titles = {e.paragraph.doc: e.report.title for e in ev}
            missing = ", ".join(titles.get(d, d) for d in found.unaddressed)
            note = _join(note, f"{missing}: nothing found that addresses this")
        return Answer(question, "extractive", bool(shown), shown, ev, note, signals=seen)

    def _generative(
        self,
        question: str,
        retrieval: Retrieval,
        fallback: Answer,
        answerer: str,
        on_token: Callable[[str], None] | None,
    ) -> Answer:
        from pcc_assistant.answer.generative import BackendError, generate

        shown = retrieval.evidence[:GENERATIVE_PARAGRAPHS]
        try:
            text = generate(question, shown, self.settings, answerer, on_token)
        except BackendError as exc:
            if not self.settings.fallback:
                raise
            return replace(fallback, note=_join(fallback.note, f"{exc}; answered extractively"))
        if NOT_IN_REPORTS.search(text) and len(text) < 80:
            return Answer(
                question,
                answerer,
                False,
                [],
                retrieval.evidence,
                _join(
                    retrieval.scope_note, "the model found no answer in the retrieved paragraphs"
                ),
            )
        claims = verify(parse_claims(text), shown)  # only what the model was shown
        kept = [c for c in claims if c.verified]
        dropped = [c for c in claims if not c.verified]
        if not kept:
            why = "; ".join(f"{_short(c)}: {c.problem}" for c in dropped[:3]) or "it was empty"
            return replace(
                fallback,
                note=_join(
                    fallback.note,
                    f"the {answerer} answer could not be verified ({why}); "
                    "this is the extractive answer",
                ),
            )
        note = retrieval.scope_note
        if dropped:
            note = _join(
                note,
                "dropped what the reports don't support: "
                + "; ".join(f"{_short(c)} ({c.problem})" for c in dropped),
            )
        return Answer(question, answerer, True, kept + dropped, retrieval.evidence, note)


_TYPE_WORDS = {
    "percent": "a percentage",
    "money": "an amount",
    "duration": "a length of time",
    "count": "a count",
    "number": "a figure",
}


def _short(c: Claim) -> str:
    return f'"{c.text[:60]}…"' if len(c.text) > 60 else f'"{c.text}"'


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b
