"""The number of queries behind each page a nurse or manager uses does not grow with the
data: every page is counted with 10 and with 1,000 rows behind it and must be the same."""

import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from meetings.models import Decision, Meeting, MeetingReason, Participant
from participants.models import CareTeamEntry, Person, Role

from ..factories import MembershipFactory, _personnummer

pytestmark = pytest.mark.django_db

S = Meeting.State

# Each page's queries, exactly (zulip's assert_database_query_count), the same with 10 and
# with 1,000 rows behind it. A change that adds one says so here. They include the session
# and the signed-in user (one query each: sessions in the database, as without CACHE_URL).
QUERIES = {
    "start": 10,
    "person": 8,
    "meeting": 14,
    "meeting_day": 11,
    "followup": 14,
}


def _count(client, url) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries), len(response.content)


def _persons(n: int, start: int, organisations) -> list[Person]:
    persons = []
    for i in range(start, start + n):
        pnr, born = _personnummer(50_000 + i)
        persons.append(
            Person(first_name=f"Åsa{i}", last_name="Ström", personnummer=pnr, date_of_birth=born)
        )
    persons = Person.objects.bulk_create(persons)
    CareTeamEntry.objects.bulk_create(
        [
            CareTeamEntry(person=p, organisation=org, start_date=dt.date(2025, 1, 1))
            for p in persons
            for org in organisations
        ]
    )
    return persons


def _meetings(n: int, marea, *, person=None, state=S.HELD) -> list[Meeting]:
    person = person or marea.person
    meetings = Meeting.objects.bulk_create(
        [
            Meeting(
                person=person, state=state, raised_by="nurse", initiated_by=marea.nurse,
                initiator_organisation=marea.health_care, initiator_role=Role.NURSE, shared=True,
                convener=marea.nurse, starts_at=timezone.now() + dt.timedelta(days=1 + i % 20),
                held_at=timezone.now() if state in (S.HELD, S.CLOSED) else None,
            )
            for i in range(n)
        ]
    )  # fmt: skip
    MeetingReason.objects.bulk_create(
        [MeetingReason(meeting=m, code="not_eating") for m in meetings]
    )
    Participant.objects.bulk_create(
        [
            Participant(meeting=m, user=marea.nurse, organisation=marea.health_care,
                        role=Role.NURSE, is_convener=True, response="accepted")
            for m in meetings
        ]
    )  # fmt: skip
    return meetings


def _decisions(n: int, meeting, marea) -> None:
    Decision.objects.bulk_create(
        [
            Decision(
                meeting=meeting, organisation=marea.home_help, category="extended_home_help",
                description=f"Insats {i}", responsible=marea.coordinator,
                due_date=timezone.localdate() - dt.timedelta(days=i % 30),
                person_answer="accepts", created_by=marea.coordinator,
            )
            for i in range(n)
        ]
    )  # fmt: skip


def test_worklist_home_page(marea, login):
    client = login(marea.nurse)
    orgs = [marea.health_care, marea.home_help]
    _persons(9, 0, orgs)
    _meetings(10, marea, state=S.SCHEDULED)
    small, _ = _count(client, reverse("home"))
    _persons(990, 100, orgs)
    _meetings(990, marea, state=S.SCHEDULED)
    large, _ = _count(client, reverse("home"))
    assert small == large
    assert large == QUERIES["start"]


def test_person_page(marea, login):
    client = login(marea.nurse)
    url = reverse("person_detail", kwargs={"pk": marea.person.pk})
    _meetings(10, marea)
    small, _ = _count(client, url)
    _meetings(990, marea)
    large, _ = _count(client, url)
    assert small == large
    assert large == QUERIES["person"]


def test_meeting_page(marea, meeting_in, login):
    meeting = meeting_in(S.SCHEDULED)
    client = login(marea.nurse)
    url = reverse("meeting_detail", kwargs={"pk": meeting.pk})
    _decisions(10, meeting, marea)
    small, _ = _count(client, url)
    _decisions(990, meeting, marea)
    large, size = _count(client, url)
    assert small == large
    assert large == QUERIES["meeting"]


def test_meeting_day_page(marea, meeting_in, login):
    meeting = meeting_in(S.SCHEDULED)
    client = login(marea.nurse)
    url = reverse("meeting_day", kwargs={"pk": meeting.pk})
    _decisions(10, meeting, marea)
    small, _ = _count(client, url)
    _decisions(990, meeting, marea)
    large, _ = _count(client, url)
    assert small == large
    assert large == QUERIES["meeting_day"]


def _fill_every_part(meeting, marea) -> dict[str, str]:
    """A row in each part the meeting pages read only when present; returns a text of each
    that the pages show."""
    from meetings.models import (
        AgendaNote,
        Agreement,
        Contribution,
        DecisionConfirmation,
        PrivateTopic,
    )

    _decisions(3, meeting, marea)
    DecisionConfirmation.objects.create(
        meeting=meeting, organisation=marea.home_help, confirmed_by=marea.coordinator
    )
    Agreement.objects.create(meeting=meeting, kind="goal_of_care", text="Bo kvar hemma",
                             organisation=marea.health_care, created_by=marea.nurse)  # fmt: skip
    Contribution.objects.create(meeting=meeting, author="person", what_matters="Trädgården")
    PrivateTopic.objects.create(meeting=meeting, organisation=marea.health_care, raised_by="nurse",
                                text="Nattfasta", created_by=marea.nurse)  # fmt: skip
    AgendaNote.objects.create(meeting=meeting, item=1, text="Inledning klar")
    return {"agreement": "Bo kvar hemma", "contribution": "Trädgården", "topic": "Nattfasta",
            "decision": "Insats 2"}  # fmt: skip


@pytest.mark.parametrize(("page", "extra"), [("meeting", 4), ("meeting_day", 5)])
def test_meeting_pages_read_a_part_only_when_it_holds_rows(marea, meeting_in, login, page, extra):
    """Every part filled: each is read (one query each, `extra` more than with them empty)
    and shown; with 10 times the rows, the same count."""
    meeting = meeting_in(S.SCHEDULED)
    client = login(marea.nurse)
    name = "meeting_detail" if page == "meeting" else "meeting_day"
    url = reverse(name, kwargs={"pk": meeting.pk})
    texts = _fill_every_part(meeting, marea)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    content = response.content.decode()
    for what, text in texts.items():
        assert text in content, what
    if page == "meeting_day":
        assert "Inledning klar" in content
    _decisions(30, meeting, marea)
    assert _count(client, url)[0] == len(queries) == QUERIES[page] + extra


def test_followup_page(marea, meeting_in, login):
    meeting = meeting_in(S.HELD)
    client = login(marea.nurse)
    url = reverse("followup:meeting", kwargs={"pk": meeting.pk})
    _decisions(10, meeting, marea)
    small, _ = _count(client, url)
    # Both checkpoints completed, by two people: the page names them without a query each.
    from followup.models import Checkpoint

    for kind, who in ((Checkpoint.Kind.TWO_WEEKS, marea.nurse), (Checkpoint.Kind.TWO_MONTHS,
                      marea.coordinator)):  # fmt: skip
        Checkpoint.objects.update_or_create(
            meeting=meeting, kind=kind,
            defaults={"due_date": timezone.localdate(), "completed_at": timezone.now(),
                      "completed_by": who, "person_situation": Checkpoint.Situation.AT_HOME},
        )  # fmt: skip
    _decisions(990, meeting, marea)
    large, _ = _count(client, url)
    assert small == large
    assert large == QUERIES["followup"]


def test_manager_dashboard(marea, login):
    from ..twofactor import verify_second_factor

    manager = MembershipFactory(organisation=marea.health_care, role=Role.MANAGER).user
    client = login(manager)
    verify_second_factor(client, manager)
    _meetings(10, marea)
    cache.clear()  # count the computation, not a cached report
    small, _ = _count(client, reverse("reports:dashboard"))
    _meetings(990, marea)
    cache.clear()
    large, _ = _count(client, reverse("reports:dashboard"))
    assert small == large
    assert large <= 60
