"""Table headings read as columns (answer/tables.py): places, periods and a change column
each one column, so a row's figures are each tied to the right heading."""

from __future__ import annotations

import pytest

from pcc_assistant.answer.tables import is_change, read_row, split_columns


@pytest.mark.parametrize(
    ("heading", "n", "columns"),
    [
        ("Durham North East England and Wales", 3, ("Durham", "North East", "England and Wales")),
        # the open-data report of Q3 2012/13: two periods and the change between them
        (
            "Oct – Dec 2011 Oct – Dec 2012 % increase",
            3,
            ("Oct – Dec 2011", "Oct – Dec 2012", "% increase"),
        ),
        ("Q2 2013/14 Q3 2013/14 Change", 3, ("Q2 2013/14", "Q3 2013/14", "Change")),
        ("Measure 2018/19 2019/20", 2, ("2018/19", "2019/20")),
        ("Apr-Jun 2013 Jul-Sep 2013", 2, ("Apr-Jun 2013", "Jul-Sep 2013")),
        ("Dataset July August September Total", 4, ("July", "August", "September", "Total")),
        ("BIS CO DCLG DECC", 4, ("BIS", "CO", "DCLG", "DECC")),
        ("Oct – Dec 2011 Oct – Dec 2012", 3, ()),  # two headings for three figures: unread
    ],
)
def test_split_columns(heading: str, n: int, columns: tuple[str, ...]) -> None:
    assert split_columns(heading, n) == columns


def test_a_change_column_is_told_from_a_figure() -> None:
    assert is_change("% increase") and is_change("Change") and is_change("% change")
    assert not is_change("Oct – Dec 2012") and not is_change("England and Wales")


def test_read_row_over_periods() -> None:
    row = "Visits to data.gov.uk 182,920 418,900 129.01%"
    assert read_row(row, "Oct – Dec 2011 Oct – Dec 2012 % increase") == (
        "Visits to data.gov.uk",
        [("Oct – Dec 2011", "182,920"), ("Oct – Dec 2012", "418,900"), ("% increase", "129.01%")],
    )
