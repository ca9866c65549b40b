"""Exports and rejects files are opened in spreadsheets: no cell may run as a formula."""

from __future__ import annotations

import csv
import io

import pytest

from voicebot.campaign.contacts import csv_text

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "value",
    ['=HYPERLINK("http://evil.example","x")', "@SUM(A1:A2)", "+cmd|' /C calc'!A0", "-2+3", "\t=1"],
)
def test_formula_cells_are_neutralised(value: str) -> None:
    [row] = list(csv.DictReader(io.StringIO(csv_text([{"name": value, "n": 1}]))))
    assert row["name"] == "'" + value and row["n"] == "1"


@pytest.mark.parametrize("value", ["+12125550100", "+1 (212) 555-0100", "-12.5", "Ann Lee", ""])
def test_numbers_phones_and_plain_text_stay(value: str) -> None:
    [row] = list(csv.DictReader(io.StringIO(csv_text([{"v": value}]))))
    assert row["v"] == value
