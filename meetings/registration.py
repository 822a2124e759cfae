"""Registering a meeting that has already been held (on paper, or before the organisation
used the product), with its real dates.

One service, `meeting_register_held`, takes the whole meeting and runs the ordinary
lifecycle services in order (`meetings.services`, `followup.services`) inside
`afterwards.registering(...)`, the one path where they accept the past (see
`meetings.afterwards`). It is all or nothing: any refusal undoes the whole meeting. The
care-staff form and the administrator's import both call it.
"""

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from followup import services as followup_services
from participants import audit
from participants.models import (
    CareTeamEntry,
    Membership,
    Organisation,
    Person,
    Relative,
    Role,
    User,
)
from participants.selectors import CARE_ROLES, active_memberships
from vom.errors import DomainError

from . import afterwards, services
from .models import Meeting, Participant

# Who may register a held meeting for a person: care staff of an organisation serving the
# person (the form) and its organisation administrator (the import).
REGISTRAR_ROLES = CARE_ROLES | {Role.ORG_ADMIN}


@dataclass(frozen=True)
class StaffAttendance:
    """Someone of the staff invited to the meeting: whether they came, how, or why not."""

    user: User
    organisation: Organisation
    role: str
    attended: bool
    mode: str = Participant.Mode.IN_PERSON
    absence_reason: str = ""
    absence_note: str = ""


@dataclass(frozen=True)
class RelativeAttendance:
    relative: Relative
    attended: bool = True
    absence_reason: str = ""
    absence_note: str = ""


@dataclass(frozen=True)
class RegisteredDecision:
    organisation: Organisation
    category: str
    description: str
    responsible: User
    person_answer: str
    due_date: dt.date | None = None
    # Where it stood when registered (followup.models.DecisionStatus), from `status_date`.
    status: str = ""
    status_date: dt.date | None = None
    status_note: str = ""


@dataclass(frozen=True)
class HeldMeeting:
    person: Person
    initiated_by: User
    initiator_organisation: Organisation
    initiated_on: dt.date
    consent_on: dt.date
    starts_at: dt.datetime
    ends_at: dt.datetime
    convener: User
    raised_by: str
    reasons: Sequence[str] = ()
    reason_text: str = ""
    kind: str = "full"
    urgency: str = "routine"
    location: str = ""
    consent_how: str = "orally"
    representative_name: str = ""
    share_information: bool = True
    person_attended: bool = True
    staff: Sequence[StaffAttendance] = ()
    relatives: Sequence[RelativeAttendance] = ()
    decisions: Sequence[RegisteredDecision] = field(default_factory=tuple)


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _serving(person: Person):
    """The organisations of the person's current care team (ids)."""
    return (
        CareTeamEntry.objects.current()
        .filter(person=person)
        .values_list("organisation_id", flat=True)
    )


def staff_candidates(person: Person) -> list:
    """Everyone in a care role at an organisation serving the person: who can be named as
    having taken the initiative, convened, taken part or been responsible for a decision."""
    return list(
        Membership.objects.active()
        .filter(organisation_id__in=_serving(person), role__in=CARE_ROLES)
        .select_related("user", "organisation")
        .order_by("organisation__name", "role", "user__last_name", "user__first_name", "pk")
    )


def registrar_organisations(actor: User, person: Person) -> list[Organisation]:
    """The actor's organisations serving the person in which they may register meetings."""
    serving = set(_serving(person))
    return [
        m.organisation
        for m in active_memberships(actor)
        if m.role in REGISTRAR_ROLES and m.organisation_id in serving
    ]


def check_dates(held: HeldMeeting, *, now: dt.datetime | None = None) -> None:
    """Initiative, consent and the meeting in that order (the same day is allowed), the
    meeting over, everything in the past."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if held.initiated_on > today:
        raise DomainError(_("The initiative cannot be in the future."), field="initiated_on")
    if held.consent_on < held.initiated_on:
        raise DomainError(
            _("Consent cannot come before the initiative (%(day)s).")
            % {"day": formats.date_format(held.initiated_on, "j F Y")},
            field="consent_on",
        )
    if timezone.localdate(held.starts_at) < held.consent_on:
        raise DomainError(
            _("The meeting cannot come before the consent (%(day)s).")
            % {"day": formats.date_format(held.consent_on, "j F Y")},
            field="starts_at",
        )
    if held.ends_at <= held.starts_at:
        raise DomainError(_("The end must be after the start."), field="ends_at")
    if held.ends_at > now:
        raise DomainError(
            _("Only a meeting that is over can be registered afterwards."), field="ends_at"
        )


def meeting_register_held(*, actor: User, held: HeldMeeting, request=None) -> Meeting:
    """Register a meeting that has been held, through the lifecycle's own services, with
    its real dates; marked as registered afterwards by `actor`, now."""
    if not registrar_organisations(actor, held.person):
        raise DomainError(
            _("Only staff of an organisation in the person's care team can register its meetings."),
            field="person",
        )
    check_dates(held)
    others = [s for s in held.staff if s.user != held.convener]
    registration = afterwards.Registration(
        registrar=actor,
        at=timezone.now(),
        initiated_at=_start_of(held.initiated_on),
        consent_at=_start_of(held.consent_on),
        held_at=held.ends_at,
    )
    with transaction.atomic(), afterwards.registering(registration):
        # A second submit of the form, or the same file imported twice, registers nothing
        # more: the person's row serialises registrations, and one meeting a start time.
        Person.objects.select_for_update().filter(pk=held.person.pk).first()
        already = Meeting.objects.filter(person=held.person, actual_start=held.starts_at).first()
        if already is not None:
            raise DomainError(
                _("A meeting with the person at this time is already registered (meeting %(pk)s).")
                % {"pk": already.pk},
                field="starts_at",
            )
        meeting = services.meeting_initiate(
            actor=actor,
            person=held.person,
            organisation=held.initiator_organisation,
            reasons=held.reasons,
            reason_text=held.reason_text,
            raised_by=held.raised_by,
            urgency=held.urgency,
            kind=held.kind,
            initiated_by=held.initiated_by,
            initiated_at=registration.initiated_at,
            request=request,
        )
        services.consent_record(
            actor=actor,
            meeting=meeting,
            wants_meeting=True,
            share_information=held.share_information,
            relatives=[r.relative for r in held.relatives],
            how=held.consent_how,
            representative_name=held.representative_name,
            given_at=registration.consent_at,
            request=request,
        )
        services.convening_start(
            actor=actor, meeting=meeting, convener=held.convener, request=request
        )
        for row in others:
            services.participant_invite(
                actor=actor, meeting=meeting, user=row.user, organisation=row.organisation,
                role=row.role, mode=row.mode, request=request,
            )  # fmt: skip
        duration = int((held.ends_at - held.starts_at).total_seconds() // 60)
        services.time_options_set(
            actor=actor, meeting=meeting, options=[held.starts_at], request=request
        )
        services.meeting_schedule(
            actor=actor, meeting=meeting, starts_at=held.starts_at,
            duration_minutes=duration, location=held.location, request=request,
        )  # fmt: skip
        services.attendance_record(
            actor=actor,
            meeting=meeting,
            actual_start=held.starts_at,
            actual_end=held.ends_at,
            **_attendance(meeting, held),
        )
        services.meeting_mark_held(
            actor=actor,
            meeting=meeting,
            actual_start=held.starts_at,
            actual_end=held.ends_at,
            request=request,
        )
        for row in held.decisions:
            decision = services.decision_save(
                actor=actor, meeting=meeting, organisation=row.organisation,
                category=row.category, description=row.description,
                responsible=row.responsible, due_date=row.due_date,
                person_answer=row.person_answer, request=request,
            )  # fmt: skip
            if row.status:
                followup_services.decision_status_report(
                    actor=actor, decision=decision, status=row.status,
                    date=row.status_date or timezone.localdate(held.ends_at),
                    note=row.status_note, request=request,
                )  # fmt: skip
        meeting = Meeting.objects.select_for_update().get(pk=meeting.pk)
        meeting.registered_by = actor
        meeting.registered_at = registration.at
        meeting.save(update_fields=["registered_by", "registered_at", "updated_at"])
        audit.record_change(
            user=actor,
            obj=meeting,
            action="register",
            before={},
            after={"registered_afterwards": True, "registered_at": registration.at.isoformat()},
            person=held.person,
        )
        return meeting


def _attendance(meeting: Meeting, held: HeldMeeting) -> dict:
    """The attendance and absences of `held`, keyed by the participants just created."""
    rows = {s.user.pk: s for s in held.staff}
    relatives = {r.relative.pk: r for r in held.relatives}
    attendance, absences = {}, {}
    for p in meeting.participants.filter(removed_at__isnull=True):
        if p.kind == Participant.Kind.PERSON:
            attendance[p.pk] = (held.person_attended, Participant.Mode.IN_PERSON)
            continue
        if p.kind == Participant.Kind.RELATIVE:
            row = relatives.get(p.relative_id)
            attended, mode = (row.attended if row else False), Participant.Mode.IN_PERSON
        else:
            row = rows.get(p.user_id)
            if row is None and p.is_convener:
                # The convener not listed among the staff: she convened, and took part.
                attendance[p.pk] = (True, Participant.Mode.IN_PERSON)
                continue
            attended, mode = (row.attended, row.mode) if row else (False, p.mode)
        attendance[p.pk] = (attended, mode)
        if row is not None and not attended:
            absences[p.pk] = (row.absence_reason, row.absence_note)
    return {"attendance": attendance, "absences": absences}
