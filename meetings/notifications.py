"""What must be sent to whom, written as outbox rows in the caller's transaction.

Services call these functions; `meetings.delivery` sends the rows (after commit, by a task,
or by the periodic sweep). Keys make every message unique: the same change recorded twice
never produces two messages.
"""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from vom.timeutil import same_local_time_days_before

from . import afterwards
from .models import Meeting, OutboxMessage, Participant

Kind = OutboxMessage.Kind
NO_REPLY_AFTER = dt.timedelta(days=2)


def address_of(participant: Participant) -> str:
    """The email address a participant's messages go to ("" when there is none)."""
    return _address_and_language(participant)[0]


def _address_and_language(participant: Participant) -> tuple[str, str]:
    if participant.user_id:
        return participant.user.email, participant.user.preferred_language
    if participant.relative_id:
        return participant.relative.email, participant.relative.preferred_language
    return "", "sv"


# What a meeting registered afterwards still sends: the follow-up questions not yet due.
AFTER_THE_MEETING = frozenset({Kind.FOLLOWUP_2W, Kind.FOLLOWUP_2M})


def enqueue(
    *,
    kind: str,
    key: str,
    meeting: Meeting | None,
    participant: Participant | None = None,
    user=None,
    relative=None,
    to_address: str = "",
    language: str = "sv",
    due_at: dt.datetime | None = None,
    payload: dict | None = None,
) -> OutboxMessage | None:
    """Write one outbox row (once per key) and queue its delivery after commit."""
    if afterwards.current() is not None and (
        kind not in AFTER_THE_MEETING or due_at is None or due_at <= timezone.now()
    ):
        return None  # a meeting registered afterwards is over: only what is still to come
    if participant is not None:
        user = user or participant.user
        relative = relative or participant.relative
        to_address, language = _address_and_language(participant)
    if not to_address:
        return None  # no way to reach them; the meeting page lists who has no address
    message, created = OutboxMessage.objects.get_or_create(
        idempotency_key=key,
        defaults={
            "kind": kind,
            "meeting": meeting,
            "participant": participant,
            "recipient_user": user,
            "recipient_relative": relative,
            "to_address": to_address,
            "language": language or "sv",
            "due_at": due_at or timezone.now(),
            "payload": payload or {},
        },
    )
    if created and message.due_at <= timezone.now():
        from .delivery import queue_delivery

        queue_delivery(message.pk)
    return message


def _stage(meeting: Meeting) -> str:
    # An invitation with the proposed times and the later one with the fixed time (and its
    # calendar entry) are two messages: the second must not be taken for a repeat of the first.
    return "" if meeting.starts_at else ":proposed"


def invitation_key(participant: Participant) -> str:
    meeting = participant.meeting
    return f"invitation:{participant.pk}:{meeting.ical_sequence}{_stage(meeting)}"


def invitation(participant: Participant) -> OutboxMessage | None:
    """The invitation (and its reminders); the invitation's row, or None without an address."""
    meeting = participant.meeting
    seq = meeting.ical_sequence
    message = enqueue(
        kind=Kind.INVITATION,
        key=invitation_key(participant),
        meeting=meeting,
        participant=participant,
        payload={"sequence": seq},
    )
    if participant.kind == Participant.Kind.STAFF:
        enqueue(
            kind=Kind.REMINDER_NO_REPLY,
            key=f"noreply:{participant.pk}:{seq}{_stage(meeting)}",
            meeting=meeting,
            participant=participant,
            due_at=timezone.now() + NO_REPLY_AFTER,
            payload={"sequence": seq},
        )
    day_before(participant)
    return message


def day_before(participant: Participant) -> None:
    meeting = participant.meeting
    if meeting.starts_at is None:
        return
    enqueue(
        kind=Kind.REMINDER_DAY_BEFORE,
        key=f"daybefore:{participant.pk}:{meeting.ical_sequence}",
        meeting=meeting,
        participant=participant,
        due_at=same_local_time_days_before(meeting.starts_at, 1),
        payload={"sequence": meeting.ical_sequence},
    )


def cancel_pending(meeting: Meeting, *, participant: Participant | None = None) -> int:
    """Reminders and invitations not yet sent are void (cancel, reschedule, withdrawal)."""
    pending = OutboxMessage.objects.filter(
        meeting=meeting, status=OutboxMessage.Status.PENDING
    ).exclude(kind__in=[Kind.CANCELLED, Kind.UNINVITED])
    if participant is not None:
        pending = pending.filter(participant=participant)
    return pending.update(status=OutboxMessage.Status.CANCELLED)


def rescheduled(meeting: Meeting, participants: list[Participant]) -> None:
    cancel_pending(meeting)
    for participant in participants:
        enqueue(
            kind=Kind.RESCHEDULED,
            key=f"rescheduled:{participant.pk}:{meeting.ical_sequence}",
            meeting=meeting,
            participant=participant,
            payload={"sequence": meeting.ical_sequence},
        )
        day_before(participant)


def cancelled(meeting: Meeting, participants: list[Participant]) -> None:
    cancel_pending(meeting)
    for participant in participants:
        enqueue(
            kind=Kind.CANCELLED,
            key=f"cancelled:{participant.pk}:{meeting.ical_sequence}",
            meeting=meeting,
            participant=participant,
            payload={"sequence": meeting.ical_sequence},
        )


def uninvited(participant: Participant) -> None:
    meeting = participant.meeting
    cancel_pending(meeting, participant=participant)
    enqueue(
        kind=Kind.UNINVITED,
        key=f"uninvited:{participant.pk}:{meeting.ical_sequence}",
        meeting=meeting,
        participant=participant,
        payload={"sequence": meeting.ical_sequence},
    )


def role_declined(participant: Participant) -> None:
    meeting = participant.meeting
    if meeting.convener is None or meeting.convener_id == participant.user_id:
        return
    enqueue(
        kind=Kind.ROLE_DECLINED,
        key=f"declined:{participant.pk}:{meeting.ical_sequence}",
        meeting=meeting,
        user=meeting.convener,
        to_address=meeting.convener.email,
        language=meeting.convener.preferred_language,
        payload={"participant": participant.pk, "role": participant.role},
    )


def followup_notices(meeting: Meeting) -> None:
    """2 weeks and 2 months after the meeting, each organisation's responsible staff are
    asked to report on their open decisions (the rows wait until due)."""
    held = meeting.held_at or timezone.now()
    responsible = {
        d.responsible_id: d.responsible for d in meeting.decisions.select_related("responsible")
    }
    for user_id, user in responsible.items():
        for kind, delta in ((Kind.FOLLOWUP_2W, dt.timedelta(days=14)),
                            (Kind.FOLLOWUP_2M, dt.timedelta(days=61))):  # fmt: skip
            enqueue(
                kind=kind,
                key=f"{kind}:{meeting.pk}:{user_id}",
                meeting=meeting,
                user=user,
                to_address=user.email,
                language=user.preferred_language,
                due_at=held + delta,
            )


def convener_needed(meeting: Meeting, organisation) -> int:
    """Seed step 3: the home health care organisation is asked for a convener, once per
    meeting: one message to its function mailbox, or, without one, to each of its nurses.
    Returns how many were written."""
    from participants.models import Membership, Role

    if organisation.email:
        recipients = [(None, organisation.email, "sv")]
    else:
        recipients = [
            (m.user, m.user.email, m.user.preferred_language)
            for m in Membership.objects.active()
            .filter(organisation=organisation, role=Role.NURSE)
            .select_related("user")
            .order_by("user_id")
        ]
    written = 0
    for user, address, language in recipients:
        key = f"convener_needed:{meeting.pk}:{organisation.pk}:{user.pk if user else 'org'}"
        message = enqueue(
            kind=Kind.CONVENER_NEEDED,
            key=key,
            meeting=meeting,
            user=user,
            to_address=address,
            language=language,
            payload={
                "organisation": organisation.pk,
                "path": reverse("meeting_detail", args=[meeting.pk]),
            },
        )
        written += message is not None
    return written


ACCOUNT_KINDS = (Kind.ACCOUNT_WELCOME, Kind.PASSWORD_RESET)


def account_email(user, kind: str, *, organisation=None) -> OutboxMessage | None:
    """The email with a link to choose a password (a new account, or a reset asked for),
    written in the caller's transaction like every other message, so a mail server that is
    down delays it instead of losing it or failing the request. The link itself is made
    when the message is sent (meetings.mail): no token is stored."""
    if kind not in ACCOUNT_KINDS:
        raise ValueError(kind)
    if kind == Kind.ACCOUNT_WELCOME:
        key = f"account_welcome:{user.pk}"  # one per account
    else:
        # One per user per five minutes: repeated presses of "send" send one.
        key = f"password_reset:{user.pk}:{int(timezone.now().timestamp() // 300)}"
    return enqueue(
        kind=kind,
        key=key,
        meeting=None,
        user=user,
        to_address=user.email,
        language=user.preferred_language,
        payload={"organisation": organisation.name if organisation else ""},
    )


def cancel_pending_kind(participant: Participant, kind: str) -> int:
    return OutboxMessage.objects.filter(
        participant=participant, kind=kind, status=OutboxMessage.Status.PENDING
    ).update(status=OutboxMessage.Status.CANCELLED)
