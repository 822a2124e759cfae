"""Demo follow-up for the demo area (seed_demo EXTENSIONS): decision statuses over time,
completed checkpoints, hospital use and outcome measures for the held and closed meetings.

The meetings loader runs first; this one takes whatever held or closed meetings exist.
Rows are written directly, back-dated to when they would have been reported, following
the same rules as the services (a checkpoint only after every open decision has a report).
The numbers echo seed 000: most decisions implemented within two weeks, some accepted
decisions declined when offered, home help up from about 11.6 to 16.9 hours a week.
"""

import datetime as dt
import random
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from meetings.choices import PersonAnswer
from meetings.models import Meeting

from . import scoring
from .models import (
    Checkpoint,
    DecisionStatus,
    DecisionStatusChange,
    HealthCareUse,
    OutcomeMeasure,
)
from .rules import CHECKPOINT_OFFSETS, FOLLOWUP_STATES, meeting_day

ST = DecisionStatus

# (baseline, after, two months) EQ-5D profiles, VAS and STAI-6 answers per demo person.
TRAJECTORIES = [
    (("22222", 45, (2, 3, 2, 2, 2, 3)), ("21221", 60, (3, 2, 1, 3, 3, 2)), ("21121", 65, None)),
    (("23232", 30, (1, 3, 3, 1, 1, 4)), ("22222", 40, (2, 3, 2, 2, 2, 3)), ("22222", 42, None)),
    (("21222", 55, (2, 2, 2, 2, 2, 2)), ("21222", 58, (2, 2, 2, 2, 3, 2)), ("22222", 50, None)),
]


def _at(day: dt.date, hour: int = 14) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, 0)))


def _past(day: dt.date, today: dt.date) -> bool:
    return day <= today


def _staff(meeting: Meeting):
    return meeting.convener or meeting.initiated_by


def _statuses(decision, rng: random.Random) -> list[tuple[int, str, str]]:
    """(days after the meeting, status, note) for one decision."""
    if decision.person_answer == PersonAnswer.DECLINES:
        return [(2, ST.DECLINED_BY_PERSON, "Personen tackade nej vid mötet.")]
    roll = rng.random()
    if roll < 0.55:  # quick: shower help, shopping, dentist visit
        return [(3, ST.IN_PROGRESS, ""), (rng.randint(6, 13), ST.IMPLEMENTED, "Genomfört.")]
    if roll < 0.75:  # slower: a new contact person, foot care, fetching aids
        return [
            (4, ST.NOT_STARTED, "Väntar på tid."),
            (13, ST.PARTLY, "Påbörjat, inte klart."),
            (rng.randint(30, 55), ST.IMPLEMENTED, "Klart."),
        ]
    if roll < 0.9:  # accepted at the meeting, declined when offered
        return [
            (5, ST.IN_PROGRESS, ""),
            (12, ST.DECLINED_BY_PERSON, "Personen ville inte ha insatsen när den erbjöds."),
        ]
    return [(4, ST.IN_PROGRESS, ""), (40, ST.NO_LONGER_RELEVANT, "Situationen har ändrats.")]


def _measure(meeting, timepoint, day, spec, staff):
    if spec[2] is None:
        values = {"could_not_answer": True, "no_answer_reason": "memory_problems"}
    else:
        profile, vas, answers = spec
        levels = [int(c) for c in profile]
        values = dict(zip(scoring.EQ5D_DIMENSIONS, levels, strict=True))
        values |= dict(zip(OutcomeMeasure.STAI_FIELDS, answers, strict=True))
        values |= {
            "eq5d_index": Decimal(str(scoring.eq5d3l_index(profile))),
            "eq5d_value_set": scoring.EQ5D3L_VALUE_SET,
            "eq5d_vas": scoring.validate_vas(vas),
            "stai6_sum": scoring.stai6_score(list(answers)),
        }
    OutcomeMeasure.objects.create(
        person=meeting.person,
        meeting=meeting,
        timepoint=timepoint,
        date=day,
        entered_by=staff,
        entered_at=_at(day, 16),
        **values,
    )


def _follow_up(meeting: Meeting, index: int, today: dt.date) -> None:
    rng = random.Random(meeting.pk * 7919)
    day = meeting_day(meeting)
    staff = _staff(meeting)
    # Decision statuses, back-dated, only as far as today.
    for decision in meeting.decisions.select_related("responsible"):
        for offset, status, note in _statuses(decision, rng):
            when = day + dt.timedelta(days=offset)
            if not _past(when, today):
                break
            DecisionStatusChange.objects.create(
                decision=decision,
                status=status,
                date=when,
                note=note,
                reported_by=decision.responsible,
                reported_at=_at(when),
            )
    # Checkpoints, completed the day after they fell due (every open decision was reported).
    before_hours = Decimal(rng.choice(["9.5", "11.5", "12.0", "14.0"]))
    after_hours = before_hours + Decimal(rng.choice(["3.5", "5.0", "5.5"]))
    for kind, offset in CHECKPOINT_OFFSETS.items():
        done = day + offset + dt.timedelta(days=1)
        if not _past(done, today):
            continue
        Checkpoint.objects.create(
            meeting=meeting,
            kind=kind,
            due_date=day + offset,
            completed_at=_at(done, 10),
            completed_by=staff,
            person_situation=Checkpoint.Situation.AT_HOME
            if rng.random() < 0.85
            else Checkpoint.Situation.SHORT_TERM_CARE,
            home_help_hours_before=before_hours,
            home_help_hours_after=after_hours,
            note="Uppföljning per telefon.",
        )
    # Hospital use before the meeting, and after once a month has passed.
    HealthCareUse.objects.create(
        person=meeting.person, meeting=meeting, period=HealthCareUse.Period.BEFORE, months=6,
        hospital_admissions=rng.randint(0, 3), emergency_visits=rng.randint(1, 4),
        recorded_by=staff, recorded_at=_at(day),
    )  # fmt: skip
    months_after = min(6, (today - day).days // 30)
    if months_after >= 1:
        HealthCareUse.objects.create(
            person=meeting.person, meeting=meeting, period=HealthCareUse.Period.AFTER,
            months=months_after, hospital_admissions=rng.randint(0, 1),
            emergency_visits=rng.randint(0, 2), recorded_by=staff, recorded_at=_at(today, 9),
        )  # fmt: skip
    # Outcome measures: the week before, 1-2 weeks after and 2 months after.
    baseline, after, two_months = TRAJECTORIES[index % len(TRAJECTORIES)]
    _measure(
        meeting, OutcomeMeasure.Timepoint.BASELINE, day - dt.timedelta(days=5), baseline, staff
    )
    if _past(day + dt.timedelta(days=10), today):
        _measure(meeting, OutcomeMeasure.Timepoint.AFTER, day + dt.timedelta(days=10), after, staff)
    if _past(day + dt.timedelta(days=60), today):
        # Memory problems kept some from answering at 2 months (seed 000).
        _measure(
            meeting,
            OutcomeMeasure.Timepoint.TWO_MONTHS,
            day + dt.timedelta(days=60),
            two_months,
            staff,
        )


def seed_demo(area=None) -> int:
    """Add follow-up data to every held or closed meeting that has none yet. Returns how many."""
    today = timezone.localdate()
    meetings = (
        Meeting.objects.filter(state__in=FOLLOWUP_STATES)
        .exclude(decisions__status_changes__isnull=False)
        .exclude(outcome_measures__isnull=False)
        .select_related("person", "convener", "initiated_by")
        .distinct()
        .order_by("pk")
    )
    if area is not None and getattr(area, "persons", None):
        meetings = meetings.filter(person__in=[p.pk for p in area.persons])
    count = 0
    with transaction.atomic():
        for index, meeting in enumerate(meetings):
            if meeting_day(meeting) is None:
                continue
            _follow_up(meeting, index, today)
            count += 1
    return count
