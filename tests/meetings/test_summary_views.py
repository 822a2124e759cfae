"""The summary pages for staff: who may see them, the stored PDF as served, read receipts per
organisation (the trygghetskvitto), and the convener sending a relative a sign-in link."""

import pytest
from django.urls import reverse

from meetings import summary_services, summary_tasks
from meetings.models import Meeting, OutboxMessage, ReadReceipt
from participants.models import AccessLog

from ..factories import RelativeFactory
from ..summary_fixtures import make_held_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def media(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture
def held(marea, meeting_in, media):
    meeting = make_held_meeting(marea, meeting_in)
    summary_services.summary_store(meeting_id=meeting.pk, language="sv")
    return meeting


def persona(marea, name):
    return {"member": marea.nurse, "partner": marea.coordinator, "outsider": marea.outsider}[name]


# --- The page and the PDF, for the three personas ---


@pytest.mark.parametrize(("who", "status"), [("member", 200), ("partner", 200), ("outsider", 404)])
def test_summary_page_access(held, marea, login, who, status):
    response = login(persona(marea, who)).get(reverse("summary_page", args=[held.pk]))
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert "Läkemedelsgenomgång" in body
        assert "&lt;script&gt;" in body and "<script>alert" not in body
        assert "HEMLIGT" not in body and marea.person.access_notes not in body
        assert AccessLog.objects.filter(
            user=persona(marea, who), object_type="meetings.summary", person=marea.person
        ).exists()


@pytest.mark.parametrize(("who", "status"), [("member", 200), ("partner", 200), ("outsider", 404)])
def test_summary_pdf_access(held, marea, login, who, status):
    response = login(persona(marea, who)).get(reverse("summary_pdf", args=[held.pk]))
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "application/pdf"
        assert response["Cache-Control"] == "no-store"
        assert response["Content-Disposition"].startswith("inline; filename=")
        assert "Åkesson" not in response["Content-Disposition"]
        assert b"".join(response.streaming_content).startswith(b"%PDF-")
        assert AccessLog.objects.filter(
            user=persona(marea, who), action=AccessLog.Action.PRINT, person=marea.person
        ).exists()


def test_pdf_download_and_language_and_version(held, marea, login):
    summary_tasks.render_summary(held.pk)  # every language
    client = login(marea.nurse)
    response = client.get(reverse("summary_pdf", args=[held.pk]) + "?lang=en&download=1")
    assert response["Content-Disposition"].startswith('attachment; filename="vom-summary-')
    response = client.get(reverse("summary_pdf_version", args=[held.pk, 1]) + "?lang=sv")
    assert response.status_code == 200
    assert "sammanfattning" in response["Content-Disposition"]
    assert client.get(reverse("summary_pdf_version", args=[held.pk, 9])).status_code == 404
    assert client.get(reverse("summary_pdf", args=[held.pk]) + "?lang=xx").status_code == 200


def test_no_summary_before_the_meeting_is_held(marea, meeting_in, login, media):
    meeting = meeting_in(Meeting.State.SCHEDULED)
    client = login(marea.nurse)
    assert client.get(reverse("summary_page", args=[meeting.pk])).status_code == 404
    assert client.get(reverse("summary_pdf", args=[meeting.pk])).status_code == 404


def test_pdf_not_rendered_yet_is_404_and_the_page_says_so(marea, meeting_in, login, media):
    meeting = make_held_meeting(marea, meeting_in)
    client = login(marea.nurse)
    assert client.get(reverse("summary_pdf", args=[meeting.pk])).status_code == 404
    response = client.get(reverse("summary_page", args=[meeting.pk]))
    assert response.status_code == 200
    assert reverse("summary_pdf", args=[meeting.pk]) not in response.content.decode()


def test_summary_page_query_count(held, marea, login, django_assert_max_num_queries):
    client = login(marea.nurse)
    with django_assert_max_num_queries(40):
        assert client.get(reverse("summary_page", args=[held.pk])).status_code == 200


def test_serving_the_stored_pdf_does_not_render(held, marea, login, django_assert_max_num_queries):
    client = login(marea.nurse)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("summary_pdf", args=[held.pk]))
    stored = summary_services.latest_document(held, "sv")
    assert b"".join(response.streaming_content) == stored.file.open("rb").read()


# --- Read receipts ---


def confirm(client, meeting, content_version=None):
    return client.post(
        reverse("summary_confirm_read", args=[meeting.pk]),
        {"content_version": content_version or meeting.content_version},
    )


def test_read_receipts_per_organisation(held, marea, login):
    client = login(marea.coordinator)
    response = confirm(client, held)
    assert response.status_code == 302
    receipt = ReadReceipt.objects.get(meeting=held, user=marea.coordinator)
    assert receipt.organisation == marea.home_help
    assert receipt.content_version == held.content_version
    confirm(client, held)  # twice: one receipt
    assert ReadReceipt.objects.filter(meeting=held, user=marea.coordinator).count() == 1

    groups = {g.organisation: g for g in summary_services.read_receipts_by_organisation(held)}
    assert groups["Hemtjänst Öst AB"].has_read_current
    assert not groups["Hemsjukvården Åby"].has_read_any
    assert not groups["Biståndsenheten Åby"].has_read_any
    reader = next(r for r in groups["Hemtjänst Öst AB"].readers if r.read_at)
    assert reader.version == 1


def test_a_change_makes_earlier_receipts_earlier(held, marea, login):
    from meetings import services

    confirm(login(marea.assessor), held)
    services.agreement_add(
        actor=marea.nurse, meeting=held, kind="information", text="Ny information."
    )
    held.refresh_from_db()
    groups = {g.organisation: g for g in summary_services.read_receipts_by_organisation(held)}
    assert groups["Biståndsenheten Åby"].has_read_any
    assert not groups["Biståndsenheten Åby"].has_read_current


def test_confirming_a_stale_version_is_refused(held, marea, login):
    response = confirm(login(marea.nurse), held, content_version=held.content_version - 1)
    assert response.status_code == 302
    assert not ReadReceipt.objects.filter(meeting=held).exists()


def test_only_participants_confirm(held, marea, login):
    from ..factories import CareTeamEntryFactory, MembershipFactory

    # in the care team, can see the meeting, but not invited to it
    colleague = MembershipFactory(organisation=marea.home_help, role="contact_person").user
    CareTeamEntryFactory(person=marea.person, organisation=marea.home_help, member=colleague)
    client = login(colleague)
    assert client.get(reverse("summary_page", args=[held.pk])).status_code == 200
    confirm(client, held)
    assert not ReadReceipt.objects.filter(meeting=held).exists()
    assert (
        login(marea.outsider)
        .post(reverse("summary_confirm_read", args=[held.pk]), {"content_version": "x"})
        .status_code
        == 404
    )


def test_confirm_is_post_only_and_bad_input_is_not_an_error(held, marea, login):
    client = login(marea.nurse)
    assert client.get(reverse("summary_confirm_read", args=[held.pk])).status_code == 405
    response = client.post(
        reverse("summary_confirm_read", args=[held.pk]), {"content_version": "x"}
    )
    assert response.status_code == 302
    assert not ReadReceipt.objects.exists()


def test_page_shows_the_receipts_and_the_button(held, marea, login):
    client = login(marea.nurse)
    body = client.get(reverse("summary_page", args=[held.pk])).content.decode()
    assert reverse("summary_confirm_read", args=[held.pk]) in body
    confirm(client, held)
    body = client.get(reverse("summary_page", args=[held.pk])).content.decode()
    assert reverse("summary_confirm_read", args=[held.pk]) not in body
    assert "is-read" in body


# --- Sending a relative their link ---


def send_link(client, meeting, relative):
    return client.post(reverse("summary_relative_link", args=[meeting.pk, relative.pk]))


def test_convener_sends_a_sign_in_link(held, marea, login):
    response = send_link(login(marea.nurse), held, marea.relative)
    assert response.status_code == 302
    message = OutboxMessage.objects.get(kind=OutboxMessage.Kind.RELATIVE_SIGNIN)
    assert message.to_address == marea.relative.email
    assert message.recipient_relative == marea.relative
    assert (
        message.payload["url"].startswith("http")
        and "/anhorig/logga-in/?sesame=" in (message.payload["url"])
    )
    marea.relative.refresh_from_db()
    user = marea.relative.user
    assert user.username == f"relative-{marea.relative.pk}"
    assert not user.has_usable_password() and not user.memberships.exists()
    assert user.email == ""


def test_only_the_convener_sends_links(held, marea, login):
    send_link(login(marea.coordinator), held, marea.relative)
    assert send_link(login(marea.outsider), held, marea.relative).status_code == 404
    assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.RELATIVE_SIGNIN).exists()


def test_no_link_for_a_relative_the_person_did_not_choose(held, marea, login):
    other = RelativeFactory(person=marea.person)
    send_link(login(marea.nurse), held, other)
    stranger = RelativeFactory()
    assert send_link(login(marea.nurse), held, stranger).status_code == 404
    assert not OutboxMessage.objects.filter(kind=OutboxMessage.Kind.RELATIVE_SIGNIN).exists()


def test_meeting_panel_lists_relatives_with_the_button_for_the_convener(held, marea, rf):
    from django.template import Context, Template

    template = Template("{% load summary_tags %}{% summary_panel meeting %}")
    for user, shows_button in ((marea.nurse, True), (marea.coordinator, False)):
        request = rf.get("/")
        request.user = user
        html = template.render(Context({"request": request, "meeting": held}))
        assert marea.relative.name in html
        assert (reverse("summary_relative_link", args=[held.pk, marea.relative.pk]) in html) == (
            shows_button
        )
        assert reverse("summary_page", args=[held.pk]) in html


def test_bench_helpers_render_and_serve_the_stored_pdf(marea, meeting_in, media, login):
    meeting = make_held_meeting(marea, meeting_in)
    timings = summary_services.bench_render_ms(meeting, runs=2)
    assert len(timings) == 2 and all(ms > 0 for ms in timings)
    path = summary_services.bench_pdf_path(meeting)
    assert summary_services.latest_document(meeting, "sv") is not None
    response = login(marea.nurse).get(path)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
