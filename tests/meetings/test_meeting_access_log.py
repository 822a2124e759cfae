"""Access log of the meeting and follow-up pages (Patient Data Act): every look at a person's
meeting data is a row with the person, and a refused look at a meeting, decision or person
that exists is a row marked denied; a number that is nothing is not logged.

Personas: alice the nurse (member), bob the home-help coordinator (partner), charlie the
outsider."""

import pytest
from django.urls import reverse

from meetings import services
from meetings.models import Meeting
from participants.models import AccessLog

pytestmark = pytest.mark.django_db
S = Meeting.State


@pytest.fixture
def held(marea, meeting_in):
    meeting = meeting_in(S.HELD)
    decision = services.decision_save(
        actor=marea.coordinator, meeting=meeting, organisation=marea.home_help,
        category="extended_home_help", description="Kvällsbesök", responsible=marea.coordinator,
        due_date=None, person_answer="accepts",
    )  # fmt: skip
    return meeting, decision


def pages(meeting, decision, person) -> dict[str, str]:
    """Each page -> the object type its access-log row names."""
    return {
        reverse("meeting_detail", args=[meeting.pk]): "meetings.meeting",
        reverse("meeting_day", args=[meeting.pk]): "meetings.meeting",
        reverse("meeting_minutes", args=[meeting.pk]): "meetings.meeting",
        reverse("summary_page", args=[meeting.pk]): "meetings.summary",
        reverse("followup:meeting", args=[meeting.pk]): "meetings.meeting",
        reverse("followup:decision_status", args=[decision.pk]): "meetings.decision",
        reverse("followup:person_measures", args=[person.pk]): "followup.outcomemeasure",
        reverse("meeting_new", args=[person.pk]): None,  # a form: no meeting data shown yet
    }


def test_every_look_at_meeting_data_is_logged_with_the_person(marea, held, login):
    meeting, decision = held
    client = login(marea.coordinator)
    for url, object_type in pages(meeting, decision, marea.person).items():
        before = AccessLog.objects.filter(user=marea.coordinator).count()
        assert client.get(url).status_code == 200, url
        rows = AccessLog.objects.filter(user=marea.coordinator).order_by("-pk")
        if object_type is None:
            continue
        assert rows.count() > before, url
        row = rows.filter(object_type=object_type).first()
        assert row is not None, url
        assert row.person == marea.person and row.outcome == AccessLog.Outcome.ALLOWED
        assert row.organisation == marea.home_help and row.role == "home_help_coordinator"
        assert row.action == AccessLog.Action.VIEW and row.request_id


def test_a_refused_look_at_an_existing_meeting_is_logged_as_denied(marea, held, login):
    meeting, decision = held
    client = login(marea.outsider)
    for url in pages(meeting, decision, marea.person):
        before = AccessLog.objects.filter(user=marea.outsider).count()
        assert client.get(url).status_code == 404, url
        assert AccessLog.objects.filter(user=marea.outsider).count() == before + 1, url
        row = AccessLog.objects.filter(user=marea.outsider).order_by("-pk").first()
        assert row.outcome == AccessLog.Outcome.DENIED and row.person == marea.person, url
        assert row.organisation == marea.outsider_org
        assert row.object_type in {"meetings.meeting", "meetings.decision", "participants.person"}
    count = AccessLog.objects.filter(user=marea.outsider).count()
    # posting is refused and logged the same way
    response = client.post(reverse("meeting_cancel", args=[meeting.pk]), {"reason": "x"})
    assert response.status_code == 404
    assert AccessLog.objects.filter(user=marea.outsider).count() == count + 1
    # numbers that are no meeting, decision or person: the same 404, nothing logged
    for url in [
        reverse("meeting_detail", args=[999_999]),
        reverse("summary_page", args=[999_999]),
        reverse("followup:decision_status", args=[999_999]),
        reverse("followup:meeting", args=[99_999_999_999]),
    ]:
        assert client.get(url).status_code == 404
    assert AccessLog.objects.filter(user=marea.outsider).count() == count + 1


def test_the_persons_organisation_sees_the_denied_look_in_its_log(marea, held, login):
    from participants.models import Role

    from ..factories import MembershipFactory

    meeting, _decision = held
    login(marea.outsider).get(reverse("meeting_detail", args=[meeting.pk]))
    admin = MembershipFactory(organisation=marea.health_care, role=Role.ORG_ADMIN).user
    url = reverse("access_log", kwargs={"org_pk": marea.health_care.pk})
    response = login(admin).get(url, {"user": marea.outsider.username})
    rows = list(response.context["page"].object_list)
    assert [(r.outcome, r.object_id) for r in rows] == [("denied", str(meeting.pk))]
