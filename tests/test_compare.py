"""``pcc compare``: one measure followed across real indexed reports (no fakes).

The expected figures, periods and paragraph labels were read off the reports by hand
(corpus/*.pdf, ../shared/corpus/*.txt and the two quarterly reports in
../shared/real-pdfs).
"""

from __future__ import annotations

import io
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from pcc_assistant.answer.sentences import fold
from pcc_assistant.cli import cli
from pcc_assistant.compare import Comparison, Row, compare, comparison_answer, comparison_json
from pcc_assistant.config import Settings
from pcc_assistant.errors import PccError
from pcc_assistant.retrieve import Filters

from .conftest import CAMBS, CORPUS, DURHAM, SHARED

REAL = SHARED / "real-pdfs"
Q2 = "Open_Data_and_Transparency_QWMS_Q2_2013_14_for_publishing"
Q3 = "QWMS_Q3_13-14_final_for_publication"


@pytest.fixture(scope="module")
def assistant(ingested: Settings, embedder: Any) -> Iterator[Any]:
    from pcc_assistant.ask import Assistant

    a = Assistant(ingested, embedder=embedder)
    yield a
    a.close()


def follow(assistant: Any, measure: str, **filters: Any) -> Comparison:
    return compare(assistant.retriever, measure, Filters(**filters))


def row_of(c: Comparison, doc: str) -> Row:
    return next(r for r in c.rows if r.report.doc == doc)


def run(index: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--index", str(index), "compare", *args])
    assert result.exit_code == 0, result.output
    return result.output


# -- the sample reports ---------------------------------------------------------------
def test_victim_satisfaction(assistant: Any) -> None:
    c = follow(assistant, "victim satisfaction")
    assert [r.report.doc for r in c.rows] == [DURHAM, CAMBS]  # by report date
    durham, cambs = c.rows
    assert not durham.reported and durham.figure is None  # a chart, no figure in the text
    f = cambs.figure
    assert f is not None and cambs.evidence is not None
    assert (f.value, f.unit, f.number) == ("77.2%", "%", 77.2)
    assert f.period == "12 months ending March 2020"
    assert f.place == "Cambridgeshire" and f.place_from == "report"
    assert (
        f.comparison == "marginally lower than, but comparable to, the 12 months ending March 2019"
    )
    assert cambs.evidence.paragraph.label == "4.1.1 (2)"
    assert cambs.citation() == "§4.1.1 (2), p.1"
    assert not cambs.flagged


def test_solved_rate(assistant: Any) -> None:
    c = follow(assistant, "solved rate")
    durham = row_of(c, DURHAM)
    f = durham.figure
    assert f is not None and durham.evidence is not None
    assert f.value == "19%"
    assert f.period == "February 2019 to January 2020"
    assert f.place == "Durham" and f.place_from == "text"  # "Durham’s solved rate"
    assert f.comparison == (
        "compared to a 13% average for forces across England and Wales "
        "from January 2019 to December 2019"
    )
    assert durham.citation() == "¶32, p.7"
    assert not row_of(c, CAMBS).reported


def test_prosecution_rate(assistant: Any) -> None:
    c = follow(assistant, "prosecution rate")
    cambs = row_of(c, CAMBS)
    f = cambs.figure
    assert f is not None and cambs.evidence is not None
    assert f.value == "10.8%"  # not the 96% attendance rate of ¶4.3.6
    assert f.period == "12 months ending March 2020"
    assert f.place == "Cambridgeshire · all crime"
    assert f.comparison == "lower than, but comparable to, the long term benchmark"
    assert cambs.evidence.paragraph.label == "4.1.2 (2)"
    assert not row_of(c, DURHAM).reported


def test_a_threshold_is_not_the_measure(assistant: Any) -> None:
    """ "confidence ... fell below 50%" in Fenland is a threshold; the measure is 56.4%."""
    cambs = row_of(follow(assistant, "confidence"), CAMBS)
    assert cambs.figure is not None and cambs.evidence is not None
    assert cambs.figure.value == "56.4%"
    assert cambs.figure.period == "12 months ending March 2020"
    assert cambs.evidence.paragraph.label == "4.1.3"


def test_a_figure_that_moved_from_an_earlier_one(assistant: Any) -> None:
    asb = row_of(follow(assistant, "ASB incidents"), DURHAM)
    assert asb.figure is not None and asb.evidence is not None
    assert asb.figure.value == "10.58%"  # the later of "from 8.9% ... to 10.58%"
    assert asb.figure.period == "November 2019 to January 2020"
    assert asb.figure.comparison == "risen from 8.9% (period November 2018- January 2019)"
    assert asb.citation() == "¶17, p.3"
    referral = row_of(follow(assistant, "victim referral rate"), CAMBS)
    assert referral.figure is not None
    assert (referral.figure.value, referral.figure.period) == ("22.3%", "this quarter")
    assert referral.figure.comparison == "from 20.8% in the last quarter"
    assert referral.citation() == "§6.2.1, p.5"


@pytest.mark.parametrize(
    "measure",
    [
        "victim satisfaction",
        "solved rate",
        "prosecution rate",
        "robbery",
        "street triage",
        "recorded crime",
        "confidence",
        "ASB incidents",
        "mental health detentions",
    ],
)
def test_every_value_shown_is_in_its_cited_paragraph(assistant: Any, measure: str) -> None:
    c = follow(assistant, measure)
    assert len(c.rows) == 2  # every report listed, reported or not
    for row in c.reported:
        assert row.figure is not None and row.evidence is not None
        text = row.evidence.paragraph.text
        assert row.figure.value in text or fold(row.figure.value) in fold(text)
        assert row.evidence.paragraph.doc == row.report.doc


def test_filters_and_bad_input(assistant: Any) -> None:
    c = follow(assistant, "solved rate", docs=(CAMBS,))
    assert [r.report.doc for r in c.rows] == [CAMBS] and not c.reported
    with pytest.raises(PccError, match="not in the index: nope"):
        follow(assistant, "solved rate", docs=("nope",))
    with pytest.raises(PccError, match="names no measure"):
        follow(assistant, "the of and")


def test_comparison_as_an_answer_cites_each_row(assistant: Any) -> None:
    a = comparison_answer(follow(assistant, "solved rate"))
    assert a.answerable and [e.marker for e in a.cited()] == [1]
    assert a.claims[0].support[0].startswith("Between February 2019 and January 2020")
    assert "not reported in: Cambridgeshire" in a.note


def test_the_table_keeps_every_citation_whole_at_any_width(assistant: Any) -> None:
    """A narrow space (the chat's conversation pane) gets a block per report instead of
    a table whose last column, the citation, would be cut off."""
    from rich.console import Console

    from pcc_assistant.compare.table import TABLE_WIDTH, comparison_table

    table = comparison_table(follow(assistant, "victim satisfaction"))
    for width in (40, 68, TABLE_WIDTH - 1, TABLE_WIDTH, 120):
        console = Console(width=width, record=True, file=io.StringIO())
        console.print(table)
        shown = console.export_text()
        assert "77.2%" in shown and "not reported" in shown, shown
        assert "[1] §4.1.1 (2), p.1" in " ".join(shown.split()), shown
        assert ("place / group" in shown) == (width >= TABLE_WIDTH)
        assert max(len(line) for line in shown.splitlines()) <= width


def test_cli_table_and_json(ingested: Settings) -> None:
    out = run(ingested.index_dir, "solved rate")
    assert "19%" in out and "¶32, p.7" in out and "not reported" in out
    assert "compared to a 13% average" in out
    data = json.loads(run(ingested.index_dir, "victim satisfaction", "--json"))
    assert data["measure"] == "victim satisfaction"
    durham, cambs = data["rows"]
    assert durham["doc"] == DURHAM and durham["reported"] is False and durham["value"] is None
    assert durham["sha256"] and durham["indexed_at"]
    for key in (
        "doc",
        "title",
        "date",
        "period",
        "place",
        "value",
        "unit",
        "comparison",
        "paragraph",
        "pages",
        "text",
        "sha256",
        "indexed_at",
        "flagged",
    ):
        assert key in cambs, key
    assert cambs["value"] == "77.2%" and cambs["unit"] == "%"
    assert cambs["paragraph"] == "4.1.1 (2)" and cambs["pages"] == [1]
    assert cambs["date"] == "2020-05-26" and cambs["flagged"] is False
    assert cambs["value"] in cambs["text"]
    assert len(cambs["sha256"]) == 64 and cambs["indexed_at"].startswith("20")


def test_cli_chart_says_why_not(ingested: Settings) -> None:
    out = run(ingested.index_dir, "solved rate", "--chart")
    assert "no chart: only one report gives 'solved rate'" in out


def test_cli_unknown_report_is_one_line(ingested: Settings) -> None:
    result = CliRunner().invoke(
        cli, ["--index", str(ingested.index_dir), "compare", "solved rate", "--report", "nope"]
    )
    assert result.exit_code == 1
    assert "error: not in the index: nope" in result.output


# -- two reports that disagree: a real ingest of a restated figure --------------------
UPDATE = """Cambridgeshire Constabulary
Victims theme: performance update
Date: 30 June 2020

1. Purpose
1.1 This update restates the Constabulary's victim measures for the Board after late
survey returns were added.

2. Victim satisfaction
2.1 76.9% of the victims of crime surveyed in the 12 months ending March 2020 were at
least fairly satisfied with overall service delivery (n = 1,012).
"""


@pytest.fixture(scope="module")
def restated(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Settings]:
    from pcc_assistant import pipeline

    folder = tmp_path_factory.mktemp("restated")
    corpus = folder / "corpus"
    corpus.mkdir()
    for suffix in (".pdf", ".meta.toml"):
        shutil.copy(CORPUS / f"{CAMBS}{suffix}", corpus / f"{CAMBS}{suffix}")
    (corpus / "cambs-update-2020-06-30.txt").write_text(UPDATE, encoding="utf-8")
    (corpus / "cambs-update-2020-06-30.meta.toml").write_text(
        'title = "Cambridgeshire Victims theme update"\n'
        'organisation = "Cambridgeshire Constabulary"\n'
        "date = 2020-06-30\n",
        encoding="utf-8",
    )
    settings = Settings(index_dir=folder / "index")
    result = pipeline.ingest([corpus], settings, embedder=embedder)
    assert not result.failed, result.failed
    yield settings


def test_different_figures_for_one_period_and_place_are_flagged(
    restated: Settings, embedder: Any
) -> None:
    from pcc_assistant.ask import Assistant

    a = Assistant(restated, embedder=embedder)
    try:
        c = follow(a, "victim satisfaction")
    finally:
        a.close()
    first, second = c.rows
    assert first.figure is not None and second.figure is not None
    assert (first.figure.value, second.figure.value) == ("77.2%", "76.9%")
    assert first.figure.period == second.figure.period == "12 months ending March 2020"
    assert first.flagged and second.flagged
    assert "gives 76.9%" in first.flagged and "gives 77.2%" in second.flagged
    out = run(restated.index_dir, "victim satisfaction", "--chart")
    assert "⚑1" in out and "differs for the same period and place" in out
    assert "victim satisfaction (per cent)" in out  # the chart: two points, one unit
    assert "May 2020" in out and "Jun 2020" in out
    data = json.loads(run(restated.index_dir, "victim satisfaction", "--json"))
    assert [r["flagged"] for r in data["rows"]] == [True, True]


# -- the real quarterly series ----------------------------------------------------------
@pytest.fixture(scope="module")
def quarterly(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Iterator[Settings]:
    from pcc_assistant import pipeline

    if not REAL.is_dir():
        pytest.skip(f"{REAL} is absent (it sits beside the repo)")
    folder = tmp_path_factory.mktemp("quarterly")
    corpus = folder / "corpus"
    corpus.mkdir()
    for doc in (Q2, Q3):
        shutil.copy(REAL / f"{doc}.pdf", corpus / f"{doc}.pdf")
    settings = Settings(index_dir=folder / "index")
    result = pipeline.ingest([corpus], settings, embedder=embedder)
    assert not result.failed, result.failed
    yield settings


@pytest.mark.realpdfs
@pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} is absent (it sits beside the repo)")
@pytest.mark.parametrize(
    ("measure", "expected"),
    [
        ("new visits", [("74.00%", "¶46 (2), p.11"), ("76.07%", "¶58 (2), p.13")]),
        ("total visits", [("446470", "¶46, pp.10–11"), ("486597", "¶58, pp.12–13")]),
        ("pages per visit", [("3.13", "¶46, pp.10–11"), ("3.22", "¶58, pp.12–13")]),
    ],
)
def test_real_quarterly_series(
    quarterly: Settings, embedder: Any, measure: str, expected: list[tuple[str, str]]
) -> None:
    from pcc_assistant.ask import Assistant

    a = Assistant(quarterly, embedder=embedder)
    try:
        c = follow(a, measure)
    finally:
        a.close()
    # undated reports, ordered by the quarter each covers: Q2 (July to September) first
    assert [r.report.doc for r in c.rows] == [Q2, Q3]
    got = [(r.figure.value if r.figure else None, r.citation()) for r in c.rows]
    assert got == expected
    assert [r.figure.period for r in c.rows if r.figure] == ["Q2 2013/14", "Q3 2013/14"]
    assert not any(r.flagged for r in c.rows)


@pytest.mark.realpdfs
@pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} is absent (it sits beside the repo)")
def test_real_quarterly_chart_and_json(quarterly: Settings) -> None:
    out = run(quarterly.index_dir, "new visits", "--chart")
    assert "74.00%" in out and "76.07%" in out
    assert "new visits (per cent)" in out and "Q2 2013/14" in out and "Q3 2013/14" in out
    rows = json.loads(run(quarterly.index_dir, "new visits", "--json"))["rows"]
    assert [r["value"] for r in rows] == ["74.00%", "76.07%"]
    # dated from the period each title states
    assert [r["date"] for r in rows] == ["2013-09-30", "2013-12-31"]
    assert [r["date_from"] for r in rows] == ["title", "title"]
    assert [r["date_quarter"] for r in rows] == ["Q2 2013/14", "Q3 2013/14"]
    assert rows[0]["date_words"] == "for the period between July and September 2013"
    assert all(r["value"] in r["text"] for r in rows)
    # a measure given only in a heading the paragraphing kept out of the text: not shown
    bounce = json.loads(run(quarterly.index_dir, "bounce rate", "--json"))["rows"]
    assert [r["reported"] for r in bounce] == [False, False]


def test_numbers_in_a_list_name_things() -> None:
    """'Principles 2, 3, 4 and 11' are the principles' numbers, not a measure's value."""
    from pcc_assistant.compare.reading import read
    from pcc_assistant.types import Paragraph, Report

    report = Report("q2", "Quarterly report", "Cabinet Office", None, "q2.txt", "0" * 64, 1)
    text = (
        "Corporate releases support progress against Public Data Principles 2, 3, 4, 5, 6, "
        "8, 9 and 11. Datasets published rose to 412 in the quarter."
    )
    p = Paragraph("q2", 0, "1", "paragraph", (1,), "", text, 0, len(text))
    assert read("public data principles", p, report) == []
    assert [f.value for f in read("datasets published", p, report)] == ["412"]


# -- a measure by meaning: five phrasings, the same rows -------------------------------
PHRASINGS = {
    "new visits": [
        "new visits",
        "share of new visits to data.gov.uk",
        "percentage of new visits to data.gov.uk",
        "proportion of new visits",
        "first-time visitors to data.gov.uk",  # no word in common: found by meaning
    ],
    "solved rate": [
        "solved rate",
        "share of crimes solved",
        "percentage of crimes solved",
        "proportion of crimes solved",
        "how many crimes the police solved",
    ],
    "victim satisfaction": [
        "victim satisfaction",
        "share of victims satisfied",
        "percentage of victims satisfied with the service",
        "proportion of victims satisfied",
        "how satisfied victims were",
    ],
    "recorded crime": [
        "recorded crime",
        "share of recorded crime",
        "percentage of recorded crime",
        "proportion of recorded crime",
        "crimes recorded by the police",
    ],
}
EXPECTED = {
    "solved rate": {DURHAM: ("19%", "¶32, p.7"), CAMBS: (None, "")},
    "victim satisfaction": {DURHAM: (None, ""), CAMBS: ("77.2%", "§4.1.1 (2), p.1")},
    # Figure 9: All Crime +1% in Durham, North East and England and Wales its comparison
    "recorded crime": {DURHAM: ("1%", "Figure 9, pp.5–6"), CAMBS: ("5.9%", "§4.2.3, p.2")},
}
# measures tried besides the phrasings, for the check that no value is a denominator,
# threshold, target or year
OTHERS = [
    "crime rate per 1000 population",
    "offence rate per 1,000 population",
    "prosecution rate",
    "total visits",
    "pages per visit",
    "datasets published",
    "bounce rate",
    "unique visitors",
    "crime severity score",
    "999 calls answered within 10 seconds",
]


def _rows(c: Comparison) -> dict[str, tuple[str | None, str]]:
    return {r.report.doc: (r.figure.value if r.figure else None, r.citation()) for r in c.rows}


@pytest.mark.parametrize("series", ["solved rate", "victim satisfaction", "recorded crime"])
def test_five_phrasings_find_the_same_rows_in_the_sample_reports(
    assistant: Any, series: str
) -> None:
    for phrasing in PHRASINGS[series]:
        assert _rows(follow(assistant, phrasing)) == EXPECTED[series], phrasing


def test_a_rate_per_head_is_read_from_its_table_never_its_denominator(assistant: Any) -> None:
    c = follow(assistant, "crime rate per 1000 population")
    durham, cambs = row_of(c, DURHAM), row_of(c, CAMBS)
    f = durham.figure
    assert f is not None and durham.citation() == "Figure 10, pp.6–7"
    assert (f.value, f.place, f.place_from) == ("100.1", "Durham", "column")
    assert f.comparison == "North East 107.2; England and Wales 88.8"
    # Cambridgeshire says its rate is lower than the averages, and gives none
    assert cambs.figure is None
    assert any(n.why == "names it without a figure" for n, _ in cambs.near)


def _not_a_denominator_threshold_or_year(measure: str, row: dict[str, Any]) -> str:
    """Why ``row``'s value is not the measure's own figure; "" when it is."""
    value = row["value"]
    digits = value.replace(",", "").rstrip("%")
    if re.fullmatch(r"(?:19|20)\d\d(?:/\d\d)?", value):
        return "a year"
    if digits in re.sub(r"[,]", "", measure).split():
        return "a number of the measure itself"
    quote = row["quote"]
    at = quote.find(value)
    assert at >= 0, (value, quote)
    before, after = quote[:at].lower(), quote[at + len(value) :].lower()
    if re.search(r"\bper\s*$", before) or re.match(r"\s*(?:population|people|residents)", after):
        return "a denominator"
    if re.search(r"\b(?:below|above|under|over|than|least|target|aim|threshold)\W*$", before):
        return "a threshold or target"
    if row["period"] and value in row["period"]:
        return "part of its period"
    return ""


def test_no_value_is_a_denominator_threshold_or_year(assistant: Any, ingested: Settings) -> None:
    tried = [p for series in PHRASINGS.values() for p in series] + OTHERS
    for measure in tried:
        for row in comparison_json(follow(assistant, measure))["rows"]:
            if row["reported"]:
                why = _not_a_denominator_threshold_or_year(measure, row)
                assert not why, (measure, row["doc"], row["value"], why)
    # the command's own JSON, as a user gets it
    data = json.loads(run(ingested.index_dir, "crime rate per 1000 population", "--json"))
    assert [r["value"] for r in data["rows"]] == ["100.1", None]


@pytest.mark.realpdfs
@pytest.mark.skipif(not REAL.is_dir(), reason=f"{REAL} is absent (it sits beside the repo)")
def test_real_quarterly_five_phrasings_no_denominators_dated_and_ordered(
    quarterly: Settings, embedder: Any
) -> None:
    from pcc_assistant.ask import Assistant

    a = Assistant(quarterly, embedder=embedder)
    try:
        for phrasing in PHRASINGS["new visits"]:
            c = follow(a, phrasing)
            assert _rows(c) == {Q2: ("74.00%", "¶46 (2), p.11"), Q3: ("76.07%", "¶58 (2), p.13")}
            # ordered by the period each covers, dated from its title
            assert [r.report.doc for r in c.rows] == [Q2, Q3]
            assert [(r.dating.quarter, r.dating.source) for r in c.rows] == [
                ("Q2 2013/14", "title"),
                ("Q3 2013/14", "title"),
            ]
        by_meaning = follow(a, PHRASINGS["new visits"][-1])
        assert [r.figure.matched_by for r in by_meaning.rows if r.figure] == ["meaning"] * 2
        for measure in [p for series in PHRASINGS.values() for p in series] + OTHERS:
            for row in comparison_json(follow(a, measure))["rows"]:
                if row["reported"]:
                    why = _not_a_denominator_threshold_or_year(measure, row)
                    assert not why, (measure, row["doc"], row["value"], why)
        # nothing matched: the rows that came close are named
        unique = follow(a, "unique visitors")
        assert not unique.reported
        assert all(r.near for r in unique.rows)
    finally:
        a.close()
