"""Consent can always be withdrawn (the law and the product's promise): in every state,
withdrawal (or leaving a relative out) ends sharing and the relatives' access at once,
cancels what is pending and keeps the history; a closed meeting stays closed and each
organisation keeps what is its own. Who may record, change and withdraw is in the
permission table, and only they see the buttons."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from followup import selectors as followup_selectors
from meetings import relatives as rel
from meetings import services
from meetings.models import Meeting, OutboxMessage
from meetings.permissions import MeetingContext, allowed_actions

pytestmark = pytest.mark.django_db
S = Meeting.State


def url(name, meeting):
    return reverse(name, kwargs={"pk": meeting.pk})


def closed_with_decisions(marea, meeting_in):
    """A closed meeting with one decision of home health care and one of home help, notes,
    the relative chosen, and follow-up notices waiting."""
    meeting = meeting_in(S.HELD)
    day = timezone.localdate() + dt.timedelta(days=14)
    nurse_decision = services.decision_save(
        actor=marea.nurse, meeting=meeting, organisation=marea.health_care, category="health_care",
        description="Läkemedelsgenomgång", responsible=marea.nurse, due_date=day,
        person_answer="accepts",
    )  # fmt: skip
    help_decision = services.decision_save(
        actor=marea.coordinator, meeting=meeting, organisation=marea.home_help,
        category="extended_home_help", description="Kvällsbesök", responsible=marea.coordinator,
        due_date=day, person_answer="accepts",
    )  # fmt: skip
    services.agenda_note_save(
        actor=marea.nurse, meeting=meeting, item=4, text="GEMENSAM ANTECKNING", base_revision=0
    )
    services.notifications.followup_notices(Meeting.objects.get(pk=meeting.pk))
    services.meeting_close(actor=marea.nurse, meeting=meeting)
    return Meeting.objects.get(pk=meeting.pk), nurse_decision, help_decision


def relative_client(marea) -> Client:
    client = Client()
    client.force_login(rel.relative_user_ensure(marea.relative))
    return client


def test_consent_can_be_withdrawn_after_the_meeting_is_closed(marea, meeting_in, login):
    meeting, nurse_decision, help_decision = closed_with_decisions(marea, meeting_in)
    relative = relative_client(marea)
    assert relative.get(reverse("relatives_meeting", args=[meeting.pk])).status_code == 200
    pending = OutboxMessage.objects.filter(meeting=meeting, status="pending")
    assert pending.filter(kind__in=["followup_2w", "followup_2m"]).exists()

    # The coordinator is told by the person: anyone in the care team records it.
    c = login(marea.coordinator)
    page = c.get(url("meeting_consent_withdraw", meeting))
    assert page.status_code == 200
    sentence = page.context["intro"]
    assert "Mötet förblir som det är" in sentence and marea.relative.name in sentence
    # Without the confirmation nothing happens.
    refused = c.post(url("meeting_consent_withdraw", meeting), {"note": "Ringde mig"})
    assert refused.context["form"].errors["confirm"]
    assert Meeting.objects.get(pk=meeting.pk).shared
    response = c.post(
        url("meeting_consent_withdraw", meeting), {"note": "Ringde mig", "confirm": "on"}
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert meeting.state == S.CLOSED and not meeting.shared and meeting.sharing_withdrawn
    # Nothing pending goes out; the history is kept.
    assert not pending.exists()
    assert meeting.state_changes.filter(note__endswith="Ringde mig").exists()
    # The relative's access ends at once.
    assert relative.get(reverse("relatives_meeting", args=[meeting.pk])).status_code == 404
    # Each organisation keeps its own decision and its follow-up; not the others' parts.
    page = c.get(url("meeting_detail", meeting))
    html = page.content.decode()
    assert "Kvällsbesök" in html and "Läkemedelsgenomgång" not in html
    day = c.get(url("meeting_day", meeting)).content.decode()
    assert "GEMENSAM ANTECKNING" not in day
    assert c.get(reverse("summary_page", args=[meeting.pk])).status_code == 404
    follow = c.get(reverse("followup:meeting", args=[meeting.pk])).content.decode()
    assert "Kvällsbesök" in follow and "Läkemedelsgenomgång" not in follow
    assert followup_selectors.get_decision_for_user(marea.coordinator, help_decision.pk)
    # The nurse's organisation keeps its own decision, no longer home help's.
    nurse_page = login(marea.nurse).get(url("meeting_detail", meeting)).content.decode()
    assert "Läkemedelsgenomgång" in nurse_page and "Kvällsbesök" not in nurse_page


def test_leaving_the_relative_out_ends_their_access_after_the_meeting(marea, meeting_in):
    meeting, *_ = closed_with_decisions(marea, meeting_in)
    relative = relative_client(marea)
    assert relative.get(reverse("relatives_meeting", args=[meeting.pk])).status_code == 200
    services.consent_record(
        actor=marea.nurse, meeting=meeting, wants_meeting=True, share_information=True,
        relatives=[], how="orally", given_at=timezone.now(),
    )  # fmt: skip
    meeting.refresh_from_db()
    assert meeting.state == S.CLOSED and meeting.shared  # only the relative is left out
    assert relative.get(reverse("relatives_meeting", args=[meeting.pk])).status_code == 404


def test_sharing_can_be_given_again_after_withdrawal(marea, meeting_in):
    meeting, _n, _h = closed_with_decisions(marea, meeting_in)
    services.consent_withdraw(actor=marea.nurse, meeting=meeting)
    ctx = MeetingContext.build(marea.nurse, Meeting.objects.get(pk=meeting.pk))
    assert "consent.record" in allowed_actions(ctx)  # nothing in force any more
    services.consent_record(
        actor=marea.nurse, meeting=meeting, wants_meeting=True, share_information=True,
        relatives=[], how="in_writing", given_at=timezone.now(),
    )  # fmt: skip
    meeting.refresh_from_db()
    assert meeting.shared and not meeting.sharing_withdrawn and meeting.state == S.CLOSED


def test_withdrawal_is_offered_only_when_there_is_something_to_withdraw(marea, meeting_in, login):
    initiated = meeting_in(S.INITIATED)
    c = login(marea.nurse)
    assert (
        url("meeting_consent_withdraw", initiated)
        not in c.get(url("meeting_detail", initiated)).content.decode()
    )
    assert c.get(url("meeting_consent_withdraw", initiated)).status_code == 302
    scheduled = meeting_in(S.SCHEDULED)
    page = c.get(url("meeting_detail", scheduled)).content.decode()
    assert url("meeting_consent_withdraw", scheduled) in page
    confirm = c.get(url("meeting_consent_withdraw", scheduled))
    # The sentence says what will happen: the meeting stops, messages, who loses access.
    assert "Mötet avbryts" in confirm.context["intro"]
    assert marea.relative.name in confirm.context["intro"]


@pytest.mark.parametrize(
    ("who", "change", "withdraw"),
    [
        ("nurse", True, True),  # recorded it (and convenes)
        ("assessor", False, True),
        ("coordinator", False, True),
        ("physician", False, True),
    ],
)
def test_only_the_recorder_and_the_convener_change_a_consent(
    marea, meeting_in, login, who, change, withdraw
):
    meeting = meeting_in(S.SCHEDULED)
    html = login(getattr(marea, who)).get(url("meeting_detail", meeting)).content.decode()
    assert (f'href="{url("meeting_consent", meeting)}"' in html) == change
    assert (url("meeting_consent_withdraw", meeting) in html) == withdraw


def test_the_recorder_may_change_what_she_recorded(marea, meeting_in):
    """The assessor recorded the consent; the nurse convenes: both may change it."""
    meeting = services.meeting_initiate(
        actor=marea.assessor, person=marea.person, organisation=marea.assessment,
        reasons=["sum_up"], reason_text="", raised_by="needs_assessor", urgency="soon",
        kind="full",
        consent=services.ConsentAnswer(
            wants_meeting=True, share_information=True, relatives=(), how="orally",
            given_at=timezone.now(),
        ),
    )  # fmt: skip
    ctx = MeetingContext.build(marea.assessor, meeting)
    assert "consent.change" in allowed_actions(ctx)
    nurse = MeetingContext.build(marea.nurse, meeting)
    assert "consent.change" not in allowed_actions(nurse)  # not the convener yet
    services.convening_start(actor=marea.nurse, meeting=meeting)
    nurse = MeetingContext.build(marea.nurse, Meeting.objects.get(pk=meeting.pk))
    assert "consent.change" in allowed_actions(nurse)
