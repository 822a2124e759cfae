"""Everything that writes the follow-up. Each service is keyword-only and atomic, locks what it
changes, checks who may act, and leaves a ChangeRecord and an AccessLog row.

Who may do what:
- a decision's status is reported only by a member (in a care role) of the organisation that
  made the decision;
- checkpoints and outcome measures are recorded by a member of any organisation taking part
  in the meeting;
- hospital admissions and emergency visits come from the region's records, so only a member
  of a participating health care (region) organisation records them.
Everyone else who can see the meeting reads; anyone who cannot gets 404.
"""

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from meetings import services as meeting_services
from meetings.models import Decision, Meeting
from meetings.selectors import get_meeting_for_user
from participants import audit
from participants.models import AccessLog, Organisation, User
from vom.errors import DomainError

from . import scoring
from .models import (
    Checkpoint,
    DecisionStatus,
    DecisionStatusChange,
    HealthCareUse,
    OutcomeMeasure,
)
from .rules import (
    BASELINE_STATES,
    FOLLOWUP_STATES,
    S,
    checkpoint_due_date,
    follow_up_organisation_ids,
    health_care_organisation_ids,
    may_report_on,
    meeting_day,
    participating_organisation_ids,
)

MAX_HOURS_PER_WEEK = Decimal(168)

STATUS_FIELDS = ["status", "date", "note"]
CHECKPOINT_FIELDS = [
    "kind", "due_date", "person_situation", "home_help_hours_before", "home_help_hours_after",
    "note",
]  # fmt: skip
HEALTH_CARE_FIELDS = ["period", "months", "hospital_admissions", "emergency_visits"]
OUTCOME_FIELDS = [
    "timepoint", "date", "could_not_answer", "no_answer_reason", "no_answer_note",
    *scoring.EQ5D_DIMENSIONS, "eq5d_index", "eq5d_value_set", "eq5d_vas",
    *OutcomeMeasure.STAI_FIELDS, "stai6_sum",
]  # fmt: skip


def _locked_visible_meeting(actor, meeting: Meeting) -> Meeting:
    """Re-read the meeting under lock; 404 if the actor can no longer see it (e.g. consent
    was withdrawn after the page was loaded)."""
    get_meeting_for_user(actor, meeting.pk)
    return Meeting.objects.select_for_update().select_related("person").get(pk=meeting.pk)


def _require_followup_state(meeting: Meeting, states=FOLLOWUP_STATES) -> None:
    if meeting.state not in states:
        if meeting.state in (S.DECLINED, S.CANCELLED):
            raise DomainError(_("There is nothing to follow up: the meeting was not held."))
        raise DomainError(_("The follow-up starts when the meeting has been held."))


def _require_follow_up_member(actor, meeting: Meeting) -> None:
    if not follow_up_organisation_ids(actor, participating_organisation_ids(meeting)):
        raise DomainError(
            _("Only staff of an organisation that takes part in the meeting can do this.")
        )


def _not_in_future(day: dt.date | None, field: str) -> dt.date:
    if not isinstance(day, dt.date):
        raise DomainError(_("Give a date."), field=field)
    if day > timezone.localdate():
        raise DomainError(_("The date cannot be in the future."), field=field)
    return day


# --- Decision status ---


def decision_status_report(
    *,
    actor: User,
    decision: Decision,
    status: str,
    date: dt.date,
    note: str = "",
    request=None,
) -> DecisionStatusChange:
    """Report where a decision stands. Only a member of the deciding organisation may."""
    if status not in DecisionStatus.values:
        raise DomainError(_("Choose a status."), field="status")
    _not_in_future(date, "date")
    note = (note or "").strip()
    with transaction.atomic():
        meeting = _locked_visible_meeting(actor, decision.meeting)
        decision = (
            Decision.objects.select_for_update()
            .select_related("organisation")
            .get(pk=decision.pk, meeting=meeting)
        )
        _require_followup_state(meeting)
        if not may_report_on(actor, decision):
            raise DomainError(
                _("Only %(organisation)s can report on its own decisions.")
                % {"organisation": decision.organisation.name}
            )
        held = meeting_day(meeting)
        if held and date < held:
            raise DomainError(
                _("The date cannot be before the meeting (%(day)s).") % {"day": held.isoformat()},
                field="date",
            )
        latest = decision.status_changes.order_by("-reported_at", "-pk").first()
        # A double submit, or two colleagues reporting the same thing at once: one report.
        if latest is not None and (latest.status, latest.date, latest.note) == (status, date, note):
            return latest
        change = DecisionStatusChange.objects.create(
            decision=decision, status=status, date=date, note=note, reported_by=actor
        )
        audit.record_change(
            user=actor,
            obj=change,
            action="create",
            before=audit.snapshot(latest, STATUS_FIELDS) if latest else {},
            after=audit.snapshot(change, STATUS_FIELDS) | {"decision": decision.pk},
            person=meeting.person,
        )
        audit.log_access(
            request, user=actor, person=meeting.person, action=AccessLog.Action.UPDATE, obj=decision
        )
        return change


# --- Checkpoints ---


def _hours(value, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        hours = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError(_("Give the hours as a number."), field=field) from None
    if not hours.is_finite() or not 0 <= hours <= MAX_HOURS_PER_WEEK:
        raise DomainError(_("Give the hours per week as a number from 0 to 168."), field=field)
    if hours != hours.quantize(Decimal("0.1")):
        raise DomainError(_("Give the hours with at most one decimal."), field=field)
    return hours


def open_decisions_missing_report(meeting: Meeting, *, since: dt.datetime | None) -> list:
    """Open decisions with no status report after `since` (all reports count when None)."""
    from .selectors import decisions_with_status, open_decision_q

    decisions = decisions_with_status().filter(meeting=meeting).filter(open_decision_q())
    if since is not None:
        reported = DecisionStatusChange.objects.filter(reported_at__gt=since)
    else:
        reported = DecisionStatusChange.objects.all()
    return list(
        decisions.exclude(pk__in=reported.filter(decision__meeting=meeting).values("decision_id"))
        .select_related("organisation")
        .order_by("organisation__name", "created_at", "pk")
    )


def last_checkpoint_at(meeting: Meeting) -> dt.datetime | None:
    last = (
        Checkpoint.objects.filter(meeting=meeting, completed_at__isnull=False)
        .order_by("-completed_at")
        .first()
    )
    return last.completed_at if last else None


def checkpoint_complete(
    *,
    actor: User,
    meeting: Meeting,
    kind: str,
    person_situation: str,
    home_help_hours_before=None,
    home_help_hours_after=None,
    note: str = "",
    request=None,
) -> Checkpoint:
    """Complete the 2-week or 2-month follow-up. Every open decision must have a status report
    since the meeting or the last completed checkpoint."""
    if kind not in Checkpoint.Kind.values:
        raise DomainError(_("Unknown checkpoint."), field="kind")
    if person_situation not in Checkpoint.Situation.values:
        raise DomainError(_("Choose the person's situation."), field="person_situation")
    before = _hours(home_help_hours_before, "home_help_hours_before")
    after = _hours(home_help_hours_after, "home_help_hours_after")
    with transaction.atomic():
        meeting = _locked_visible_meeting(actor, meeting)
        _require_followup_state(meeting)
        _require_follow_up_member(actor, meeting)
        existing = Checkpoint.objects.filter(meeting=meeting, kind=kind).first()
        if existing is not None and existing.is_completed:
            raise DomainError(
                _("The %(checkpoint)s follow-up was already completed on %(day)s.")
                % {
                    "checkpoint": existing.get_kind_display(),
                    "day": timezone.localdate(existing.completed_at).isoformat(),
                }
            )
        missing = open_decisions_missing_report(meeting, since=last_checkpoint_at(meeting))
        if missing:
            names = "; ".join(f"{d.organisation.name}: {d.description[:60]}" for d in missing)
            raise DomainError(
                _(
                    "Every open decision needs a status report before the follow-up can be "
                    "completed. Still missing (%(count)d): %(decisions)s"
                )
                % {"count": len(missing), "decisions": names}
            )
        checkpoint = existing or Checkpoint(meeting=meeting, kind=kind)
        checkpoint.due_date = checkpoint_due_date(meeting, kind) or timezone.localdate()
        checkpoint.person_situation = person_situation
        checkpoint.home_help_hours_before = before
        checkpoint.home_help_hours_after = after
        checkpoint.note = (note or "").strip()
        checkpoint.completed_at = timezone.now()
        checkpoint.completed_by = actor
        checkpoint.save()
        audit.record_and_log(
            request,
            user=actor,
            obj=checkpoint,
            action="create",
            before={},
            after=audit.snapshot(checkpoint, CHECKPOINT_FIELDS),
            person=meeting.person,
        )
        return checkpoint


# --- Health care use ---


def _count(value, field: str, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise DomainError(_("Give a whole number."), field=field)
    if not low <= value <= high:
        raise DomainError(
            _("Give a number from %(low)d to %(high)d.") % {"low": low, "high": high}, field=field
        )
    return value


def health_care_use_record(
    *,
    actor: User,
    meeting: Meeting,
    period: str,
    months: int,
    hospital_admissions: int,
    emergency_visits: int,
    request=None,
) -> HealthCareUse:
    """Hospital admissions and emergency visits in the months before or after the meeting."""
    if period not in HealthCareUse.Period.values:
        raise DomainError(_("Choose before or after the meeting."), field="period")
    _count(months, "months", low=1, high=24)
    _count(hospital_admissions, "hospital_admissions", low=0, high=100)
    _count(emergency_visits, "emergency_visits", low=0, high=100)
    with transaction.atomic():
        meeting = _locked_visible_meeting(actor, meeting)
        _require_followup_state(meeting)
        if not health_care_organisation_ids(actor, participating_organisation_ids(meeting)):
            raise DomainError(
                _(
                    "Only staff of a health care organisation that takes part in the meeting "
                    "can record hospital admissions and emergency visits."
                )
            )
        row = HealthCareUse.objects.select_for_update().filter(meeting=meeting, period=period)
        row = row.first()
        before = audit.snapshot(row, HEALTH_CARE_FIELDS) if row else {}
        if row is None:
            row = HealthCareUse(meeting=meeting, person=meeting.person, period=period)
        row.months = months
        row.hospital_admissions = hospital_admissions
        row.emergency_visits = emergency_visits
        row.recorded_by = actor
        row.recorded_at = timezone.now()
        row.save()
        audit.record_and_log(
            request,
            user=actor,
            obj=row,
            action="update" if before else "create",
            before=before,
            after=audit.snapshot(row, HEALTH_CARE_FIELDS),
            person=meeting.person,
        )
        return row


# --- Outcome measures ---


def _level(value, field: str, *, high: int, message) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
        raise DomainError(message, field=field)
    return value


def _scored_answers(eq5d: dict, vas, stai: dict) -> dict:
    """Validate every answer (a field error for the first wrong one), then score them with
    followup.scoring, the one implementation shared with the reports."""
    levels = [
        _level(
            (eq5d or {}).get(name), name, high=3, message=_("Choose one of the three statements.")
        )
        for name in scoring.EQ5D_DIMENSIONS
    ]
    try:
        vas = scoring.validate_vas(vas)
    except ValueError:
        raise DomainError(
            _("Give the health scale as a whole number from 0 to 100."), field="eq5d_vas"
        ) from None
    answers = [
        _level(
            (stai or {}).get(item), f"stai_{item}", high=4, message=_("Choose one of the answers.")
        )
        for item in scoring.STAI6_ITEMS
    ]
    try:
        index = scoring.eq5d3l_index(levels)
        total = scoring.stai6_score(answers)
    except ValueError as exc:  # cannot happen after the checks above; never a 500 if it does
        raise DomainError(_("The answers could not be scored: %(error)s") % {"error": exc}) from exc
    values = dict(zip(scoring.EQ5D_DIMENSIONS, levels, strict=True))
    values |= dict(zip(OutcomeMeasure.STAI_FIELDS, answers, strict=True))
    values |= {
        "eq5d_index": Decimal(str(index)).quantize(Decimal("0.001")),
        "eq5d_value_set": scoring.EQ5D3L_VALUE_SET,
        "eq5d_vas": vas,
        "stai6_sum": total,
    }
    return values


def _no_answers() -> dict:
    values = dict.fromkeys([*scoring.EQ5D_DIMENSIONS, *OutcomeMeasure.STAI_FIELDS])
    return values | {"eq5d_index": None, "eq5d_value_set": "", "eq5d_vas": None, "stai6_sum": None}


def outcome_record(
    *,
    actor: User,
    meeting: Meeting,
    timepoint: str,
    date: dt.date,
    eq5d: dict[str, int] | None = None,
    vas: int | None = None,
    stai: dict[str, int] | None = None,
    could_not_answer: bool = False,
    no_answer_reason: str = "",
    no_answer_note: str = "",
    request=None,
) -> OutcomeMeasure:
    """Record (or correct) the measures taken with the person at one timepoint.

    `eq5d` maps the dimensions of scoring.EQ5D_DIMENSIONS to levels 1-3; `stai` maps the items
    of scoring.STAI6_ITEMS to answers 1-4. Or the person could not answer, with a reason.
    The index is computed here by scoring.eq5d3l_index and stored with the value set's name.
    """
    if timepoint not in OutcomeMeasure.Timepoint.values:
        raise DomainError(_("Choose when the measures were taken."), field="timepoint")
    _not_in_future(date, "date")
    no_answer_note = (no_answer_note or "").strip()
    if could_not_answer:
        if no_answer_reason not in OutcomeMeasure.NoAnswerReason.values:
            raise DomainError(_("Say why the person could not answer."), field="no_answer_reason")
        if no_answer_reason == OutcomeMeasure.NoAnswerReason.OTHER and not no_answer_note:
            raise DomainError(_("Describe the other reason."), field="no_answer_note")
        values = _no_answers()
    else:
        values = _scored_answers(eq5d, vas, stai)
        no_answer_reason, no_answer_note = "", ""
    values |= {
        "date": date,
        "could_not_answer": bool(could_not_answer),
        "no_answer_reason": no_answer_reason,
        "no_answer_note": no_answer_note,
    }
    with transaction.atomic():
        meeting = _locked_visible_meeting(actor, meeting)
        if timepoint == OutcomeMeasure.Timepoint.BASELINE:
            _require_followup_state(meeting, BASELINE_STATES)
        else:
            _require_followup_state(meeting)
            held = meeting_day(meeting)
            if held and date < held:
                raise DomainError(
                    _("Measures after the meeting cannot be dated before it (%(day)s).")
                    % {"day": held.isoformat()},
                    field="date",
                )
        _require_follow_up_member(actor, meeting)
        measure = (
            OutcomeMeasure.objects.select_for_update()
            .filter(meeting=meeting, timepoint=timepoint)
            .first()
        )
        before = audit.snapshot(measure, OUTCOME_FIELDS) if measure else {}
        if measure is None:
            measure = OutcomeMeasure(meeting=meeting, person=meeting.person, timepoint=timepoint)
        for name, value in values.items():
            setattr(measure, name, value)
        measure.entered_by = actor
        measure.entered_at = timezone.now()
        measure.save()
        audit.record_and_log(
            request,
            user=actor,
            obj=measure,
            action="update" if before else "create",
            before=before,
            after=audit.snapshot(measure, OUTCOME_FIELDS),
            person=meeting.person,
        )
        return measure


# --- A new meeting from a follow-up ---


def followup_start_new_meeting(
    *,
    actor: User,
    previous_meeting: Meeting,
    organisation: Organisation,
    raised_by: str,
    urgency: str,
    kind: str,
    reasons: Iterable[str] | None = None,
    reason_text: str | None = None,
    raised_by_detail: str = "",
    request=None,
) -> Meeting:
    """Propose a new meeting for the same person, linked to this one. Reasons default to the
    previous meeting's. One open follow-on meeting at a time: a double submit starts one."""
    with transaction.atomic():
        previous = _locked_visible_meeting(actor, previous_meeting)
        _require_followup_state(previous)
        already = (
            Meeting.objects.filter(previous_meeting=previous, state__in=Meeting.OPEN_STATES)
            .order_by("pk")
            .first()
        )
        if already is not None:
            raise DomainError(
                _("A new meeting was already proposed from this follow-up on %(day)s.")
                % {"day": timezone.localdate(already.initiated_at).isoformat()}
            )
        if reasons is None:
            reasons = list(previous.reasons.values_list("code", flat=True))
        if reason_text is None:
            reason_text = previous.reason_text
        try:
            return meeting_services.meeting_initiate(
                actor=actor,
                person=previous.person,
                organisation=organisation,
                reasons=reasons,
                reason_text=reason_text,
                raised_by=raised_by,
                raised_by_detail=raised_by_detail,
                urgency=urgency,
                kind=kind,
                previous_meeting=previous,
                request=request,
            )
        except Http404:
            raise DomainError(
                _("Your organisation must be in the person's care team to propose a meeting."),
                field="organisation",
            ) from None
