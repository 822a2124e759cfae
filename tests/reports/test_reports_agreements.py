"""Agreements about care (goal of care, acute deterioration, contingencies) are counted in
the decision figures as seed 000 Table 4's fifth category, "Överenskommelse om vården"
(issue 20); they have no answer and no follow-up, so they do not dilute those shares."""

import datetime as dt

import pytest
from django.utils import translation

from followup.models import DecisionStatusChange
from meetings.models import Agreement, Decision, Meeting
from reports import tallies
from reports.exports import MEETING_COLUMN_KEYS, meeting_rows
from reports.figures import Period
from reports.models import TallyMark

from ..reports_data import aware, computed, make_meeting, report_area

pytestmark = pytest.mark.django_db

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


@pytest.fixture
def rarea():
    return report_area()


def _meeting_with_decisions(area):
    meeting = make_meeting(area, initiated=dt.date(2026, 3, 1), held=dt.date(2026, 3, 10))
    coordinator = area.coordinators[0]
    for category in ("extended_home_help", "health_care"):
        decision = Decision.objects.create(
            meeting=meeting,
            organisation=area.home_help,
            category=category,
            description="Kvällsbesök",
            responsible=coordinator,
            person_answer="accepts",
            created_by=coordinator,
        )
    DecisionStatusChange.objects.create(
        decision=decision,
        status="implemented",
        date=dt.date(2026, 3, 12),
        reported_by=coordinator,
        reported_at=aware(dt.date(2026, 3, 12)),
    )
    Agreement.objects.create(
        meeting=meeting,
        kind="goal_of_care",
        text="Att bo kvar hemma med trygghet.",
        organisation=area.health_care,
        created_by=area.physician,
    )
    Agreement.objects.create(
        meeting=meeting,
        kind="acute_deterioration",
        text="Ring hemsjukvården först.",
        created_by=area.physician,
    )
    return meeting


def test_agreements_are_table_4s_fifth_category(rarea):
    _meeting_with_decisions(rarea)
    with translation.override("sv"):
        report = computed(MARCH)
        rows = {r["category_key"]: r for r in report.tables["decisions_by_category"].rows}
        assert str(rows["care_agreement"]["category"]) == "Överenskommelse om vården"
    # all five categories are listed, as in Table 4
    assert len(rows) == 5
    assert rows["care_agreement"]["decisions"] == 2
    assert rows["extended_home_help"]["decisions"] == 1
    assert rows["adjusted_home_help"]["decisions"] == 0
    s = report.summary
    assert s["decisions_total"] == 4
    # of the two decisions that are answered and followed up, one is implemented
    assert s["decisions_implemented_share"] == 0.5
    assert s["decisions_declined_at_meeting_share"] == 0.0
    with translation.override("sv"):
        by_org = {
            (str(r["organisation"]), str(r["category"])) for r in report.tables["decisions"].rows
        }
    assert (rarea.health_care.name, "Överenskommelse om vården") in by_org
    assert ("Gemensam (ingen enskild organisation)", "Överenskommelse om vården") in by_org
    # an organisation's scope has its own agreements and the joint ones
    own = computed(MARCH, rarea.health_care).summary
    assert own["decisions_total"] == 2


def test_an_agreement_added_later_reaches_the_figures_and_the_export(rarea):
    meeting = _meeting_with_decisions(rarea)
    tallies.fold()
    assert not TallyMark.objects.exists()
    Agreement.objects.create(
        meeting=meeting,
        kind="contingency",
        situation="Om hon faller",
        text="Larma och ring dottern.",
        contact="Dottern",
        created_by=rarea.physician,
    )
    # the agreements table marks the meeting's months like the other tables (a trigger)
    assert TallyMark.objects.filter(month=dt.date(2026, 3, 1)).exists()
    assert computed(MARCH).summary["decisions_total"] == 5
    rows = list(meeting_rows(Meeting.objects.all(), rarea.home_help))
    assert rows[1][MEETING_COLUMN_KEYS.index("agreements")] == 3
    assert rows[1][MEETING_COLUMN_KEYS.index("decisions")] == 2
