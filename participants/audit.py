"""Access logging and change history, written in the same transaction as what they record."""

from collections.abc import Iterable

from django.db import models

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
    return AccessLog.objects.create(
        user=user,
        organisation=membership.organisation if membership else None,
        role=membership.role if membership else ("relative" if user is not None else ""),
        person=person,
        action=action,
        object_type=object_type,
        object_id=str(obj.pk) if obj is not None else "",
        outcome=outcome,
        request_id=getattr(request, "request_id", "") if request is not None else "",
        ip=client_ip(request),
    )


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
    rows = [
        AccessLog(
            user=user,
            organisation=membership.organisation if membership else None,
            role=membership.role if membership else "",
            person=person,
            action=AccessLog.Action.LIST,
            object_type=object_type,
            object_id=str(person.pk),
            request_id=getattr(request, "request_id", ""),
            ip=client_ip(request),
        )
        for person in persons
    ]
    AccessLog.objects.bulk_create(rows)


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
