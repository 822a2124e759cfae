"""The access log is append-only in the database itself (PostgreSQL triggers declared with
django-pgtrigger on the models, participants.models._append_only): no update, no delete,
and the retention purge is the one narrow way out for rows older than the retention period."""

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from participants.models import AccessLog, AccessLogPerson

from ..conftest import require_postgres, require_service

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
        cwd=Path(__file__).resolve().parents[2],
        env={"SECRET_KEY": "x", "AUDIT_RETENTION_YEARS": "3", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "AUDIT_RETENTION_YEARS must be at least 5" in result.stderr


def _list_request(user, request_id: str):
    from django.test import RequestFactory

    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7")
    request.user, request.request_id = user, request_id
    return request


def _listed_row(area, *persons, years_ago: float = 0) -> AccessLog:
    row = _row(area, years_ago=years_ago)
    AccessLogPerson.objects.bulk_create(AccessLogPerson(log=row, person=p) for p in persons)
    return row


def test_a_list_is_one_row_and_its_persons_in_one_statement(area):
    """audit.log_list writes one row naming the list and one narrow row per person it
    showed; on PostgreSQL in one statement, with every column as the ORM would write it."""
    from django.test.utils import CaptureQueriesContext

    from participants import audit

    from ..factories import PersonFactory

    others = [PersonFactory() for _ in range(3)]
    request = _list_request(area.alice, "a" * 32)
    before = timezone.now()
    with CaptureQueriesContext(connection) as queries:
        audit.log_list(
            request,
            person_ids=[area.person.pk, *(p.pk for p in others), others[0].pk],
            list_name=AccessLog.ListName.CASELOAD,
        )
    if connection.vendor == "postgresql":
        writes = [q["sql"] for q in queries.captured_queries if "INSERT" in q["sql"]]
        assert len(writes) == 1, writes
    row = AccessLog.objects.get(request_id="a" * 32)
    assert row.person_id is None
    assert row.object_id == ""
    assert row.user_id == area.alice.pk
    assert row.organisation_id == area.health_care.pk
    assert row.role == "nurse"
    assert row.action == AccessLog.Action.LIST
    assert row.list_name == AccessLog.ListName.CASELOAD
    assert row.get_list_name_display() == AccessLog.ListName.CASELOAD.label
    assert row.object_type == "participants.person"
    assert row.outcome == AccessLog.Outcome.ALLOWED
    assert row.ip == "192.0.2.7"
    assert before <= row.at <= timezone.now()
    assert sorted(row.listed.values_list("person_id", flat=True)) == sorted(
        [area.person.pk, *(p.pk for p in others)]
    )
    audit.log_list(request, person_ids=[], list_name=AccessLog.ListName.SEARCH)
    assert AccessLog.objects.filter(request_id="a" * 32).count() == 1  # nothing listed
    # A second list on the same page is a row of its own, saying which list it was.
    audit.log_list(request, person_ids=[others[0].pk], list_name=AccessLog.ListName.WORKLIST)
    assert sorted(
        AccessLog.objects.filter(request_id="a" * 32).values_list("list_name", flat=True)
    ) == ["caseload", "worklist"]


def test_a_value_too_long_for_the_log_is_refused_not_cut(postgres, area):
    """The list INSERT refuses a value its column cannot hold, as one row saved through the
    ORM would: a log that cut an id short would name another object."""
    from django.db import DataError, transaction

    from participants import audit

    request = _list_request(area.alice, "c" * 32)
    with pytest.raises(DataError), transaction.atomic():
        audit.log_list(
            request, person_ids=[area.person.pk], list_name="caseload", object_type="x" * 61
        )
    assert not AccessLog.objects.filter(request_id="c" * 32).exists()
    assert not AccessLogPerson.objects.filter(person=area.person).exists()
    audit.log_list(request, person_ids=[area.person.pk], list_name="caseload", object_type="x" * 60)
    assert AccessLog.objects.get(request_id="c" * 32).object_type == "x" * 60


def test_a_lists_persons_cannot_be_changed_or_deleted(postgres, area):
    row = _listed_row(area, area.person)
    _refused(
        "UPDATE participants_accesslogperson SET person_id = person_id + 1 WHERE log_id = %s",
        [row.pk],
    )
    _refused("DELETE FROM participants_accesslogperson WHERE log_id = %s", [row.pk])
    old = _listed_row(area, area.person, years_ago=9)
    _refused("DELETE FROM participants_accesslogperson WHERE log_id = %s", [old.pk])
    assert AccessLogPerson.objects.filter(person=area.person).count() == 2


def test_a_declared_purge_reaches_only_the_persons_of_old_list_rows(postgres, area):
    young = _listed_row(area, area.person, years_ago=1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('vom.accesslog_purge_before', %s, true)",
            [(timezone.now() - dt.timedelta(days=365.25 * 6)).isoformat()],
        )
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            cursor.execute("DELETE FROM participants_accesslogperson WHERE log_id = %s", [young.pk])
        cursor.execute("SELECT set_config('vom.accesslog_purge_before', '', true)")
    assert AccessLogPerson.objects.filter(log=young).exists()


def test_purge_deletes_old_lists_with_their_persons(area, settings):
    """On any database; on PostgreSQL the triggers let exactly these go."""
    from ..factories import PersonFactory

    settings.AUDIT_RETENTION_YEARS = 6
    other = PersonFactory()
    old = _listed_row(area, area.person, other, years_ago=7)
    kept = _listed_row(area, area.person, other, years_ago=2)
    call_command("purge_access_log")
    assert not AccessLog.objects.filter(pk=old.pk).exists()
    assert not AccessLogPerson.objects.filter(log_id=old.pk).exists()
    assert sorted(kept.listed.values_list("person_id", flat=True)) == sorted(
        [area.person.pk, other.pk]
    )
