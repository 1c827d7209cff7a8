"""Retrieval among many reports: candidates from everything, then the second look.

Made-up reports, each a few sentences, so that what decides the ranking is known: a title
that shares an ordinary word with the question must not pull its report forward, a
report the question names by its title must, and the user's filters stay walls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from pcc_assistant.ask import Assistant
from pcc_assistant.config import Settings
from pcc_assistant.errors import PccError
from pcc_assistant.retrieve import Filters

pytestmark = pytest.mark.slow

REPORTS = {
    # Shares "data" and "victims" with the first question, and answers none of it.
    "open-data-strategy-victims": (
        "Open Data Strategy for Victims Services\n\n"
        "1. Data about victims services will be published every quarter as open data.\n\n"
        "2. The strategy sets out how data will be released under the Open Government "
        "Licence.\n"
    ),
    "road-safety-review-2019": (
        "Road Safety Review\n\n"
        "1. Speed cameras detected 12,400 offences in the year.\n\n"
        "2. Victims of road collisions were offered support by the victims' hub within two "
        "days in 92% of cases.\n"
    ),
    "transparency-board-terms-of-reference": (
        "Transparency Board Terms of Reference\n\n"
        "1. The Board meets monthly and reports to the Minister.\n\n"
        "2. Members serve for two years.\n"
    ),
    "local-panel-terms-of-reference": (
        "Local Data Panel Terms of Reference\n\n"
        "1. The Panel meets every eight weeks to review progress.\n\n"
        "2. Members serve for three years.\n"
    ),
}


@pytest.fixture(scope="module")
def assistant(tmp_path_factory: pytest.TempPathFactory, embedder) -> Iterator[Assistant]:  # type: ignore[no-untyped-def]
    from pcc_assistant import pipeline

    folder = tmp_path_factory.mktemp("retrieve")
    corpus = folder / "corpus"
    corpus.mkdir()
    for doc, text in REPORTS.items():
        (corpus / f"{doc}.txt").write_text(text)
    (corpus / "road-safety-review-2019.meta.toml").write_text("date = 2019-11-02\n")
    settings = Settings(index_dir=folder / "index")
    result = pipeline.ingest([corpus], settings, embedder=embedder)
    assert not result.failed
    a = Assistant(settings, embedder=embedder)
    yield a
    a.close()


def _first(a: Assistant, question: str, filters: Filters | None = None) -> tuple[str, str]:
    r = a.retriever.search(question, filters)
    return r.evidence[0].paragraph.doc, r.evidence[0].paragraph.text


def test_a_title_sharing_ordinary_words_does_not_win(assistant: Assistant) -> None:
    question = "How quickly were victims of road collisions offered support?"
    doc, text = _first(assistant, question)
    assert doc == "road-safety-review-2019" and "92%" in text
    assert assistant.retriever.search(question).scope_note == ""


def test_the_report_a_question_names_by_title_comes_first(assistant: Assistant) -> None:
    doc, text = _first(assistant, "How often does the Transparency Board meet?")
    assert doc == "transparency-board-terms-of-reference" and "monthly" in text
    doc, text = _first(assistant, "How often does the local data panel meet?")
    assert doc == "local-panel-terms-of-reference" and "eight weeks" in text
    doc, text = _first(assistant, "How long do members serve, under the panel's terms?")
    assert doc == "local-panel-terms-of-reference" and "three years" in text


def test_filters_are_walls(assistant: Assistant) -> None:
    only = Filters(docs=("transparency-board-terms-of-reference",))
    r = assistant.retriever.search("How often does the local data panel meet?", only)
    assert {e.paragraph.doc for e in r.evidence} == {"transparency-board-terms-of-reference"}
    since = Filters(since=dt.date(2019, 1, 1))
    r = assistant.retriever.search("What does the open data strategy publish?", since)
    assert {e.paragraph.doc for e in r.evidence} == {"road-safety-review-2019"}


def test_a_filter_that_admits_no_report_says_so(assistant: Assistant) -> None:
    with pytest.raises(PccError, match="no indexed report matches --since 2030-01-01"):
        assistant.ask("What does the strategy say?", Filters(since=dt.date(2030, 1, 1)))


def test_the_ranking_is_the_fitted_one(tmp_path: Path) -> None:
    """rerank.json names every feature the retriever computes, and no other."""
    import json

    from pcc_assistant.retrieve import features, rerank

    data = json.loads(rerank._FILE.read_text())
    assert set(data["weights"]) == set(features.FEATURES)
    assert rerank.fitted().weights == tuple(data["weights"][f] for f in features.FEATURES)
