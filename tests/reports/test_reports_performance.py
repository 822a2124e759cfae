"""The report's queries run without JIT and with enough memory to group in memory, for the
report's transaction only (docs/performance.md, "Dashboard")."""

import datetime as dt

import pytest
from django.db import connection, transaction

from reports import figures
from reports.figures import Period

from ..reports_data import computed, report_area, seed_000_meetings

pytestmark = pytest.mark.django_db

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def _show(name: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_report_settings_hold_for_the_transaction_only():
    if connection.vendor != "postgresql":
        with (
            transaction.atomic(),
            connection.execute_wrapper(
                lambda *a: pytest.fail("no settings query outside PostgreSQL")
            ),
        ):
            figures.without_jit()
        return
    before = (_show("jit"), _show("work_mem"))
    assert before[1] != figures.REPORT_WORK_MEM
    # A real transaction (not a test's savepoint), as in a request: SET LOCAL ends with it.
    with transaction.atomic():
        figures.without_jit()
        assert _show("jit") == "off"
        assert _show("work_mem") == figures.REPORT_WORK_MEM
    assert (_show("jit"), _show("work_mem")) == before


def test_every_report_query_runs_after_the_settings_in_one_transaction(monkeypatch):
    """The heavy queries are the fold's (the dashboard adds up stored month tallies): each
    month's parts are read in a transaction that starts with the settings."""
    from reports import tallies

    seed_000_meetings(report_area(), dt.date(2026, 3, 2))
    seen = []
    calls = []
    parts = tallies.parts

    def counted_parts(*args, **kwargs):
        calls.append(len(seen))
        return parts(*args, **kwargs)

    monkeypatch.setattr(tallies, "parts", counted_parts)

    def record(execute, sql, params, many, context):
        seen.append((sql, connection.in_atomic_block))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        report = computed(MARCH)
    assert report.summary["meetings_held"] == 8
    assert calls, "the fold read no month"
    assert all(in_atomic for _sql, in_atomic in seen)
    if connection.vendor == "postgresql":
        settings = [i for i, (sql, _a) in enumerate(seen) if "set_config" in sql]
        assert len(settings) == len(calls)
        bounds = [*calls[1:], len(seen)]
        for start, end, setting in zip(calls, bounds, settings, strict=True):
            meeting_queries = [i for i in range(start, end) if "meetings_" in seen[i][0]]
            assert meeting_queries and start <= setting < min(meeting_queries)
