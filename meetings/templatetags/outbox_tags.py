"""The meeting page's "Messages" box for the convener (meetings/includes/outbox_status.html)."""

from dataclasses import dataclass, field

from django import template

from ..models import OutboxMessage

register = template.Library()

Status = OutboxMessage.Status


@dataclass
class OutboxSummary:
    failed: list[OutboxMessage] = field(default_factory=list)
    sent: int = 0
    waiting: int = 0
    scheduled: int = 0


@register.simple_tag(takes_context=True)
def outbox_for(context, meeting) -> OutboxSummary | None:
    """Counts and the undelivered messages, for the convener only: one query of statuses,
    and the undelivered rows with their recipients only when there are any."""
    user = context.get("user")
    if meeting is None or user is None or meeting.convener_id != getattr(user, "pk", None):
        return None
    from django.utils import timezone

    now = timezone.now()
    summary = OutboxSummary()
    rows = OutboxMessage.objects.filter(meeting_id=meeting.pk).exclude(status=Status.CANCELLED)
    failed = 0
    for status, due_at in rows.values_list("status", "due_at"):
        if status == Status.FAILED:
            failed += 1
        elif status == Status.SENT:
            summary.sent += 1
        elif due_at > now:
            summary.scheduled += 1
        else:
            summary.waiting += 1
    if failed:
        summary.failed = list(
            rows.filter(status=Status.FAILED)
            .select_related("recipient_user", "recipient_relative", "participant__relative")
            .order_by("created_at", "pk")
        )
    return summary


@register.filter
def recipient_label(message: OutboxMessage) -> str:
    if message.recipient_relative_id:
        return message.recipient_relative.name
    participant = message.participant
    if participant is not None and participant.relative_id:
        return participant.relative.name
    if message.recipient_user_id:
        user = message.recipient_user
        return user.get_full_name() or user.username
    return message.to_address
