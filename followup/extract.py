"""The person's follow-up in the register extract (participants.extract, GDPR art. 15):
decision statuses, checkpoints, hospital use and outcome measures, one section each.
Like the other sections, staff are not named; the organisation answers for its staff."""

from django.utils.translation import gettext_lazy as _

from participants.extract import ExtractSection
from participants.models import Person

from .models import Checkpoint, DecisionStatusChange, HealthCareUse, OutcomeMeasure


def _plain(value):
    # Dates and times stay objects (DjangoJSONEncoder writes ISO 8601); decimals as exact text.
    if value is None or isinstance(value, bool | int | str) or hasattr(value, "isoformat"):
        return value
    return str(value)


MEETING = _("meeting number")


def decision_status_section(person: Person) -> ExtractSection:
    rows = (
        DecisionStatusChange.objects.filter(decision__meeting__person=person)
        .select_related("decision__organisation")
        .order_by("decision__meeting_id", "decision_id", "reported_at", "pk")
    )
    data = [
        {
            "meeting_id": row.decision.meeting_id,
            "organisation": row.decision.organisation.name,
            "decision": row.decision.description,
            "status": str(row.get_status_display()),
            "since": row.date,
            "note": row.note,
            "reported_at": row.reported_at,
        }
        for row in rows
    ]
    labels = {
        "meeting_id": MEETING,
        "organisation": _("organisation"),
        "decision": _("decision"),
        "status": _("status"),
        "since": _("since"),
        "note": _("note"),
        "reported_at": _("reported"),
    }
    return ExtractSection("followup_decisions", _("Follow-up of decisions"), data, labels)


def checkpoint_section(person: Person) -> ExtractSection:
    rows = Checkpoint.objects.filter(meeting__person=person).order_by("meeting_id", "due_date")
    data = [
        {
            "meeting_id": row.meeting_id,
            "checkpoint": str(row.get_kind_display()),
            "due": row.due_date,
            "completed_at": row.completed_at,
            "situation": str(row.get_person_situation_display()),
            "home_help_hours_before": _plain(row.home_help_hours_before),
            "home_help_hours_after": _plain(row.home_help_hours_after),
            "note": row.note,
        }
        for row in rows
    ]
    labels = {
        "meeting_id": MEETING,
        "checkpoint": _("checkpoint"),
        "due": _("due"),
        "completed_at": _("completed"),
        "situation": _("the person's situation"),
        "home_help_hours_before": _("home-help hours per week before the meeting"),
        "home_help_hours_after": _("home-help hours per week now"),
        "note": _("note"),
    }
    return ExtractSection("followup_checkpoints", _("Follow-up checkpoints"), data, labels)


def health_care_use_section(person: Person) -> ExtractSection:
    rows = HealthCareUse.objects.filter(person=person).order_by("meeting_id", "period")
    data = [
        {
            "meeting_id": row.meeting_id,
            "period": str(row.get_period_display()),
            "months": row.months,
            "hospital_admissions": row.hospital_admissions,
            "emergency_visits": row.emergency_visits,
        }
        for row in rows
    ]
    labels = {
        "meeting_id": MEETING,
        "period": _("period"),
        "months": _("months covered"),
        "hospital_admissions": _("hospital admissions"),
        "emergency_visits": _("emergency visits"),
    }
    return ExtractSection(
        "followup_health_care_use", _("Hospital admissions and emergency visits"), data, labels
    )


def outcome_section(person: Person) -> ExtractSection:
    rows = OutcomeMeasure.objects.filter(person=person).order_by("date", "pk")
    data = [
        {
            "meeting_id": row.meeting_id,
            "timepoint": str(row.get_timepoint_display()),
            "date": row.date,
            "could_not_answer": row.could_not_answer,
            "reason": str(row.get_no_answer_reason_display()) if row.no_answer_reason else None,
            "eq5d_profile": row.eq5d_profile or None,
            "eq5d_index": _plain(row.eq5d_index),
            "eq5d_value_set": row.eq5d_value_set or None,
            "eq5d_vas": row.eq5d_vas,
            "stai6_answers": ", ".join(str(getattr(row, f)) for f in OutcomeMeasure.STAI_FIELDS)
            if not row.could_not_answer
            else None,
            "stai6_sum": row.stai6_sum,
        }
        for row in rows
    ]
    labels = {
        "meeting_id": MEETING,
        "timepoint": _("when"),
        "date": _("date"),
        "could_not_answer": _("the person could not answer"),
        "reason": _("why not"),
        "eq5d_profile": _("EQ-5D profile"),
        "eq5d_index": _("EQ-5D index"),
        "eq5d_value_set": _("value set"),
        "eq5d_vas": _("EQ VAS"),
        "stai6_answers": _("STAI-6 answers"),
        "stai6_sum": _("STAI-6 sum"),
    }
    return ExtractSection("followup_measures", _("Outcome measures"), data, labels)


SECTIONS = [decision_status_section, checkpoint_section, health_care_use_section, outcome_section]
