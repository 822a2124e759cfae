"""The access log is append-only in the database itself (PostgreSQL trigger, migrations 0002/0004),
and the retention purge is the one narrow way out for rows older than the retention period."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from participants.models import AccessLog

from .conftest import require_postgres, require_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def postgres(db):
    """Skip on SQLite when run locally; in CI (VOM_REQUIRE_SERVICES) that is a failure."""
    require_postgres("the append-only trigger exists only on PostgreSQL (set DATABASE_URL)")
    db_settings = connection.settings_dict
    require_service(
        "PostgreSQL",
        f"postgres://{db_settings['HOST'] or '127.0.0.1'}:{db_settings['PORT'] or 5432}",
    )


def _row(area, years_ago: float = 0) -> AccessLog:
    return AccessLog.objects.create(
        at=timezone.now() - dt.timedelta(days=365.25 * years_ago),
        user=area.alice,
        organisation=area.health_care,
        role="nurse",
        person=area.person,
        action=AccessLog.Action.VIEW,
    )


def _refused(sql: str, params) -> None:
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def test_update_is_refused(postgres, area):
    row = _row(area)
    _refused("UPDATE participants_accesslog SET action = 'list' WHERE id = %s", [row.pk])
    _refused("UPDATE participants_accesslog SET person_id = NULL WHERE id = %s", [row.pk])
    row.refresh_from_db()
    assert row.action == AccessLog.Action.VIEW


def test_delete_is_refused(postgres, area):
    row = _row(area)
    _refused("DELETE FROM participants_accesslog WHERE id = %s", [row.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLog.objects.filter(pk=row.pk).delete()
    assert AccessLog.objects.filter(pk=row.pk).exists()


def test_even_old_rows_cannot_be_updated(postgres, area):
    row = _row(area, years_ago=9)
    _refused("UPDATE participants_accesslog SET action = 'list' WHERE id = %s", [row.pk])


def test_a_declared_purge_cannot_reach_rows_younger_than_five_years(postgres, area):
    young = _row(area, years_ago=3)
    with transaction.atomic(), connection.cursor() as cursor:
        # a cutoff inside the five years is ignored by the trigger
        cursor.execute(
            "SELECT set_config('vom.accesslog_purge_before', %s, true)",
            [timezone.now().isoformat()],
        )
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("DELETE FROM participants_accesslog WHERE id = %s", [young.pk])
        cursor.execute("SELECT set_config('vom.accesslog_purge_before', '', true)")
    assert AccessLog.objects.filter(pk=young.pk).exists()


def test_purge_deletes_only_rows_older_than_the_retention(area, settings, capsys):
    """On any database; on PostgreSQL this also proves the trigger lets exactly these go."""
    settings.AUDIT_RETENTION_YEARS = 6
    old = _row(area, years_ago=7)
    kept = [_row(area, years_ago=5.5), _row(area, years_ago=1), _row(area)]

    call_command("purge_access_log", "--dry-run")
    assert "would delete 1 " in capsys.readouterr().out
    assert AccessLog.objects.filter(pk=old.pk).exists()

    call_command("purge_access_log")
    assert "deleted 1 " in capsys.readouterr().out
    assert not AccessLog.objects.filter(pk=old.pk).exists()
    assert AccessLog.objects.filter(pk__in=[r.pk for r in kept]).count() == 3


def test_purge_permission_ends_with_the_purge_statement(postgres, area, settings):
    settings.AUDIT_RETENTION_YEARS = 6
    kept = [_row(area, years_ago=7), _row(area, years_ago=1)]
    call_command("purge_access_log")
    # the rest of the transaction is guarded again
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('vom.accesslog_purge_before', true)")
        assert cursor.fetchone()[0] in ("", None)
    _refused("DELETE FROM participants_accesslog WHERE id = %s", [kept[1].pk])


def test_purge_refuses_a_retention_below_five_years(db):
    from participants.services import access_log_purge
    from vom.errors import DomainError

    with pytest.raises(DomainError):
        access_log_purge(dry_run=False, years=4)


def test_retention_setting_cannot_be_below_five_years():
    import subprocess
    import sys
    from pathlib import Path

    result = subprocess.run(
        [sys.executable, "-c", "import vom.settings"],
        cwd=Path(__file__).resolve().parent.parent,
        env={"SECRET_KEY": "x", "AUDIT_RETENTION_YEARS": "3", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "AUDIT_RETENTION_YEARS must be at least 5" in result.stderr


def test_a_listed_page_logs_one_row_per_person_in_one_statement(postgres, area):
    """audit.log_list writes its rows with one multi-row INSERT on PostgreSQL: every column as
    one row per person written through the ORM would have it."""
    from django.test import RequestFactory
    from django.test.utils import CaptureQueriesContext

    from participants import audit

    from .factories import PersonFactory

    others = [PersonFactory() for _ in range(3)]
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    request.user = area.alice
    request.request_id = "a" * 32
    before = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        audit.log_list(request, persons=[area.person, *others])
    inserts = [q for q in queries.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    rows = list(AccessLog.objects.filter(request_id="a" * 32).order_by("pk"))
    assert [row.person_id for row in rows] == [area.person.pk, *(p.pk for p in others)]
    for row in rows:
        assert row.object_id == str(row.person_id)
        assert row.user_id == area.alice.pk
        assert row.organisation_id == area.health_care.pk
        assert row.role == "nurse"
        assert row.action == AccessLog.Action.LIST
        assert row.object_type == "participants.person"
        assert row.outcome == AccessLog.Outcome.ALLOWED
        assert row.ip == "192.0.2.7"
        assert before <= row.at <= timezone.now()
    audit.log_list(request, persons=[])  # nothing listed, nothing written
    assert AccessLog.objects.filter(request_id="a" * 32).count() == 4
    # A second list on the same page (the worklist under the caseload) adds only the persons
    # not logged yet; another request logs them all again.
    newcomer = PersonFactory()
    audit.log_list(request, persons=[others[0], newcomer, newcomer])
    assert AccessLog.objects.filter(request_id="a" * 32).count() == 5
    again = RequestFactory().get("/")
    again.user, again.request_id = area.alice, "b" * 32
    audit.log_list(again, persons=[area.person, newcomer])
    assert AccessLog.objects.filter(request_id="b" * 32).count() == 2


def test_a_value_too_long_for_the_log_is_refused_not_cut(postgres, area):
    """The list INSERT (and a cached page's replay, built the same way) refuses a value its
    column cannot hold, as one row saved through the ORM would: a legal log that cut an id
    short would name another object."""
    from django.db import DataError, transaction
    from django.test import RequestFactory

    from participants import audit

    request = RequestFactory().get("/")
    request.user, request.request_id = area.alice, "c" * 32
    with pytest.raises(DataError), transaction.atomic():
        audit.log_list(request, persons=[area.person], object_type="x" * 61)
    assert not AccessLog.objects.filter(request_id="c" * 32).exists()
    audit.log_list(request, persons=[area.person], object_type="x" * 60)
    assert AccessLog.objects.get(request_id="c" * 32).object_type == "x" * 60
