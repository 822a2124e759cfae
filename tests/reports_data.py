"""Meetings built straight in the database for the report tests.

The report reads what the lifecycle services leave behind; building rows directly lets a
test state exactly who attended and what was recorded (the services have their own tests,
and one report test drives a meeting through them).
"""

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from meetings.models import Meeting, MeetingReason, Participant, StateChange
from participants.models import Organisation, Role, User

from .factories import MembershipFactory, OrganisationFactory, PersonFactory, RelativeFactory

S = Meeting.State


@dataclass
class ReportArea:
    health_care: Organisation
    assessment: Organisation
    home_help: Organisation
    physician: User
    nurses: list[User] = field(default_factory=list)
    assessors: list[User] = field(default_factory=list)
    coordinators: list[User] = field(default_factory=list)
    contacts: list[User] = field(default_factory=list)


def report_area(prefix: str = "") -> ReportArea:
    health_care = OrganisationFactory(name=f"{prefix}Hemsjukvården Solhöjden")
    assessment = OrganisationFactory(
        name=f"{prefix}Biståndsenheten",
        kind=Organisation.Kind.NEEDS_ASSESSMENT,
        principal=Organisation.Principal.MUNICIPALITY,
    )
    home_help = OrganisationFactory(
        name=f"{prefix}Hemtjänst Omsorgshuset AB",
        kind=Organisation.Kind.HOME_HELP,
        principal=Organisation.Principal.PRIVATE,
    )

    def staff(org, role, n):
        return [MembershipFactory(organisation=org, role=role).user for _ in range(n)]

    return ReportArea(
        health_care=health_care,
        assessment=assessment,
        home_help=home_help,
        physician=staff(health_care, Role.PHYSICIAN, 1)[0],
        nurses=staff(health_care, Role.NURSE, 5),
        assessors=staff(assessment, Role.NEEDS_ASSESSOR, 5),
        coordinators=staff(home_help, Role.HOME_HELP_COORDINATOR, 2),
        contacts=staff(home_help, Role.CONTACT_PERSON, 6),
    )


def aware(day: dt.date, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


def make_meeting(
    area: ReportArea,
    *,
    state: str = S.CLOSED,
    initiated: dt.date,
    held: dt.date | None = None,
    ended: dt.date | None = None,
    person=None,
    initiator: User | None = None,
    initiator_org: Organisation | None = None,
    initiator_role: str = Role.NURSE,
    convener: User | None = None,
    staff: list[tuple] = (),
    relatives: int = 0,
    reasons: list[str] = ("not_eating",),
    raised_by: str = "relative",
    cancel_reason: str = "",
    ended_from: str = S.INITIATED,
) -> Meeting:
    """`staff` is a list of (user, organisation, role, attended, mode); the convener is
    added as a participant if not among them."""
    person = person or PersonFactory()
    initiator = initiator or area.nurses[0]
    meeting = Meeting.objects.create(
        person=person,
        state=state,
        raised_by=raised_by,
        reason_text="",
        initiated_by=initiator,
        initiator_organisation=initiator_org or area.health_care,
        initiator_role=initiator_role,
        initiated_at=aware(initiated),
        consent_at=aware(initiated + dt.timedelta(days=2)) if held else None,
        shared=bool(held),
        convener=convener,
        starts_at=aware(held) if held else None,
        actual_start=aware(held) if held else None,
        actual_end=aware(held, 11) if held else None,
        held_at=aware(held, 11) if held else None,
        ended_at=aware(ended) if ended else None,
        cancel_reason=cancel_reason,
    )
    for code in reasons:
        MeetingReason.objects.create(meeting=meeting, code=code)
    if ended:
        StateChange.objects.create(meeting=meeting, from_state=ended_from, to_state=state)
    rows = list(staff)
    if convener is not None and all(row[0] != convener for row in rows):
        rows.append((convener, area.health_care, Role.NURSE, False, ""))
    for user, org, role, attended, mode in rows:
        Participant.objects.create(
            meeting=meeting,
            kind=Participant.Kind.STAFF,
            user=user,
            organisation=org,
            role=role,
            is_convener=user == convener,
            attended=attended if held else None,
            attended_mode=(mode or Participant.Mode.IN_PERSON) if attended else "",
        )
    if held:
        Participant.objects.create(meeting=meeting, kind=Participant.Kind.PERSON, attended=True)
        for _ in range(relatives):
            Participant.objects.create(
                meeting=meeting,
                kind=Participant.Kind.RELATIVE,
                relative=RelativeFactory(person=person),
                attended=True,
                attended_mode=Participant.Mode.IN_PERSON,
            )
    return meeting


def seed_000_meetings(area: ReportArea, first_day: dt.date) -> list[Meeting]:
    """The eight meetings of seed 000 with the attendance of Table 2.

    Physician and assessor at all 8; nurse at 6 (once ill, once no time) but convening all;
    contact person at 6 (once not invited, once the coordinator came instead); coordinator
    at 4 (3 times with the contact person, once instead); relatives at 7 (one at 4
    meetings, two at 2, three at 1). Nobody recorded minutes: the standards apply.
    """
    P, N, A, C, K = (
        Role.PHYSICIAN,
        Role.NURSE,
        Role.NEEDS_ASSESSOR,
        Role.HOME_HELP_COORDINATOR,
        Role.CONTACT_PERSON,
    )
    hc, asm, hh = area.health_care, area.assessment, area.home_help
    relatives = [1, 1, 1, 1, 2, 2, 3, 0]
    meetings = []
    for i in range(8):
        nurse = area.nurses[i % 5]
        staff = [
            (area.physician, hc, P, True, ""),
            (nurse, hc, N, i < 6, ""),
            (area.assessors[i % 5], asm, A, True, ""),
        ]
        if i < 6:
            staff.append((area.contacts[i], hh, K, True, ""))
        if i in (3, 4, 5):
            staff.append((area.coordinators[0], hh, C, True, ""))
        if i == 6:
            staff.append((area.coordinators[1], hh, C, True, ""))
        day = first_day + dt.timedelta(days=3 * i)
        meetings.append(
            make_meeting(
                area,
                initiated=day - dt.timedelta(days=14),
                held=day,
                convener=nurse,
                staff=staff,
                relatives=relatives[i],
                initiator=nurse if i < 6 else area.contacts[0],
                initiator_org=hc if i < 6 else hh,
                initiator_role=N if i < 6 else K,
            )
        )
    return meetings


def bulk_meetings(area: ReportArea, n: int, first_day: dt.date, persons: int = 20) -> None:
    """n held meetings in bulk (a handful of queries), each with a physician, a nurse who
    convened, an assessor and a relative, spread over the days from first_day."""
    people = [PersonFactory() for _ in range(persons)]
    relatives = [RelativeFactory(person=p) for p in people]
    meetings = []
    for i in range(n):
        day = first_day + dt.timedelta(days=i % 300)
        meetings.append(
            Meeting(
                person=people[i % persons],
                state=S.CLOSED,
                raised_by="nurse",
                initiated_by=area.nurses[0],
                initiator_organisation=area.health_care,
                initiator_role=Role.NURSE,
                initiated_at=aware(day - dt.timedelta(days=10)),
                consent_at=aware(day - dt.timedelta(days=8)),
                shared=True,
                starts_at=aware(day),
                actual_start=aware(day),
                actual_end=aware(day, 11),
                held_at=aware(day, 11),
            )
        )
    meetings = Meeting.objects.bulk_create(meetings)
    MeetingReason.objects.bulk_create(
        MeetingReason(meeting=m, code="repeated_falls") for m in meetings
    )
    rows = []
    for i, m in enumerate(meetings):
        rows += [
            Participant(
                meeting=m, kind="staff", user=area.physician, organisation=area.health_care,
                role=Role.PHYSICIAN, attended=True, attended_mode="in_person",
            ),
            Participant(
                meeting=m, kind="staff", user=area.nurses[0], organisation=area.health_care,
                role=Role.NURSE, is_convener=True, attended=True, attended_mode="video",
            ),
            Participant(
                meeting=m, kind="staff", user=area.assessors[0], organisation=area.assessment,
                role=Role.NEEDS_ASSESSOR, attended=True, attended_mode="in_person",
            ),
            Participant(meeting=m, kind="person", attended=True),
            Participant(
                meeting=m, kind="relative", relative=relatives[i % persons], attended=True,
                attended_mode="in_person",
            ),
        ]  # fmt: skip
    Participant.objects.bulk_create(rows)


def computed(*args, **kwargs):
    """The report as a manager sees it once the "reports-fold" task has run: the changes of
    the test folded into the month tallies first."""
    from reports import figures, tallies

    tallies.fold()
    return figures.compute(*args, **kwargs)
