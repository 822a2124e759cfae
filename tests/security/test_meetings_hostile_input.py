"""Oversized input on every meeting and follow-up form: an error next to the field (the page
again, status 200), never a 500, and nothing saved. The same world as the URL matrix."""

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from meetings import relatives as rel
from meetings.models import AgendaNote, Meeting

from .test_url_matrix import build_world, fingerprint

pytestmark = pytest.mark.django_db

MEGABYTE = "å" * (1024 * 1024 // 2)  # 1 MB in UTF-8, under the 2.5 MB request limit
LONG = "Ö" * 10_000


@pytest.fixture
def world(marea, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    return build_world(marea)


def forms(w) -> list[tuple[str, str, dict, str]]:
    """(who, url, data, the field that must carry the error)."""
    m = w.marea
    c, s, h = w.convening.pk, w.scheduled.pk, w.held.pk
    option = w.convening.time_options.first()
    future = (timezone.localtime() + dt.timedelta(days=9)).strftime("%Y-%m-%dT%H:%M")
    today = timezone.localdate().isoformat()
    initiative = {"organisation": m.health_care.pk, "reasons": ["not_eating"],
                  "raised_by": "relative", "urgency": "soon", "kind": "full"}  # fmt: skip
    consent = {"wants_meeting": "yes", "share_information": "yes", "how": "representative",
               "given_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}  # fmt: skip
    decision = {"organisation": m.health_care.pk, "category": "health_care",
                "responsible": m.nurse.pk, "person_answer": "accepts"}  # fmt: skip
    status = f"d{w.decision.pk}"
    return [
        ("nurse", reverse("meeting_new", args=[w.person.pk]),
         initiative | {"reason_text": MEGABYTE}, "reason_text"),
        ("nurse", reverse("meeting_new", args=[w.person.pk]),
         initiative | {"reason_text": "x", "raised_by_detail": LONG}, "raised_by_detail"),
        ("nurse", reverse("meeting_consent", args=[s]),
         consent | {"representative_name": LONG}, "representative_name"),
        ("nurse", reverse("meeting_consent_withdraw", args=[s]), {"note": MEGABYTE}, "note"),
        ("nurse", reverse("meeting_invitations", args=[c]),
         {"option_1": future, "duration_minutes": "60", "note": LONG}, "note"),
        ("nurse", reverse("meeting_schedule", args=[c]),
         {"option": option.pk, "duration_minutes": "60", "location": LONG}, "location"),
        ("nurse", reverse("meeting_reschedule", args=[s]),
         {"starts_at": future, "duration_minutes": "60", "location": LONG}, "location"),
        ("nurse", reverse("meeting_cancel", args=[s]), {"reason": MEGABYTE}, "reason"),
        ("nurse", reverse("meeting_contribution", args=[s]),
         {"author": "person", "what_matters": MEGABYTE}, "what_matters"),
        ("nurse", reverse("meeting_contribution", args=[s]),
         {"author": "person", "what_matters": "x", "questions": LONG * 2}, "questions"),
        ("nurse", reverse("meeting_private_topic", args=[s]),
         {"organisation": m.health_care.pk, "raised_by": "person", "text": MEGABYTE}, "text"),
        ("nurse", reverse("meeting_decision_new", args=[s]),
         decision | {"description": MEGABYTE}, "description"),
        ("nurse", reverse("meeting_agreement", args=[s]),
         {"kind": "contingency", "text": MEGABYTE}, "text"),
        ("nurse", reverse("meeting_agreement", args=[s]),
         {"kind": "contingency", "text": "x", "situation": LONG, "contact": LONG}, "situation"),
        ("coordinator", reverse("followup:decision_status", args=[w.decision.pk]),
         {f"{status}-status": "implemented", f"{status}-date": today,
          f"{status}-note": MEGABYTE}, "note"),
        ("nurse", reverse("followup:checkpoint", args=[h, "two_weeks"]),
         {"person_situation": "at_home", "note": MEGABYTE}, "note"),
        ("nurse", reverse("followup:outcome", args=[h, "after"]),
         {"date": today, "could_not_answer": "on", "no_answer_reason": "other",
          "no_answer_note": LONG}, "no_answer_note"),
    ]  # fmt: skip


def test_oversized_input_is_a_form_error_and_saves_nothing(world, login):
    m = world.marea
    relative = Client()
    token = rel.signin_link(rel.relative_user_ensure(m.relative)).split("sesame=", 1)[1]
    relative.post(reverse("relatives_signin"), {"sesame": token})
    clients = {"nurse": login(m.nurse)}
    clients["coordinator"] = Client()
    clients["coordinator"].force_login(
        m.coordinator, backend="participants.auth.UsernameOrEmailBackend"
    )
    before = fingerprint()
    wrong = []
    for who, url, data, field in forms(world):
        response = clients[who].post(url, data)
        form = response.context["form"] if response.status_code == 200 else None
        if form is None or field not in form.errors:
            errors = form.errors if form is not None else ""
            wrong.append(f"{url} {field}: {response.status_code} {errors}")
    # the relatives' area: a relative's words before the meeting
    scheduled = reverse("relatives_meeting", args=[world.scheduled.pk])
    response = relative.post(scheduled, {"what_matters": MEGABYTE})
    assert response.status_code == 200
    if "what_matters" not in response.context["form"].errors:
        wrong.append("relatives_meeting what_matters")
    assert not wrong, "\n".join(wrong)
    assert fingerprint() == before


def test_oversized_notes_are_refused_with_a_message(world, login):
    """The autosaved notes (also JSON): a clear refusal, the notes as they were."""
    client = login(world.marea.nurse)
    url = reverse("meeting_note_save", args=[world.scheduled.pk, 2])
    data = {"item2-text": "x" * 20_001, "item2-base_revision": "0"}
    page = client.post(url, data)  # without JavaScript: the page again, with the text kept
    assert page.status_code == 400 and "x" * 20_001 in page.content.decode()
    response = client.post(url, data, HTTP_ACCEPT="application/json")
    assert response.status_code == 400 and response.json()["ok"] is False
    assert not AgendaNote.objects.filter(meeting=world.scheduled).exclude(text="").exists()
    assert Meeting.objects.get(pk=world.scheduled.pk).state == Meeting.State.SCHEDULED
