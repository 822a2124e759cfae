"""Search parameters: parsing and their translation into ORM filters. A value the API
cannot read is a `FhirError` (400 with an OperationOutcome), never a 500."""

import datetime as dt
import re

from django.db.models import Q
from django.utils import timezone

MAX_COUNT = 100
DEFAULT_COUNT = 20
# Far beyond any list the API holds, and well inside PostgreSQL's bigint (OFFSET/LIMIT).
MAX_OFFSET = 10_000_000


class FhirError(Exception):
    def __init__(self, status: int, message: str, code: str = "invalid"):
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


_DATE = re.compile(
    r"^(?P<prefix>eq|gt|ge|lt|le)?(?P<year>\d{4})(-(?P<month>\d{2})(-(?P<day>\d{2})"
    r"(T(?P<time>\d{2}:\d{2}(:\d{2}(\.\d+)?)?)(?P<tz>Z|[+-]\d{2}:\d{2}))?)?)?$"
)


def date_range(name: str, value: str) -> tuple[str, dt.datetime, dt.datetime]:
    """(prefix, start, end) of a FHIR date search value: the instant range it stands for."""
    match = _DATE.match(value or "")
    if not match:
        raise FhirError(400, f"{name}: '{value}' is not a FHIR date (e.g. ge2026-01-31).")
    prefix = match["prefix"] or "eq"
    try:
        year, month, day = int(match["year"]), int(match["month"] or 1), int(match["day"] or 1)
        if match["time"]:
            stamp = value[len(match["prefix"] or "") :].replace("Z", "+00:00")
            start = dt.datetime.fromisoformat(stamp)
            # The range is as precise as the value: a minute, a second or a microsecond.
            clock = match["time"]
            if "." in clock:
                end = start + dt.timedelta(microseconds=1)
            elif clock.count(":") == 2:
                end = start + dt.timedelta(seconds=1)
            else:
                end = start + dt.timedelta(minutes=1)
        else:
            start = timezone.make_aware(dt.datetime(year, month, day))
            if match["day"]:
                end = start + dt.timedelta(days=1)
            elif match["month"]:
                end = timezone.make_aware(dt.datetime(year + month // 12, month % 12 + 1, 1))
            else:
                end = timezone.make_aware(dt.datetime(year + 1, 1, 1))
    except (ValueError, OverflowError):
        # OverflowError: the day after 9999-12-31 is beyond what a date can hold.
        raise FhirError(400, f"{name}: '{value}' is not a valid date.") from None
    return prefix, start, end


def date_q(name: str, values: list[str], field: str, *, is_date: bool = False) -> Q:
    """Every value must hold (date=ge2026-01-01&date=lt2026-02-01 is a range)."""
    q = Q()
    for value in values:
        prefix, start, end = date_range(name, value)
        if is_date:
            start, end = timezone.localtime(start).date(), timezone.localtime(end).date()
        q &= {
            "eq": Q(**{f"{field}__gte": start, f"{field}__lt": end}),
            "gt": Q(**{f"{field}__gte": end}),
            "ge": Q(**{f"{field}__gte": start}),
            "lt": Q(**{f"{field}__lt": start}),
            "le": Q(**{f"{field}__lt": end}),
        }[prefix]
    return q


def tokens(value: str) -> list[str]:
    """The OR-ed values of one parameter (status=active,completed)."""
    return [part.strip() for part in value.split(",") if part.strip()]


def reference_id(name: str, value: str, types: tuple[str, ...]) -> tuple[str, str]:
    """(type, id) of a reference search value: `Type/id`, or a bare id when one type fits."""
    value = value.strip()
    if "/" in value:
        kind, _slash, ident = value.rstrip("/").rpartition("/")
        kind = kind.rsplit("/", 1)[-1]
    elif len(types) == 1:
        kind, ident = types[0], value
    else:
        raise FhirError(400, f"{name}: give the type, e.g. {types[0]}/123.")
    if kind not in types or not ident:
        raise FhirError(400, f"{name}: must refer to {' or '.join(types)}.")
    return kind, ident


def integer_id(name: str, ident: str) -> int:
    if not ident.isdigit() or len(ident) > 18:
        raise FhirError(404, f"{name}: no such resource.", code="not-found")
    return int(ident)


def paging(params) -> tuple[int, int]:
    try:
        count = int(params.get("_count", DEFAULT_COUNT))
        offset = int(params.get("_offset", 0))
    except ValueError:
        raise FhirError(400, "_count and _offset must be whole numbers.") from None
    if count < 1 or offset < 0:
        raise FhirError(400, "_count must be at least 1 and _offset at least 0.")
    if offset > MAX_OFFSET:
        raise FhirError(400, f"_offset must be at most {MAX_OFFSET}.")
    return min(count, MAX_COUNT), offset
