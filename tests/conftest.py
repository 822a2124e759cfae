"""Shared fixtures: the three personas of every access test and the real services.

alice works for the person's home health care, bob for a partner organisation (home help)
in the same care team, charlie for an organisation that does not serve the person.
"""

import socket
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings

from participants.models import Organisation, Person, Role, User
from participants.selectors import second_factor_required

from .factories import (
    TEST_PASSWORD,
    CareTeamEntryFactory,
    MembershipFactory,
    OrganisationFactory,
    PersonFactory,
    proposed_days_ago,
)
from .twofactor import has_device, verify_second_factor


def unavailable(message: str) -> None:
    """Something a test needs is absent: skipped locally, a failure in CI
    (VOM_REQUIRE_SERVICES), so CI never skips what a test claims to check."""
    if settings.VOM_REQUIRE_SERVICES:
        pytest.fail(f"{message} and VOM_REQUIRE_SERVICES is set")
    pytest.skip(message)


def require_service(name: str, url: str) -> None:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=1):
            return
    except OSError as exc:
        unavailable(f"{name} is not reachable at {parsed.hostname}:{parsed.port} ({exc})")


def require_postgres(why: str) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        unavailable(f"needs PostgreSQL: {why}")


@pytest.fixture(autouse=True)
def _breakers_closed():
    """Every test starts with Redis trusted again (vom.breaker keeps state per process)."""
    from vom import breaker

    for each in (breaker.cache, breaker.broker):
        each.reset()
    yield
    for each in (breaker.cache, breaker.broker):
        each.reset()


@pytest.fixture
def redis_url():
    url = settings.REDIS_URL or "redis://127.0.0.1:6379/0"
    require_service("Redis", url)
    return url


def use_shared_cache(settings, redis_url) -> None:
    """Settings as with CACHE_URL on Redis (docker-compose.yml): sessions read through the
    cache, report figures kept in it. Redis database 11; test databases reuse primary keys
    between runs, so every test gets a key prefix of its own."""
    import secrets

    base = redis_url.rsplit("/", 1)[0]
    settings.CACHES = {
        "default": {
            "BACKEND": "vom.redis_cache.RedisCache",
            "LOCATION": f"{base}/11",
            "KEY_PREFIX": f"t{secrets.token_hex(6)}",
        }
    }
    settings.SESSION_ENGINE = "vom.sessions"


@dataclass
class Area:
    person: Person
    health_care: Organisation
    home_help: Organisation
    outsider_org: Organisation
    alice: User  # nurse in the person's home health care
    bob: User  # coordinator at the person's home-help provider (a partner)
    charlie: User  # nurse at an organisation that does not serve the person


@pytest.fixture
def area(db) -> Area:
    health_care = OrganisationFactory(name="Hemsjukvården Åby")
    home_help = OrganisationFactory(
        name="Hemtjänst Öst AB",
        kind=Organisation.Kind.HOME_HELP,
        principal=Organisation.Principal.PRIVATE,
    )
    outsider_org = OrganisationFactory(name="Hemsjukvården Väst")
    person = PersonFactory(first_name="Märta", last_name="Åkesson")
    alice = MembershipFactory(
        organisation=health_care, role=Role.NURSE, user__username="alice"
    ).user
    bob = MembershipFactory(
        organisation=home_help, role=Role.HOME_HELP_COORDINATOR, user__username="bob"
    ).user
    charlie = MembershipFactory(
        organisation=outsider_org, role=Role.NURSE, user__username="charlie"
    ).user
    CareTeamEntryFactory(person=person, organisation=health_care)
    CareTeamEntryFactory(person=person, organisation=health_care, member=alice, role=Role.NURSE)
    CareTeamEntryFactory(person=person, organisation=home_help)
    return Area(person, health_care, home_help, outsider_org, alice, bob, charlie)


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user, backend="participants.auth.UsernameOrEmailBackend")
        if second_factor_required(user) or has_device(user):
            # Managers and admins must pass TOTP (vom.middleware); feature tests start past it.
            verify_second_factor(client, user)
        return client

    return _login


@pytest.fixture
def password():
    return TEST_PASSWORD


def pytest_configure(config):
    # Password hashing is deliberately slow; tests create hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _newest_mtime(folders) -> float:
    return max(
        (f.stat().st_mtime for folder in folders for f in Path(folder).rglob("*") if f.is_file()),
        default=0.0,
    )


@pytest.fixture(autouse=True, scope="session")
def built_assets():
    """The build steps the pages need, so `pytest tests/one_file.py` works on a fresh clone:
    the compiled message catalogues, and the static files' manifest (DEBUG off) when it is
    missing or older than a static file."""
    from django.apps import apps
    from django.core.management import call_command

    call_command("compile_translations", verbosity=0)
    manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
    sources = [*settings.STATICFILES_DIRS]
    sources += [Path(a.path) / "static" for a in apps.get_app_configs()]
    sources = [s for s in sources if Path(s).is_dir() and str(settings.BASE_DIR) in str(s)]
    if not manifest.exists() or manifest.stat().st_mtime < _newest_mtime(sources):
        call_command("collectstatic", interactive=False, verbosity=0)


@dataclass
class MeetingArea:
    """A person served by home health care, the assessment unit and a home-help provider,
    with one staff member per standard role, plus an outsider."""

    person: Person
    health_care: Organisation
    assessment: Organisation
    home_help: Organisation
    outsider_org: Organisation
    nurse: User  # alice, the convener
    physician: User
    assessor: User
    coordinator: User  # bob, home-help coordinator (a partner organisation)
    contact: User
    outsider: User  # charlie
    relative: object


@pytest.fixture
def marea(db) -> MeetingArea:
    from .factories import RelativeFactory

    health_care = OrganisationFactory(name="Hemsjukvården Åby")
    assessment = OrganisationFactory(
        name="Biståndsenheten Åby",
        kind=Organisation.Kind.NEEDS_ASSESSMENT,
        principal=Organisation.Principal.MUNICIPALITY,
    )
    home_help = OrganisationFactory(
        name="Hemtjänst Öst AB",
        kind=Organisation.Kind.HOME_HELP,
        principal=Organisation.Principal.PRIVATE,
    )
    outsider_org = OrganisationFactory(name="Hemsjukvården Väst")
    person = PersonFactory(first_name="Märta", last_name="Åkesson")

    def staff(org, role, username):
        user = MembershipFactory(organisation=org, role=role, user__username=username).user
        CareTeamEntryFactory(person=person, organisation=org, member=user, role=role)
        return user

    for org in (health_care, assessment, home_help):
        CareTeamEntryFactory(person=person, organisation=org)
    nurse = staff(health_care, Role.NURSE, "alice")
    physician = staff(health_care, Role.PHYSICIAN, "dora")
    assessor = staff(assessment, Role.NEEDS_ASSESSOR, "erik")
    coordinator = staff(home_help, Role.HOME_HELP_COORDINATOR, "bob")
    contact = staff(home_help, Role.CONTACT_PERSON, "frida")
    outsider = MembershipFactory(
        organisation=outsider_org, role=Role.NURSE, user__username="charlie"
    ).user
    relative = RelativeFactory(person=person, name="Ulla Åkesson", email="ulla@example.org")
    return MeetingArea(
        person, health_care, assessment, home_help, outsider_org, nurse, physician, assessor,
        coordinator, contact, outsider, relative,
    )  # fmt: skip


def advance_meeting(marea: MeetingArea, to_state: str, *, kind: str = "full"):
    """Drive a meeting through the real services to the given state."""
    import datetime as dt

    from django.utils import timezone

    from meetings import services
    from meetings.models import Meeting

    nurse = marea.nurse
    meeting = services.meeting_initiate(
        actor=nurse,
        person=marea.person,
        organisation=marea.health_care,
        reasons=["not_eating", "repeated_falls"],
        reason_text="Har gått ner 4 kg på en månad.",
        raised_by="relative",
        urgency="soon",
        kind=kind,
    )
    proposed_days_ago(meeting)
    if to_state == Meeting.State.INITIATED:
        return meeting
    if to_state == Meeting.State.DECLINED:
        services.consent_record(
            actor=nurse, meeting=meeting, wants_meeting=False, share_information=False,
            relatives=[], how="orally", given_at=timezone.now(),
        )  # fmt: skip
        return Meeting.objects.get(pk=meeting.pk)
    services.consent_record(
        actor=nurse, meeting=meeting, wants_meeting=True, share_information=True,
        relatives=[marea.relative], how="orally", given_at=timezone.now(),
    )  # fmt: skip
    if to_state == Meeting.State.CONSENT:
        return Meeting.objects.get(pk=meeting.pk)
    services.convening_start(actor=nurse, meeting=meeting)
    start = timezone.now() + dt.timedelta(days=7)
    services.time_options_set(actor=nurse, meeting=meeting, options=[start])
    for entry in services.proposed_invitees(meeting):
        services.participant_invite(
            actor=nurse, meeting=meeting, user=entry.member, organisation=entry.organisation,
            role=entry.role,
        )  # fmt: skip
    if to_state == Meeting.State.CONVENING:
        return Meeting.objects.get(pk=meeting.pk)
    services.meeting_schedule(actor=nurse, meeting=meeting, starts_at=start)
    if to_state == Meeting.State.SCHEDULED:
        return Meeting.objects.get(pk=meeting.pk)
    if to_state == Meeting.State.CANCELLED:
        services.meeting_cancel(actor=nurse, meeting=meeting, reason="Personen är på sjukhus.")
        return Meeting.objects.get(pk=meeting.pk)
    now = timezone.now()
    services.attendance_record(
        actor=nurse,
        meeting=meeting,
        attendance={p.pk: (True, "in_person") for p in meeting.participants.all()},
        actual_start=now - dt.timedelta(hours=1),
        actual_end=now,
    )
    services.meeting_mark_held(
        actor=nurse, meeting=meeting, actual_start=now - dt.timedelta(hours=1), actual_end=now
    )
    if to_state == Meeting.State.HELD:
        return Meeting.objects.get(pk=meeting.pk)
    services.meeting_close(actor=nurse, meeting=meeting)
    return Meeting.objects.get(pk=meeting.pk)


@pytest.fixture
def meeting_in(marea):
    def _make(state, **kwargs):
        return advance_meeting(marea, state, **kwargs)

    return _make


def pytest_terminal_summary(terminalreporter):
    from . import measures
    from .fault_lines import LINES

    if LINES:
        terminalreporter.section("fault matrix")
        for line in LINES:
            terminalreporter.write_line(str(line))
    if measures.LINES:
        terminalreporter.section("measured")
        for line in measures.LINES:
            terminalreporter.write_line(line)
