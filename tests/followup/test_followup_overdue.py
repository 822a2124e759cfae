"""Open and overdue decisions, with fixed dates: the worklist selector and the page rows."""

import datetime as dt

import pytest

from followup import selectors
from followup.models import DecisionStatusChange
from meetings import services as meeting_services

from ..followup_fixtures import MEETING_DAY, add_decision, build_held, set_meeting_day

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(marea, meeting_in):
    return build_held(marea, meeting_in)


TODAY = MEETING_DAY + dt.timedelta(days=20)  # 2026-03-22


@pytest.fixture
def dated(marea, held):
    """Decisions of the nurse's organisation with fixed due dates and statuses."""
    meeting = set_meeting_day(held.meeting, MEETING_DAY)
    rows = {}
    cases = {
        "due_yesterday_no_report": (TODAY - dt.timedelta(days=1), None),
        "due_yesterday_partly": (TODAY - dt.timedelta(days=1), "partly"),
        "due_long_ago_in_progress": (TODAY - dt.timedelta(days=15), "in_progress"),
        "due_yesterday_implemented": (TODAY - dt.timedelta(days=1), "implemented"),
        "due_yesterday_declined": (TODAY - dt.timedelta(days=1), "declined_by_person"),
        "due_yesterday_irrelevant": (TODAY - dt.timedelta(days=1), "no_longer_relevant"),
        "due_today": (TODAY, None),
        "due_tomorrow": (TODAY + dt.timedelta(days=1), "not_started"),
        "no_due_date": (None, None),
    }
    for name, (due, status) in cases.items():
        decision = add_decision(
            marea, meeting, actor=marea.nurse, organisation=marea.health_care,
            description=name, due_date=due,
        )  # fmt: skip
        if status:
            DecisionStatusChange.objects.create(
                decision=decision, status=status, date=MEETING_DAY, reported_by=marea.nurse
            )
        rows[name] = decision
    return meeting, rows


def test_overdue_means_due_date_passed_and_still_open(marea, dated):
    _meeting, rows = dated
    overdue = {
        d.description for d in selectors.overdue_decisions_visible_to(marea.nurse, today=TODAY)
    }
    assert overdue == {
        "due_yesterday_no_report",
        "due_yesterday_partly",
        "due_long_ago_in_progress",
    }


def test_worklist_lists_open_decisions_overdue_first(marea, dated):
    listed = list(selectors.open_decisions_for_user(marea.nurse, today=TODAY))
    names = [d.description for d in listed if d.organisation_id == marea.health_care.pk]
    assert names[:3] == [
        "due_long_ago_in_progress",  # overdue, oldest due date first
        "due_yesterday_no_report",
        "due_yesterday_partly",
    ]
    assert [d.is_overdue for d in listed][:3] == [True, True, True]
    assert not any(d.is_overdue for d in listed[3:])
    closed = {"due_yesterday_implemented", "due_yesterday_declined", "due_yesterday_irrelevant"}
    assert not closed & {d.description for d in listed}
    assert {"due_today", "due_tomorrow", "no_due_date"} <= set(names)


def test_the_latest_report_decides(marea, dated):
    _meeting, rows = dated
    decision = rows["due_yesterday_implemented"]
    DecisionStatusChange.objects.create(
        decision=decision, status="partly", date=MEETING_DAY, reported_by=marea.nurse
    )
    overdue = {d.pk for d in selectors.overdue_decisions_visible_to(marea.nurse, today=TODAY)}
    assert decision.pk in overdue


def test_worklist_personas(marea, dated, held):
    # bob (partner): his organisation's decision only, not the nurse's.
    bob = [d.description for d in selectors.open_decisions_for_user(marea.coordinator, today=TODAY)]
    assert bob == ["Samma personal vid dusch"]
    # charlie (outsider): nothing.
    assert not list(selectors.open_decisions_for_user(marea.outsider, today=TODAY))
    assert not list(selectors.overdue_decisions_visible_to(marea.outsider, today=TODAY))
    # The partner sees every overdue decision of the meeting (shared follow-up).
    partner_overdue = selectors.overdue_decisions_visible_to(marea.coordinator, today=TODAY)
    assert "due_yesterday_no_report" in {d.description for d in partner_overdue}


def test_after_withdrawal_each_organisation_keeps_only_its_own_decisions(marea, dated):
    meeting, _rows = dated
    meeting_services.consent_withdraw(actor=marea.nurse, meeting=meeting, note="")
    bob = [d.description for d in selectors.open_decisions_for_user(marea.coordinator, today=TODAY)]
    assert bob == ["Samma personal vid dusch"]  # its own decision, to follow up
    # ... and no longer the others' overdue ones (no shared follow-up any more).
    partner_overdue = selectors.overdue_decisions_visible_to(marea.coordinator, today=TODAY)
    assert {d.organisation_id for d in partner_overdue} <= {marea.home_help.pk}
    # The nurse's organisation initiated the meeting and keeps its own.
    nurse = list(selectors.open_decisions_for_user(marea.nurse, today=TODAY))
    assert nurse and {d.organisation_id for d in nurse} == {marea.health_care.pk}


def test_page_rows_mark_overdue_and_who_may_report(marea, dated):
    meeting, rows = dated
    page = selectors.followup_page(marea.coordinator, meeting, today=TODAY)
    by_name = {row.decision.description: row for row in page.rows}
    assert by_name["due_yesterday_no_report"].overdue
    assert not by_name["due_yesterday_implemented"].overdue
    assert not by_name["due_today"].overdue
    assert not by_name["due_yesterday_no_report"].can_report  # bob, partner organisation
    assert by_name["Samma personal vid dusch"].can_report
    assert page.overdue_count == 3
    # The partner's own organisation is listed first.
    assert page.groups[0].organisation == marea.home_help


def test_needs_report_since_the_last_checkpoint(marea, dated):
    meeting, rows = dated
    page = selectors.followup_page(marea.nurse, meeting, today=TODAY)
    needs = {row.decision.description for row in page.rows if row.needs_report}
    # Open and never reported, or reported before the meeting's first checkpoint (none yet):
    assert needs == {
        "due_yesterday_no_report",
        "due_today",
        "no_due_date",
        "Läkemedelsgenomgång och ny dosett",
        "Samma personal vid dusch",
        "Kvällsbesök för mat",
    }
