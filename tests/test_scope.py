"""What a question says about which reports to search: made-up reports and sentences."""

from __future__ import annotations

import datetime as dt

import pytest

from pcc_assistant.retrieve.scope import mentions_month, organisation_name, read_scope
from pcc_assistant.types import Report


def _report(doc: str, title: str, organisation: str = "", date: dt.date | None = None) -> Report:
    return Report(doc, title, organisation, date, f"/reports/{doc}.pdf", "0" * 64, 1)


REPORTS = [
    _report(
        "durham",
        "Durham PCVC performance report",
        "Durham Police, Crime and Victims' Commissioner",
        dt.date(2020, 3, 12),
    ),
    _report(
        "cambs",
        "Cambridgeshire Victims theme performance report",
        "Cambridgeshire Constabulary",
        dt.date(2020, 5, 26),
    ),
    _report("strategy", "Open Data Strategy for Victims and Witnesses"),
    _report("minutes", "Minutes of the meeting", "Open Data User Group"),
    _report("guide", "Metadata guide", "Tim Manning/Keith Murray"),
    _report("north", "Performance report", "Northshire Police and Crime Panel"),
]


@pytest.mark.parametrize(
    "question",
    [
        "What does the data strategy say about victims?",  # words of a title, not a name
        "How is performance reported to the panel?",
        "How is data used by the user group?",  # an organisation's words, not its name
        "What did the open data strategy recommend for crime statistics?",
    ],
)
def test_ordinary_words_in_a_title_never_narrow_the_search(question: str) -> None:
    scope = read_scope(question, REPORTS)
    assert scope.docs is None and scope.note == "" and scope.topic == question


def test_a_force_area_named_narrows_to_its_reports() -> None:
    scope = read_scope("What was Durham's solved rate?", REPORTS)
    assert scope.docs == {"durham"}
    assert scope.note == "searched reports about Durham, as the question asks"
    assert "Durham" not in scope.topic and "solved rate" in scope.topic


def test_county_durham_is_durham() -> None:
    assert read_scope("How many burglaries in County Durham?", REPORTS).docs == {"durham"}


def test_two_forces_named_is_a_question_across_reports() -> None:
    scope = read_scope("How do Durham and Cambridgeshire use THRIVE?", REPORTS)
    assert scope.docs == {"durham", "cambs"} and scope.cross
    assert "Durham" in scope.topic  # both names stay: they tell the answers apart


def test_a_force_no_report_is_about_narrows_nothing() -> None:
    scope = read_scope("What was Cleveland's solved rate?", REPORTS)
    assert scope.docs is None and scope.places == ()


def test_an_organisation_named_narrows_but_a_person_never_does() -> None:
    assert read_scope("What did the Open Data User Group agree?", REPORTS).docs == {"minutes"}
    assert read_scope("Victim satisfaction in Northshire?", REPORTS).docs == {"north"}
    assert organisation_name("Tim Manning/Keith Murray") == ""
    assert read_scope("What did Tim Manning present?", REPORTS).docs is None
    # a one-word name is a name only as a proper noun
    assert read_scope("how does northshire compare?", REPORTS).docs is None


def test_a_report_named_by_its_date_narrows_to_it() -> None:
    scope = read_scope("In the March 2020 report, what was the solved rate?", REPORTS)
    assert scope.docs == {"durham"} and "dated March 2020" in scope.note
    assert "March" not in scope.topic


def test_a_report_date_that_doesnt_exist_narrows_nothing() -> None:
    assert read_scope("In the June 2019 report, what was the solved rate?", REPORTS).docs is None


def test_a_period_the_data_covers_is_not_a_report_date() -> None:
    question = "What was satisfaction in the 12 months ending March 2020?"
    assert not mentions_month(question)
    assert read_scope(question, REPORTS, bare_dates=True).docs is None
    period = "Satisfaction in the year to May 2020?"
    assert read_scope(period, REPORTS, bare_dates=True).docs is None


def test_a_bare_month_is_a_report_date_only_when_asked_to_read_it_so() -> None:
    question = "What was satisfaction in May 2020?"
    assert mentions_month(question)
    assert read_scope(question, REPORTS).docs is None
    scope = read_scope(question, REPORTS, bare_dates=True)
    assert scope.docs == {"cambs"} and "its date is read as the report's" in scope.note
