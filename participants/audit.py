"""Access logging and change history, written in the same transaction as what they record."""

import functools
from collections.abc import Iterable

from django.db import connection, models
from django.utils import timezone

from vom.pg import array_literal

from .models import AccessLog, ChangeRecord, Person


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
) -> AccessLog:
    """One row: who looked at (or changed) whose data.

    `membership` names the capacity the user acted in when it is not the one through which
    they serve the person (an organisation admin reviewing the log); `object_type` names
    what was looked at when it is not a model instance (e.g. the access log itself).
    """
    from .selectors import active_memberships, membership_for_person

    user = user if user is not None else getattr(request, "user", None)
    if user is not None and not user.is_authenticated:
        user = None
    if membership is None and user is not None:
        membership = (membership_for_person(user, person) if person is not None else None) or next(
            iter(active_memberships(user)), None
        )
    if object_type is None:
        object_type = obj._meta.label_lower if obj is not None else ""
    row = AccessLog.objects.create(
        user=user,
        organisation=membership.organisation if membership else None,
        role=membership.role if membership else ("relative" if user is not None else ""),
        person=person,
        action=action,
        object_type=object_type,
        object_id=str(obj.pk) if obj is not None else "",
        outcome=outcome,
        **_own_values(request),
    )
    _capture(request, [{name: getattr(row, name) for name in _REPLAYED}])
    return row


# What a cached page's view wrote to the log, written again when the page is served from the
# cache (vom/pagecache.py); the time, request id and address are the serving request's.
_REPLAYED = (
    "user_id", "organisation_id", "role", "person_id", "action", "object_type", "object_id",
    "outcome",
)  # fmt: skip


def _capture(request, rows: list[dict]) -> None:
    captured = getattr(request, "_vom_access_rows", None)
    if captured is not None:
        captured.extend(rows)


# A replayed row's own values: the serving request's time, id and address.
REQUEST_VALUES = ("at", "request_id", "ip")


def replay_statement(rows: Iterable[dict]) -> tuple[str, list, tuple[tuple[int, str], ...]] | None:
    """(sql, params, slots) of the INSERT … SELECT … FROM unnest(…) AS v that writes `rows`
    (as `_capture` kept them) again; a WHERE may follow it. `params` hold None at `slots`
    ((index, attname) pairs) for the serving request's `request_values`. None for no rows.
    PostgreSQL only (the page cache's, which builds it once per cached page)."""
    rows = list(rows)
    if not rows:
        return None
    common = dict.fromkeys(REQUEST_VALUES)
    # What every row shares (the user, the capacity, the action) is one value, not an
    # array; unnest needs at least one array.
    shared = [name for name in _REPLAYED if all(row[name] == rows[0][name] for row in rows)]
    common.update((name, rows[0][name]) for name in shared[: len(_REPLAYED) - 1])
    varying = [name for name in _REPLAYED if name not in common]
    sql, params = _insert_sql(common, [{name: row[name] for name in varying} for row in rows])
    _, constant, _ = _insert_statement(frozenset(varying))
    slots = tuple(
        (index, field.attname)
        for index, field in enumerate(constant)
        if field.attname in REQUEST_VALUES
    )
    return sql, params, slots


def _own_values(request) -> dict:
    """The values of `REQUEST_VALUES` for a row this request writes (`request` may be None)."""
    return {
        "at": timezone.now(),
        "request_id": getattr(request, "request_id", ""),
        "ip": client_ip(request),
    }


def request_values(request) -> dict:
    """`_own_values` as `replay_statement`'s params."""
    return {
        name: _prep(AccessLog._meta.get_field(name), value)
        for name, value in _own_values(request).items()
    }


def _write(common: dict, rows: list[dict]) -> None:
    """AccessLog rows: `common` holds the values (by attname) every row shares, `rows` the
    others."""
    if not rows:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(*_insert_sql(common, rows))
    else:
        AccessLog.objects.bulk_create(AccessLog(**common, **row) for row in rows)


def log_list(
    request,
    *,
    persons: Iterable[Person],
    membership=None,
    object_type: str = "participants.person",
) -> None:
    """One row per person shown in a list: each of them was looked at."""
    from .selectors import active_memberships

    user = request.user
    if membership is None:
        membership = next(iter(active_memberships(user)), None)
    values = {
        **_own_values(request),
        "user_id": user.pk,
        "organisation_id": membership.organisation_id if membership else None,
        "role": membership.role if membership else "",
        "action": AccessLog.Action.LIST,
        "object_type": object_type,
        "outcome": AccessLog.Outcome.ALLOWED,
    }
    # A person in two lists of one page (the caseload and the worklist) is one row: the
    # second would say nothing the first does not.
    listed = request.__dict__.setdefault("_vom_listed", set())
    capacity = (object_type, values["organisation_id"], values["role"])
    person_ids = list(
        dict.fromkeys(person.pk for person in persons if (person.pk, *capacity) not in listed)
    )
    listed.update((pk, *capacity) for pk in person_ids)
    rows = [{"person_id": pk, "object_id": str(pk)} for pk in person_ids]
    _write(values, rows)
    _capture(request, [{name: {**values, **row}[name] for name in _REPLAYED} for row in rows])


def _insert_sql(common: dict, rows: list[dict]) -> tuple[str, list]:
    """AccessLog rows in one INSERT … SELECT FROM unnest(arrays) AS v (as `_write` takes
    them; every row has the same names). A list page logs 25 to 75 persons on every view,
    and building and saving that many model instances cost more than the rest of the page's
    queries together. The same columns and values as bulk_create
    (tests/test_access_log_append_only.py compares them)."""
    sql, constant, varying = _insert_statement(frozenset(rows[0]))
    params = [
        _prep(field, common[field.attname] if field.attname in common else field.get_default())
        for field in constant
    ]
    params += [array_literal(_prep(field, row[field.attname]) for row in rows) for field in varying]
    return sql, params


def _cast(field) -> str:
    """The type a value is cast to in the INSERT: text for a CharField, so a value too long
    for its column is refused by the column, as bulk_create's would be, where a cast to
    varchar(n) would cut it silently."""
    return "text" if isinstance(field, models.CharField) else field.db_type(connection)


def _prep(field, value):
    if value is None or type(value) in (int, str):
        return value
    if isinstance(value, str):  # a choice (TextChoices member): its plain value
        return str(value)
    return field.get_db_prep_save(value, connection)


@functools.cache
def _insert_statement(row_names: frozenset):
    """The INSERT of `_insert_sql` for rows with these attnames, built once per process:
    (sql, the constant columns' fields, the varying columns' fields)."""
    fields = [field for field in AccessLog._meta.concrete_fields if not field.primary_key]
    varying = [field for field in fields if field.attname in row_names]
    constant = [field for field in fields if field.attname not in row_names]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in [*constant, *varying])
    scalars = ", ".join(f"%s::{_cast(field)}" for field in constant)
    arrays = ", ".join(f"%s::{_cast(field)}[]" for field in varying)
    sql = (
        f"INSERT INTO {quote(AccessLog._meta.db_table)} ({columns}) "  # noqa: S608 - names from the model
        f"SELECT {scalars}, v.* FROM unnest({arrays}) AS v"
    )
    return sql, tuple(constant), tuple(varying)


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
) -> AccessLog:
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
