"""Tell the convener when a decision passes its due date without being carried out."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from meetings import notifications
from meetings.models import Decision, OutboxMessage

from .rules import FOLLOWUP_STATES
from .selectors import decisions_with_status, open_decision_q


def overdue_notices(*, today: dt.date | None = None, limit: int = 1000) -> int:
    """One notice per overdue decision, ever; returns how many were written. Safe to run
    twice or from two processes at once (row locks and the outbox key)."""
    today = today or timezone.localdate()
    candidates = (
        decisions_with_status()
        .filter(
            open_decision_q(),
            due_date__lt=today,
            overdue_notice_at__isnull=True,
            meeting__state__in=FOLLOWUP_STATES,
            meeting__shared=True,
            meeting__convener__isnull=False,
        )
        .order_by("due_date", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    written = 0
    for decision_id in list(candidates):
        with transaction.atomic():
            decision = (
                Decision.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("meeting", "meeting__convener")
                .filter(pk=decision_id, overdue_notice_at__isnull=True)
                .first()
            )
            if decision is None:
                continue
            convener = decision.meeting.convener
            notifications.enqueue(
                kind=OutboxMessage.Kind.DECISION_OVERDUE,
                key=f"decision_overdue:{decision.pk}",
                meeting=decision.meeting,
                user=convener,
                to_address=convener.email,
                language=convener.preferred_language,
                payload={"decision": decision.pk},
            )
            decision.overdue_notice_at = timezone.now()
            decision.save(update_fields=["overdue_notice_at"])
            written += 1
    return written
