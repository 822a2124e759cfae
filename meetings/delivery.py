"""Delivery of outbox rows: claim, send, mark. Queuing never blocks a web request on Redis.

A row moves pending → sending → sent. A transient failure (mail server down, 4xx) puts it
back to pending with `next_attempt_at` later (exponential backoff); after
OUTBOX_MAX_ATTEMPTS, or on a permanent failure (5xx), it is failed and the meeting page
offers the convener a resend, which makes it pending again.

Exactly once, as far as email allows:

1. Claim, in one short transaction: lock the row (SKIP LOCKED, so a second sweep or a
   duplicate task moves on), check it is due and still means something, then set
   status=sending, attempts+1, and a lease: `next_attempt_at` = now + OUTBOX_LEASE_SECONDS.
   Commit. No lock is held while talking to the mail server.
2. Send, with a Message-ID derived from the idempotency key.
3. Mark sent, only if the row is still ours (status sending, attempts unchanged).

A task run twice, two sweeps, or a task and a sweep together: only one claim succeeds.
A worker killed between 1 and 3 leaves the row in sending; when the lease ends the sweep
claims it again and sends it. If the kill came before the mail server accepted the message
(it accepts only when it answers the end of DATA), it is delivered exactly once. If it came
in the short window after the server's "250 OK" and before step 3, a second copy goes out
with the same Message-ID, which mail systems and clients use to recognise duplicates. No
sender can close that window without a mail server that takes part in the database
transaction; it is the residual risk, and it needs a crash at that exact moment.

The lease must be longer than one send can take (EMAIL_TIMEOUT bounds each SMTP step), or a
slow but living worker could send while the sweep re-claims its row. The default is
5 minutes against a 10-second EMAIL_TIMEOUT.
"""

import datetime as dt
import logging
import smtplib
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from participants import audit
from vom.celery import queue_after_commit
from vom.errors import DomainError

from .models import Meeting, OutboxMessage, Participant

logger = logging.getLogger(__name__)

Status = OutboxMessage.Status
Kind = OutboxMessage.Kind

SENT = "sent"
RETRY = "retry"
FAILED = "failed"

MEETING_TIME_KINDS = {
    Kind.INVITATION,
    Kind.RESCHEDULED,
    Kind.REMINDER_NO_REPLY,
    Kind.REMINDER_DAY_BEFORE,
}


class TransientDeliveryError(Exception):
    """Raised by a channel backend (e.g. an SMS gateway) when trying later may work."""


class PermanentDeliveryError(Exception):
    """Trying again will not help (no address, no gateway configured, refused for good)."""


def lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)


def max_attempts() -> int:
    return settings.OUTBOX_MAX_ATTEMPTS


def retry_delay(attempts: int) -> dt.timedelta:
    """After the n-th failed attempt: base, 2×base, 4×base, … (1, 2, 4, 8 minutes)."""
    base = settings.OUTBOX_RETRY_SECONDS
    return dt.timedelta(seconds=base * 2 ** max(attempts - 1, 0))


def is_transient(exc: BaseException) -> bool:
    """Errors worth another try: the server is down, unreachable, busy, or says 4xx."""
    if isinstance(exc, TransientDeliveryError):
        return True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _message in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return True
    if isinstance(exc, smtplib.SMTPException):
        return False  # e.g. a needed extension is missing: a configuration problem
    # Connection refused, timeouts, DNS failures (SMTPException is an OSError, handled above).
    return isinstance(exc, OSError)


def claimable(now: dt.datetime) -> QuerySet[OutboxMessage]:
    """Due rows nobody is working on: pending and due (and past any backoff), or sending
    with a lease that has run out (the worker that claimed it stopped)."""
    return OutboxMessage.objects.filter(
        (
            Q(status=Status.PENDING, due_at__lte=now)
            & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        )
        | Q(status=Status.SENDING, next_attempt_at__lte=now)
    )


def _obsolete(message: OutboxMessage, now: dt.datetime) -> str:
    """Why the row should not go out any more (services cancel most such rows; this catches
    what changed between writing the row and its due time), or ""."""
    meeting = message.meeting
    if meeting is None:
        return ""
    participant = message.participant
    sequence = message.payload.get("sequence")
    if message.kind in MEETING_TIME_KINDS:
        if meeting.state not in (Meeting.State.CONVENING, Meeting.State.SCHEDULED):
            return f"meeting is {meeting.state}"
        if participant is not None and participant.removed_at is not None:
            return "no longer invited"
        if sequence is not None and sequence != meeting.ical_sequence:
            return "replaced by a newer time"
        if (
            message.kind == Kind.REMINDER_NO_REPLY
            and participant is not None
            and participant.response != Participant.Response.NEEDS_ACTION
        ):
            return "already answered"
        if message.kind == Kind.REMINDER_DAY_BEFORE and (
            meeting.starts_at is None or meeting.starts_at <= now
        ):
            return "the meeting has started"
    if message.kind == Kind.ROLE_DECLINED:
        declined = Participant.objects.filter(pk=message.payload.get("participant")).first()
        if declined is not None and declined.response != Participant.Response.DECLINED:
            return "the participant changed their answer"
    return ""


def claim(*, now: dt.datetime | None = None, message_id: int | None = None):
    """Take one due row for sending (see the module docstring), or None."""
    now = now or timezone.now()
    while True:
        with transaction.atomic():
            rows = claimable(now)
            if message_id is not None:
                rows = rows.filter(pk=message_id)
            message = (
                rows.select_for_update(skip_locked=True, of=("self",))
                .order_by("due_at", "pk")
                .first()
            )
            if message is None:
                return None
            interrupted = message.status == Status.SENDING
            if interrupted and message.attempts >= max_attempts():
                _set(message, status=Status.FAILED, next_attempt_at=None,
                     last_error="delivery interrupted too many times")  # fmt: skip
                continue
            reason = _obsolete(message, now)
            if reason:
                _set(message, status=Status.CANCELLED, next_attempt_at=None, last_error=reason)
                continue
            # Compare-and-set as well as the row lock: SQLite (make run) has no row locks.
            taken = OutboxMessage.objects.filter(
                pk=message.pk, status=message.status, attempts=message.attempts
            ).update(
                status=Status.SENDING,
                attempts=F("attempts") + 1,
                next_attempt_at=now + lease(),
                last_error="previous attempt did not finish" if interrupted else message.last_error,
            )
            if not taken:
                continue
            message.refresh_from_db()
            return message


def _set(message: OutboxMessage, **fields) -> None:
    OutboxMessage.objects.filter(pk=message.pk).update(**fields)
    for name, value in fields.items():
        setattr(message, name, value)


def send(message: OutboxMessage) -> None:
    """Hand the message to its channel. Raises on failure."""
    if not message.to_address:
        raise PermanentDeliveryError("no address")
    if message.channel == OutboxMessage.Channel.EMAIL:
        from .mail import build_email

        build_email(message).send(fail_silently=False)
    elif message.channel == OutboxMessage.Channel.SMS:
        from .mail import render_sms

        backend = settings.VOM_SMS_BACKEND
        if not backend:
            raise PermanentDeliveryError("no SMS gateway is configured (VOM_SMS_BACKEND)")
        import_string(backend)(message.to_address, render_sms(message))
    else:
        raise PermanentDeliveryError(f"unknown channel {message.channel!r}")


def deliver_claimed(message: OutboxMessage, *, now: dt.datetime | None = None) -> str:
    """Send a row this process has claimed and record the outcome."""
    mine = OutboxMessage.objects.filter(
        pk=message.pk, status=Status.SENDING, attempts=message.attempts
    )
    try:
        send(message)
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
        error = f"{type(exc).__name__}: {exc}"[:1000]
        if is_transient(exc) and message.attempts < max_attempts():
            retry_at = (now or timezone.now()) + retry_delay(message.attempts)
            mine.update(status=Status.PENDING, next_attempt_at=retry_at, last_error=error)
            logger.warning(
                "outbox %s attempt %s failed, retry at %s: %s",
                message.pk, message.attempts, retry_at, error,
            )  # fmt: skip
            return RETRY
        mine.update(status=Status.FAILED, next_attempt_at=None, last_error=error)
        logger.error("outbox %s not delivered after %s attempts: %s",
                     message.pk, message.attempts, error)  # fmt: skip
        return FAILED
    if not _mark_sent(mine):
        # The lease ran out while we were sending and someone else took the row over.
        logger.warning("outbox %s was sent after its lease ended", message.pk)
    return SENT


def _mark_sent(mine: QuerySet[OutboxMessage]) -> int:
    """Record that the mail server accepted the message. A database that is restarting at
    that moment is waited for (up to half the lease), since a row left in *sending* would
    be sent again once its lease ends."""
    deadline = time.monotonic() + lease().total_seconds() / 2
    pause = 0.2
    while True:
        try:
            return mine.update(
                status=Status.SENT, sent_at=timezone.now(), next_attempt_at=None, last_error=""
            )
        except (OperationalError, InterfaceError):
            if time.monotonic() + pause > deadline:
                raise
            logger.warning("outbox: the database is unavailable; marking as sent again soon")
            connection.close()
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


def deliver(message_id: int, *, now: dt.datetime | None = None) -> str:
    """Send one outbox row if it is due and nobody else is sending it. Safe to run twice:
    returns "sent", "retry", "failed", or "" when there was nothing to do."""
    message = claim(now=now, message_id=message_id)
    if message is None:
        return ""
    return deliver_claimed(message, now=now)


def sweep(
    *, now: dt.datetime | None = None, limit: int = 500, budget_seconds: float | None = None
) -> int:
    """Deliver every due row whose task never ran, failed transiently or was interrupted.
    Returns how many were sent. Two sweeps at once share the work (SKIP LOCKED)."""
    if budget_seconds is None:
        # Stop before the next sweep is due; it carries on where this one stopped.
        budget_seconds = max(settings.OUTBOX_SWEEP_SECONDS - 5, 5)
    started = time.monotonic()
    sent = 0
    for _round in range(limit):
        if time.monotonic() - started > budget_seconds:
            break
        message = claim(now=now)
        if message is None:
            break
        if deliver_claimed(message, now=now) == SENT:
            sent += 1
    return sent


def queue_delivery(message_id: int) -> None:
    """Hand the row to Celery after the commit; if the broker is unreachable the periodic
    sweep sends it."""
    queue_after_commit("meetings.tasks.deliver_message", message_id)


def may_resend(actor, message: OutboxMessage) -> bool:
    """A meeting's messages: its convener. An account email: an administrator of an
    organisation the recipient works for."""
    if message.meeting_id is not None:
        return message.meeting.convener_id == actor.pk
    if message.kind not in (Kind.ACCOUNT_WELCOME, Kind.PASSWORD_RESET):
        return False
    from participants.models import Membership
    from participants.selectors import admin_organisations

    administered = [o.pk for o in admin_organisations(actor)]
    return Membership.objects.filter(
        user_id=message.recipient_user_id, organisation_id__in=administered
    ).exists()


def outbox_resend(*, actor, message_id: int, request=None) -> OutboxMessage:
    """The convener (or, for an account email, the administrator) sends a message that was
    not delivered once more."""
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(of=("self",))
            .select_related("meeting", "meeting__person")
            .get(pk=message_id)
        )
        meeting = message.meeting
        if not may_resend(actor, message):
            raise DomainError(_("Only the convener can send a message again."))
        if message.status in (Status.PENDING, Status.SENDING, Status.SENT):
            return message  # a double click: it is already on its way
        if message.status != Status.FAILED:
            raise DomainError(_("Only a message that was not delivered can be sent again."))
        previous = {"status": message.status, "attempts": message.attempts}
        message.status = Status.PENDING
        message.attempts = 0
        message.next_attempt_at = None
        message.last_error = ""
        message.save(update_fields=["status", "attempts", "next_attempt_at", "last_error"])
        audit.record_change(
            user=actor,
            obj=message,
            action="update",
            before=previous,
            after={"status": message.status, "attempts": 0},
            person=meeting.person if meeting else None,
        )
        queue_delivery(message.pk)
        return message
