"""Swedish personal identity numbers (personnummer) and coordination numbers (samordningsnummer).

Accepted forms: YYMMDD-NNNN, YYMMDD+NNNN (100 years or older), YYMMDDNNNN, YYYYMMDDNNNN and
YYYYMMDD-NNNN. Stored normalised as twelve digits. Coordination numbers add 60 to the day.
"""

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from personnummer import personnummer as library

# ASCII digits only: \d would also match e.g. Arabic-Indic digits, which int() accepts, and the
# same number written in other digits would slip past the uniqueness check.
_PATTERN = re.compile(
    r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<serial>\d{4})$", re.ASCII
)
# No one alive was born earlier; a century like "00" is a typing error, not year 38.
_EARLIEST_YEAR = 1880


class InvalidPersonnummer(ValueError):
    pass


@dataclass(frozen=True)
class Personnummer:
    digits: str  # twelve digits, YYYYMMDDNNNN
    date_of_birth: dt.date
    is_coordination_number: bool

    @property
    def masked(self) -> str:
        """The form lists show: date visible, the last four hidden."""
        return f"{self.digits[:8]}-****"

    @property
    def formatted(self) -> str:
        return f"{self.digits[:8]}-{self.digits[8:]}"


def luhn_valid(ten_digits: str) -> bool:
    total = 0
    for index, char in enumerate(ten_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return total % 10 == 0


def parse(value: str, today: dt.date | None = None) -> Personnummer:
    """Validate format, date and check digit; raise InvalidPersonnummer with a clear message."""
    today = today or dt.date.today()
    cleaned = (value or "").strip().replace(" ", "")
    match = _PATTERN.match(cleaned)
    if not match:
        raise InvalidPersonnummer(
            _("Enter the personal identity number as YYYYMMDD-NNNN (12 digits).")
        )
    yymmdd, serial, sep = match["yymmdd"], match["serial"], match["sep"]
    year2, month, day = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    coordination = day > 60
    if coordination:
        day -= 60
    if match["century"]:
        year = int(match["century"]) * 100 + year2
        if sep == "+":
            raise InvalidPersonnummer(_("Use '+' only with a ten-digit number."))
    else:
        year = (today.year // 100) * 100 + year2
        if year > today.year:
            year -= 100
        if sep == "+":
            year -= 100
    try:
        if year < _EARLIEST_YEAR:
            raise ValueError(year)
        born = dt.date(year, month, day)
    except ValueError:
        raise InvalidPersonnummer(
            _("The date in the personal identity number does not exist.")
        ) from None
    if born > today:
        raise InvalidPersonnummer(_("The date in the personal identity number is in the future."))
    if not luhn_valid(yymmdd + serial):
        raise InvalidPersonnummer(
            _("The check digit is wrong: please check the personal identity number.")
        )
    digits = f"{year:04d}{yymmdd[2:]}{serial}"
    # The `personnummer` package has the last word on what can be issued (e.g. no birth
    # number 000); the checks above are ours because they say what is wrong.
    try:
        library.Personnummer(digits)
    except library.PersonnummerException:
        raise InvalidPersonnummer(
            _("No one is given this number: the three digits before the check digit cannot be 000.")
        ) from None
    return Personnummer(digits=digits, date_of_birth=born, is_coordination_number=coordination)


def mask(digits: str) -> str:
    return f"{digits[:8]}-****" if len(digits) == 12 else "****"


def with_check_digit(nine_digits: str) -> str:
    """Complete YYMMDDNNN with its Luhn check digit (used by the demo data)."""
    for check in "0123456789":
        if luhn_valid(nine_digits + check):
            return nine_digits + check
    raise AssertionError("unreachable: one check digit always fits")
