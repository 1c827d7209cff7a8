"""Verification and the pieces answers are made of: no model, no index, fast."""

from __future__ import annotations

import datetime as dt

from pcc_assistant.answer.extractive import asked_figure, gives_figure
from pcc_assistant.answer.model import Claim, Evidence, citation_text
from pcc_assistant.answer.sentences import figures, units
from pcc_assistant.answer.verify import parse_claims, verify
from pcc_assistant.safe_text import clean
from pcc_assistant.types import Paragraph, Report

REPORT = Report(
    "durham",
    "Durham PCVC performance report",
    "Durham PCVC",
    dt.date(2020, 3, 12),
    "durham.pdf",
    "0" * 64,
    14,
)
P32 = Paragraph(
    "durham",
    40,
    "32",
    "paragraph",
    (7,),
    "KPQ2",
    "32. Between February 2019 and January\n2020, then, Durham’s solved rate was 19%, "
    "compared to a 13% average for forces across England and Wales.",
    0,
    10,
)
TABLE = Paragraph(
    "durham",
    41,
    "Figure 10",
    "table",
    (6, 7),
    "KPQ2",
    "Police Recorded Crime Rate of Offences, Year Ending\nSeptember 2019\n"
    "Durham North East England and Wales\nRobbery 0.3 0.6 1.5\n"
    "Theft Offences 28.7 34.5 33.4\nFigure 10: Rate per 1000 population",
    0,
    10,
)
EV = [Evidence(1, P32, REPORT, 1.0), Evidence(2, TABLE, REPORT, 0.5)]


def test_citation_format() -> None:
    assert citation_text(EV[0]) == "[Durham PCVC performance report, 12 Mar 2020, ¶32, p.7]"
    assert (
        citation_text(EV[1]) == "[Durham PCVC performance report, 12 Mar 2020, Figure 10, pp.6–7]"
    )


def test_parse_claims_reads_markers_including_stray_ones() -> None:
    claims = parse_claims("Durham solved 19% [1]. The robbery rate was 0.3 [2][1].\n[2]")
    assert [c.markers for c in claims] == [(1,), (2, 1)]
    assert claims[0].text == "Durham solved 19%."
    assert parse_claims("A claim [1, 2].")[0].markers == (1, 2)


def test_verification_checks_markers_figures_and_quotes() -> None:
    claims = verify(
        [
            Claim("Durham's solved rate was 19%, against 13% nationally.", (1,)),
            Claim("Durham solved 99% of crimes.", (1,)),
            Claim("Robbery was 0.3 per 1000.", (2,)),
            Claim("Something uncited.", ()),
            Claim("Cites a paragraph nobody retrieved.", (7,)),
            Claim('The report says "solved rate was 19%".', (1,)),
            Claim('The report says "solved nearly everything".', (1,)),
        ],
        EV,
    )
    assert [c.verified for c in claims] == [True, False, True, False, False, True, False]
    assert claims[1].problem == "figure 99% is not in the cited paragraph"
    assert claims[3].problem == "cites no paragraph"
    assert "[7]" in claims[4].problem
    assert "solved nearly everything" in claims[6].problem


def test_figures_are_normalised() -> None:
    assert figures("£1,200 and 19 per cent, the 15th, -3% and 2.9%") == {
        "£1200",
        "19%",
        "15",
        "3%",
        "2.9%",
    }


def test_sentences_and_table_rows() -> None:
    sentences = [u.text for u in units(P32)]
    assert sentences == [
        "Between February 2019 and January 2020, then, Durham’s solved rate was 19%, compared "
        "to a 13% average for forces across England and Wales."
    ]
    rows = units(TABLE)
    assert [u.body for u in rows] == ["Robbery 0.3 0.6 1.5", "Theft Offences 28.7 34.5 33.4"]
    # Every figure with its row and column: a reader can tell whose each number is.
    assert rows[0].text == (
        "Robbery: Durham 0.3, North East 0.6, England and Wales 1.5 "
        "(Police Recorded Crime Rate of Offences, Year Ending September 2019)"
    )


def test_a_row_whose_columns_cant_be_told_apart_keeps_the_heading() -> None:
    table = Paragraph(
        "d",
        0,
        "Table 1",
        "table",
        (1,),
        "",
        "Spend by year\nArea Year One Year Two\nHousing 10 12 14\nTable 1: spend",
        0,
        0,
    )
    (row,) = units(table)
    assert row.text == "Spend by year (columns: Area Year One Year Two): Housing 10 12 14"


def test_the_kind_of_figure_asked_for() -> None:
    assert asked_figure("What percentage of victims were satisfied?") == "percent"
    assert asked_figure("How much did the van cost?") == "money"
    assert asked_figure("How long does an investigation take?") == "duration"
    assert asked_figure("How many PCSOs are there?") == "count"
    q = "How many mental health nurses work in the team?"
    assert not gives_figure("count", "31% of calls were supported by mental health nurses", q)
    assert not gives_figure("count", "over the last 12 months the team grew", q)
    assert gives_figure("count", "The team has 3 mental health nurses", q)
    assert gives_figure("percent", "Over a third of all crimes", "What proportion?")
    assert not gives_figure("duration", "stable over the last 12 months", "How long, in minutes?")


def test_terminal_control_sequences_are_removed() -> None:
    hostile = "a\x1b]52;c;SGVsbG8=\x07b\x1b[31mc\x9b31md\u202ee\x00f\tg\nh"
    assert clean(hostile) == "abcde" + "f\tg\nh"
    assert clean("[link=https://x]y[/link]") == "[link=https://x]y[/link]"
