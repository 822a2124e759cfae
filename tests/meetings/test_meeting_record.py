"""The meeting record as the participants read it: one date everywhere, times and due dates
that cannot contradict the meeting, minutes for everyone in one form, a summary version
that changes only with its content, and long texts that say their limit."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import services, summary_services
from meetings.models import AgendaNote, Decision, Meeting, Participant

pytestmark = pytest.mark.django_db
S = Meeting.State


def url(name, meeting, **kwargs):
    return reverse(name, kwargs={"pk": meeting.pk, **kwargs})


def local(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


# --- 5. Everyone's minutes in one form; no travel for remote attendance ---


def test_the_convener_records_everyones_minutes_in_one_form(marea, meeting_in, login):
    meeting = meeting_in(S.SCHEDULED)
    physician = meeting.participants.get(user=marea.physician)
    services.participant_set_mode(actor=marea.nurse, participant=physician, mode="video")
    meeting = Meeting.objects.get(pk=meeting.pk)
    now = timezone.now()
    services.meeting_mark_held(
        actor=marea.nurse, meeting=meeting, actual_start=now - dt.timedelta(hours=1),
        actual_end=now,
    )  # fmt: skip
    c = login(marea.nurse)
    page = c.get(url("meeting_minutes", meeting))
    form = page.context["form"]
    staff = meeting.participants.filter(kind="staff", removed_at=None)
    assert f"p{physician.pk}-travel" not in form.fields  # took part by video
    assert all(f"p{p.pk}-meeting" in form.fields for p in staff)
    data = {}
    for p in staff:
        data[f"p{p.pk}-preparation"] = 10
        data[f"p{p.pk}-meeting"] = 60
        if p.pk != physician.pk:
            data[f"p{p.pk}-travel"] = 25
    response = c.post(url("meeting_minutes", meeting), data)
    assert response.status_code == 302
    rows = {p.pk: p for p in Participant.objects.filter(meeting=meeting, kind="staff")}
    assert rows[physician.pk].travel_minutes == 0
    assert all(rows[p.pk].preparation_minutes == 10 for p in staff)
    assert {rows[p.pk].travel_minutes for p in staff if p.pk != physician.pk} == {25}


def test_travel_for_remote_attendance_is_refused(marea, meeting_in):
    meeting = meeting_in(S.HELD)
    physician = meeting.participants.get(user=marea.physician)
    Participant.objects.filter(pk=physician.pk).update(attended_mode="phone")
    with pytest.raises(services.DomainError, match="video eller telefon"):
        services.minutes_record_all(
            actor=marea.nurse, meeting=meeting, minutes={physician.pk: (0, 30, 60)}
        )


def test_the_demo_has_no_travel_for_remote_attendance():
    from meetings.demo import load_meetings
    from participants.demo import load_area

    load_meetings(load_area(persons=12))
    remote = Participant.objects.filter(attended=True, attended_mode__in=["video", "phone"])
    remote |= Participant.objects.filter(attended=True, attended_mode="", mode__in=["video"])
    assert remote.exists()
    assert not remote.filter(travel_minutes__gt=0).exists()


# --- 9. One date everywhere: the actual start once held ---


def test_the_header_shows_the_actual_start_once_held(marea, meeting_in, login):
    meeting = meeting_in(S.SCHEDULED)
    planned = timezone.localtime(meeting.starts_at)
    actual = timezone.localtime(timezone.now() - dt.timedelta(days=1)).replace(
        hour=9, minute=15, second=0, microsecond=0
    )
    services.meeting_mark_held(
        actor=marea.nurse, meeting=meeting, actual_start=actual,
        actual_end=actual + dt.timedelta(hours=1),
    )  # fmt: skip
    c = login(marea.nurse)
    for name in ("meeting_detail", "meeting_day", "meeting_minutes"):
        head = c.get(url(name, meeting)).content.decode().split('class="vom-meeting-head')[1]
        head = head.split("</div>")[0]
        assert actual.isoformat()[:16] in head, name
        assert planned.isoformat()[:16] not in head, name


# --- 10. Times and due dates that cannot contradict the meeting ---


def test_a_meeting_cannot_be_marked_held_before_it_was_proposed(marea, meeting_in, login):
    meeting = meeting_in(S.SCHEDULED)
    before = meeting.initiated_at - dt.timedelta(days=2)
    response = login(marea.nurse).post(
        url("meeting_mark_held", meeting),
        {"actual_start": local(before), "actual_end": local(before + dt.timedelta(hours=1))},
    )
    assert response.status_code == 200
    assert "innan det föreslogs" in response.context["form"].errors["actual_start"][0]
    meeting.refresh_from_db()
    assert meeting.state == S.SCHEDULED


def test_a_due_date_before_the_meeting_day_is_refused_next_to_the_field(marea, meeting_in, login):
    meeting = meeting_in(S.HELD)
    data = {
        "organisation": marea.home_help.pk,
        "category": "extended_home_help",
        "description": "Kvällsbesök",
        "responsible": marea.coordinator.pk,
        "due_date": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        "person_answer": "accepts",
    }
    c = login(marea.coordinator)
    response = c.post(url("meeting_decision_new", meeting), data)
    assert "mötesdagen eller senare" in response.context["form"].errors["due_date"][0]
    assert not Decision.objects.exists()
    data["due_date"] = timezone.localdate().isoformat()  # the meeting day itself is fine
    assert c.post(url("meeting_decision_new", meeting), data).status_code == 302


# --- 11. A read confirmation stays current when closing changes nothing it showed ---


def test_closing_does_not_make_the_readers_version_old(marea, meeting_in):
    meeting = meeting_in(S.HELD)
    version = Meeting.objects.get(pk=meeting.pk).content_version
    summary_services.summary_confirm_read(
        actor=marea.coordinator, meeting=meeting, content_version=version
    )
    services.meeting_close(actor=marea.nurse, meeting=meeting)
    meeting.refresh_from_db()
    assert meeting.content_version == version
    overview = summary_services.receipts_overview(meeting, marea.coordinator)
    assert overview.has_read


# --- 12. Long texts: the limit and the length next to the field, never a silent cut ---


def test_notes_over_the_limit_are_refused_with_the_limit_and_kept(marea, meeting_in, login):
    meeting = meeting_in(S.SCHEDULED)
    c = login(marea.nurse)
    html = c.get(url("meeting_day", meeting)).content.decode()
    assert 'data-limit="20000"' in html and 'maxlength="20000"' not in html
    assert "Högst 20 000 tecken" in html.replace("\xa0", " ")
    text = "x" * 20_001
    response = c.post(
        url("meeting_note_save", meeting, item=2),
        {"item2-text": text, "item2-base_revision": 0},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["invalid"] and "20" in body["message"] and "20001" in body["message"]
    # Without JavaScript: the page comes back with the text and the reason, nothing saved.
    page = c.post(
        url("meeting_note_save", meeting, item=2), {"item2-text": text, "item2-base_revision": 0}
    )
    assert page.status_code == 400 and text in page.content.decode()
    assert not AgendaNote.objects.filter(meeting=meeting, item=2).exists()


def test_more_about_the_reasons_is_never_cut_silently(marea, login):
    c = login(marea.nurse)
    form_url = reverse("meeting_new", kwargs={"person_pk": marea.person.pk})
    html = c.get(form_url).content.decode()
    assert 'data-limit="4000"' in html and 'maxlength="4000"' not in html
    response = c.post(
        form_url,
        {
            "organisation": marea.health_care.pk,
            "reason_text": "y" * 20_000,
            "raised_by": "relative",
            "urgency": "soon",
            "kind": "full",
        },
    )
    error = response.context["form"].errors["reason_text"][0]
    assert "4 000" in error.replace("\xa0", " ") and "20000" in error
    assert "y" * 20_000 in response.content.decode()  # kept, for shortening
    assert not Meeting.objects.exists()


def test_a_decision_entered_after_the_meeting_is_followed_up_too(marea, meeting_in):
    from meetings.models import OutboxMessage

    meeting = meeting_in(S.HELD)
    services.decision_save(
        actor=marea.coordinator, meeting=meeting, organisation=marea.home_help,
        category="extended_home_help", description="Kvällsbesök", responsible=marea.coordinator,
        due_date=timezone.localdate() + dt.timedelta(days=14), person_answer="accepts",
    )  # fmt: skip
    asked = OutboxMessage.objects.filter(
        meeting=meeting, recipient_user=marea.coordinator, kind__startswith="followup"
    )
    assert sorted(asked.values_list("kind", flat=True)) == ["followup_2m", "followup_2w"]
