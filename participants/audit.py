"""Access logging and change history, written in the same transaction as what they record."""

import functools
from collections.abc import Iterable

from django.db import connection, models
from django.utils import timezone

from vom.pg import array_literal

from .memberships import active_memberships, membership_for_person
from .models import AccessLog, AccessLogPerson, ChangeRecord, Person


def client_ip(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def log_access(
    request,
    *,
    person: Person | None,
    action: str,
    obj: models.Model | None = None,
    outcome: str = AccessLog.Outcome.ALLOWED,
    user=None,
    membership=None,
    object_type: str | None = None,
) -> None:
    """One row: who looked at (or changed) whose data.

    `membership` names the capacity the user acted in when it is not the one through which
    they serve the person (an organisation admin reviewing the log); `object_type` names
    what was looked at when it is not a model instance (e.g. the access log itself).
    """
    user = user if user is not None else getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    if membership is None and user is not None:
        membership = (membership_for_person(user, person) if person is not None else None) or next(
            iter(active_memberships(user)), None
        )
    if object_type is None:
        object_type = obj._meta.label_lower if obj is not None else ""
    values = {
        "user_id": user.pk if user is not None else None,
        "organisation_id": membership.organisation_id if membership else None,
        "role": membership.role if membership else ("relative" if user is not None else ""),
        "person_id": person.pk if person is not None else None,
        "action": action,
        "object_type": object_type,
        "object_id": str(obj.pk) if obj is not None else "",
        "outcome": outcome,
        **_own_values(request),
        **_system_client_values(request, user),
    }
    if connection.vendor == "postgresql":
        # Every page writes one: a prepared-once INSERT instead of a model save (a third
        # of a millisecond less, and the same columns, tests/test_access_log_append_only.py).
        sql, fields = _row_statement()
        with connection.cursor() as cursor:
            cursor.execute(sql, _params(fields, values))
    else:
        AccessLog.objects.create(**values)


SYSTEM_ROLE = "system"


def _system_client_values(request, user) -> dict:
    """A record system signed in to the FHIR API (no user): the row names the client and
    its organisation (fhir_api.auth sets `request.system_client`)."""
    client = getattr(request, "system_client", None)
    if client is None or user is not None:
        return {}
    return {
        "system_client_id": client.pk,
        "organisation_id": client.organisation_id,
        "role": SYSTEM_ROLE,
    }


def _own_values(request) -> dict:
    """A row's own time, request id and address (`request` may be None)."""
    return {
        "at": timezone.now(),
        "request_id": getattr(request, "request_id", ""),
        "ip": client_ip(request),
    }


def log_list(
    request,
    *,
    person_ids: Iterable[int],
    list_name: str,
    membership=None,
    object_type: str = "participants.person",
) -> None:
    """A list shown: one row (action "list", `list_name` saying which list) and one
    `AccessLogPerson` row per person it showed, so each of them can be followed up
    (`selectors.looks_at`). Nothing for an empty list. On PostgreSQL one statement."""
    log_lists(request, [(list_name, person_ids, object_type)], membership=membership)


def log_lists(request, lists, *, membership=None) -> None:
    """Several lists shown on one page (the start page's caseload and worklist), each
    `(list_name, person_ids, object_type)`: the rows of `log_list` for each non-empty
    list, on PostgreSQL in one statement (one round trip and one commit for the page)."""
    lists = [(name, list(dict.fromkeys(ids)), object_type) for name, ids, object_type in lists]
    lists = [entry for entry in lists if entry[1]]
    if not lists:
        return
    user = request.user if request.user.is_authenticated else None
    if membership is None and user is not None:
        membership = next(iter(active_memberships(user)), None)
    own = _own_values(request)
    rows = [
        (
            {
                **own,
                "user_id": user.pk if user is not None else None,
                "organisation_id": membership.organisation_id if membership else None,
                "role": membership.role if membership else "",
                "action": AccessLog.Action.LIST,
                "object_type": object_type,
                "outcome": AccessLog.Outcome.ALLOWED,
                "list_name": list_name,
                **_system_client_values(request, user),
            },
            person_ids,
        )
        for list_name, person_ids, object_type in lists
    ]
    if connection.vendor == "postgresql":
        sql, fields = _list_statement(len(rows))
        params = []
        for values, person_ids in rows:
            params += [*_params(fields, values), array_literal(person_ids)]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
    else:
        for values, person_ids in rows:
            row = AccessLog.objects.create(**values)
            AccessLogPerson.objects.bulk_create(
                AccessLogPerson(log_id=row.pk, person_id=pk) for pk in person_ids
            )


def _cast(field) -> str:
    """The type a value is cast to in the INSERT: text for a CharField, so a value too long
    for its column is refused by the column, as the ORM's would be, where a cast to
    varchar(n) would cut it silently."""
    return "text" if isinstance(field, models.CharField) else field.db_type(connection)


def _prep(field, value):
    if value is None or type(value) in (int, str):
        return value
    if isinstance(value, str):  # a choice (TextChoices member): its plain value
        return str(value)
    return field.get_db_prep_save(value, connection)


def _params(fields, values: dict) -> list:
    return [
        _prep(field, values[field.attname] if field.attname in values else field.get_default())
        for field in fields
    ]


def _row_columns() -> tuple[str, str, tuple]:
    """(columns, cast placeholders, fields) of an access-log row's INSERT."""
    fields = tuple(field for field in AccessLog._meta.concrete_fields if not field.primary_key)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    values = ", ".join(f"%s::{_cast(field)}" for field in fields)
    return columns, values, fields


@functools.cache
def _row_statement():
    """The INSERT of one access-log row, built once per process: (sql, fields)."""
    columns, values, fields = _row_columns()
    table = connection.ops.quote_name(AccessLog._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES ({values})", fields  # noqa: S608 - names from the model


@functools.cache
def _list_statement(lists: int = 1):
    """The INSERT of `lists` lists' log rows and their persons in one statement, built once
    per process: (sql, the log row's fields in the order of their parameters; each list's
    parameters are its row's fields, then its persons as one array). The same columns and
    values as the ORM would write (tests/test_access_log_append_only.py compares them)."""
    columns, values, fields = _row_columns()
    quote = connection.ops.quote_name
    listed = AccessLogPerson._meta
    log_pk = quote(AccessLog._meta.pk.column)
    insert_persons = (
        f"INSERT INTO {quote(listed.db_table)} "  # noqa: S608 - names from the models
        f"({quote(listed.get_field('log').column)}, {quote(listed.get_field('person').column)}) "
    )
    parts = []
    for index in range(lists):
        parts.append(
            f"row{index} AS (INSERT INTO {quote(AccessLog._meta.db_table)} ({columns}) "  # noqa: S608 - names from the models
            f"VALUES ({values}) RETURNING {log_pk}), "
            f"persons{index} AS ({insert_persons}"
            f"SELECT row{index}.{log_pk}, p FROM row{index}, unnest(%s::bigint[]) AS p)"
        )
    return f"WITH {', '.join(parts)} SELECT 1", fields


def snapshot(obj: models.Model, fields: Iterable[str]) -> dict:
    values = {}
    for name in fields:
        value = getattr(obj, name)
        plain = value is None or isinstance(value, bool | int | float | str)
        if isinstance(value, models.Model) or not plain:
            value = str(value)
        values[name] = value
    return values


def record_change(
    *, user, obj: models.Model, action: str, before: dict, after: dict, person: Person | None
) -> ChangeRecord | None:
    changes = {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }
    if not changes and action == "update":
        return None
    return ChangeRecord.objects.create(
        user=user,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        person=person,
        action=action,
        changes=changes,
    )


def record_and_log(
    request, *, user, obj: models.Model, action: str, before: dict, after: dict, person: Person
) -> None:
    """A service created or updated `obj` for `person`: its change history and the
    access-log row of the change, in one call."""
    record_change(user=user, obj=obj, action=action, before=before, after=after, person=person)
    return log_access(
        request,
        user=user,
        person=person,
        action=AccessLog.Action.CREATE if action == "create" else AccessLog.Action.UPDATE,
        obj=obj,
    )


def history_for(obj: models.Model):
    return ChangeRecord.objects.filter(
        object_type=obj._meta.label_lower, object_id=str(obj.pk)
    ).select_related("user")
