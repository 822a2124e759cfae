"""The demo follow-up loader (seed_demo EXTENSIONS) and the follow-up section of the register
extract."""

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.urls import reverse
from django.utils import timezone

from followup import demo, rules, services
from followup.models import Checkpoint, DecisionStatusChange, HealthCareUse
from meetings.models import Meeting
from participants.extract import person_extract

from ..factories import PersonFactory
from ..followup_fixtures import build_held, set_meeting_day

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(marea, meeting_in):
    return build_held(marea, meeting_in)


def test_loader_follows_up_a_meeting_held_70_days_ago(marea, held, login):
    meeting = set_meeting_day(held.meeting, timezone.localdate() - dt.timedelta(days=70))
    assert demo.seed_demo(None) == 1
    assert DecisionStatusChange.objects.filter(decision__meeting=meeting).exists()
    checkpoints = list(meeting.checkpoints.order_by("due_date"))
    assert [c.kind for c in checkpoints] == ["two_weeks", "two_months"]
    assert all(c.is_completed for c in checkpoints)
    # The loader keeps the services' rule: every open decision was reported before each
    # checkpoint was completed.
    for checkpoint in checkpoints:
        earlier = [c.completed_at for c in checkpoints if c.completed_at < checkpoint.completed_at]
        since = max(earlier) if earlier else None
        for decision in meeting.decisions.all():
            reports = decision.status_changes.filter(reported_at__lt=checkpoint.completed_at)
            latest = reports.order_by("-reported_at").first()
            if latest is None or not latest.is_closed:
                assert reports.filter(reported_at__gt=since or meeting.held_at).exists()
    timepoints = set(meeting.outcome_measures.values_list("timepoint", flat=True))
    assert timepoints == {"baseline", "after", "two_months"}
    for row in meeting.outcome_measures.filter(could_not_answer=False):
        assert row.eq5d_value_set and row.eq5d_index is not None and 6 <= row.stai6_sum <= 24
    assert set(meeting.health_care_use.values_list("period", flat=True)) == {"before", "after"}
    # Run twice: nothing more.
    assert demo.seed_demo(None) == 0
    assert Checkpoint.objects.count() == 2
    # The page renders the demo data for the partner.
    response = login(marea.coordinator).get(reverse("followup:meeting", args=[meeting.pk]))
    assert response.status_code == 200


def test_loader_only_adds_what_has_happened_by_today(marea, held):
    meeting = set_meeting_day(held.meeting, timezone.localdate() - dt.timedelta(days=3))
    demo.seed_demo(None)
    assert not meeting.checkpoints.exists()
    assert list(meeting.outcome_measures.values_list("timepoint", flat=True)) == ["baseline"]
    assert list(HealthCareUse.objects.values_list("period", flat=True)) == ["before"]
    future = DecisionStatusChange.objects.filter(date__gt=timezone.localdate())
    assert not future.exists()


def test_seed_demo_command_runs_the_loader():
    call_command("seed_demo", quiet_logins=True)
    held = Meeting.objects.filter(state__in=rules.FOLLOWUP_STATES)
    for meeting in held:
        if rules.meeting_day(meeting) is not None:
            assert meeting.outcome_measures.exists(), meeting.pk


def test_register_extract_has_the_follow_up(marea, held):
    services.decision_status_report(
        actor=marea.nurse, decision=held.nurse_decision, status="implemented",
        date=timezone.localdate(), note="Klart",
    )  # fmt: skip
    services.outcome_record(
        actor=marea.nurse, meeting=held.meeting, timepoint="after", date=timezone.localdate(),
        could_not_answer=True, no_answer_reason="hospital_stay",
    )  # fmt: skip
    extract = person_extract(marea.person)
    json.dumps(extract, cls=DjangoJSONEncoder)
    statuses = extract["sections"]["followup_decisions"]
    assert statuses[0]["note"] == "Klart" and statuses[0]["status"] == "Genomfört"
    assert "reported_by" not in statuses[0]  # staff are not named
    measures = extract["sections"]["followup_measures"]
    assert measures[0]["could_not_answer"] is True and measures[0]["stai6_sum"] is None
    assert extract["sections"]["followup_checkpoints"] == []
    # Another person's extract has none of it.
    other = person_extract(PersonFactory())
    assert other["sections"]["followup_decisions"] == []
    assert other["sections"]["followup_measures"] == []
