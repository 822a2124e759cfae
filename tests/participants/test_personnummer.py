import datetime as dt

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from participants import personnummer as pnr

TODAY = dt.date(2026, 11, 22)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("value", "digits", "born"),
    [
        ("19400312-1235", "194003121235", dt.date(1940, 3, 12)),
        ("194003121235", "194003121235", dt.date(1940, 3, 12)),
        ("400312-1235", "194003121235", dt.date(1940, 3, 12)),
        ("4003121235", "194003121235", dt.date(1940, 3, 12)),
        (" 19400312 1235 ", "194003121235", dt.date(1940, 3, 12)),
        ("200312+1234", None, None),  # filled below: born 1920 with '+'
    ],
)
def test_valid_numbers_are_normalised(value, digits, born):
    if digits is None:
        nine = "200312123"
        value = f"200312+123{pnr.with_check_digit(nine)[-1]}"
        parsed = pnr.parse(value, today=TODAY)
        assert parsed.date_of_birth == dt.date(1920, 3, 12)
        assert parsed.digits.startswith("19200312")
        return
    parsed = pnr.parse(value, today=TODAY)
    assert parsed.digits == digits
    assert parsed.date_of_birth == born
    assert not parsed.is_coordination_number
    assert parsed.masked == "19400312-****"


def test_check_digit_helper_produces_valid_numbers():
    assert pnr.with_check_digit("400312123") == "4003121235"
    assert pnr.luhn_valid("4003121235")
    assert not pnr.luhn_valid("4003121236")


def test_coordination_number_adds_sixty_to_the_day():
    nine = "400372123"  # 12 + 60
    parsed = pnr.parse("19" + pnr.with_check_digit(nine), today=TODAY)
    assert parsed.is_coordination_number
    assert parsed.date_of_birth == dt.date(1940, 3, 12)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "YYYYMMDD-NNNN"),
        ("abc", "YYYYMMDD-NNNN"),
        ("4003121236", "check digit"),
        ("19400312-1239", "check digit"),
        ("19400231-1234", "does not exist"),
        ("19401312-1234", "does not exist"),
        ("20991231-1234", "future"),
        ("19400312+1235", "ten-digit"),
        ("19400312-12345", "YYYYMMDD-NNNN"),
        ("19400312-0005", "000"),
    ],
)
def test_invalid_numbers_say_what_is_wrong(value, message):
    with pytest.raises(pnr.InvalidPersonnummer, match=message):
        pnr.parse(value, today=TODAY)


def test_mask_hides_the_last_four():
    assert pnr.mask("194003121235") == "19400312-****"
    assert pnr.mask("garbage") == "****"


@given(st.text(max_size=30))
def test_any_text_is_either_valid_or_refused_with_a_message(value):
    try:
        parsed = pnr.parse(value, today=TODAY)
    except pnr.InvalidPersonnummer as exc:
        assert str(exc)
    else:
        assert len(parsed.digits) == 12 and parsed.digits.isdigit()
        assert pnr.luhn_valid(parsed.digits[2:])


@given(
    day=st.dates(min_value=dt.date(1880, 1, 1), max_value=dt.date(2026, 11, 22)),
    serial=st.integers(min_value=0, max_value=9999),
    coordination=st.booleans(),
)
def test_the_personnummer_library_agrees_on_every_twelve_digit_number(day, serial, coordination):
    """A second opinion from the `personnummer` package (PyPI): for any date up to today and
    any serial, both accept or both refuse, and give the same twelve digits. We keep our own
    parser's checks because they say *what* is wrong (the date, the check digit, a '+' with
    twelve digits), which the package's single exception does not; the package has the last
    word (it knew that the birth number 000 is never issued, which we had missed)."""
    import personnummer.personnummer as library

    shown_day = day.day + 60 if coordination else day.day
    value = f"{day:%Y%m}{shown_day:02d}-{serial:04d}"
    try:
        ours = pnr.parse(value, today=TODAY).digits
    except pnr.InvalidPersonnummer:
        ours = None
    try:
        theirs = library.Personnummer(value).format(True)
    except library.PersonnummerException:
        theirs = None
    assert ours == theirs, value
