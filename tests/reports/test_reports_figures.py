import datetime as dt
from decimal import Decimal

import pytest

from meetings.models import Meeting, Participant
from participants.models import Role
from reports.costs import CostModel
from reports.figures import Period
from reports.models import CostSettings, HourlyRate

from ..reports_data import aware, computed, make_meeting, report_area, seed_000_meetings

pytestmark = pytest.mark.django_db

S = Meeting.State
MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


@pytest.fixture
def rarea():
    return report_area()


def test_seed_000_eight_meetings_cost_3824_sek_a_third_municipal(rarea):
    seed_000_meetings(rarea, dt.date(2026, 3, 2))
    report = computed(MARCH)
    s = report.summary
    assert s["meetings_held"] == 8
    # 30,591.67 SEK for eight meetings by the standard formula of seed 000.
    assert s["mean_cost_sek"] == pytest.approx(3823.96, abs=0.01)
    assert round(s["mean_cost_sek"], -2) == 3800
    assert round(s["municipal_cost_share"] * 100) == 34
    assert s["region_cost_sek"] + s["municipal_cost_sek"] == pytest.approx(30591.67, abs=0.02)


def test_seed_000_attendance_in_the_style_of_table_2(rarea):
    seed_000_meetings(rarea, dt.date(2026, 3, 2))
    rows = {row["role"] or row["kind"]: row for row in computed(MARCH).tables["attendance"].rows}
    assert rows[Role.PHYSICIAN]["meetings_attended"] == 8
    assert rows[Role.PHYSICIAN]["different_people"] == 1
    assert rows[Role.NEEDS_ASSESSOR]["meetings_attended"] == 8
    assert rows[Role.NEEDS_ASSESSOR]["different_people"] == 5
    assert rows[Role.NURSE]["meetings_attended"] == 6
    assert rows[Role.NURSE]["meetings_invited"] == 8
    assert rows[Role.CONTACT_PERSON]["meetings_attended"] == 6
    assert rows[Role.CONTACT_PERSON]["different_people"] == 6
    assert rows[Role.HOME_HELP_COORDINATOR]["meetings_attended"] == 4
    assert rows[Role.HOME_HELP_COORDINATOR]["different_people"] == 2
    assert rows["relative"]["meetings_attended"] == 7
    relatives = {r["relatives"]: r["meetings"] for r in computed(MARCH).tables["relatives"].rows}
    assert relatives == {"0": 1, "1": 4, "2": 2, "3+": 1}


def test_recorded_minutes_replace_the_standards(rarea):
    hc = rarea.health_care
    meeting = make_meeting(
        rarea,
        initiated=dt.date(2026, 3, 1),
        held=dt.date(2026, 3, 10),
        staff=[(rarea.physician, hc, Role.PHYSICIAN, True, "")],
    )
    Participant.objects.filter(meeting=meeting, user=rarea.physician).update(
        preparation_minutes=30, travel_minutes=0, meeting_minutes=90
    )
    report = computed(MARCH)
    # (30 + 0 + 90) minutes at 790 SEK/h
    assert report.summary["mean_cost_sek"] == pytest.approx(1580.0)
    minutes = report.tables["minutes"].rows[0]
    assert minutes["recorded_share"] == 1.0
    assert minutes["preparation_mean"] == 30


def test_remote_attendance_has_no_standard_travel(rarea):
    asm = rarea.assessment
    make_meeting(
        rarea,
        initiated=dt.date(2026, 3, 1),
        held=dt.date(2026, 3, 10),
        staff=[(rarea.assessors[0], asm, Role.NEEDS_ASSESSOR, True, Participant.Mode.VIDEO)],
    )
    report = computed(MARCH)
    # (10 preparation + 60 meeting) minutes at 420 SEK/h, all municipal
    assert report.summary["mean_cost_sek"] == pytest.approx(490.0)
    assert report.summary["municipal_cost_share"] == 1.0
    assert report.summary["remote_attendance_share"] == 1.0


def test_an_organisations_own_rates_and_standards_are_used(rarea):
    hc = rarea.health_care
    make_meeting(
        rarea,
        initiated=dt.date(2026, 3, 1),
        held=dt.date(2026, 3, 10),
        staff=[(rarea.physician, hc, Role.PHYSICIAN, True, "")],
    )
    HourlyRate.objects.create(
        organisation=hc, role=Role.PHYSICIAN, sek_per_hour=Decimal("600"), preparation_minutes=0
    )
    CostSettings.objects.create(organisation=hc, meeting_minutes=30, travel_minutes=30)
    report = computed(MARCH, cost_model=CostModel.load())
    assert report.summary["mean_cost_sek"] == pytest.approx(600.0)


def test_counts_by_the_month_of_each_event(rarea):
    make_meeting(rarea, initiated=dt.date(2026, 2, 20), held=dt.date(2026, 3, 5))
    make_meeting(
        rarea,
        state=S.CANCELLED,
        initiated=dt.date(2026, 3, 2),
        ended=dt.date(2026, 3, 3),
        cancel_reason="Personen är på sjukhus.",
        ended_from=S.CONVENING,
    )
    make_meeting(rarea, state=S.DECLINED, initiated=dt.date(2026, 3, 2), ended=dt.date(2026, 4, 1))
    make_meeting(rarea, state=S.SCHEDULED, initiated=dt.date(2026, 3, 30))
    report = computed(MARCH)
    s = report.summary
    assert (s["meetings_initiated"], s["meetings_held"]) == (3, 1)
    assert (s["meetings_cancelled"], s["meetings_declined"]) == (1, 0)
    assert s["mean_days_to_meeting"] == pytest.approx(13.0)
    assert s["mean_days_to_consent"] == pytest.approx(2.0)
    endings = report.tables["endings"].rows
    assert [(r["from_state"], r["meetings"]) for r in endings] == [(S.CONVENING, 1)]
    spring = computed(Period(dt.date(2026, 2, 1), dt.date(2026, 4, 30)))
    months = {row["month"]: row for row in spring.tables["by_month"].rows}
    assert months[dt.date(2026, 2, 1)]["initiated"] == 1
    assert months[dt.date(2026, 3, 1)]["held"] == 1
    assert months[dt.date(2026, 4, 1)]["declined"] == 1


def test_initiators_and_reasons(rarea):
    seed_000_meetings(rarea, dt.date(2026, 3, 20))
    report = computed(Period(dt.date(2026, 3, 1), dt.date(2026, 4, 30)))
    initiators = {(r["organisation"], r["meetings"]) for r in report.tables["initiators"].rows}
    assert initiators == {(rarea.health_care.name, 6), (rarea.home_help.name, 2)}
    reasons = {r["code"]: r["meetings"] for r in report.tables["reasons"].rows}
    assert reasons["not_eating"] == 8
    assert reasons["repeated_falls"] == 0
    assert len(reasons) == 16


def test_organisation_scope_is_the_meetings_it_took_part_in(rarea):
    other = report_area("Annan ")
    hc = rarea.health_care
    make_meeting(
        rarea,
        initiated=dt.date(2026, 3, 1),
        held=dt.date(2026, 3, 10),
        staff=[(rarea.physician, hc, Role.PHYSICIAN, True, "")],
    )
    make_meeting(
        other,
        initiated=dt.date(2026, 3, 1),
        held=dt.date(2026, 3, 11),
        staff=[(other.physician, other.health_care, Role.PHYSICIAN, True, "")],
    )
    mine = computed(MARCH, rarea.health_care)
    assert mine.summary["meetings_held"] == 1
    assert mine.summary["own_cost_sek"] == pytest.approx(1975.0)
    assert [r["organisation"] for r in mine.tables["cost_by_organisation"].rows] == [hc.name]
    assert computed(MARCH, rarea.assessment).summary["meetings_held"] == 0
    assert computed(MARCH).summary["meetings_held"] == 2


def test_empty_period_gives_no_errors():
    report = computed(MARCH)
    assert report.summary["meetings_held"] == 0
    assert report.summary["mean_cost_sek"] is None
    assert report.as_json()["meetings_held"] == 0


# --- Follow-up figures ---


def _decision(meeting, org, user, *, answer="accepts", due=None, statuses=()):
    from followup.models import DecisionStatusChange
    from meetings.models import Decision

    decision = Decision.objects.create(
        meeting=meeting,
        organisation=org,
        category="extended_home_help",
        description="Kvällsbesök",
        responsible=user,
        due_date=due,
        person_answer=answer,
        created_by=user,
    )
    for i, (status, day) in enumerate(statuses):
        DecisionStatusChange.objects.create(
            decision=decision,
            status=status,
            date=day,
            reported_by=user,
            reported_at=aware(day) + dt.timedelta(minutes=i),
        )
    return decision


def test_decisions_implemented_on_time_and_declined(rarea):
    hh, coordinator = rarea.home_help, rarea.coordinators[0]
    meeting = make_meeting(rarea, initiated=dt.date(2026, 3, 1), held=dt.date(2026, 3, 10))
    d = dt.date
    _decision(
        meeting, hh, coordinator, due=d(2026, 3, 24), statuses=[("implemented", d(2026, 3, 20))]
    )
    _decision(
        meeting, hh, coordinator, due=d(2026, 3, 24),
        statuses=[("in_progress", d(2026, 3, 15)), ("implemented", d(2026, 4, 2))],
    )  # fmt: skip
    _decision(
        meeting,
        hh,
        coordinator,
        due=d(2026, 3, 24),
        statuses=[("declined_by_person", d(2026, 3, 12))],
    )
    _decision(meeting, hh, coordinator, answer="declines")
    report = computed(MARCH)
    s = report.summary
    assert s["decisions_total"] == 4
    assert s["decisions_implemented_share"] == 0.5
    # Of the two implemented (both with a due date), one by its due date.
    assert s["decisions_on_time_share"] == 0.5
    # One declined at the meeting, one declined later when offered.
    assert s["decisions_declined_by_person_share"] == 0.5
    assert s["decisions_declined_at_meeting_share"] == 0.25
    row = report.tables["decisions"].rows[0]
    assert (row["organisation"], row["decisions"], row["implemented"]) == (hh.name, 4, 2)
    # Decisions are the organisation's own in its scope.
    assert computed(MARCH, rarea.health_care).summary["decisions_total"] == 0


def test_home_help_hours_health_care_use_and_outcomes(rarea):
    from followup.models import Checkpoint, HealthCareUse, OutcomeMeasure

    nurse = rarea.nurses[0]
    # Seed 000: 11.6 to 16.9 hours a week on average.
    for before, after, (adm_b, adm_a), (eq_b, eq_a, vas_b, vas_a, stai_b, stai_a) in [
        ("10.0", "15.0", (2, 0), ("0.500", "0.700", 50, 65, 16, 12)),
        ("13.2", "18.8", (1, 1), ("0.600", "0.620", 60, 60, 14, 14)),
    ]:
        meeting = make_meeting(rarea, initiated=dt.date(2026, 3, 1), held=dt.date(2026, 3, 10))
        Checkpoint.objects.create(
            meeting=meeting, kind="two_months", due_date=dt.date(2026, 5, 10),
            completed_at=aware(dt.date(2026, 5, 10)), completed_by=nurse,
            person_situation="at_home", home_help_hours_before=Decimal(before),
            home_help_hours_after=Decimal(after),
        )  # fmt: skip
        for period, admissions in (("before", adm_b), ("after", adm_a)):
            HealthCareUse.objects.create(
                person=meeting.person, meeting=meeting, period=period, months=3,
                hospital_admissions=admissions, emergency_visits=admissions + 1, recorded_by=nurse,
            )  # fmt: skip
        for timepoint, eq, vas, stai in (
            ("baseline", eq_b, vas_b, stai_b),
            ("two_months", eq_a, vas_a, stai_a),
        ):
            OutcomeMeasure.objects.create(
                person=meeting.person, meeting=meeting, timepoint=timepoint,
                date=dt.date(2026, 3, 3), eq5d_index=Decimal(eq), eq5d_value_set="UK TTO",
                eq5d_vas=vas, stai6_sum=stai, entered_by=nurse,
            )  # fmt: skip
    report = computed(MARCH)
    s = report.summary
    assert s["home_help_hours_before"] == 11.6
    assert s["home_help_hours_after"] == 16.9
    # 5.3 hours a week more at 300 SEK/h, 52/12 weeks a month.
    assert s["home_help_cost_change_sek"] == pytest.approx(6890, abs=1)
    assert (s["hospital_admissions_before"], s["hospital_admissions_after"]) == (3, 1)
    assert (s["emergency_visits_before"], s["emergency_visits_after"]) == (5, 3)
    # Two admissions fewer at 34,000 and two emergency visits fewer at 1,200.
    assert s["health_care_cost_change_sek"] == -70400
    assert s["eq5d_index_change"] == pytest.approx(0.11)
    assert s["eq5d_vas_change"] == pytest.approx(7.5)
    assert s["stai6_change"] == pytest.approx(-2.0)
    outcomes = {(r["measure_key"], r["timepoint"]): r for r in report.tables["outcomes"].rows}
    eq = outcomes[("eq5d_index", "two_months")]
    assert (eq["pairs"], eq["better"], eq["worse"]) == (2, 1, 0)
    stai = outcomes[("stai6_sum", "two_months")]
    assert (stai["better"], stai["worse"]) == (1, 0)  # 16 -> 12 is better, 14 -> 14 is not
    assert outcomes[("eq5d_vas", "after")]["pairs"] == 0


def test_a_meeting_driven_through_the_services_is_counted_and_costed(meeting_in, marea):
    """What the lifecycle services leave behind is what the report reads."""
    import datetime as dt

    from django.utils import timezone

    meeting_in(Meeting.State.CLOSED)  # proposed three weeks ago, held today
    today = timezone.localdate()
    report = computed(Period(today - dt.timedelta(days=30), today))
    s = report.summary
    assert (s["meetings_initiated"], s["meetings_held"]) == (1, 1)
    attendance = {r["role"]: r["meetings_attended"] for r in report.tables["attendance"].rows}
    assert attendance[Role.PHYSICIAN] == attendance[Role.NEEDS_ASSESSOR] == 1
    # Marking the meeting held recorded 60 minutes for all who attended; the rest are
    # standards: physician 60+30+60, nurse 0+30+60 + 20 convening, assessor 10+30+60,
    # coordinator 10+30+60, contact person 0+30+60.
    expected = (150 * 790 + 110 * 385 + 100 * 420 + 100 * 300 + 90 * 300) / 60
    assert s["mean_cost_sek"] == pytest.approx(expected, abs=0.01)
    assert s["municipal_cost_share"] == pytest.approx(
        (100 * 420 + 190 * 300) / 60 / expected, abs=1e-4
    )
