"""Script and markup in every free-text field of meetings and follow-up are shown as the text
they are, never run or fetched: in the pages, in the summary PDF and in the emails.

The fields, each with its own payload: the reasons, who raised the concern, the
representative's name, the note on the time, the place, "what matters" and questions (the
person's and a relative's), the agenda notes, a private topic, the decisions, the agreements
(situation, text, contact), follow-up notes (status, checkpoint, why the person could not
answer), the cancel reason and the note on a withdrawal. Every payload carries an <img>
pointing at a web server on loopback that counts requests: it must get none.
"""

import datetime as dt
import io
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.urls import reverse
from django.utils import timezone

from followup import services as followup_services
from meetings import mail, services, summary
from meetings.models import Meeting, OutboxMessage

from ..conftest import advance_meeting
from ..factories import proposed_days_ago

pytestmark = pytest.mark.django_db
S = Meeting.State

FIELDS = [
    "reason", "detail", "representative", "time_note", "location", "matters", "questions",
    "relative_matters", "note", "private", "decision", "situation", "agreement", "contact",
    "status_note", "checkpoint", "no_answer", "cancel", "withdrawal",
]  # fmt: skip
# Raw markup that must never reach a page or an HTML email unescaped.
MARKUP = ["<script>alert(", "<img src=", "<svg onload", '"><b>']


class Counter(BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - the http.server API
        Counter.hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def canary():
    """A web server on loopback; any request to it means something fetched a payload's URL."""
    Counter.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def payloads(canary: str) -> dict[str, str]:
    return {
        key: (
            f'{key}"><b>x</b><script>alert("{key}")</script><svg onload=alert(1)>'
            f'<img src="{canary}/{key}">'
        )
        for key in FIELDS
    }


@pytest.fixture
def hostile(marea, canary, settings, tmp_path):
    """A held meeting with a payload in every free-text field, one cancelled and one whose
    consent was withdrawn, all through the real services."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    p = payloads(canary)
    m = marea
    now = timezone.now()
    meeting = services.meeting_initiate(
        actor=m.nurse, person=m.person, organisation=m.health_care, reasons=["not_eating"],
        reason_text=p["reason"], raised_by="relative", raised_by_detail=p["detail"],
        urgency="soon", kind="full",
    )  # fmt: skip
    proposed_days_ago(meeting)
    services.consent_record(
        actor=m.nurse, meeting=meeting, wants_meeting=True, share_information=True,
        relatives=[m.relative], how="representative", representative_name=p["representative"],
        given_at=now,
    )  # fmt: skip
    services.convening_start(actor=m.nurse, meeting=meeting)
    start = now + dt.timedelta(days=7)
    services.time_options_set(actor=m.nurse, meeting=meeting, options=[start], note=p["time_note"])
    for entry in services.proposed_invitees(meeting):
        services.participant_invite(
            actor=m.nurse, meeting=meeting, user=entry.member, organisation=entry.organisation,
            role=entry.role,
        )  # fmt: skip
    services.meeting_schedule(
        actor=m.nurse, meeting=meeting, starts_at=start, location=p["location"]
    )
    services.contribution_add(
        actor=m.nurse, meeting=meeting, author="person", what_matters=p["matters"],
        questions=p["questions"],
    )  # fmt: skip
    services.contribution_add(
        actor=None, meeting=meeting, author="relative", relative=m.relative,
        what_matters=p["relative_matters"],
    )  # fmt: skip
    services.agenda_note_save(
        actor=m.nurse, meeting=meeting, item=2, text=p["note"], base_revision=0
    )
    services.private_topic_add(
        actor=m.nurse, meeting=meeting, organisation=m.health_care, raised_by="person",
        text=p["private"],
    )  # fmt: skip
    decision = services.decision_save(
        actor=m.coordinator, meeting=meeting, organisation=m.home_help,
        category="extended_home_help", description=p["decision"], responsible=m.coordinator,
        due_date=timezone.localdate() + dt.timedelta(days=10), person_answer="accepts",
    )  # fmt: skip
    services.agreement_add(
        actor=m.nurse, meeting=meeting, kind="contingency", situation=p["situation"],
        text=p["agreement"], contact=p["contact"],
    )  # fmt: skip
    services.meeting_mark_held(
        actor=m.nurse, meeting=Meeting.objects.get(pk=meeting.pk),
        actual_start=now - dt.timedelta(hours=1), actual_end=now,
    )  # fmt: skip
    followup_services.decision_status_report(
        actor=m.coordinator, decision=decision, status="in_progress", date=timezone.localdate(),
        note=p["status_note"],
    )  # fmt: skip
    followup_services.checkpoint_complete(
        actor=m.nurse, meeting=meeting, kind="two_weeks", person_situation="at_home",
        note=p["checkpoint"],
    )  # fmt: skip
    followup_services.outcome_record(
        actor=m.nurse, meeting=meeting, timepoint="after", date=timezone.localdate(),
        could_not_answer=True, no_answer_reason="other", no_answer_note=p["no_answer"],
    )  # fmt: skip
    cancelled = advance_meeting(m, S.SCHEDULED)
    services.meeting_cancel(actor=m.nurse, meeting=cancelled, reason=p["cancel"])
    withdrawn = advance_meeting(m, S.CONSENT)
    services.consent_withdraw(actor=m.nurse, meeting=withdrawn, note=p["withdrawal"])
    return {
        "payloads": p,
        "held": Meeting.objects.get(pk=meeting.pk),
        "decision": decision,
        "cancelled": cancelled,
        "withdrawn": withdrawn,
    }


def assert_inert(body: str, where: str) -> None:
    for raw in MARKUP:
        assert raw not in body, (where, raw)


def test_pages_show_every_field_as_text(marea, hostile, login, canary):
    from ..meetings.test_relatives import signed_in

    held, decision = hostile["held"], hostile["decision"]
    staff_pages = [
        reverse("meeting_detail", args=[held.pk]),
        reverse("meeting_day", args=[held.pk]),
        reverse("summary_page", args=[held.pk]),
        reverse("followup:meeting", args=[held.pk]),
        reverse("followup:decision_status", args=[decision.pk]),
        reverse("followup:checkpoint", args=[held.pk, "two_weeks"]),
        reverse("followup:outcome", args=[held.pk, "after"]),
        reverse("meeting_list") + "?state=held",
        reverse("meeting_list") + "?state=cancelled",
        reverse("person_detail", args=[marea.person.pk]),
        reverse("meeting_detail", args=[hostile["cancelled"].pk]),
        reverse("meeting_detail", args=[hostile["withdrawn"].pk]),
        reverse("followup:my_decisions"),
        reverse("person_extract", args=[marea.person.pk]),
    ]
    seen = ""
    for who, pages in [
        (marea.nurse, staff_pages),
        (marea.coordinator, [reverse("meeting_decision_edit", args=[held.pk, decision.pk])]),
    ]:
        client = login(who)
        for url in pages:
            response = client.get(url)
            assert response.status_code == 200, url
            body = response.content.decode()
            assert_inert(body, url)
            seen += body
    relative_page = signed_in(marea.relative).get(reverse("relatives_meeting", args=[held.pk]))
    assert relative_page.status_code == 200
    assert_inert(relative_page.content.decode(), "relatives_meeting")
    # each field was on some page, escaped (so the test looked at it)
    for key in FIELDS:
        assert f"alert(&quot;{key}&quot;)" in seen or f"alert(&#x27;{key}" in seen, key
    assert Counter.hits == []


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    pages = PdfReader(io.BytesIO(pdf)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def test_summary_pdf_prints_the_fields_literally_and_fetches_nothing(hostile, canary):
    result = summary.render_summary(hostile["held"], "sv")
    text = "".join(pdf_text(result.pdf).split())  # line breaks fall anywhere in a table cell
    for key in ["reason", "matters", "questions", "relative_matters", "note", "decision",
                "situation", "agreement", "contact"]:  # fmt: skip
        assert f'<b>x</b><script>alert("{key}")</script><svgonload' in text, key
    assert 'alert("private")' not in text  # never in the summary
    assert all(url.startswith(summary.PDF_STATIC_URL) for url in result.requested_urls)
    assert Counter.hits == []


def test_emails_escape_html_and_keep_the_text_part_literal(hostile, canary):
    held, cancelled = hostile["held"], hostile["cancelled"]
    checks = [
        # (rows, payloads that the staff's message carries)
        (OutboxMessage.objects.filter(meeting=held, kind="invitation", participant__kind="staff"),
         ["reason", "location"]),
        (OutboxMessage.objects.filter(meeting=held, kind="followup_2w",
                                      recipient_user=hostile["decision"].responsible),
         ["decision"]),
        (OutboxMessage.objects.filter(meeting=cancelled, kind="cancelled",
                                      participant__kind="staff"),
         ["cancel"]),
    ]  # fmt: skip
    for rows, keys in checks:
        assert rows.exists(), keys
        for row in rows:
            rendered = mail.render_email(row)
            assert_inert(rendered.html, f"{row.kind} html")
            for key in keys:
                assert f'<script>alert("{key}")</script>' in rendered.text, (row.kind, key)
                assert f"alert(&quot;{key}&quot;)" in rendered.html, (row.kind, key)
    # a relative's invitation carries no reasons and no private topic at all
    for row in OutboxMessage.objects.filter(meeting=held, participant__kind="relative"):
        rendered = mail.render_email(row)
        assert 'alert("reason")' not in rendered.text and 'alert("private")' not in rendered.text
        assert_inert(rendered.html, "relative html")
    for row in OutboxMessage.objects.all():
        assert 'alert("private")' not in mail.render_email(row).text
