"""What ``pcc compare`` takes a measure to be and which figure it reads, on made-up text:
the words that name a measure apart from those that only locate it, matching by
meaning, values that are never a denominator, threshold, target or year, a table row's
own-place column, and a report dated from the period it says it covers."""

from __future__ import annotations

import datetime as dt

import pytest

from pcc_assistant.compare import date_report
from pcc_assistant.compare.measure import parse
from pcc_assistant.compare.periods import quarter, stated_period
from pcc_assistant.compare.reading import near, read
from pcc_assistant.types import Paragraph, Report


def report(title: str, organisation: str = "", date: dt.date | None = None) -> Report:
    return Report("d", title, organisation, date, "d.txt", "0" * 64, 1)


DURHAM = report("Performance report", "Durham Police, Crime and Victims' Commissioner")
SITE = report("Quarterly report")


def para(text: str, kind: str = "paragraph", label: str = "1") -> Paragraph:
    return Paragraph("d", 0, label, kind, (1,), "", text, 0, len(text))


# -- what a measure names -------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "phrase", "core"),
    [
        ("new visits", "new visits", ("new", "visit")),
        ("share of new visits to data.gov.uk", "new visits", ("new", "visit")),
        ("percentage of new visits to data.gov.uk", "new visits", ("new", "visit")),
        ("the proportion of all new visits", "new visits", ("new", "visit")),
        ("rate of recorded crime in Durham", "recorded crime", ("record", "crime")),
        ("Durham's solved rate", "solved rate", ("solv", "rate")),
    ],
)
def test_words_that_only_locate_a_measure_are_not_required(
    text: str, phrase: str, core: tuple[str, ...]
) -> None:
    m = parse(text, ["Durham"])
    assert m.phrase == phrase
    assert m.core == core


def test_a_denominator_is_part_of_the_measure_never_its_value() -> None:
    m = parse("crime rate per 1000 population")
    assert (m.phrase, m.core) == ("crime rate", ("crime", "rate"))
    assert m.denominator == "per 1000 population"
    assert m.numbers == frozenset({"1000"})
    assert parse("share of Durham").core  # only a kind and a place: all of it is the measure


# -- values ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("measure", "text", "value"),
    [
        (
            "crime rate per 1000 population",
            "The crime rate per 1,000 population was 54.2 in 2019/20, against a target of 60.",
            "54.2",
        ),
        (
            "crime rate",
            "The crime rate per 1,000 population in Durham remains lower than the average.",
            None,
        ),
        (
            "victim satisfaction",
            "Victim satisfaction fell below 50% in 2019; by 2020 it was 48.5% overall.",
            "48.5%",
        ),
        ("victim satisfaction", "Victim satisfaction is aimed at 85% for 2020/21.", None),
        (
            "answered calls",
            "Answered calls reached 91%, above the threshold of 90% set in 2018.",
            "91%",
        ),
    ],
)
def test_a_value_is_never_a_denominator_threshold_target_or_year(
    measure: str, text: str, value: str | None
) -> None:
    found = read(measure, para(text), DURHAM)
    assert (found[0].value if found else None) == value


def test_a_measure_per_head_is_not_read_from_a_figure_that_is_not() -> None:
    text = "The crime rate for all crime was 10.8%, lower than the long term benchmark."
    assert read("crime rate per 1000 population", para(text), DURHAM) == []
    assert [f.value for f in read("crime rate", para(text), DURHAM)] == ["10.8%"]
    # said without a figure: named as close, not as a value
    named = "The overall crime rate per 1,000 population remains lower than elsewhere."
    close = near("crime rate per 1000 population", para(named))
    assert [n.why for n in close] == ["names it without a figure"]


# -- tables ---------------------------------------------------------------------------
TABLE = """Police Recorded Crime Rate of Offences, Year Ending September 2019
{heading}
All Crime (excl. fraud offences) {values}
Robbery 0.3 0.6 1.5
Figure 10: Police Recorded Crime Rate of Offences per 1000 Population"""


@pytest.mark.parametrize(
    ("heading", "values", "comparison"),
    [
        (
            "Durham North East England and Wales",
            "100.1 107.2 88.8",
            "North East 107.2; England and Wales 88.8",
        ),
        (
            "England and Wales North East Durham",
            "88.8 107.2 100.1",
            "England and Wales 88.8; North East 107.2",
        ),
    ],
)
def test_a_table_row_gives_the_reports_own_place_with_the_others_as_comparison(
    heading: str, values: str, comparison: str
) -> None:
    p = para(TABLE.format(heading=heading, values=values), "table", "Figure 10")
    for measure in ("crime rate per 1000 population", "recorded crime", "all crime"):
        (f, *_) = read(measure, p, DURHAM)
        assert (f.value, f.place, f.place_from) == ("100.1", "Durham", "column")
        assert f.comparison == comparison
        assert f.label == "All Crime (excl. fraud offences)"
    # the denominator in the caption is never the figure
    assert all(f.value != "1000" for f in read("crime rate per 1000", p, DURHAM))


def test_a_denominator_among_a_rows_figures_is_part_of_its_label() -> None:
    p = para("Force area North East\nCrimes per 1000 100.1 107.2", "table", "Table 1")
    (f,) = read("crimes per 1000", p, SITE)
    assert f.value == "100.1" and f.label == "Crimes per 1000"


def test_period_columns_give_the_latest_with_the_earlier_and_change_as_comparison() -> None:
    text = "Site usage\nOct – Dec 2011 Oct – Dec 2012 % increase\nTotal visits 301250 446470 48%"
    (f,) = read("total visits", para(text, "table", "Table 2"), SITE)
    assert (f.value, f.period, f.period_from) == ("446470", "Oct to Dec 2012", "column")
    assert f.comparison == "Oct – Dec 2011 301250; % increase 48%"


# -- meaning --------------------------------------------------------------------------
ROWS = "Site Usage for Q2 2013/14\nTotal visits 446470\nPages per visit 3.13\nNew visits 74.00%"


def test_a_row_is_found_by_meaning_when_it_is_clearly_the_closest() -> None:
    p = para(ROWS)
    close = {"Total visits": 0.49, "Pages per visit": 0.47, "New visits": 0.67}
    assert read("first-time visitors", p, SITE) == []  # no words in common
    (f,) = read("first-time visitors", p, SITE, close)
    assert (f.value, f.matched_by, f.similarity) == ("74.00%", "meaning", 0.67)
    # the words of a measure come first, whatever the model says
    f = read("total visits", p, SITE, close)[0]
    assert (f.value, f.matched_by) == ("446470", "words")


def test_a_weak_or_ambiguous_match_names_the_close_rows_instead() -> None:
    p = para(ROWS)
    weak = {"Total visits": 0.44, "Pages per visit": 0.43, "New visits": 0.3}
    ambiguous = {"Total visits": 0.54, "Pages per visit": 0.55, "New visits": 0.63}
    for sims in (weak, ambiguous):
        assert read("unique visitors", p, SITE, sims) == []
    close = near("unique visitors", p, ambiguous)
    assert {n.label for n in close} == {"Total visits", "Pages per visit", "New visits"}
    assert all(n.why.startswith("close in meaning") for n in close)


# -- dates ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("period", "q"),
    [
        ("January to March 2014", "Q4 2013/14"),
        ("July to September 2013", "Q2 2013/14"),
        ("Oct to Dec 2012", "Q3 2012/13"),
        ("Quarter 1 2013/14", "Q1 2013/14"),
        ("February 2019 to January 2020", ""),
        ("2019/20", ""),
    ],
)
def test_quarters(period: str, q: str) -> None:
    assert quarter(period) == q


def test_a_report_without_a_date_is_dated_by_the_period_it_covers() -> None:
    titled = report(
        "Report on Departmental Open data Commitments for the period between January and March 2014"
    )
    d = date_report(titled)
    assert (d.date, d.source, d.quarter) == (dt.date(2014, 3, 31), "title", "Q4 2013/14")
    assert d.words == "for the period between January and March 2014"
    assert "dated from its title" in d.describe() and "Q4 2013/14" in d.describe()
    opening = "1. This report covers Quarter 2 2013/14. Visits rose in 2012."
    d = date_report(report("Quarterly report"), opening)
    assert (d.date, d.source, d.quarter) == (dt.date(2013, 9, 30), "opening", "Q2 2013/14")
    # a year mentioned in passing is not the period the report covers
    assert date_report(report("Annual review"), "Visits rose in 2012.").date is None
    dated = report(
        "Report for the period between July and September 2013", "", dt.date(2013, 11, 1)
    )
    assert (date_report(dated).date, date_report(dated).source) == (dt.date(2013, 11, 1), "report")


def test_stated_period_needs_words_that_say_so() -> None:
    assert stated_period("Minutes of the meeting held in June 2013") is None
    found = stated_period("Performance for the quarter ending March 2014")
    assert found == ("quarter ending March 2014", "for the quarter ending March 2014")
