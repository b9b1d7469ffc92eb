import pytest

from config.spreadsheet import csv_safe, csv_safe_row


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_text_starting_like_a_formula_is_made_text(start):
    assert csv_safe(f"{start}1+1") == f"'{start}1+1"


@pytest.mark.parametrize("value", ["Late parcel", "", "1-2", None, -3, 2.5, "'already"])
def test_other_values_are_left_alone(value):
    assert csv_safe(value) == value


def test_a_row_keeps_numbers_as_numbers():
    assert csv_safe_row([-1, "=x", None]) == [-1, "'=x", None]
