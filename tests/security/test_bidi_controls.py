"""A right-to-left override (U+202E) or another bidirectional control in a name or a free
text would make it read reversed ("Anna" as "annA") in the PDF summary, the register
extract and emails: they are removed where the text is printed."""

import datetime as dt

import pytest
from django.utils import timezone

from meetings import services
from meetings.mail import render_email
from meetings.models import Meeting, OutboxMessage
from meetings.summary import render_summary, render_summary_html, summary_context
from participants.models import Person
from vom.textsafety import without_bidi_controls

from .test_meetings_xss import pdf_text

pytestmark = pytest.mark.django_db
RLO, PDF, LRI, PDI = "\u202e", "\u202c", "\u2066", "\u2069"


def test_the_controls_are_removed_and_the_text_kept():
    assert without_bidi_controls(f"{RLO}annA{PDF}") == "annA"
    assert without_bidi_controls({"a": [f"x{LRI}y{PDI}"]}) == {"a": ["xy"]}
    assert without_bidi_controls("Åsa Öberg – ok") == "Åsa Öberg – ok"


def test_names_and_notes_print_as_typed_in_the_summary(marea, meeting_in):
    Person.objects.filter(pk=marea.person.pk).update(first_name=f"{RLO}aträM")
    meeting = meeting_in(Meeting.State.SCHEDULED)
    services.agenda_note_save(
        actor=marea.nurse, meeting=meeting, item=2, text=f"Tar {RLO}xirfuF{PDF} 40 mg",
        base_revision=0,
    )  # fmt: skip
    now = timezone.now()
    services.meeting_mark_held(
        actor=marea.nurse, meeting=Meeting.objects.get(pk=meeting.pk),
        actual_start=now - dt.timedelta(hours=1), actual_end=now,
    )  # fmt: skip
    meeting = Meeting.objects.get(pk=meeting.pk)
    context = summary_context(meeting, language="sv", audience="pdf")
    html = render_summary_html(meeting, "sv")
    for control in (RLO, PDF):
        assert control not in html
        assert control not in str(context)
    assert "xirfuF" in html  # the text itself is kept, only the control goes
    assert "xirfuF" in pdf_text(render_summary(meeting, "sv", version=1).pdf)


def test_emails_carry_no_bidi_controls(marea, meeting_in):
    marea.coordinator.first_name = f"{RLO}boB"
    marea.coordinator.save()
    meeting = meeting_in(Meeting.State.SCHEDULED)
    message = OutboxMessage.objects.filter(meeting=meeting, kind="invitation").first()
    rendered = render_email(message)
    for part in (rendered.subject, rendered.text, rendered.html):
        assert RLO not in part
