"""The "register a held meeting" page for care staff."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings.models import Meeting
from participants.models import Membership, Role

from ..meetings_registration_data import past

pytestmark = pytest.mark.django_db


def _url(marea):
    return reverse("meeting_register_held", kwargs={"person_pk": marea.person.pk})


def _membership(user, role):
    return Membership.objects.get(user=user, role=role).pk


def _data(marea, **changes):
    start = past(40)
    nurse = _membership(marea.nurse, Role.NURSE)
    data = {
        "initiator": nurse,
        "raised_by": "relative",
        "reasons": ["not_eating"],
        "reason_text": "",
        "kind": "full",
        "initiated_on": (start.date() - dt.timedelta(days=10)).isoformat(),
        "consent_on": (start.date() - dt.timedelta(days=7)).isoformat(),
        "consent_how": "orally",
        "share_information": "on",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "convener": nurse,
        "person_attended": "on",
        f"staff_{nurse}_took_part": "came",
        f"staff_{nurse}_mode": "in_person",
        f"staff_{_membership(marea.physician, Role.PHYSICIAN)}_took_part": "came",
        f"staff_{_membership(marea.assessor, Role.NEEDS_ASSESSOR)}_took_part": "came",
        f"staff_{_membership(marea.assessor, Role.NEEDS_ASSESSOR)}_mode": "video",
        f"staff_{_membership(marea.contact, Role.CONTACT_PERSON)}_took_part": "absent",
        f"staff_{_membership(marea.contact, Role.CONTACT_PERSON)}_absence_reason": "replaced",
        f"staff_{_membership(marea.coordinator, Role.HOME_HELP_COORDINATOR)}_took_part": "came",
        f"relative_{marea.relative.pk}_took_part": "came",
        "decision_0_organisation": marea.assessment.pk,
        "decision_0_category": "extended_home_help",
        "decision_0_description": "Hjälp med dusch två gånger i veckan",
        "decision_0_responsible": _membership(marea.assessor, Role.NEEDS_ASSESSOR),
        "decision_0_person_answer": "accepts",
        "decision_0_due_date": (start.date() + dt.timedelta(days=14)).isoformat(),
        "decision_0_status": "implemented",
        "decision_0_status_date": (start.date() + dt.timedelta(days=9)).isoformat(),
    }
    data.update(changes)
    return data


def test_the_nurse_registers_a_held_meeting_and_sees_it_marked(marea, login):
    client = login(marea.nurse)
    page = client.get(_url(marea))
    assert page.status_code == 200
    assert "Registrera ett möte som redan har hållits" in page.text

    response = client.post(_url(marea), _data(marea))
    assert response.status_code == 302
    meeting = Meeting.objects.get()
    assert response.url == reverse("meeting_detail", kwargs={"pk": meeting.pk})
    assert meeting.registered_by == marea.nurse
    assert meeting.state == Meeting.State.HELD
    assert timezone.localdate(meeting.actual_start) == past(40).date()
    contact = meeting.participants.get(user=marea.contact)
    assert (contact.attended, contact.absence_reason) == (False, "replaced")
    assert meeting.participants.get(user=marea.assessor).attended_mode == "video"
    decision = meeting.decisions.get()
    assert decision.status_changes.get().status == "implemented"

    detail = client.get(response.url)
    assert "Registrerat i efterhand av" in detail.text


def test_out_of_order_dates_are_shown_next_to_the_field_and_nothing_is_saved(marea, login):
    client = login(marea.nurse)
    start = past(40)
    response = client.post(
        _url(marea),
        _data(marea, consent_on=(start.date() - dt.timedelta(days=20)).isoformat()),
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert "consent_on" in form.errors
    assert "Samtycket kan inte komma före initiativet" in form.errors["consent_on"][0]
    assert not Meeting.objects.exists()


def test_a_reason_for_absence_needs_an_absence(marea, login):
    client = login(marea.nurse)
    physician = _membership(marea.physician, Role.PHYSICIAN)
    response = client.post(
        _url(marea), _data(marea, **{f"staff_{physician}_absence_reason": "ill"})
    )
    assert response.status_code == 400
    assert f"staff_{physician}_absence_reason" in response.context["form"].errors
    assert not Meeting.objects.exists()


def test_a_meeting_not_yet_over_is_refused(marea, login):
    client = login(marea.nurse)
    start = timezone.localtime() - dt.timedelta(minutes=30)
    response = client.post(
        _url(marea),
        _data(
            marea,
            starts_at=start.strftime("%Y-%m-%dT%H:%M"),
            ends_at=(start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            consent_on=start.date().isoformat(),
            initiated_on=start.date().isoformat(),
        ),
    )
    assert response.status_code == 400
    assert "ends_at" in response.context["form"].errors
    assert not Meeting.objects.exists()


def test_outsiders_get_404(marea, login):
    assert login(marea.outsider).get(_url(marea)).status_code == 404


def test_the_live_attendance_form_records_why_someone_was_absent(marea, login):
    from ..conftest import advance_meeting

    meeting = advance_meeting(marea, Meeting.State.SCHEDULED)
    client = login(marea.nurse)
    day = client.get(reverse("meeting_day", kwargs={"pk": meeting.pk}))
    contact = meeting.participants.get(user=marea.contact)
    assert f'name="why_{contact.pk}"' in day.text
    data = {}
    for p in meeting.participants.filter(removed_at__isnull=True):
        data[f"how_{p.pk}"] = "in_person"
        if p.pk != contact.pk:
            data[f"came_{p.pk}"] = "on"
    data[f"why_{contact.pk}"] = "ill"
    data[f"why_note_{contact.pk}"] = "Magsjuk"
    response = client.post(reverse("meeting_attendance", kwargs={"pk": meeting.pk}), data)
    assert response.status_code == 302
    contact.refresh_from_db()
    assert (contact.attended, contact.absence_reason, contact.absence_note) == (
        False,
        "ill",
        "Magsjuk",
    )


def test_the_history_says_registered_afterwards(marea, login):
    from meetings.registration import meeting_register_held

    from ..meetings_registration_data import held_meeting

    meeting = meeting_register_held(actor=marea.nurse, held=held_meeting(marea))
    page = login(marea.physician).get(
        reverse("meeting_detail", kwargs={"pk": meeting.pk}), {"history": 1}
    )
    assert page.status_code == 200
    assert "registrerat i efterhand" in page.text
    assert "Registrerat i efterhand av" in page.text
