"""vom/replica.py with one database (no DATABASE_REPLICA_URL): reports read where they read
before, at no cost, and say nothing. The replica itself: tests/reports/test_report_replica.py."""

import pytest
from django.db import router

from meetings.models import Meeting
from reports.models import MonthTally
from vom import replica

pytestmark = pytest.mark.django_db


def test_one_database_chooses_it_without_asking(django_assert_num_queries, settings):
    assert "replica" not in settings.DATABASES
    with django_assert_num_queries(0):
        reads = replica.choose()
    assert reads.alias == "default" and not reads.configured and not reads.fell_back
    with replica.report_reads(reads):
        assert replica.reports_alias() == "default"
        assert router.db_for_read(MonthTally) == "default"
    assert router.db_for_write(Meeting) == "default"


def test_the_router_sends_reads_inside_a_report_only(settings):
    on_replica = replica.ReportReads(alias="replica", configured=True)
    with replica.report_reads(on_replica):
        assert router.db_for_read(MonthTally) == "replica"
        assert replica.reports_alias() == "replica"
        # Writes never: the replica is read-only.
        assert router.db_for_write(MonthTally) == "default"
    assert router.db_for_read(MonthTally) == "default"
    assert replica.reports_alias() == "default"


def test_a_streamed_export_reads_there_step_by_step_and_not_between():
    on_replica = replica.ReportReads(alias="replica", configured=True)
    seen = []

    def rows():
        for _ in range(3):
            seen.append(router.db_for_read(Meeting))
            yield len(seen)

    stream = replica.streamed(rows(), on_replica)
    assert next(stream) == 1
    assert router.db_for_read(Meeting) == "default", "nothing routed between two steps"
    assert list(stream) == [2, 3]
    assert seen == ["replica"] * 3
