"""The follow-up services: who may report what, checkpoints, health care use, outcome
measures and a new meeting from a follow-up."""

import datetime as dt
from decimal import Decimal

import pytest
from django.http import Http404
from django.utils import timezone

from followup import rules, selectors, services
from followup.models import (
    Checkpoint,
    DecisionStatus,
    DecisionStatusChange,
    HealthCareUse,
    OutcomeMeasure,
)
from followup.scoring import EQ5D3L_VALUE_SET, eq5d3l_index, stai6_score
from meetings import services as meeting_services
from meetings.models import Meeting
from participants.models import AccessLog, ChangeRecord
from vom.errors import DomainError

from ..followup_fixtures import MEETING_DAY, add_decision, build_held, set_meeting_day

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(marea, meeting_in):
    return build_held(marea, meeting_in)


S = Meeting.State
TODAY = timezone.localdate


def report(actor, decision, status="in_progress", **kwargs):
    return services.decision_status_report(
        actor=actor, decision=decision, status=status, date=kwargs.pop("date", TODAY()), **kwargs
    )


# --- Decision status: one permission cell per persona ---


def test_member_of_the_deciding_organisation_reports(marea, held):
    change = report(marea.nurse, held.nurse_decision, "implemented", note="Dosett från apoteket")
    assert change.status == DecisionStatus.IMPLEMENTED
    assert change.reported_by == marea.nurse
    assert ChangeRecord.objects.filter(
        object_type="followup.decisionstatuschange", object_id=str(change.pk)
    ).exists()
    assert AccessLog.objects.filter(
        user=marea.nurse, action="update", object_id=str(held.nurse_decision.pk)
    ).exists()


def test_a_colleague_in_the_same_organisation_reports_too(marea, held):
    # The physician is not the responsible person but works for the deciding organisation.
    assert report(marea.physician, held.nurse_decision).reported_by == marea.physician


def test_partner_organisation_cannot_report_on_anothers_decision(marea, held):
    with pytest.raises(DomainError) as exc:
        report(marea.coordinator, held.nurse_decision, "implemented")
    assert "Hemsjukvården Åby" in str(exc.value.message)
    assert not DecisionStatusChange.objects.exists()


def test_partner_reports_on_its_own_decision(marea, held):
    assert report(marea.coordinator, held.help_decision).status == "in_progress"


def test_outsider_gets_404(marea, held):
    with pytest.raises(Http404):
        report(marea.outsider, held.nurse_decision)
    assert not DecisionStatusChange.objects.exists()


def test_after_withdrawal_the_partner_follows_up_its_own_decision_only(marea, held):
    meeting_services.consent_withdraw(actor=marea.nurse, meeting=held.meeting, note="Vill inte")
    assert report(marea.coordinator, held.help_decision).status == "in_progress"
    with pytest.raises(Http404):  # the others' decisions: as if they did not exist
        selectors.get_decision_for_user(marea.coordinator, held.nurse_decision.pk)
    assert selectors.get_decision_for_user(marea.coordinator, held.help_decision.pk)


def test_status_only_after_the_meeting_was_held(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    decision = add_decision(
        marea, meeting, actor=marea.nurse, organisation=marea.health_care, description="Tandläkare"
    )
    with pytest.raises(DomainError) as exc:
        report(marea.nurse, decision)
    assert "hållits" in str(exc.value.message)


@pytest.mark.parametrize(
    ("status", "day", "field"),
    [
        ("done", None, "status"),
        ("", None, "status"),
        ("implemented", "tomorrow", "date"),
        ("implemented", "before", "date"),
        ("implemented", "not a date", "date"),
    ],
)
def test_status_input_errors_name_the_field(marea, held, status, day, field):
    meeting = set_meeting_day(held.meeting, TODAY() - dt.timedelta(days=3))
    days = {
        None: TODAY(),
        "tomorrow": TODAY() + dt.timedelta(days=1),
        "before": TODAY() - dt.timedelta(days=4),
        "not a date": "2026-13-01",
    }
    with pytest.raises(DomainError) as exc:
        services.decision_status_report(
            actor=marea.nurse, decision=meeting.decisions.get(pk=held.nurse_decision.pk),
            status=status, date=days[day],
        )  # fmt: skip
    assert exc.value.field == field


def test_the_same_report_twice_is_one_row(marea, held):
    first = report(marea.nurse, held.nurse_decision, "partly", note="Halva")
    second = report(marea.nurse, held.nurse_decision, "partly", note="Halva")
    assert first.pk == second.pk
    assert DecisionStatusChange.objects.count() == 1


def test_current_status_is_the_latest_report(marea, held):
    from followup.selectors import decisions_with_status

    report(marea.nurse, held.nurse_decision, "not_started")
    report(marea.nurse, held.nurse_decision, "implemented", date=TODAY() - dt.timedelta(days=0))
    decision = decisions_with_status().get(pk=held.nurse_decision.pk)
    assert decision.current_status == "implemented"


# --- Checkpoints ---


def complete(actor, meeting, kind="two_weeks", **kwargs):
    defaults = {"person_situation": "at_home", "home_help_hours_before": Decimal("11.5")}
    return services.checkpoint_complete(
        actor=actor, meeting=meeting, kind=kind, **(defaults | kwargs)
    )


def test_checkpoint_needs_a_report_on_every_open_decision(marea, held):
    report(marea.nurse, held.nurse_decision, "implemented")
    report(marea.coordinator, held.help_decision, "in_progress")
    with pytest.raises(DomainError) as exc:
        complete(marea.nurse, held.meeting)
    message = str(exc.value.message)
    assert "(1)" in message and "Kvällsbesök för mat" in message
    assert "Samma personal" not in message
    assert not Checkpoint.objects.exists()

    report(marea.assessor, held.assessor_decision, "not_started")
    checkpoint = complete(marea.nurse, held.meeting, home_help_hours_after="16.9")
    assert checkpoint.is_completed
    assert checkpoint.home_help_hours_before == Decimal("11.5")
    assert checkpoint.home_help_hours_after == Decimal("16.9")
    assert checkpoint.completed_by == marea.nurse


def test_two_months_needs_new_reports_since_the_two_weeks_checkpoint(marea, held):
    report(marea.nurse, held.nurse_decision, "implemented")
    report(marea.coordinator, held.help_decision, "in_progress")
    report(marea.assessor, held.assessor_decision, "in_progress")
    complete(marea.coordinator, held.meeting)
    # The implemented decision is closed; the two others need a new report.
    with pytest.raises(DomainError) as exc:
        complete(marea.coordinator, held.meeting, "two_months")
    assert "(2)" in str(exc.value.message)
    report(marea.coordinator, held.help_decision, "implemented")
    report(marea.assessor, held.assessor_decision, "declined_by_person", note="Vill vänta")
    checkpoint = complete(marea.coordinator, held.meeting, "two_months")
    assert checkpoint.kind == "two_months"


def test_checkpoint_due_dates_count_from_the_meeting_day(marea, held):
    meeting = set_meeting_day(held.meeting, MEETING_DAY)
    assert rules.checkpoint_due_date(meeting, "two_weeks") == dt.date(2026, 3, 16)
    assert rules.checkpoint_due_date(meeting, "two_months") == dt.date(2026, 5, 2)
    for decision in (held.nurse_decision, held.help_decision, held.assessor_decision):
        DecisionStatusChange.objects.create(
            decision=decision, status="implemented", date=MEETING_DAY, reported_by=marea.nurse
        )
    assert complete(marea.nurse, meeting).due_date == dt.date(2026, 3, 16)


def test_checkpoint_is_completed_once(marea, held):
    for decision, actor in (
        (held.nurse_decision, marea.nurse),
        (held.help_decision, marea.coordinator),
        (held.assessor_decision, marea.assessor),
    ):
        report(actor, decision, "implemented")
    complete(marea.nurse, held.meeting)
    with pytest.raises(DomainError) as exc:
        complete(marea.coordinator, held.meeting)
    assert "slutfördes redan" in str(exc.value.message)
    assert Checkpoint.objects.count() == 1


def test_checkpoint_without_decisions_open_completes(marea, meeting_in):
    meeting = meeting_in(S.HELD)
    assert complete(marea.coordinator, meeting, person_situation="short_term_care").is_completed


def test_outsider_cannot_complete_a_checkpoint(marea, held):
    with pytest.raises(Http404):
        complete(marea.outsider, held.meeting)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "three_weeks"}, "kind"),
        ({"person_situation": "moon"}, "person_situation"),
        ({"home_help_hours_before": "-1"}, "home_help_hours_before"),
        ({"home_help_hours_after": "169"}, "home_help_hours_after"),
        ({"home_help_hours_after": "elva"}, "home_help_hours_after"),
        ({"home_help_hours_after": "NaN"}, "home_help_hours_after"),
        ({"home_help_hours_before": "1.25"}, "home_help_hours_before"),
    ],
)
def test_checkpoint_input_errors_name_the_field(marea, meeting_in, kwargs, field):
    meeting = meeting_in(S.HELD)
    with pytest.raises(DomainError) as exc:
        complete(marea.nurse, meeting, **kwargs)
    assert exc.value.field == field


def test_checkpoint_before_the_meeting_is_refused(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    with pytest.raises(DomainError):
        complete(marea.nurse, meeting)


# --- Health care use ---


def record_use(actor, meeting, period="before", **kwargs):
    values = {"months": 6, "hospital_admissions": 2, "emergency_visits": 3} | kwargs
    return services.health_care_use_record(actor=actor, meeting=meeting, period=period, **values)


def test_health_care_records_admissions_and_corrects_them(marea, held):
    row = record_use(marea.nurse, held.meeting)
    assert (row.person, row.hospital_admissions, row.emergency_visits) == (marea.person, 2, 3)
    row = record_use(marea.physician, held.meeting, hospital_admissions=1)
    assert HealthCareUse.objects.count() == 1
    assert row.hospital_admissions == 1
    assert ChangeRecord.objects.filter(object_type="followup.healthcareuse", action="update")


def test_municipal_partner_does_not_record_hospital_admissions(marea, held):
    with pytest.raises(DomainError):
        record_use(marea.coordinator, held.meeting)
    with pytest.raises(DomainError):
        record_use(marea.assessor, held.meeting)
    with pytest.raises(Http404):
        record_use(marea.outsider, held.meeting)
    assert not HealthCareUse.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"period": "during"}, "period"),
        ({"months": 0}, "months"),
        ({"months": 25}, "months"),
        ({"hospital_admissions": -1}, "hospital_admissions"),
        ({"emergency_visits": "3"}, "emergency_visits"),
        ({"emergency_visits": True}, "emergency_visits"),
    ],
)
def test_health_care_input_errors_name_the_field(marea, held, kwargs, field):
    with pytest.raises(DomainError) as exc:
        record_use(marea.nurse, held.meeting, **kwargs)
    assert exc.value.field == field


# --- Outcome measures ---

EQ5D_21232 = {
    "mobility": 2,
    "self_care": 1,
    "usual_activities": 2,
    "pain_discomfort": 3,
    "anxiety_depression": 2,
}
STAI = {"calm": 3, "tense": 2, "upset": 1, "relaxed": 3, "content": 2, "worried": 3}


def measure(actor, meeting, timepoint="after", **kwargs):
    values = {"date": TODAY(), "eq5d": EQ5D_21232, "vas": 55, "stai": STAI} | kwargs
    return services.outcome_record(actor=actor, meeting=meeting, timepoint=timepoint, **values)


def test_outcome_stores_the_index_with_the_value_set(marea, held):
    row = measure(marea.coordinator, held.meeting)
    row.refresh_from_db()
    assert row.eq5d_profile == "21232"
    assert row.eq5d_index == Decimal(str(eq5d3l_index("21232")))
    assert row.eq5d_index == Decimal("0.088")  # 1 - .081 - .069 - .036 - .386 - .071 - .269
    assert row.eq5d_value_set == EQ5D3L_VALUE_SET
    assert row.stai6_sum == stai6_score([3, 2, 1, 3, 2, 3]) == 13
    assert (row.eq5d_vas, row.person, row.entered_by) == (55, marea.person, marea.coordinator)


def test_check_values_of_domain_md_are_stored_exactly(marea, held):
    for profile, expected in (("11111", "1.000"), ("22222", "0.516"), ("33333", "-0.594")):
        levels = dict(zip(EQ5D_21232, (int(c) for c in profile), strict=True))
        row = measure(marea.nurse, held.meeting, eq5d=levels)
        row.refresh_from_db()
        assert row.eq5d_index == Decimal(expected)


def test_could_not_answer_with_a_reason(marea, held):
    row = measure(
        marea.nurse, held.meeting, "two_months", could_not_answer=True,
        no_answer_reason="memory_problems",
    )  # fmt: skip
    assert row.could_not_answer and row.eq5d_index is None and row.stai6_sum is None
    assert row.eq5d_value_set == ""


def test_correcting_a_measure_replaces_it(marea, held):
    measure(marea.nurse, held.meeting)
    row = measure(
        marea.nurse, held.meeting, could_not_answer=True, no_answer_reason="hospital_stay"
    )
    assert OutcomeMeasure.objects.count() == 1
    assert row.mobility is None and row.eq5d_vas is None


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"eq5d": EQ5D_21232 | {"mobility": 4}}, "mobility"),
        ({"eq5d": EQ5D_21232 | {"self_care": 0}}, "self_care"),
        ({"eq5d": EQ5D_21232 | {"pain_discomfort": None}}, "pain_discomfort"),
        ({"eq5d": EQ5D_21232 | {"anxiety_depression": "2"}}, "anxiety_depression"),
        ({"eq5d": None}, "mobility"),
        ({"vas": 101}, "eq5d_vas"),
        ({"vas": -1}, "eq5d_vas"),
        ({"vas": None}, "eq5d_vas"),
        ({"vas": 50.5}, "eq5d_vas"),
        ({"stai": STAI | {"calm": 5}}, "stai_calm"),
        ({"stai": STAI | {"worried": 0}}, "stai_worried"),
        ({"stai": {}}, "stai_calm"),
        ({"timepoint": "next_year"}, "timepoint"),
        ({"date": "tomorrow"}, "date"),
        ({"could_not_answer": True, "no_answer_reason": ""}, "no_answer_reason"),
        ({"could_not_answer": True, "no_answer_reason": "other"}, "no_answer_note"),
    ],
)
def test_invalid_measures_give_a_field_error(marea, held, kwargs, field):
    if kwargs.get("date") == "tomorrow":  # computed now: collection may be before midnight
        kwargs = kwargs | {"date": TODAY() + dt.timedelta(days=1)}
    with pytest.raises(DomainError) as exc:
        measure(marea.nurse, held.meeting, **kwargs)
    assert exc.value.field == field
    assert not OutcomeMeasure.objects.exists()


def test_baseline_before_the_meeting_but_not_after_values(marea, meeting_in):
    meeting = meeting_in(S.SCHEDULED)
    assert measure(marea.nurse, meeting, "baseline").timepoint == "baseline"
    with pytest.raises(DomainError):
        measure(marea.nurse, meeting, "after")


def test_after_measures_are_not_dated_before_the_meeting(marea, held):
    meeting = set_meeting_day(held.meeting, TODAY() - dt.timedelta(days=2))
    with pytest.raises(DomainError) as exc:
        measure(marea.nurse, meeting, "after", date=TODAY() - dt.timedelta(days=3))
    assert exc.value.field == "date"
    assert measure(marea.nurse, meeting, "baseline", date=TODAY() - dt.timedelta(days=9))


def test_outsider_cannot_enter_measures(marea, held):
    with pytest.raises(Http404):
        measure(marea.outsider, held.meeting)


# --- A new meeting from the follow-up ---


def test_new_meeting_is_prefilled_and_linked(marea, held):
    new = services.followup_start_new_meeting(
        actor=marea.coordinator, previous_meeting=held.meeting, organisation=marea.home_help,
        raised_by="home_help", urgency="soon", kind="small",
    )  # fmt: skip
    assert new.previous_meeting == held.meeting
    assert new.state == S.INITIATED
    assert sorted(new.reasons.values_list("code", flat=True)) == sorted(
        held.meeting.reasons.values_list("code", flat=True)
    )
    assert new.reason_text == held.meeting.reason_text
    assert new.initiator_organisation == marea.home_help


def test_a_second_new_meeting_is_refused_while_one_is_open(marea, held):
    kwargs = {
        "previous_meeting": held.meeting, "organisation": marea.health_care,
        "raised_by": "nurse", "urgency": "soon", "kind": "full", "reasons": ["passive"],
    }  # fmt: skip
    services.followup_start_new_meeting(actor=marea.nurse, **kwargs)
    with pytest.raises(DomainError):
        services.followup_start_new_meeting(actor=marea.nurse, **kwargs)
    assert Meeting.objects.filter(previous_meeting=held.meeting).count() == 1


def test_new_meeting_needs_the_organisation_in_the_care_team(marea, held):
    with pytest.raises(DomainError) as exc:
        services.followup_start_new_meeting(
            actor=marea.nurse, previous_meeting=held.meeting, organisation=marea.home_help,
            raised_by="nurse", urgency="soon", kind="full",
        )  # fmt: skip
    assert exc.value.field == "organisation"
    with pytest.raises(Http404):
        services.followup_start_new_meeting(
            actor=marea.outsider, previous_meeting=held.meeting, organisation=marea.outsider_org,
            raised_by="nurse", urgency="soon", kind="full",
        )  # fmt: skip
