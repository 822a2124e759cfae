"""Rendered pages from the shared cache, keyed by the version of their data (vom/pagecache.py,
participants/pagechanges.py), against the real PostgreSQL and Redis.

A stale page in someone's home is worse than a slow one, so these tests check that every
way data changes reaches the next view: a service, `QuerySet.update()`, raw SQL on every
tracked table, a deletion, the directory. They run with transactions that commit, as
requests do: the change rows are per transaction.
"""

import contextlib

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import connection
from django.db.models import Max
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import settings as settings_hypothesis
from hypothesis import strategies as st

from meetings.models import (
    Decision,
    Meeting,
    OutboxMessage,
    PrivateTopic,
    ReadReceipt,
    SummaryDocument,
)
from participants import pagechanges, services
from participants.models import AccessLog, Membership, PageChange, Person
from vom.pg import array_literal

from .conftest import advance_meeting, cache_signed_in_user, require_postgres, use_shared_cache

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def page_cache(settings, redis_url):
    require_postgres("the page cache's change rows are written by PostgreSQL triggers")
    use_shared_cache(settings, redis_url)
    settings.SHARED_CACHE = True
    settings.PAGE_CACHE_SECONDS = 60
    yield
    with contextlib.suppress(Exception):  # one test points the cache at nothing on purpose
        cache.clear()


def _client(user, *, auth_cached: bool = False) -> Client:
    client = Client()
    client.force_login(user, backend="participants.auth.UsernameOrEmailBackend")
    # The first view sets the CSRF cookie; pages are cached from the second on.
    assert client.get(reverse("home")).status_code == 200
    if auth_cached:
        cache_signed_in_user(client, user)
    return client


def _cached_page(user, url, *, auth_cached: bool = False) -> Client:
    """A client of `user` whose view of `url` is in the page cache."""
    client = _client(user, auth_cached=auth_cached)
    client.get(url)
    assert _served_from_cache(client, url)
    return client


def _page_queries(queries) -> list[str]:
    """The queries of a view other than signing in (session, user, memberships, device)."""
    skip = ("django_session", "participants_user", "participants_membership", "otp_totp")
    return [q["sql"] for q in queries if not any(table in q["sql"] for table in skip)]


def _served_from_cache(client, url) -> bool:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    # The first cached view on a connection prepares its statement (vom.pg.execute_prepared).
    page = [sql for sql in _page_queries(queries) if not sql.startswith("PREPARE vom_")]
    # One statement: the version check, writing the access-log rows if it holds (a plain
    # SELECT of the check for a page that logged nothing).
    return len(page) == 1 and _statement_text(page[0]).startswith(
        ("WITH page_version(unchanged)", "SELECT (SELECT md5(")
    )


def _statement_text(sql: str) -> str:
    """`sql`, or for EXECUTE of a prepared statement the statement it executes."""
    if not sql.startswith("EXECUTE "):
        return sql
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE name = %s", [sql.split()[1]]
        )
        (statement,) = cursor.fetchone()
    return statement.split(" AS ", 1)[1]


REPLAYED = ("user_id", "organisation_id", "role", "person_id", "action", "object_type",
            "object_id", "outcome")  # fmt: skip


def _rows(logged) -> list[tuple]:
    return sorted(tuple(getattr(row, name) for name in REPLAYED) for row in logged)


def _urls(meeting) -> dict[str, str]:
    return {
        "home": reverse("home"),
        "person": reverse("person_detail", kwargs={"pk": meeting.person_id}),
        "meeting": reverse("meeting_detail", kwargs={"pk": meeting.pk}),
        "followup": reverse("followup:meeting", kwargs={"pk": meeting.pk}),
    }


def test_pages_are_served_from_the_cache_with_their_access_log_rows(marea):
    meeting = advance_meeting(marea, Meeting.State.HELD)
    client = _client(marea.nurse)
    for name, url in _urls(meeting).items():
        with CaptureQueriesContext(connection) as queries:
            first = client.get(url)
        assert first.status_code == 200, name
        # A view served from the cache only writes the access log again: rendering it must
        # write nothing else (a read receipt, say, would be lost on a cached view).
        writes = [
            sql
            for sql in _page_queries(queries)
            if sql.split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE")
        ]
        assert all('"participants_accesslog"' in sql.split("(")[0] for sql in writes), writes
        rendered = list(AccessLog.objects.order_by("-pk")[:100])
        before = AccessLog.objects.count()
        assert _served_from_cache(client, url), name
        second = client.get(url)
        assert second.content == first.content, name
        # Every view writes its access-log rows, cached or not: the same rows as rendering
        # wrote, with this request's id.
        replayed = list(AccessLog.objects.order_by("-pk")[: AccessLog.objects.count() - before])
        per_view = len(replayed) // 2
        assert per_view > 0, name
        assert _rows(replayed[:per_view]) == _rows(rendered[:per_view]), name
        assert replayed[0].request_id != rendered[0].request_id


def test_a_change_by_a_service_shows_at_once(marea):
    meeting = advance_meeting(marea, Meeting.State.HELD)
    url = _urls(meeting)["person"]
    client = _cached_page(marea.nurse, url)
    services.relative_save(
        actor=marea.physician,
        person=marea.person,
        relative=None,
        data={"name": "Sixten Åkesson", "relation": "son", "phone": "070-1", "email": ""},
    )
    response = client.get(url)
    assert "Sixten Åkesson" in response.content.decode()


def test_a_queryset_update_and_raw_sql_show_at_once(marea):
    meeting = advance_meeting(marea, Meeting.State.HELD)
    Decision.objects.create(
        meeting=meeting, organisation=marea.health_care, category="medication",
        description="Se över läkemedel", created_by=marea.physician,
        responsible=marea.physician,
    )  # fmt: skip
    url = _urls(meeting)["meeting"]
    client = _cached_page(marea.nurse, url)
    Decision.objects.filter(meeting=meeting).update(description="Sätt ut sömntabletten")
    assert "Sätt ut sömntabletten" in client.get(url).content.decode()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE meetings_decision SET description = %s WHERE meeting_id = %s",
            ["Byt till flytande form", meeting.pk],
        )
    assert "Byt till flytande form" in client.get(url).content.decode()
    # An outbox delivery (a Celery task's QuerySet.update) changes the convener's message box.
    assert OutboxMessage.objects.filter(meeting=meeting).exists()
    client.get(url)
    version = pagechanges.fingerprint(*pagechanges.meeting_scope(meeting.pk))
    OutboxMessage.objects.filter(meeting=meeting).update(attempts=7)
    assert pagechanges.fingerprint(*pagechanges.meeting_scope(meeting.pk)) != version


def test_every_tracked_table_changes_its_persons_version():
    """Raw SQL on a row of each tracked table of the demo area (a no-op UPDATE fires the
    triggers as any change does) gives that row's person a new version, through every
    path of `SCOPES`; a DELETE too."""
    from django.core.management import call_command

    call_command("seed_demo", quiet_logins=True)
    # The three kinds of rows the demo area does not make.
    meeting = Meeting.objects.filter(decisions__isnull=False).order_by("pk").first()
    nurse = meeting.convener or meeting.initiated_by
    PrivateTopic.objects.create(
        meeting=meeting, organisation=meeting.initiator_organisation, raised_by="person",
        text="Ekonomin", created_by=nurse,
    )  # fmt: skip
    SummaryDocument.objects.create(meeting=meeting, version=1, content_version=1)
    ReadReceipt.objects.create(
        meeting=meeting, user=nurse, organisation=meeting.initiator_organisation,
        content_version=1,
    )  # fmt: skip
    missing = []
    for label, path in pagechanges.SCOPES.items():
        model = apps.get_model(label)
        person_path = "__".join([*path[:-1], "person_id"]) if path else "pk"
        row = model.objects.order_by("pk").values_list("pk", person_path).first()
        if row is None:
            missing.append(label)
            continue
        pk, person_id = row
        other = Person.objects.exclude(pk=person_id).order_by("pk").values_list("pk", flat=True)[0]
        before = pagechanges.fingerprint(*pagechanges.person_scope(person_id))
        other_before = pagechanges.fingerprint(*pagechanges.person_scope(other))
        table, column = model._meta.db_table, model._meta.pk.column
        with connection.cursor() as cursor:
            cursor.execute(
                f'UPDATE "{table}" SET "{column}" = "{column}" WHERE "{column}" = %s', [pk]
            )
        after = pagechanges.fingerprint(*pagechanges.person_scope(person_id))
        assert after != before, label
        assert pagechanges.fingerprint(*pagechanges.person_scope(other)) == other_before, label
    assert missing == [], f"the demo area has no rows of {missing}"
    # Deletions, through one foreign key and through three.
    for label in ("participants.Relative", "meetings.TimeVote", "meetings.Consent_relatives"):
        model = apps.get_model(label)
        path = pagechanges.SCOPES[label]
        person_path = "__".join([*path[:-1], "person_id"])
        pk, person_id = model.objects.order_by("pk").values_list("pk", person_path).first()
        before = pagechanges.fingerprint(*pagechanges.person_scope(person_id))
        with connection.cursor() as cursor:
            cursor.execute(f'DELETE FROM "{model._meta.db_table}" WHERE id = %s', [pk])
        assert pagechanges.fingerprint(*pagechanges.person_scope(person_id)) != before, label


def test_every_model_is_tracked_or_listed_as_not_shown_and_has_its_triggers():
    labels = {model._meta.label for model in apps.get_models(include_auto_created=True)}
    classified = set(pagechanges.SCOPES) | set(pagechanges.DIRECTORY) | pagechanges.NOT_SHOWN
    assert labels - classified == set(), "classify new models in participants/pagechanges.py"
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE 'vom_pagechange_%%' GROUP BY c.relname"
        )
        triggers = dict(cursor.fetchall())
    for model in pagechanges.tracked_models():
        assert triggers.get(model._meta.db_table) == 3, model._meta.label


def test_signing_in_does_not_change_the_directory_but_a_name_does(marea):
    before = PageChange.objects.filter(scope=pagechanges.DIRECTORY_SCOPE).count()
    marea.nurse.last_login = timezone.now()
    marea.nurse.save(update_fields=["last_login"])
    assert PageChange.objects.filter(scope=pagechanges.DIRECTORY_SCOPE).count() == before
    marea.nurse.first_name = "Alicia"
    marea.nurse.save(update_fields=["first_name"])
    assert PageChange.objects.filter(scope=pagechanges.DIRECTORY_SCOPE).count() == before + 1


def test_an_ended_membership_closes_the_cached_page(marea):
    """Also when the request's user is the auth cache's older copy: the page it rendered is
    keyed by the memberships it had, and is not served once the user is read afresh."""
    from participants.auth import auth_cache_key

    from .factories import MembershipFactory

    meeting = advance_meeting(marea, Meeting.State.HELD)
    # Staff elsewhere too, so the staff check alone does not end her access.
    MembershipFactory(user=marea.coordinator, organisation=marea.outsider_org, role="nurse")
    url = _urls(meeting)["person"]
    client = _cached_page(marea.coordinator, url, auth_cached=True)
    # A change without signals: the auth cache keeps the old memberships until it expires.
    Membership.objects.filter(user=marea.coordinator, organisation=marea.home_help).update(
        is_active=False
    )
    client.get(url)  # rendered with the cached user's old memberships, as before the cache
    cache.delete(auth_cache_key(marea.coordinator.pk))  # the auth cache entry expired
    assert client.get(url).status_code == 404

    # Through the services (signals): at once.
    physician = _cached_page(marea.physician, url, auth_cached=True)
    MembershipFactory(user=marea.physician, organisation=marea.outsider_org, role="nurse")
    membership = Membership.objects.get(user=marea.physician, organisation=marea.health_care)
    membership.is_active = False
    membership.save()
    assert physician.get(url).status_code == 404


def test_another_csrf_secret_build_or_day_is_another_page(marea, monkeypatch):
    from vom import pagecache

    meeting = advance_meeting(marea, Meeting.State.HELD)
    url = _urls(meeting)["meeting"]
    client = _cached_page(marea.nurse, url)
    client.cookies["csrftoken"] = "b" * 32  # another browser of hers
    assert not _served_from_cache(client, url)
    assert _served_from_cache(client, url)
    monkeypatch.setattr(pagecache, "BUILD", "another-deployment")
    assert not _served_from_cache(client, url)
    tomorrow = timezone.localdate() + timezone.timedelta(days=1)
    monkeypatch.setattr(pagecache.timezone, "localdate", lambda: tomorrow)
    assert not _served_from_cache(client, url)


def test_a_change_of_whom_a_start_page_lists_changes_that_users_scope():
    """Raw SQL moving each user column of `USERS` to another user, to nobody and back
    writes a change of the user scope (-user id) of each user it leaves or reaches: a
    cached start page checks its stored set of persons by it."""
    from django.core.management import call_command

    call_command("seed_demo", quiet_logins=True)
    # Someone on no start page yet, so no unique constraint refuses the move.
    other = apps.get_model("participants.User").objects.create(username="scope.other").pk
    assert set(pagechanges.USERS) <= set(pagechanges.SCOPES)

    def newest(pk):
        return PageChange.objects.filter(scope=-pk).order_by("-pk").values_list("pk").first()

    for label, names in pagechanges.USERS.items():
        model = apps.get_model(label)
        for name in names:
            column = model._meta.get_field(name).column
            row = model.objects.exclude(**{name: None}).order_by("pk").first()
            assert row is not None, (label, name)
            owner = getattr(row, f"{name}_id")
            sql = f"UPDATE {model._meta.db_table} SET {column} = %s WHERE id = %s"
            moves = [(other, (owner, other)), (owner, (owner, other))]
            if model._meta.get_field(name).null:
                moves += [(None, (owner,)), (owner, (owner,))]
            for value, reached in moves:
                before = {pk: newest(pk) for pk in reached}
                with connection.cursor() as cursor:
                    cursor.execute(sql, [value, row.pk])
                for pk in reached:
                    assert newest(pk) != before[pk], (label, name, value, pk)


def test_the_start_page_shows_a_person_added_by_raw_sql(marea):
    """Whom the start page lists changes through a row naming the user, not through the
    persons already on it: an invitation written in raw SQL is on the next view."""
    from meetings import services as meeting_services
    from meetings.models import Participant

    meeting = advance_meeting(marea, Meeting.State.CONSENT)
    meeting_services.convening_start(actor=marea.nurse, meeting=meeting)
    url = reverse("home")
    client = _cached_page(marea.outsider, url)
    assert "Åkesson" not in client.get(url).content.decode()
    # A copy of the convener's participant row, for the outsider: no service, no signal.
    fields = [f for f in Participant._meta.concrete_fields if not f.primary_key]
    values = {
        "user_id": "%s", "organisation_id": "%s", "is_convener": "false",
        "response": "'needs_action'", "responded_at": "NULL",
    }  # fmt: skip
    columns = ", ".join(f.column for f in fields)
    copied = ", ".join(values.get(f.column, f.column) for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO meetings_participant ({columns}) SELECT {copied} "
            "FROM meetings_participant WHERE meeting_id = %s AND user_id = %s",
            [marea.outsider.pk, marea.outsider_org.pk, meeting.pk, marea.nurse.pk],
        )
        assert cursor.rowcount == 1
    assert "Åkesson" in client.get(url).content.decode()


def test_no_cached_page_without_this_codes_triggers(marea):
    """A process started before `migrate` installed these triggers serves no cached page."""
    meeting = advance_meeting(marea, Meeting.State.HELD)
    url = _urls(meeting)["meeting"]
    client = _cached_page(marea.nurse, url)
    with connection.cursor() as cursor:
        pagechanges._drop_functions(cursor, "vom_pagechange_installed_")
    pagechanges._checked.clear()
    try:
        assert not pagechanges.triggers_available()
        assert not _served_from_cache(client, url)
    finally:
        assert pagechanges.install_triggers() is True
        pagechanges._checked.clear()
    assert pagechanges.triggers_available()


def test_the_start_page_drops_a_person_at_once(marea):
    meeting = advance_meeting(marea, Meeting.State.CONSENT)
    from meetings import services as meeting_services

    meeting_services.convening_start(actor=marea.nurse, meeting=meeting)
    meeting_services.participant_invite(
        actor=marea.nurse, meeting=meeting, user=marea.outsider,
        organisation=marea.outsider_org, role="nurse",
    )  # fmt: skip
    url = reverse("home")
    client = _cached_page(marea.outsider, url)
    assert "Åkesson" in client.get(url).content.decode()
    # Raw SQL, as a data fix would: no service, no signal, only the triggers.
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH p AS (SELECT id FROM meetings_participant "
            "WHERE meeting_id = %s AND user_id = %s), "
            "steps AS (DELETE FROM meetings_preparationstep "
            "WHERE participant_id IN (SELECT id FROM p)) "
            "DELETE FROM meetings_participant WHERE id IN (SELECT id FROM p)",
            [meeting.pk, marea.outsider.pk],
        )
    before = AccessLog.objects.order_by("-pk").values_list("pk", flat=True).first()
    assert not _served_from_cache(client, url)
    assert "Åkesson" not in client.get(url).content.decode()
    # The view that found its page out of date logged what it rendered, once.
    assert not AccessLog.objects.filter(pk__gt=before, person=marea.person).exists()


def test_the_start_page_shows_a_new_invitation(marea):
    meeting = advance_meeting(marea, Meeting.State.CONSENT)
    url = reverse("home")
    client = _cached_page(marea.outsider, url)
    from meetings import services as meeting_services

    meeting_services.convening_start(actor=marea.nurse, meeting=meeting)
    meeting_services.participant_invite(
        actor=marea.nurse, meeting=meeting, user=marea.outsider,
        organisation=marea.outsider_org, role="nurse",
    )  # fmt: skip
    assert "Åkesson" in client.get(url).content.decode()


def test_a_waiting_message_is_shown_not_a_cached_page(marea):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.base import Message
    from django.contrib.messages.storage.cookie import CookieStorage
    from django.test import RequestFactory

    meeting = advance_meeting(marea, Meeting.State.HELD)
    url = _urls(meeting)["meeting"]
    client = _cached_page(marea.nurse, url)
    # As a form's redirect leaves it: a message waiting in the messages cookie.
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies["messages"] = storage._encode([Message(constants.SUCCESS, "Sparat i dag")])
    shown = client.get(url).content.decode()
    assert "Sparat i dag" in shown
    assert _served_from_cache(client, url)
    assert "Sparat i dag" not in client.get(url).content.decode()


def test_another_language_is_another_page(marea):
    meeting = advance_meeting(marea, Meeting.State.HELD)
    url = _urls(meeting)["meeting"]
    client = _cached_page(marea.nurse, url)
    client.post(reverse("set_language"), {"language": "en", "next": url})
    assert 'lang="en"' in client.get(url).content.decode()


def test_the_language_and_the_user_are_in_the_key(marea):
    meeting = advance_meeting(marea, Meeting.State.HELD)
    url = _urls(meeting)["meeting"]
    nurse, physician = _client(marea.nurse), _client(marea.physician)
    nurse.get(url)
    assert _served_from_cache(nurse, url)
    assert not _served_from_cache(physician, url)  # her own first rendering
    assert marea.physician.get_full_name() in physician.get(url).content.decode()


def test_the_cache_down_leaves_the_pages_working(marea, settings):
    meeting = advance_meeting(marea, Meeting.State.HELD)
    client = _client(marea.nurse)
    settings.CACHES = {
        "default": {
            "BACKEND": "vom.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }
    for url in _urls(meeting).values():
        assert client.get(url).status_code == 200


def test_prune_deletes_old_rows_only_once_seen_long_enough_and_keeps_each_scopes_newest(marea):
    from participants.models import PageChange as Change

    person = marea.person.pk
    old = timezone.now() - timezone.timedelta(hours=2)
    long_seen = timezone.now() - timezone.timedelta(minutes=20)
    first, second = Change.objects.bulk_create(
        [
            Change(txid=1, scope=person, at=old, seen_at=long_seen),
            Change(txid=2, scope=person, at=old, seen_at=long_seen),
        ]
    )
    # Written long ago by a transaction that committed only now: not yet seen by a prune.
    late = Change.objects.create(txid=3, scope=person + 1, at=old)
    Change.objects.create(txid=4, scope=person + 1, at=timezone.now())
    only = Change.objects.create(txid=5, scope=10**9, at=old, seen_at=long_seen)
    recent = set(Change.objects.filter(at__gt=old).values_list("pk", flat=True))
    assert pagechanges.prune() >= 1
    left = set(Change.objects.values_list("pk", flat=True))
    assert first.pk not in left  # old, seen long ago, a newer row of its scope exists
    assert second.pk in left  # the newest row of its scope (by id)
    assert late.pk in left  # seen for the first time by this prune
    assert only.pk in left  # the newest of its scope
    assert recent <= left
    assert Change.objects.get(pk=late.pk).seen_at is not None
    Change.objects.filter(pk=late.pk).update(seen_at=long_seen)
    pagechanges.prune()
    assert not Change.objects.filter(pk=late.pk).exists()


def test_prune_without_waiting_leaves_each_scopes_newest_row(marea):
    """What `make bench` does before it starts the server (no page cached yet): two prunes
    with no wait leave exactly the newest change row of every scope."""
    for name in ("Märit", "Märta"):  # two transactions: two change rows of the person
        Person.objects.filter(pk=marea.person.pk).update(first_name=name)
    newest = {
        row["scope"]: row["newest"]
        for row in PageChange.objects.values("scope").annotate(newest=Max("id"))
    }
    assert PageChange.objects.count() > len(newest)
    for _ in range(2):
        pagechanges.prune(after_seconds=0, seen_seconds=0)
    assert dict(PageChange.objects.values_list("scope", "id")) == newest


def test_installing_the_triggers_again_is_a_no_op_and_restores_a_dropped_one():
    assert pagechanges.install_triggers() is False
    with connection.cursor() as cursor:
        cursor.execute('DROP TRIGGER "vom_pagechange_update" ON "meetings_decision"')
    assert pagechanges.install_triggers() is True
    assert pagechanges.install_triggers() is False
    # Migrating back past 0007 removes them all before the table goes.
    pagechanges.drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'vom_pagechange_%%'")
        assert cursor.fetchone()[0] == 0
    assert pagechanges.install_triggers() is True
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'vom_pagechange_%%'")
        assert cursor.fetchone()[0] == 3 * len(pagechanges.tracked_models())


@settings_hypothesis(max_examples=200, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1))),
    st.lists(
        st.one_of(
            st.none(),
            st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")),
        )
    ),
)
def test_array_literal_round_trips_through_postgresql(numbers, texts):
    """The access-log replay and the version check send their arrays as one literal
    (vom.pg.array_literal): any id, and any text a log row can hold (quotes, backslashes,
    braces, commas, NULL and "NULL"), comes back from PostgreSQL as it was sent."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::bigint[], %s::text[]", [array_literal(numbers), array_literal(texts)]
        )
        assert cursor.fetchone() == (numbers, texts)


def test_the_redis_client_is_kept_between_calls():
    from vom.redis_cache import RedisCacheClient

    client = cache._cache
    assert isinstance(client, RedisCacheClient)
    assert client.get_client() is client.get_client(write=True)
    cache.set("kept", "yes", 10)
    assert cache.get("kept") == "yes"


def _prepared_page_statements() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT statement FROM pg_prepared_statements WHERE name LIKE 'vom\\_%%' ORDER BY name"
        )
        return [row[0] for row in cursor.fetchall()]


def test_a_cached_view_runs_its_statement_prepared_once_per_connection(marea):
    """The version check and log replay is parsed and planned once per connection: later
    views EXECUTE it. A new connection (Django reconnects after CONN_MAX_AGE or an error)
    prepares it again instead of executing a name the server no longer knows."""
    meeting = advance_meeting(marea, Meeting.State.HELD)
    urls = _urls(meeting)
    client = _cached_page(marea.nurse, urls["home"])
    prepared = _prepared_page_statements()
    assert prepared and all(" AS WITH page_version(unchanged)" in sql for sql in prepared)
    before = AccessLog.objects.count()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(urls["home"]).status_code == 200
    statements = [q["sql"].split()[0] for q in queries]
    assert statements.count("EXECUTE") == 1 and "PREPARE" not in statements
    per_view = AccessLog.objects.count() - before
    assert per_view > 0  # the start page's list rows, written by the prepared statement
    connection.close()
    assert _served_from_cache(client, urls["home"])
    assert _prepared_page_statements() == prepared
    assert AccessLog.objects.count() - before == 2 * per_view


def test_without_prepared_statements_a_cached_view_runs_its_statement_as_is(marea, settings):
    meeting = advance_meeting(marea, Meeting.State.HELD)
    urls = _urls(meeting)
    client = _cached_page(marea.nurse, urls["home"])
    assert _prepared_page_statements()
    # Turned off (behind PgBouncer): not even a statement prepared earlier is executed.
    settings.DATABASE_PREPARED_STATEMENTS = False
    for url in urls.values():
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            assert _served_from_cache(client, url)
        assert not [q for q in queries if q["sql"].startswith(("PREPARE", "EXECUTE"))], url
    connection.close()
    for url in urls.values():
        _cached_page(marea.nurse, url)
    assert _prepared_page_statements() == []


def test_numbered_placeholders():
    from vom.pg import _numbered

    assert _numbered("SELECT %s::int, %s = x") == "SELECT $1::int, $2 = x"
    # Run as they are: no parameters (EXECUTE needs some), anything but psycopg2's %s (an
    # escaped %%, a named placeholder), a $ (dollar quotes, a $n of its own).
    assert _numbered("SELECT 1") is None
    assert _numbered("SELECT %s LIKE 'a%%'") is None
    assert _numbered("SELECT %(name)s") is None
    assert _numbered("SELECT $$a$$ || %s") is None
