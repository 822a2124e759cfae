"""What changed, per person: the data version behind cached pages (vom/pagecache.py).

Every table whose rows a cached page shows gets PostgreSQL triggers that insert one
`PageChange` row per transaction and scope: the person the changed rows belong to, or 0 (the
directory) for users, organisations, memberships and second-factor devices, and minus the
user's id for a change of whom a user's start page lists (`USERS`). The rows are
written in the same transaction as the change, whatever wrote it (a form, a Celery task, a
`QuerySet.update()`, raw SQL), and become visible when it commits. A page's version is the
set of change ids of its scopes (`fingerprint`), read before the page is rendered and kept
with it, so a page is stored with a version no newer than its data; a cached page is served
only while its scopes' changes are still those of its version (`unchanged`).

Only inserts: writers never wait for one another. Old rows are pruned hourly (`prune`),
keeping the newest of each scope.

`SCOPES` says how each model's rows lead to their person; `NOT_SHOWN` lists the models no
cached page shows. tests/test_page_cache.py checks that every model is in one of them or in
`DIRECTORY`, and that every table of `SCOPES` and `DIRECTORY` has its triggers.
"""

import functools
import hashlib
import time
from typing import NamedTuple

from django.apps import apps
from django.db import connections, transaction

from vom.pg import array_literal

from .models import PageChange

DIRECTORY_SCOPE = 0

# Model → the foreign keys to follow to the person ([] for the person itself).
SCOPES: dict[str, list[str]] = {
    "participants.Person": [],
    "participants.CareTeamEntry": ["person"],
    "participants.Relative": ["person"],
    "participants.ChangeRecord": ["person"],
    "meetings.Meeting": ["person"],
    "meetings.MeetingReason": ["meeting", "person"],
    "meetings.StateChange": ["meeting", "person"],
    "meetings.Consent": ["meeting", "person"],
    "meetings.Consent_relatives": ["consent", "meeting", "person"],
    "meetings.TimeOption": ["meeting", "person"],
    "meetings.Participant": ["meeting", "person"],
    "meetings.TimeVote": ["option", "meeting", "person"],
    "meetings.PreparationStep": ["participant", "meeting", "person"],
    "meetings.Contribution": ["meeting", "person"],
    "meetings.AgendaNote": ["meeting", "person"],
    "meetings.PrivateTopic": ["meeting", "person"],
    "meetings.Decision": ["meeting", "person"],
    "meetings.Agreement": ["meeting", "person"],
    "meetings.DecisionConfirmation": ["meeting", "person"],
    "meetings.OutboxMessage": ["meeting", "person"],
    "meetings.SummaryDocument": ["meeting", "person"],
    "meetings.ReadReceipt": ["meeting", "person"],
    "followup.DecisionStatusChange": ["decision", "meeting", "person"],
    "followup.Checkpoint": ["meeting", "person"],
    "followup.HealthCareUse": ["person"],
    "followup.OutcomeMeasure": ["person"],
}

# Model → the user columns that put the row's person on that user's start page
# (`user_scope`): a change of such a row is also a change of scope -user_id, so the set of
# persons a cached start page was rendered for is known to be the same while that scope is.
USERS: dict[str, tuple[str, ...]] = {
    "participants.CareTeamEntry": ("member",),
    "meetings.Participant": ("user",),
    "meetings.Meeting": ("convener", "initiated_by"),
}

# Model → columns whose change alone does not change any page (bumping the directory at
# every sign-in would empty every cached page).
DIRECTORY: dict[str, tuple[str, ...]] = {
    "participants.User": ("last_login",),
    "participants.Organisation": (),
    "participants.Membership": (),
    "otp_totp.TOTPDevice": (
        "last_t", "drift", "throttling_failure_timestamp", "throttling_failure_count",
        "last_used_at",
    ),
    "reports.CostSettings": (),
    "reports.HourlyRate": (),
}  # fmt: skip

# Shown by no cached page. The access log in particular: every view writes to it.
NOT_SHOWN = {
    # Django's permissions and groups: VOM decides access by memberships, not by these.
    "auth.Group_permissions",
    "participants.User_groups",
    "participants.User_user_permissions",
    "participants.AccessLog",
    "participants.AccessLogReview",
    "participants.PageChange",
    "admin.LogEntry",
    "auth.Permission",
    "auth.Group",
    "contenttypes.ContentType",
    "sessions.Session",
    "axes.AccessFailureLog",
    "axes.AccessAttempt",
    "axes.AccessAttemptExpiration",
    "axes.AccessLog",
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _scope_select(model, path: list[str], rows: str) -> str:
    """SELECT of the person ids of the changed rows in transition table `rows`."""
    if not path:
        return f"SELECT r.{_q(model._meta.pk.column)} FROM {rows} r"
    joins, alias, current = [], "r", model
    for depth, name in enumerate(path[:-1], start=1):
        field = current._meta.get_field(name)
        target = field.related_model
        joins.append(
            f"JOIN {_q(target._meta.db_table)} t{depth} "
            f"ON t{depth}.{_q(target._meta.pk.column)} = {alias}.{_q(field.column)}"
        )
        alias, current = f"t{depth}", target
    column = current._meta.get_field(path[-1]).column
    return f"SELECT {alias}.{_q(column)} FROM {rows} r {' '.join(joins)}"


def _user_selects(model, rows: str) -> list[str]:
    """SELECTs of the user scopes (-user id) of the changed rows in transition table `rows`."""
    columns = [model._meta.get_field(name).column for name in USERS.get(model._meta.label, ())]
    return [f"SELECT -r.{_q(column)} FROM {rows} r" for column in columns]


def _insert(select: str) -> str:
    table = _q(PageChange._meta.db_table)
    return (
        f"INSERT INTO {table} (txid, scope, at) SELECT txid_current(), s.scope, "
        f"clock_timestamp() FROM (SELECT DISTINCT q.scope FROM ({select}) AS q(scope) "
        "WHERE q.scope IS NOT NULL) AS s ON CONFLICT DO NOTHING;"
    )


def _function_body(model) -> str:
    label = model._meta.label
    if label in SCOPES:
        path = SCOPES[label]
        new, old = (
            _insert(
                " UNION ALL ".join([_scope_select(model, path, rows), *_user_selects(model, rows)])
            )
            for rows in ("new_rows", "old_rows")
        )
        return f"IF TG_OP <> 'DELETE' THEN {new} END IF;\nIF TG_OP <> 'INSERT' THEN {old} END IF;"
    ignored = "".join(f" - '{column}'" for column in DIRECTORY[label])
    pk = _q(model._meta.pk.column)
    changed = (
        f"SELECT {DIRECTORY_SCOPE} FROM new_rows n JOIN old_rows o ON o.{pk} = n.{pk} "
        f"WHERE (to_jsonb(n){ignored}) IS DISTINCT FROM (to_jsonb(o){ignored}) LIMIT 1"
    )
    return (
        f"IF TG_OP = 'UPDATE' THEN {_insert(changed)}\n"
        f"ELSE {_insert(f'SELECT {DIRECTORY_SCOPE}')} END IF;"
    )


def tracked_models() -> list:
    return [apps.get_model(label) for label in [*SCOPES, *DIRECTORY]]


def trigger_sql(models=None) -> list[str]:
    statements = []
    for model in tracked_models() if models is None else models:
        table = model._meta.db_table
        function = _q(f"vom_pagechange_{table}")
        statements.append(
            f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $f$\n"
            f"BEGIN\n{_function_body(model)}\nRETURN NULL;\nEND $f$;"
        )
        for event, referencing in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        ):
            name = _q(f"vom_pagechange_{event.lower()}")
            statements.append(f"DROP TRIGGER IF EXISTS {name} ON {_q(table)};")
            statements.append(
                f"CREATE TRIGGER {name} AFTER {event} ON {_q(table)} "
                f"REFERENCING {referencing} FOR EACH STATEMENT EXECUTE FUNCTION {function}();"
            )
    return statements


def _marker(statements: list[str]) -> str:
    digest = hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]
    return f"vom_pagechange_installed_{digest}"


def install_triggers(using: str = "default", **_kwargs) -> bool:
    """Create or replace the triggers (PostgreSQL only), in one transaction; a no-op when
    these exact triggers are installed already. Connected to post_migrate, so a new model's
    triggers come with the migration that creates its table; a table not created yet (a
    migrate of one app) gets its triggers at a later migrate. Returns whether anything was
    installed."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return False
    tables = set(connection.introspection.table_names())
    if PageChange._meta.db_table not in tables:
        return False
    models = [model for model in tracked_models() if model._meta.db_table in tables]
    statements = trigger_sql(models)
    marker = _marker(statements)
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM pg_proc WHERE proname = %s), "
            "(SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'vom_pagechange_%%')",
            [marker],
        )
        if cursor.fetchone() == (1, 3 * len(models)):
            return False
        for statement in statements:
            cursor.execute(statement)
        _drop_functions(cursor, "vom_pagechange_installed_")
        cursor.execute(f"CREATE FUNCTION {marker}() RETURNS void LANGUAGE sql AS $$ SELECT $$")
    return True


def _drop_functions(cursor, prefix: str) -> None:
    cursor.execute(
        "SELECT 'DROP FUNCTION ' || oid::regprocedure FROM pg_proc WHERE starts_with(proname, %s)",
        [prefix],
    )
    for (drop,) in cursor.fetchall():
        cursor.execute(drop)


def drop_triggers(apps_=None, schema_editor=None) -> None:
    """Remove every trigger and function of this module (the reverse of migration 0007,
    which must not leave triggers writing into a table it dropped)."""
    connection = schema_editor.connection if schema_editor else connections["default"]
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.tgname, c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE 'vom_pagechange_%'"
        )
        for name, table in cursor.fetchall():
            cursor.execute(f"DROP TRIGGER IF EXISTS {_q(name)} ON {_q(table)}")
        _drop_functions(cursor, "vom_pagechange_")


def triggers_available(using: str = "default") -> bool:
    """Whether this code's triggers are installed (PostgreSQL, and the marker of exactly
    these trigger bodies present). Once found, asked no more in this process; while
    missing (a process started before `migrate` installed them), asked again at most every
    `RECHECK_SECONDS`: until then no page is served from the cache, never one that a
    missing trigger would leave stale."""
    return connections[using].vendor == "postgresql" and _installed(using)


RECHECK_SECONDS = 30
# using → (installed, time.monotonic() of the check)
_checked: dict[str, tuple[bool, float]] = {}


def _installed(using: str) -> bool:
    installed, at = _checked.get(using, (False, float("-inf")))
    if installed or time.monotonic() - at < RECHECK_SECONDS:
        return installed
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_proc WHERE proname = %s", [_marker(trigger_sql())])
        installed = cursor.fetchone() is not None
    _checked[using] = (installed, time.monotonic())
    return installed


class Version(NamedTuple):
    """A page's data version: whether its select found anything, the scopes it covers (the
    persons, the directory and any user scope, sorted) and the digest of their changes."""

    found: bool
    scopes: tuple[int, ...]
    digest: str


def _digest(scopes_from: str) -> str:
    """The SELECT of the digest of the changes of the scopes in `scopes_from` (a FROM item
    `s(scope)`): the set of each scope's change ids, hashed."""
    table = _q(PageChange._meta.db_table)
    return (
        "SELECT md5(string_agg(s.scope || ':' || coalesce(c.id, 0), ',' ORDER BY s.scope, c.id)) "
        f"FROM {scopes_from} LEFT JOIN {table} c ON c.scope = s.scope"
    )


def fingerprint(scopes_sql: str, params: list, using: str = "default") -> Version:
    """The version of the scopes selected by `scopes_sql` (one column of scope ids, see
    `user_scope`) and the directory. One query. `found` is False when the select gives no
    rows (e.g. no such meeting)."""
    sql = (
        f"WITH s(scope) AS ({scopes_sql}), a(scopes) AS (SELECT array_agg(u.scope ORDER BY "
        f"u.scope) FROM (SELECT scope FROM s UNION SELECT {DIRECTORY_SCOPE}) u(scope)) "
        f"SELECT EXISTS (SELECT 1 FROM s), a.scopes, ({_digest('unnest(a.scopes) s(scope)')}) "
        "FROM a"
    )
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        found, scopes, digest = cursor.fetchone()
    return Version(bool(found), tuple(scopes), digest)


def unchanged(version: Version) -> tuple[str, list]:
    """(sql, params): a boolean expression, true while the changes of `version`'s scopes
    are still those it was read with. Cheaper than `fingerprint`: the scopes are known."""
    return f"({_digest('unnest(%s::bigint[]) s(scope)')}) = %s", [
        array_literal(version.scopes),
        version.digest,
    ]


PRUNE_AFTER_SECONDS = 3600
# A row is deleted only this long after pruning first saw it committed: longer than any
# cached page lives, so no page cached while the row was not yet visible is still there.
PRUNE_SEEN_SECONDS = 600


def prune(
    using: str = "default",
    *,
    after_seconds: int = PRUNE_AFTER_SECONDS,
    seen_seconds: int = PRUNE_SEEN_SECONDS,
) -> int:
    """Delete change rows older than an hour, except each scope's newest, that were already
    committed when an earlier prune ran at least ten minutes ago (`seen_at`). The version
    is the set of a scope's row ids, so a deletion must never bring back a set that a page
    still in the cache was stored under: a row that committed late (a long transaction)
    must first have been visible longer than any page lives. Shorter times only while no
    page is cached (`make bench`, before it starts the server)."""
    if connections[using].vendor != "postgresql":
        return PageChange.objects.using(using).all().delete()[0]
    table = _q(PageChange._meta.db_table)
    with transaction.atomic(using=using), connections[using].cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} c WHERE c.at < clock_timestamp() - make_interval(secs => %s) "
            "AND c.seen_at < clock_timestamp() - make_interval(secs => %s) "
            f"AND EXISTS (SELECT 1 FROM {table} n WHERE n.scope = c.scope AND n.id > c.id)",
            [after_seconds, seen_seconds],
        )
        deleted = cursor.rowcount
        cursor.execute(f"UPDATE {table} SET seen_at = clock_timestamp() WHERE seen_at IS NULL")
    return deleted


# What each cached page shows, as (sql, params) selecting person ids for `fingerprint`.


def person_scope(pk: int) -> tuple[str, list]:
    return f"SELECT id FROM {_q(_table('participants.Person'))} WHERE id = %s", [pk]


def meeting_scope(pk: int) -> tuple[str, list]:
    return f"SELECT person_id FROM {_q(_table('meetings.Meeting'))} WHERE id = %s", [pk]


def user_scope(user_pk: int) -> tuple[str, list]:
    """Everyone on the user's start page: the persons of every row of `USERS` naming them
    (their caseload, of any date, and every meeting they are invited to, convene or
    proposed) and the user's own scope. A superset of what the page lists; a person joins
    or leaves it only by a change of such a row, which is a change of the user's scope
    (-user id), so the version of a page rendered for this set says when the set changes.
    Built from `USERS` and `SCOPES`, as the triggers are."""
    sql, columns = _user_scope_sql()
    return sql, [*[user_pk] * columns, -user_pk]


@functools.cache
def _user_scope_sql() -> tuple[str, int]:
    """`user_scope`'s SQL (built once: it is asked on every view of a start page) and the
    number of user columns it compares."""
    selects = []
    for label, names in USERS.items():
        model = apps.get_model(label)
        for name in names:
            column = model._meta.get_field(name).column
            table = _q(model._meta.db_table)
            selects.append(
                f"{_scope_select(model, SCOPES[label], table)} WHERE r.{_q(column)} = %s"
            )
    return " UNION ".join([*selects, "SELECT %s"]), len(selects)


def _table(label: str) -> str:
    return apps.get_model(label)._meta.db_table
