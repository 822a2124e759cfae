"""Everything that changes a meeting. Each service locks the meeting row, checks the rule in
`permissions.PERMISSIONS`, changes state only through `_transition`, and records who did what
(StateChange, ChangeRecord, AccessLog) in the same transaction.
"""

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from participants import audit
from participants.models import (
    AccessLog,
    CareTeamEntry,
    Membership,
    Organisation,
    Person,
    Relative,
    Role,
    User,
)
from participants.selectors import CARE_ROLES, active_memberships, get_person_for_user
from vom.errors import DomainError

from . import afterwards, notifications
from .choices import (
    PREPARATION_BY_ROLE,
    STANDARD_ROLES_FULL,
    STANDARD_ROLES_SMALL,
    AbsenceReason,
    AgendaItem,
    MeetingKind,
    PersonAnswer,
)
from .models import (
    AgendaNote,
    Agreement,
    Consent,
    Contribution,
    Decision,
    DecisionConfirmation,
    Meeting,
    MeetingReason,
    Participant,
    PreparationStep,
    PrivateTopic,
    StateChange,
    TimeOption,
    TimeVote,
)
from .permissions import MeetingContext, require
from .summary_services import summary_changed

S = Meeting.State
MAX_TIME_OPTIONS = 3

# Allowed transitions; anything else is refused whatever the caller's rights.
TRANSITIONS: dict[str, set[str]] = {
    S.INITIATED: {S.CONSENT, S.DECLINED, S.CANCELLED},
    S.CONSENT: {S.CONVENING, S.DECLINED, S.CANCELLED},
    S.CONVENING: {S.SCHEDULED, S.DECLINED, S.CANCELLED},
    S.SCHEDULED: {S.HELD, S.DECLINED, S.CANCELLED},
    S.HELD: {S.CLOSED},
    S.CLOSED: set(),
    S.DECLINED: set(),
    S.CANCELLED: set(),
}

MEETING_FIELDS = [
    "state", "kind", "urgency", "reason_text", "raised_by", "raised_by_detail", "shared",
    "convener", "starts_at", "duration_minutes", "location", "actual_start", "actual_end",
    "cancel_reason",
]  # fmt: skip
CONSENT_FIELDS = ["wants_meeting", "share_information", "how", "representative_name", "given_at"]
DECISION_FIELDS = [
    "organisation", "category", "description", "responsible", "due_date", "person_answer",
]  # fmt: skip


def _lock(meeting: Meeting) -> Meeting:
    return (
        Meeting.objects.select_for_update(of=("self",))
        .select_related("person", "convener")
        .get(pk=meeting.pk)
    )


def _transition(meeting: Meeting, to_state: str, *, actor, note: str = "") -> None:
    if to_state not in TRANSITIONS[meeting.state]:
        raise DomainError(
            _("The meeting cannot go from “%(from)s” to “%(to)s”.")
            % {"from": meeting.get_state_display(), "to": S(to_state).label}
        )
    if afterwards.current() is not None:
        note = note or _("Registered afterwards")
    StateChange.objects.create(
        meeting=meeting, from_state=meeting.state, to_state=to_state, by=actor, note=note
    )
    meeting.state = to_state
    if to_state in Meeting.ENDED_STATES:
        meeting.ended_at = timezone.now()


def _changed(
    meeting: Meeting, *, actor, before: dict, request=None, action="update", summary=True
) -> None:
    """Save a changed meeting with its history. `summary`: whether what the shared summary
    shows changed (a new version for its readers); closing the meeting, say, does not."""
    if summary:
        meeting.content_version += 1
    meeting.save()
    if summary:
        summary_changed(meeting)
    audit.record_change(
        user=actor,
        obj=meeting,
        action=action,
        before=before,
        after=audit.snapshot(meeting, MEETING_FIELDS),
        person=meeting.person,
    )
    audit.log_access(
        request, user=actor, person=meeting.person, action=AccessLog.Action.UPDATE, obj=meeting
    )


def _context(actor, meeting: Meeting) -> MeetingContext:
    return MeetingContext.build(actor, meeting)


# --- 1. Initiative ---


def meeting_initiate(
    *,
    actor: User,
    person: Person,
    organisation: Organisation,
    reasons: Iterable[str],
    reason_text: str,
    raised_by: str,
    raised_by_detail: str = "",
    urgency: str,
    kind: str,
    previous_meeting: Meeting | None = None,
    consent: "ConsentAnswer | None" = None,
    initiated_by: User | None = None,
    initiated_at: dt.datetime | None = None,
    request=None,
) -> Meeting:
    """Any staff member in the person's care team proposes a meeting. With `consent`, the
    one who proposes it has asked the person herself and records the answer in the same
    step; a home health care nurse who does so convenes the meeting herself.

    `initiated_by` and `initiated_at` (who took the initiative, and when) only for a
    meeting registered afterwards (`meetings.afterwards`); the registrar is the actor."""
    registration = afterwards.current()
    if registration is None and (initiated_by is not None or initiated_at is not None):
        raise DomainError(_("Only a meeting registered afterwards has an earlier initiative."))
    initiator = initiated_by or actor
    membership = next(
        (
            m
            for m in active_memberships(initiator)
            if m.organisation_id == organisation.pk and m.role in CARE_ROLES
        ),
        None,
    )
    if registration is None:
        get_person_for_user(actor, person.pk)  # raises 404 for anyone outside the care team
    if (
        membership is None
        or not person.care_team.current().filter(organisation=organisation).exists()
    ):
        raise DomainError(
            _("Your organisation must be in the person's care team to propose a meeting.")
            if registration is None
            else _(
                "Who took the initiative must work in a care role for an organisation in "
                "the person's care team."
            ),
            field="organisation",
        )
    reasons = sorted(set(reasons))
    if not reasons and not reason_text.strip():
        raise DomainError(_("Give at least one reason."), field="reasons")
    with transaction.atomic():
        # A double submit (second click, two tabs) proposes one meeting: the person's row
        # serialises concurrent proposals, and the same proposal just made is returned.
        Person.objects.select_for_update().filter(pk=person.pk).first()
        for recent in Meeting.objects.filter(
            person=person, initiated_by=actor, state=S.INITIATED, reason_text=reason_text,
            raised_by=raised_by, urgency=urgency, kind=kind,
            initiated_at__gte=timezone.now() - dt.timedelta(minutes=10),
        ).prefetch_related("reasons"):  # fmt: skip
            if sorted(r.code for r in recent.reasons.all()) == reasons:
                return recent
        meeting = Meeting.objects.create(
            person=person,
            kind=kind,
            urgency=urgency,
            reason_text=reason_text,
            raised_by=raised_by,
            raised_by_detail=raised_by_detail,
            initiated_by=initiator,
            initiator_organisation=organisation,
            initiator_role=membership.role,
            previous_meeting=previous_meeting,
            initiated_at=initiated_at or timezone.now(),
        )
        MeetingReason.objects.bulk_create(
            [MeetingReason(meeting=meeting, code=code) for code in reasons]
        )
        StateChange.objects.create(
            meeting=meeting, from_state="", to_state=S.INITIATED, by=actor,
            note=_("Registered afterwards") if registration is not None else "",
        )  # fmt: skip
        audit.record_and_log(
            request,
            user=actor,
            obj=meeting,
            action="create",
            before={},
            after=audit.snapshot(meeting, MEETING_FIELDS) | {"reasons": reasons},
            person=person,
        )
        if consent is not None:
            meeting = _lock(meeting)
            _record_consent(actor, meeting, consent, request=request)
            if (
                meeting.state == S.CONSENT
                and membership.role == Role.NURSE
                and (organisation.kind == Organisation.Kind.HOME_HEALTH_CARE)
            ):
                _claim(actor, meeting, request=request)
        return meeting


# --- 2. Consent ---


@dataclass(frozen=True)
class ConsentAnswer:
    """What the person answered to (a), (b) and (c), as the one who asked records it."""

    wants_meeting: bool
    share_information: bool
    relatives: tuple[Relative, ...]
    how: str
    given_at: dt.datetime
    representative_name: str = ""


def _check_consent_answer(meeting: Meeting, answer: ConsentAnswer) -> None:
    if answer.given_at > timezone.now() + dt.timedelta(minutes=5):
        raise DomainError(_("Consent cannot be given in the future."), field="given_at")
    if answer.how == Consent.How.REPRESENTATIVE and not answer.representative_name.strip():
        raise DomainError(
            _("Name the representative who gave consent."), field="representative_name"
        )
    if any(r.person_id != meeting.person_id for r in answer.relatives):
        raise DomainError(_("Choose among the person's own relatives."), field="relatives")


def consent_record(
    *,
    actor: User,
    meeting: Meeting,
    wants_meeting: bool,
    share_information: bool,
    relatives: Iterable[Relative],
    how: str,
    representative_name: str = "",
    given_at: dt.datetime,
    request=None,
) -> Consent:
    """Record the person's answer to (a), (b) and (c), or a change of it. Any care-team
    member who asked the person records it; changing a consent someone else recorded is
    for the convener and the one who recorded it (`consent.change`). Saying no to sharing,
    or leaving a relative out, after having said yes withdraws that part at once."""
    answer = ConsentAnswer(
        wants_meeting=wants_meeting,
        share_information=share_information,
        relatives=tuple(relatives),
        how=how,
        given_at=given_at,
        representative_name=representative_name,
    )
    with transaction.atomic():
        meeting = _lock(meeting)
        return _record_consent(actor, meeting, answer, request=request)


def _record_consent(actor, meeting: Meeting, answer: ConsentAnswer, *, request) -> Consent:
    """`consent_record` on a locked meeting."""
    _check_consent_answer(meeting, answer)
    ctx = _context(actor, meeting)
    previous = current_consent(meeting)
    require(ctx, "consent.change" if previous is not None else "consent.record")
    before = audit.snapshot(meeting, MEETING_FIELDS)
    consent = Consent.objects.create(
        meeting=meeting,
        wants_meeting=answer.wants_meeting,
        share_information=answer.share_information,
        how=answer.how,
        representative_name=answer.representative_name,
        given_at=answer.given_at,
        recorded_by=actor,
    )
    consent.relatives.set(answer.relatives)
    audit.record_change(
        user=actor, obj=consent, action="create",
        before=_consent_snapshot(previous) if previous else {},
        after=_consent_snapshot(consent), person=meeting.person,
    )  # fmt: skip
    if not answer.wants_meeting:
        _stop(meeting, actor=actor, note=_("The person does not want a meeting."))
    else:
        if meeting.state == S.INITIATED:
            _transition(meeting, S.CONSENT, actor=actor)
        if meeting.shared and not answer.share_information:
            _end_sharing(meeting, actor=actor)
        elif answer.share_information:
            meeting.shared = True
        registration = afterwards.current()
        meeting.consent_at = meeting.consent_at or (
            answer.given_at if registration is not None else timezone.now()
        )
        if meeting.state in (S.CONVENING, S.SCHEDULED):
            _sync_relatives(meeting, list(answer.relatives), actor=actor)
        if meeting.state == S.CONSENT and meeting.convener_id is None:
            _ask_for_convener(meeting, actor=actor)
    _changed(meeting, actor=actor, before=before, request=request)
    audit.log_access(
        request, user=actor, person=meeting.person, action=AccessLog.Action.CONSENT, obj=consent
    )
    return consent


def current_consent(meeting: Meeting) -> Consent | None:
    return meeting.consents.filter(withdrawn_at__isnull=True).prefetch_related("relatives").first()


def _consent_snapshot(consent: Consent) -> dict:
    return audit.snapshot(consent, CONSENT_FIELDS) | {
        "relatives": ", ".join(sorted(r.name for r in consent.relatives.all()))
    }


def _end_sharing(meeting: Meeting, *, actor) -> None:
    """Other organisations and relatives lose access now and nothing more goes out: every
    message not yet sent (invitations, reminders, follow-up notices) is cancelled, and staff
    of organisations other than the convener's and the initiator's are told they are no
    longer invited. From now on each organisation sees only its own parts (the history is
    kept)."""
    if meeting.shared:
        meeting.sharing_ended_at = timezone.now()
    meeting.shared = False
    notifications.cancel_pending(meeting)
    if meeting.state not in (S.CONVENING, S.SCHEDULED):
        return
    own_side = {meeting.initiator_organisation_id}
    if meeting.convener_id:
        own_side |= {p.organisation_id for p in meeting.participants.filter(is_convener=True)}
    for participant in meeting.participants.filter(removed_at__isnull=True).select_related(
        "user", "relative"
    ):
        other_org = participant.kind == Participant.Kind.STAFF and (
            participant.organisation_id not in own_side
        )
        if not (other_org or participant.kind == Participant.Kind.RELATIVE):
            continue
        participant.removed_at = timezone.now()
        participant.save(update_fields=["removed_at"])
        participant.meeting = meeting
        _record_participant(actor, participant, before={"removed": False}, after={"removed": True})
        if meeting.state == S.SCHEDULED:
            notifications.uninvited(participant)


def _stop(meeting: Meeting, *, actor, note: str) -> None:
    """The person no longer wants the meeting or withdraws consent: a meeting not yet held
    stops (everyone invited is told it will not take place), a held one is closed, an
    ended one stays as it is; in every state sharing ends."""
    invitees = _invitees(meeting) if meeting.state in (S.CONVENING, S.SCHEDULED) else []
    if meeting.state in Meeting.OPEN_STATES:
        _transition(meeting, S.DECLINED, actor=actor, note=note)
    elif meeting.state == S.HELD:
        _transition(meeting, S.CLOSED, actor=actor, note=note)
        meeting.closed_at = timezone.now()
    elif note:
        # An ended meeting keeps its state; the history says what happened to it.
        StateChange.objects.create(
            meeting=meeting, from_state=meeting.state, to_state=meeting.state, by=actor, note=note
        )
    _end_sharing(meeting, actor=actor)
    if invitees:
        meeting.ical_sequence += 1
        notifications.cancelled(meeting, invitees)


def consent_withdraw(*, actor: User, meeting: Meeting, note: str = "", request=None) -> Meeting:
    """The person withdraws consent, in any state: sharing and the relatives' access stop at
    once, what is pending is cancelled, a meeting not yet held stops and a held one is
    closed. A closed meeting stays closed; each organisation keeps its own parts. The
    history is kept."""
    with transaction.atomic():
        meeting = _lock(meeting)
        require(_context(actor, meeting), "consent.withdraw")
        before = audit.snapshot(meeting, MEETING_FIELDS)
        withdrawn = list(Consent.objects.filter(meeting=meeting, withdrawn_at__isnull=True))
        Consent.objects.filter(pk__in=[c.pk for c in withdrawn]).update(
            withdrawn_at=timezone.now(), withdrawn_by=actor, withdrawal_note=note
        )
        for consent in withdrawn:
            audit.record_change(
                user=actor, obj=consent, action="withdraw", before={"withdrawn": False},
                after={"withdrawn": True, "withdrawal_note": note}, person=meeting.person,
            )  # fmt: skip
        _stop(
            meeting,
            actor=actor,
            note=_("Consent withdrawn.") + (f" {note}" if note else ""),
        )
        _changed(meeting, actor=actor, before=before, request=request, summary=False)
        audit.log_access(
            request, user=actor, person=meeting.person, action=AccessLog.Action.CONSENT, obj=meeting
        )
        return meeting


def withdrawal_effects(meeting: Meeting) -> dict:
    """What withdrawing consent would do now, for the sentence the user confirms."""
    pending = meeting.outbox.filter(status=notifications.OutboxMessage.Status.PENDING).count()
    others = sorted(
        {
            p.organisation.name
            for p in meeting.participants.filter(
                removed_at__isnull=True, organisation__isnull=False
            ).select_related("organisation")
        }
        | {meeting.initiator_organisation.name}
    )
    consent = current_consent(meeting)
    return {
        "stops": meeting.state in Meeting.OPEN_STATES,
        "closes": meeting.state == S.HELD,
        "pending": pending,
        "organisations": others,
        "relatives": [r.name for r in consent.relatives.all()] if consent else [],
    }


def _ask_for_convener(meeting: Meeting, *, actor) -> None:
    """Seed step 3: the person has consented and no one convenes yet. The home health care
    organisation serving the person is asked for a convener: its nurses see the meeting in
    their worklists, and one message goes to its function mailbox (or, without one, to each
    of its nurses), unless the one who recorded the consent is one of them and convenes."""
    if meeting.convening_organisation_id is not None:
        return
    team = (
        meeting.person.care_team.current()
        .filter(organisation__kind=Organisation.Kind.HOME_HEALTH_CARE, organisation__is_active=True)
        .select_related("organisation")
        .order_by("member_id", "pk")  # an organisation with a named member first
    )
    entry = next(iter(team), None)
    if entry is None:
        return
    organisation = entry.organisation
    meeting.convening_organisation = organisation
    meeting.save(update_fields=["convening_organisation"])
    if any(
        m.organisation_id == organisation.pk and m.role in (Role.NURSE, Role.PHYSICIAN)
        for m in active_memberships(actor)
    ):
        return  # the one who asked the person convenes herself
    notifications.convener_needed(meeting, organisation)


# --- 3. Convening ---


def convening_start(
    *, actor: User, meeting: Meeting, convener: User | None = None, request=None
) -> Meeting:
    """A home health care nurse (or physician) takes on convening the meeting ("I will
    convene"); it leaves the other nurses' worklists. `convener`: who convened, only for a
    meeting registered afterwards (the actor is then the registrar)."""
    if convener is not None and afterwards.current() is None:
        raise DomainError(_("Only the convener herself can take on convening."))
    with transaction.atomic():
        meeting = _lock(meeting)
        _claim(actor, meeting, request=request, convener=convener)
        return meeting


def _claim(actor, meeting: Meeting, *, request, convener: User | None = None) -> None:
    """`convening_start` on a locked meeting."""
    convener = convener or actor
    if meeting.state == S.CONVENING and meeting.convener_id is not None:
        if meeting.convener_id == actor.pk:
            return  # a second click
        raise DomainError(
            _("%(name)s already convenes this meeting.")
            % {"name": meeting.convener.get_full_name() or meeting.convener.username}
        )
    ctx = _context(actor, meeting)
    require(ctx, "convening.start")
    before = audit.snapshot(meeting, MEETING_FIELDS)
    clinician = [
        m
        for m in active_memberships(convener)
        if m.organisation.kind == Organisation.Kind.HOME_HEALTH_CARE
        and m.role in (Role.NURSE, Role.PHYSICIAN)
    ]
    if not clinician:
        raise DomainError(
            _("The convener is a nurse or physician in home health care."), field="convener"
        )
    _transition(meeting, S.CONVENING, actor=actor)
    meeting.convener = convener
    # The capacity in which she convenes: the organisation asked for a convener, else one
    # serving the person.
    membership = next(
        (m for m in clinician if m.organisation_id == meeting.convening_organisation_id),
        next((m for m in clinician if m.organisation_id in ctx.team_org_ids), clinician[0]),
    )
    convening = Participant.objects.create(
        meeting=meeting,
        user=convener,
        organisation=membership.organisation,
        role=membership.role,
        is_convener=True,
        invited_by=actor,
        response=Participant.Response.ACCEPTED,
        responded_at=timezone.now(),
    )
    _record_participant(actor, convening, before={}, after=_participant_snapshot(convening))
    consent = current_consent(meeting)
    _sync_relatives(meeting, list(consent.relatives.all()) if consent else [], actor=actor)
    Participant.objects.get_or_create(
        meeting=meeting, kind=Participant.Kind.PERSON, removed_at=None,
        defaults={"invited_by": actor, "response": Participant.Response.ACCEPTED},
    )  # fmt: skip
    _changed(meeting, actor=actor, before=before, request=request)


@dataclass(frozen=True)
class Invitee:
    user: User
    organisation: Organisation
    role: str
    mode: str = Participant.Mode.IN_PERSON


@dataclass
class ConveneResult:
    """What one submit of the convening form did, for a message that says exactly that."""

    invited: list[Participant]
    messaged: list[Participant]  # an invitation was written to their address now
    unreachable: list[Participant]  # invited, but no email address to send it to
    scheduled: bool


def _invite_all(actor, meeting: Meeting, invitees: list[Invitee], *, request) -> list:
    return [
        participant_invite(
            actor=actor, meeting=meeting, user=i.user, organisation=i.organisation, role=i.role,
            mode=i.mode, request=request,
        )
        for i in invitees
    ]  # fmt: skip


def _outbox_mark() -> int:
    """The newest outbox row now; with `_invited_since`, who was written an invitation by
    this step (the meeting is locked, so no one else writes its rows meanwhile)."""
    return (
        notifications.OutboxMessage.objects.order_by("-pk").values_list("pk", flat=True).first()
        or 0
    )


def _invited_since(meeting: Meeting, mark: int) -> set[int]:
    return set(
        notifications.OutboxMessage.objects.filter(
            meeting=meeting, kind=notifications.Kind.INVITATION, pk__gt=mark
        ).values_list("participant_id", flat=True)
    )


def meeting_convene(
    *,
    actor: User,
    meeting: Meeting,
    invitees: Iterable[Invitee],
    times: list[dt.datetime],
    note: str = "",
    duration_minutes: int | None = None,
    location: str | None = None,
    request=None,
) -> ConveneResult:
    """The convening form in one submit, all or nothing: take on convening if no one does
    yet, invite those ticked, record the time(s) agreed with the person and send the
    invitations. One time fixes the meeting (everyone gets a calendar invitation); two or
    three are sent as proposals for the invitees to mark."""
    invitees = list(invitees)
    times = sorted(set(times))
    if not 1 <= len(times) <= MAX_TIME_OPTIONS:
        raise DomainError(_("Give one, two or three times."), field="option_1")
    with transaction.atomic():
        locked = _lock(meeting)
        if locked.state == S.CONSENT or locked.convener_id is None:
            _claim(actor, locked, request=request)
        require(_context(actor, locked), "invitations.change")
        if locked.state != S.CONVENING:
            raise DomainError(
                _("This cannot be done while the meeting is “%(state)s”.")
                % {"state": locked.get_state_display()}
            )
        mark = _outbox_mark()
        invited = _invite_all(actor, locked, invitees, request=request)
        current = sorted(o.starts_at for o in locked.time_options.all())
        if current != times or note != locked.time_agreement_note:
            time_options_set(actor=actor, meeting=locked, options=times, note=note, request=request)
        locked.refresh_from_db()
        scheduled = len(times) == 1
        if scheduled:
            meeting_schedule(
                actor=actor,
                meeting=locked,
                starts_at=times[0],
                duration_minutes=duration_minutes or locked.duration_minutes,
                location=locked.location if location is None else location,
                request=request,
            )
        else:
            invitations_send(actor=actor, meeting=locked, request=request)
        messaged_ids = _invited_since(locked, mark)
        everyone = _invitees(Meeting.objects.get(pk=locked.pk))
        return ConveneResult(
            invited=invited,
            messaged=[p for p in everyone if p.pk in messaged_ids],
            unreachable=[p for p in everyone if not notifications.address_of(p)],
            scheduled=scheduled,
        )


def _sync_relatives(meeting: Meeting, relatives: list[Relative], *, actor) -> None:
    chosen = {r.pk for r in relatives}
    current = {
        p.relative_id: p
        for p in meeting.participants.filter(
            kind=Participant.Kind.RELATIVE, removed_at__isnull=True
        )
    }
    for relative in relatives:
        if relative.pk not in current:
            participant = Participant.objects.create(
                meeting=meeting,
                kind=Participant.Kind.RELATIVE,
                relative=relative,
                invited_by=actor,
            )
            _record_participant(actor, participant, before={}, after={"relative": relative.name})
            if meeting.state == S.SCHEDULED:
                notifications.invitation(participant)
    for relative_id, participant in current.items():
        if relative_id not in chosen:
            participant.removed_at = timezone.now()
            participant.save(update_fields=["removed_at"])
            _record_participant(
                actor, participant, before={"removed": False}, after={"removed": True}
            )
            if meeting.state == S.SCHEDULED:
                notifications.uninvited(participant)


PARTICIPANT_FIELDS = ["user", "organisation", "role", "mode", "response"]


def _participant_snapshot(participant: Participant) -> dict:
    return audit.snapshot(participant, PARTICIPANT_FIELDS)


def _record_participant(actor, participant: Participant, *, before: dict, after: dict) -> None:
    audit.record_change(
        user=actor,
        obj=participant,
        action="create" if not before else "update",
        before=before,
        after=after,
        person=participant.meeting.person,
    )


def proposed_invitees(meeting: Meeting, *, exclude_user=None) -> list[CareTeamEntry]:
    """The care team's physician (full meetings), assessor, coordinator and contact person
    not yet invited (and not `exclude_user`, the convener)."""
    roles = STANDARD_ROLES_FULL if meeting.kind == MeetingKind.FULL else STANDARD_ROLES_SMALL
    already = set(
        meeting.participants.filter(removed_at__isnull=True, user__isnull=False).values_list(
            "user_id", flat=True
        )
    )
    entries = (
        meeting.person.care_team.current()
        .filter(member__isnull=False, role__in=roles, member__is_active=True)
        .select_related("member", "organisation")
        .order_by("role", "pk")
    )
    if exclude_user is not None:
        already.add(exclude_user.pk)
    seen = set()
    proposed = []
    for entry in entries:
        if entry.member_id not in already and entry.member_id not in seen:
            seen.add(entry.member_id)
            proposed.append(entry)
    return proposed


def missing_standard_roles(meeting: Meeting) -> list[str]:
    roles = STANDARD_ROLES_FULL if meeting.kind == MeetingKind.FULL else STANDARD_ROLES_SMALL
    present = set(
        meeting.participants.filter(removed_at__isnull=True, kind=Participant.Kind.STAFF)
        .exclude(response=Participant.Response.DECLINED)
        .values_list("role", flat=True)
    )
    return [role for role in roles if role not in present]


def participant_invite(
    *,
    actor: User,
    meeting: Meeting,
    user: User,
    organisation: Organisation,
    role: str,
    mode: str = Participant.Mode.IN_PERSON,
    request=None,
) -> Participant:
    if (
        not Membership.objects.active()
        .filter(user=user, organisation=organisation, role=role)
        .exists()
    ):
        raise DomainError(
            _("This person does not have that role in that organisation."), field="user"
        )
    with transaction.atomic():
        meeting = _lock(meeting)
        require(_context(actor, meeting), "invitations.change")
        own_side = organisation.kind == Organisation.Kind.HOME_HEALTH_CARE or (
            organisation.pk == meeting.initiator_organisation_id
        )
        if not meeting.shared and not own_side:
            raise DomainError(
                _("Other organisations can be invited only when the person has agreed to sharing."),
                field="user",
            )
        existing = meeting.participants.filter(user=user, removed_at__isnull=True).first()
        if existing is not None:
            return existing  # double submit: one invitation
        try:
            with transaction.atomic():
                participant = Participant.objects.create(
                    meeting=meeting,
                    user=user,
                    organisation=organisation,
                    role=role,
                    mode=mode,
                    invited_by=actor,
                )
        except IntegrityError:
            return meeting.participants.get(user=user, removed_at__isnull=True)
        _add_preparation_steps(participant)
        if meeting.state == S.SCHEDULED:
            notifications.invitation(participant)
        audit.record_change(
            user=actor,
            obj=participant,
            action="create",
            before={},
            after={
                "user": str(user),
                "organisation": str(organisation),
                "role": role,
                "mode": mode,
            },
            person=meeting.person,
        )
        audit.log_access(
            request,
            user=actor,
            person=meeting.person,
            action=AccessLog.Action.DISCLOSE,
            obj=participant,
        )
        return participant


def invitees_add(
    *, actor: User, meeting: Meeting, invitees: Iterable[Invitee], request=None
) -> ConveneResult:
    """Invite more people once the time is fixed: each gets the invitation at once."""
    invitees = list(invitees)
    with transaction.atomic():
        locked = _lock(meeting)
        mark = _outbox_mark()
        invited = _invite_all(actor, locked, invitees, request=request)
        messaged_ids = _invited_since(locked, mark)
        return ConveneResult(
            invited=invited,
            messaged=[p for p in invited if p.pk in messaged_ids],
            unreachable=[p for p in invited if not notifications.address_of(p)],
            scheduled=locked.state == S.SCHEDULED,
        )


def _add_preparation_steps(participant: Participant) -> None:
    PreparationStep.objects.bulk_create(
        [
            PreparationStep(participant=participant, task=task)
            for task in PREPARATION_BY_ROLE.get(participant.role, [])
        ],
        ignore_conflicts=True,
    )


def participant_remove(*, actor: User, participant: Participant, request=None) -> Participant:
    with transaction.atomic():
        meeting = _lock(participant.meeting)
        require(_context(actor, meeting), "invitations.change")
        participant = Participant.objects.select_for_update().get(
            pk=participant.pk, meeting=meeting
        )
        if participant.removed_at is not None:
            return participant
        if participant.is_convener:
            raise DomainError(_("The convener cannot be removed."))
        participant.removed_at = timezone.now()
        participant.save(update_fields=["removed_at"])
        if meeting.state == S.SCHEDULED:
            notifications.uninvited(participant)
        else:
            notifications.cancel_pending(meeting, participant=participant)
        audit.record_change(
            user=actor,
            obj=participant,
            action="update",
            before={"removed": False},
            after={"removed": True},
            person=meeting.person,
        )
        return participant


def participant_set_mode(*, actor: User, participant: Participant, mode: str) -> Participant:
    with transaction.atomic():
        meeting = _lock(participant.meeting)
        ctx = _context(actor, meeting)
        if not (ctx.is_convener or participant.user_id == actor.pk):
            raise DomainError(_("Only the convener or the invitee can change this."))
        participant = Participant.objects.select_for_update().get(pk=participant.pk)
        before = {"mode": participant.mode}
        participant.mode = mode
        participant.save(update_fields=["mode"])
        participant.meeting = meeting
        if before["mode"] != mode:
            _record_participant(actor, participant, before=before, after={"mode": mode})
        return participant


def time_options_set(
    *, actor: User, meeting: Meeting, options: list[dt.datetime], note: str = "", request=None
) -> list[TimeOption]:
    """Record the time(s) agreed as possible with the person and relatives (1 to 3)."""
    options = sorted(set(options))
    if not 1 <= len(options) <= MAX_TIME_OPTIONS:
        raise DomainError(_("Give one, two or three times."), field="option_1")
    now = timezone.now()
    if afterwards.current() is None and any(option <= now for option in options):
        raise DomainError(_("The time has already passed."), field="option_1")
    with transaction.atomic():
        meeting = _lock(meeting)
        require(_context(actor, meeting), "time.agree")
        before = audit.snapshot(meeting, MEETING_FIELDS)
        before_times = {
            "time_options": [o.starts_at.isoformat() for o in meeting.time_options.all()],
            "time_agreement_note": meeting.time_agreement_note,
        }
        meeting.time_options.all().delete()
        created = [TimeOption.objects.create(meeting=meeting, starts_at=o) for o in options]
        meeting.time_agreed_with_person = True
        meeting.time_agreement_note = note
        audit.record_change(
            user=actor, obj=meeting, action="update", before=before_times,
            after={"time_options": [o.isoformat() for o in options], "time_agreement_note": note},
            person=meeting.person,
        )  # fmt: skip
        _changed(meeting, actor=actor, before=before, request=request)
        return created


def time_vote(
    *,
    actor: User | None,
    meeting: Meeting,
    suits: dict[int, bool],
    participant: Participant | None = None,
) -> None:
    """The invitee marks which of the proposed times suit them: signed in (`actor`), or
    through the signed link in the invitation (`participant`, no actor)."""
    with transaction.atomic():
        meeting = _lock(meeting)
        if actor is not None:
            ctx = _context(actor, meeting)
            require(ctx, "participation.respond")
            participant = ctx.participant
        elif participant is None or participant.meeting_id != meeting.pk:
            raise DomainError(_("You are no longer invited to this meeting."))
        elif meeting.state != S.CONVENING:
            raise DomainError(_("The time is already fixed."))
        options = {o.pk: o for o in meeting.time_options.all()}
        for option_id, value in suits.items():
            if option_id not in options:
                raise DomainError(_("That time is no longer proposed."))
            TimeVote.objects.update_or_create(
                option=options[option_id], participant=participant, defaults={"suits": value}
            )


def invitations_send(*, actor: User, meeting: Meeting, request=None) -> int:
    """Send the invitations (with the proposed times, if more than one). Returns how many."""
    with transaction.atomic():
        meeting = _lock(meeting)
        require(_context(actor, meeting), "invitations.change")
        if not meeting.time_agreed_with_person:
            raise DomainError(_("First agree a time with the person and relatives."))
        sent = 0
        for participant in _invitees(meeting):
            before = notifications.OutboxMessage.objects.filter(
                idempotency_key=notifications.invitation_key(participant)
            ).exists()
            # Counted only when a message was written: someone without an address is not
            # "sent" anything (the meeting page lists them).
            sent += 0 if before else int(notifications.invitation(participant) is not None)
        return sent


def meeting_schedule(
    *,
    actor: User,
    meeting: Meeting,
    starts_at: dt.datetime,
    duration_minutes: int = 60,
    location: str = "",
    request=None,
) -> Meeting:
    if afterwards.current() is None and starts_at <= timezone.now():
        raise DomainError(_("The time has already passed."), field="starts_at")
    with transaction.atomic():
        meeting = _lock(meeting)
        require(_context(actor, meeting), "meeting.schedule")
        if not meeting.time_agreed_with_person:
            raise DomainError(_("First agree a time with the person and relatives."))
        before = audit.snapshot(meeting, MEETING_FIELDS)
        _transition(meeting, S.SCHEDULED, actor=actor)
        meeting.starts_at = starts_at
        meeting.duration_minutes = duration_minutes
        meeting.location = location
        meeting.scheduled_at = timezone.now()
        meeting.save()
        # Invitations already sent with proposed times are superseded by the fixed time.
        notifications.cancel_pending(meeting)
        for participant in _invitees(meeting):
            notifications.invitation(participant)
        _changed(meeting, actor=actor, before=before, request=request)
        return meeting


def _invitees(meeting: Meeting) -> list[Participant]:
    invitees = list(
        meeting.participants.filter(removed_at__isnull=True)
        .exclude(kind=Participant.Kind.PERSON)
        .exclude(is_convener=True)
        .select_related("user", "relative")
    )
    for participant in invitees:
        participant.meeting = meeting  # the in-memory row, with any unsaved new time
    return invitees


def meeting_reschedule(
    *,
    actor: User,
    meeting: Meeting,
    starts_at: dt.datetime,
    duration_minutes: int | None = None,
    location: str | None = None,
    request=None,
) -> Meeting:
    if starts_at <= timezone.now():
        raise DomainError(_("The time has already passed."), field="starts_at")
    with transaction.atomic():
        meeting = _lock(meeting)
        require(_context(actor, meeting), "meeting.reschedule")
        before = audit.snapshot(meeting, MEETING_FIELDS)
        if (
            starts_at == meeting.starts_at
            and (duration_minutes is None or duration_minutes == meeting.duration_minutes)
            and (location is None or location == meeting.location)
        ):
            return meeting  # nothing changed: no new messages
        meeting.starts_at = starts_at
        if duration_minutes is not None:
            meeting.duration_minutes = duration_minutes
        if location is not None:
            meeting.location = location
        meeting.ical_sequence += 1
        invitees = _invitees(meeting)
        # A new time needs a new answer from everyone.
        Participant.objects.filter(pk__in=[p.pk for p in invitees]).update(
            response=Participant.Response.NEEDS_ACTION, responded_at=None
        )
        meeting.save()
        notifications.rescheduled(meeting, invitees)
        StateChange.objects.create(
            meeting=meeting,
            from_state=S.SCHEDULED,
            to_state=S.SCHEDULED,
            by=actor,
            note=_("New time: %(time)s")
            % {"time": timezone.localtime(starts_at).strftime("%Y-%m-%d %H:%M")},
        )
        _changed(meeting, actor=actor, before=before, request=request)
        return meeting


def meeting_cancel(*, actor: User, meeting: Meeting, reason: str, request=None) -> Meeting:
    if not reason.strip():
        raise DomainError(_("Say why the meeting is cancelled."), field="reason")
    with transaction.atomic():
        meeting = _lock(meeting)
        require(_context(actor, meeting), "meeting.cancel")
        before = audit.snapshot(meeting, MEETING_FIELDS)
        was_scheduled = meeting.state in (S.CONVENING, S.SCHEDULED)
        _transition(meeting, S.CANCELLED, actor=actor, note=reason)
        meeting.cancel_reason = reason
        meeting.ical_sequence += 1
        meeting.save()
        if was_scheduled:
            notifications.cancelled(meeting, _invitees(meeting))
        else:
            notifications.cancel_pending(meeting)
        _changed(meeting, actor=actor, before=before, request=request)
        return meeting


def participation_respond(
    *, actor: User | None, participant: Participant, response: str, mode: str | None = None
) -> Participant:
    """The invitee answers (also through the signed link in the email, without login)."""
    if response not in Participant.Response.values or response == Participant.Response.NEEDS_ACTION:
        raise DomainError(_("Choose accept, decline or tentative."), field="response")
    with transaction.atomic():
        meeting = _lock(participant.meeting)
        if meeting.state not in (S.CONVENING, S.SCHEDULED):
            raise DomainError(
                _("This cannot be done while the meeting is “%(state)s”.")
                % {"state": meeting.get_state_display()}
            )
        participant = (
            Participant.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=participant.pk, meeting=meeting)
        )
        if participant.removed_at is not None:
            raise DomainError(_("You are no longer invited to this meeting."))
        if actor is not None and participant.user_id != actor.pk:
            raise DomainError(_("Only the invitee can answer."))
        changed = participant.response != response
        before = {"response": participant.response, "mode": participant.mode}
        participant.response = response
        participant.responded_at = timezone.now()
        if mode:
            participant.mode = mode
        participant.save(update_fields=["response", "responded_at", "mode"])
        notifications.cancel_pending_kind(participant, notifications.Kind.REMINDER_NO_REPLY)
        if changed and response == Participant.Response.DECLINED:
            roles = (
                STANDARD_ROLES_FULL if meeting.kind == MeetingKind.FULL else STANDARD_ROLES_SMALL
            )
            if participant.role in roles:
                participant.meeting = meeting
                notifications.role_declined(participant)
        audit.record_change(
            user=actor or participant.user,
            obj=participant,
            action="update",
            before=before,
            after={"response": response, "mode": participant.mode},
            person=meeting.person,
        )
        return participant


# --- 4. Preparation ---


def preparation_record(
    *,
    actor: User,
    meeting: Meeting,
    done_tasks: Iterable[str],
    minutes: int | None,
    note: str = "",
) -> Participant:
    done = set(done_tasks)
    if minutes is not None and not 0 <= minutes <= 24 * 60:
        raise DomainError(_("Give the minutes as a number between 0 and 1440."), field="minutes")
    with transaction.atomic():
        meeting = _lock(meeting)
        ctx = _context(actor, meeting)
        require(ctx, "preparation.record")
        participant = Participant.objects.select_for_update().get(pk=ctx.participant.pk)
        now = timezone.now()
        for step in participant.preparation_steps.all():
            is_done = step.task in done
            if is_done and step.done_at is None:
                step.done_at = now
                step.save(update_fields=["done_at"])
            elif not is_done and step.done_at is not None:
                step.done_at = None
                step.save(update_fields=["done_at"])
        before = {"preparation_minutes": participant.preparation_minutes}
        participant.preparation_minutes = minutes
        participant.save(update_fields=["preparation_minutes"])
        participant.meeting = meeting
        if before["preparation_minutes"] != minutes:
            _record_participant(
                actor, participant, before=before, after={"preparation_minutes": minutes}
            )
        return participant


def contribution_add(
    *,
    actor: User | None,
    meeting: Meeting,
    author: str,
    relative: Relative | None = None,
    what_matters: str,
    questions: str = "",
    request=None,
) -> Contribution:
    """ "What matters to you?": recorded by staff with the person, or written by a relative."""
    if not what_matters.strip() and not questions.strip():
        raise DomainError(_("Write what matters or a question."), field="what_matters")
    with transaction.atomic():
        meeting = _lock(meeting)
        # Staff recording a relative's words are checked like staff; a relative writing
        # their own (no staff membership) only needs an open, shared meeting.
        if actor is not None and (relative is None or active_memberships(actor)):
            require(_context(actor, meeting), "contribution.add")
        elif meeting.state not in (S.CONSENT, S.CONVENING, S.SCHEDULED) or not meeting.shared:
            raise DomainError(_("The meeting no longer takes contributions."))
        duplicate = meeting.contributions.filter(
            author=author, relative=relative, what_matters=what_matters, questions=questions,
            recorded_by=actor,
        ).first()  # fmt: skip
        if duplicate is not None:
            return duplicate  # a double submit records one contribution
        contribution = Contribution.objects.create(
            meeting=meeting,
            author=author,
            relative=relative,
            what_matters=what_matters,
            questions=questions,
            recorded_by=actor,
        )
        meeting.content_version += 1
        meeting.save(update_fields=["content_version", "updated_at"])
        audit.record_change(
            user=actor, obj=contribution, action="create", before={},
            after={"author": author, "relative": relative.name if relative else None,
                   "what_matters": what_matters, "questions": questions},
            person=meeting.person,
        )  # fmt: skip
        audit.log_access(
            request,
            user=actor,
            person=meeting.person,
            action=AccessLog.Action.CREATE,
            obj=contribution,
        )
        return contribution


# --- 5. The meeting ---


class NoteConflict(DomainError):
    def __init__(self, message, *, current: AgendaNote):
        super().__init__(message, field="text")
        self.current = current


def agenda_note_save(
    *, actor: User, meeting: Meeting, item: int, text: str, base_revision: int
) -> AgendaNote:
    """Save one agenda item's notes. If someone else saved since `base_revision`, refuse
    with the current text so nothing is overwritten silently."""
    if item not in AgendaItem.values:
        raise DomainError(_("Unknown agenda item."))
    with transaction.atomic():
        locked = _lock(meeting)
        require(_context(actor, locked), "notes.edit")
        note, _created = AgendaNote.objects.select_for_update().get_or_create(
            meeting=locked, item=item
        )
        if note.text == text:
            return note  # a retried save of the same text
        if note.revision != base_revision:
            raise NoteConflict(
                _("Someone else changed these notes. Your text is kept below; merge and save."),
                current=note,
            )
        before = {"text": note.text}
        note.text = text
        note.revision += 1
        note.updated_by = actor
        note.save()
        locked.content_version += 1
        locked.save(update_fields=["content_version", "updated_at"])
        summary_changed(locked)
        audit.record_change(
            user=actor, obj=note, action="update", before=before, after={"text": text},
            person=locked.person,
        )  # fmt: skip
        return note


def private_topic_add(
    *, actor: User, meeting: Meeting, organisation: Organisation, raised_by: str, text: str
) -> PrivateTopic:
    if not text.strip():
        raise DomainError(_("Describe the topic."), field="text")
    with transaction.atomic():
        meeting = _lock(meeting)
        ctx = _context(actor, meeting)
        require(ctx, "private_topic.add")
        if organisation.pk not in ctx.care_org_ids:
            raise DomainError(_("Choose your own organisation."), field="organisation")
        duplicate = PrivateTopic.objects.filter(
            meeting=meeting, organisation=organisation, raised_by=raised_by, text=text,
            created_by=actor,
        ).first()  # fmt: skip
        if duplicate is not None:
            return duplicate  # a double submit records one topic
        return PrivateTopic.objects.create(
            meeting=meeting, organisation=organisation, raised_by=raised_by, text=text,
            created_by=actor,
        )  # fmt: skip


ATTENDANCE_FIELDS = ["attended", "attended_mode", "absence_reason", "absence_note"]


def attendance_record(
    *,
    actor: User,
    meeting: Meeting,
    attendance: dict[int, tuple[bool, str]],
    actual_start: dt.datetime | None,
    actual_end: dt.datetime | None,
    absences: dict[int, tuple[str, str]] | None = None,
) -> Meeting:
    """Who came and how; the actual start and end. `absences`: for those who did not come,
    why (an `AbsenceReason`, or "") and a note; kept only while they are absent."""
    absences = absences or {}
    for reason, note in absences.values():
        if reason and reason not in AbsenceReason.values:
            raise DomainError(_("Choose a reason for the absence."), field="absence_reason")
        if reason == AbsenceReason.OTHER and not note.strip():
            raise DomainError(_("Describe the other reason."), field="absence_note")
    if actual_start and actual_end and actual_end <= actual_start:
        raise DomainError(_("The end must be after the start."), field="actual_end")
    with transaction.atomic():
        meeting = _lock(meeting)
        require(_context(actor, meeting), "notes.edit")
        _check_held_time(meeting, actual_start)
        before = audit.snapshot(meeting, MEETING_FIELDS)
        participants = {p.pk: p for p in meeting.participants.filter(removed_at__isnull=True)}
        for pk, (attended, mode) in attendance.items():
            participant = participants.get(pk)
            if participant is None:
                continue
            before_row = audit.snapshot(participant, ATTENDANCE_FIELDS)
            reason, note = absences.get(pk, ("", "")) if not attended else ("", "")
            participant.attended = attended
            participant.attended_mode = mode if attended else ""
            participant.absence_reason = reason
            participant.absence_note = note.strip()
            fields = ATTENDANCE_FIELDS
            if (
                afterwards.current() is not None
                and attended
                and participant.kind != Participant.Kind.PERSON
            ):
                # Registered afterwards: whoever came had said yes (no one was asked here).
                participant.response = Participant.Response.ACCEPTED
                fields = [*ATTENDANCE_FIELDS, "response"]
            participant.save(update_fields=fields)
            participant.meeting = meeting
            after_row = audit.snapshot(participant, ATTENDANCE_FIELDS)
            if after_row != before_row:
                _record_participant(actor, participant, before=before_row, after=after_row)
        meeting.actual_start = actual_start
        meeting.actual_end = actual_end
        _changed(meeting, actor=actor, before=before)
        return meeting


# --- 6. Decisions and agreements ---


def _check_responsible(responsible: User, organisation: Organisation) -> None:
    if not Membership.objects.active().filter(user=responsible, organisation=organisation).exists():
        raise DomainError(
            _("The responsible person must work for the organisation that decides."),
            field="responsible",
        )


def decision_save(
    *,
    actor: User,
    meeting: Meeting,
    organisation: Organisation,
    category: str,
    description: str,
    responsible: User,
    due_date: dt.date | None,
    person_answer: str,
    decision: Decision | None = None,
    request=None,
) -> Decision:
    """Create or change a decision. Only a member of the deciding organisation may."""
    if not description.strip():
        raise DomainError(_("Describe the decision."), field="description")
    if person_answer not in PersonAnswer.values:
        raise DomainError(_("Record the person's answer."), field="person_answer")
    _check_responsible(responsible, organisation)
    with transaction.atomic():
        meeting = _lock(meeting)
        require(_context(actor, meeting), "decision.edit", organisation_id=organisation.pk)
        if due_date is not None and (decision is None or due_date != decision.due_date):
            _check_due_date(meeting, due_date)
        if decision is None:
            # A double submit (second click, two tabs) records one decision, not two.
            duplicate = meeting.decisions.filter(
                organisation=organisation, created_by=actor, category=category,
                description=description, responsible=responsible, due_date=due_date,
                person_answer=person_answer,
            ).first()  # fmt: skip
            if duplicate is not None:
                return duplicate
            before = {}
            decision = Decision(meeting=meeting, organisation=organisation, created_by=actor)
            action = "create"
        else:
            decision = Decision.objects.select_for_update().get(pk=decision.pk, meeting=meeting)
            if decision.organisation_id != organisation.pk:
                raise DomainError(_("A decision stays with the organisation that made it."))
            before = audit.snapshot(decision, DECISION_FIELDS)
            action = "update"
        decision.category = category
        decision.description = description
        decision.responsible = responsible
        decision.due_date = due_date
        decision.person_answer = person_answer
        decision.save()
        # A changed decision needs a new confirmation from its organisation.
        DecisionConfirmation.objects.filter(meeting=meeting, organisation=organisation).delete()
        if meeting.state == S.HELD:
            # Entered after the meeting was marked held: its responsible is asked at 2 weeks
            # and 2 months too (once per person, whenever the decision came).
            notifications.followup_notices(meeting)
        meeting.content_version += 1
        meeting.save(update_fields=["content_version", "updated_at"])
        summary_changed(meeting)
        audit.record_and_log(
            request,
            user=actor,
            obj=decision,
            action=action,
            before=before,
            after=audit.snapshot(decision, DECISION_FIELDS),
            person=meeting.person,
        )
        return decision


def _check_held_time(meeting: Meeting, actual_start: dt.datetime | None) -> None:
    """A meeting run in the product cannot have started before it was proposed."""
    if actual_start is not None and actual_start < meeting.initiated_at:
        raise DomainError(
            _("The meeting cannot have been held before it was proposed (%(when)s).")
            % {"when": formats.date_format(timezone.localtime(meeting.initiated_at), "j F Y H:i")},
            field="actual_start",
        )


def _check_due_date(meeting: Meeting, due_date: dt.date) -> None:
    """A decision is due on or after the meeting day (never in the past of the meeting)."""
    day = meeting.when
    first = timezone.localdate(day) if day else timezone.localdate()
    if due_date < first:
        raise DomainError(
            _("The due date must be on or after the meeting day (%(day)s).")
            % {"day": formats.date_format(first, "j F Y")},
            field="due_date",
        )


def agreement_add(
    *,
    actor: User,
    meeting: Meeting,
    kind: str,
    text: str,
    situation: str = "",
    contact: str = "",
    organisation: Organisation | None = None,
) -> Agreement:
    if not text.strip():
        raise DomainError(_("Write what is agreed."), field="text")
    with transaction.atomic():
        meeting = _lock(meeting)
        require(_context(actor, meeting), "agreement.add")
        duplicate = meeting.agreements.filter(
            kind=kind, text=text, situation=situation, contact=contact, created_by=actor
        ).first()
        if duplicate is not None:
            return duplicate  # a double submit records one agreement
        agreement = Agreement.objects.create(
            meeting=meeting, kind=kind, text=text, situation=situation, contact=contact,
            organisation=organisation, created_by=actor,
        )  # fmt: skip
        meeting.content_version += 1
        meeting.save(update_fields=["content_version", "updated_at"])
        summary_changed(meeting)
        audit.record_change(
            user=actor, obj=agreement, action="create", before={},
            after={"kind": kind, "text": text, "situation": situation, "contact": contact},
            person=meeting.person,
        )  # fmt: skip
        return agreement


def decisions_confirm(
    *, actor: User, meeting: Meeting, organisation: Organisation
) -> DecisionConfirmation:
    with transaction.atomic():
        meeting = _lock(meeting)
        require(_context(actor, meeting), "decisions.confirm", organisation_id=organisation.pk)
        count = meeting.decisions.filter(organisation=organisation).count()
        confirmation, created = DecisionConfirmation.objects.get_or_create(
            meeting=meeting,
            organisation=organisation,
            defaults={"confirmed_by": actor, "decision_count": count},
        )
        if created:
            audit.record_change(
                user=actor, obj=confirmation, action="create", before={},
                after={"organisation": organisation.name, "decision_count": count},
                person=meeting.person,
            )  # fmt: skip
        return confirmation


# --- 7. Held and closed ---


def meeting_mark_held(
    *,
    actor: User,
    meeting: Meeting,
    actual_start: dt.datetime,
    actual_end: dt.datetime,
    request=None,
) -> Meeting:
    if actual_end <= actual_start:
        raise DomainError(_("The end must be after the start."), field="actual_end")
    if actual_start > timezone.now():
        raise DomainError(_("A meeting cannot be held in the future."), field="actual_start")
    with transaction.atomic():
        meeting = _lock(meeting)
        require(_context(actor, meeting), "meeting.mark_held")
        _check_held_time(meeting, actual_start)
        before = audit.snapshot(meeting, MEETING_FIELDS)
        _transition(meeting, S.HELD, actor=actor)
        meeting.actual_start = actual_start
        meeting.actual_end = actual_end
        registration = afterwards.current()
        meeting.held_at = registration.held_at if registration is not None else timezone.now()
        minutes = int((actual_end - actual_start).total_seconds() // 60)
        # Everyone who attended gets the meeting's length unless they record otherwise.
        meeting.participants.filter(
            removed_at__isnull=True, attended=True, meeting_minutes__isnull=True
        ).update(meeting_minutes=minutes)
        notifications.cancel_pending(meeting)
        _changed(meeting, actor=actor, before=before, request=request)
        notifications.followup_notices(meeting)
        return meeting


MINUTE_FIELDS = ["preparation_minutes", "travel_minutes", "meeting_minutes"]


class Minutes(NamedTuple):
    preparation: int | None
    travel: int | None
    meeting: int | None


def minutes_record(
    *,
    actor: User,
    participant: Participant,
    preparation_minutes: int | None,
    travel_minutes: int | None,
    meeting_minutes: int | None,
) -> Participant:
    """One participant's minutes (see `minutes_record_all`)."""
    minutes = Minutes(preparation_minutes, travel_minutes, meeting_minutes)
    return minutes_record_all(
        actor=actor, meeting=participant.meeting, minutes={participant.pk: minutes}
    )[0]


def minutes_record_all(
    *, actor: User, meeting: Meeting, minutes: dict[int, tuple[int | None, int | None, int | None]]
) -> list[Participant]:
    """The (preparation, travel, meeting) minutes of several participants in one go (the
    convener for everyone, anyone else for themselves). Someone who took part by video or
    phone has no travel. All or nothing."""
    minutes = {pk: Minutes(*values) for pk, values in minutes.items()}
    for values in minutes.values():
        for name, value in zip(MINUTE_FIELDS, values, strict=True):
            if value is not None and not 0 <= value <= 24 * 60:
                raise DomainError(_("Give the minutes as a number between 0 and 1440."), field=name)
    with transaction.atomic():
        meeting = _lock(meeting)
        ctx = _context(actor, meeting)
        require(ctx, "minutes.record")
        participants = {
            p.pk: p
            for p in Participant.objects.select_for_update(of=("self",))
            .filter(meeting=meeting, pk__in=list(minutes), removed_at__isnull=True)
            .select_related("user")
        }
        saved = []
        for pk, values in minutes.items():
            participant = participants.get(pk)
            if participant is None:
                raise DomainError(_("That participant is no longer invited."))
            if not (ctx.is_convener or participant.user_id == actor.pk):
                raise DomainError(_("Only the convener can record minutes for others."))
            travel = values.travel
            if participant.attended_remotely:
                if travel:
                    raise DomainError(
                        _("%(name)s took part by video or phone: no travel time.")
                        % {"name": participant},
                        field="travel_minutes",
                    )
                travel = 0
            before = audit.snapshot(participant, MINUTE_FIELDS)
            participant.preparation_minutes = values.preparation
            participant.travel_minutes = travel
            participant.meeting_minutes = values.meeting
            participant.save(update_fields=MINUTE_FIELDS)
            participant.meeting = meeting
            after = audit.snapshot(participant, MINUTE_FIELDS)
            if after != before:
                _record_participant(actor, participant, before=before, after=after)
            saved.append(participant)
        return saved


def meeting_close(*, actor: User, meeting: Meeting, request=None) -> Meeting:
    with transaction.atomic():
        meeting = _lock(meeting)
        require(_context(actor, meeting), "meeting.close")
        before = audit.snapshot(meeting, MEETING_FIELDS)
        _transition(meeting, S.CLOSED, actor=actor)
        meeting.closed_at = timezone.now()
        # Closing changes nothing the summary shows: no new version for its readers.
        _changed(meeting, actor=actor, before=before, request=request, summary=False)
        return meeting
