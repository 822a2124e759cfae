"""Follow-ups for the bulk meetings (load tests): decision statuses and both checkpoints."""

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from meetings.models import Decision, Meeting
from participants.demo_bulk import BULK_CITY

from .models import Checkpoint, DecisionStatus, DecisionStatusChange

# Seed 000: most decisions carried out within two weeks, some declined or still pending.
STATUSES = (
    [DecisionStatus.IMPLEMENTED] * 6 + [DecisionStatus.IN_PROGRESS] * 2
    + [DecisionStatus.PARTLY, DecisionStatus.DECLINED_BY_PERSON, DecisionStatus.NOT_STARTED]
)  # fmt: skip


def load_bulk_followups(batch: int = 2000, seed: int = 14) -> int:
    """Statuses and checkpoints for bulk meetings that were held and have none yet."""
    rng = random.Random(seed)
    meetings = (
        Meeting.objects.filter(
            person__city=BULK_CITY, state__in=[Meeting.State.HELD, Meeting.State.CLOSED]
        )
        .exclude(checkpoints__isnull=False)
        .order_by("pk")
        .values_list("pk", "held_at", "convener_id")
    )
    added = 0
    now = timezone.now()
    todo = list(meetings)
    for start in range(0, len(todo), batch):
        rows = todo[start : start + batch]
        chunk = {pk: held_at for pk, held_at, _convener in rows}
        conveners = {pk: convener for pk, _held_at, convener in rows}
        decisions = Decision.objects.filter(meeting_id__in=chunk).values_list(
            "pk", "meeting_id", "responsible_id"
        )
        statuses, checkpoints = [], []
        for decision_id, meeting_id, responsible_id in decisions:
            held = chunk[meeting_id].date()
            statuses.append(
                DecisionStatusChange(
                    decision_id=decision_id, status=rng.choice(STATUSES),
                    date=held + dt.timedelta(days=rng.randint(3, 20)),
                    reported_by_id=responsible_id, note="",
                )
            )  # fmt: skip
        for meeting_id, held_at in chunk.items():
            before = Decimal(rng.randint(6, 16))
            for kind, days in ((Checkpoint.Kind.TWO_WEEKS, 14), (Checkpoint.Kind.TWO_MONTHS, 61)):
                due = held_at + dt.timedelta(days=days)
                done = due <= now
                checkpoints.append(
                    Checkpoint(
                        meeting_id=meeting_id, kind=kind,
                        due_date=due.date(),
                        completed_at=due if done else None,
                        completed_by_id=conveners[meeting_id] if done else None,
                        person_situation=Checkpoint.Situation.AT_HOME,
                        home_help_hours_before=before,
                        home_help_hours_after=before + Decimal(rng.randint(0, 8)) if done else None,
                    )
                )  # fmt: skip
        with transaction.atomic():
            DecisionStatusChange.objects.bulk_create(statuses, batch_size=5000)
            Checkpoint.objects.bulk_create(checkpoints, batch_size=5000)
        added += len(chunk)
    return added
