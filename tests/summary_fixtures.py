"""A held meeting with something in every part of the summary, driven through the services."""

import datetime as dt

import pytest
from django.utils import timezone

from meetings import services
from meetings.models import Meeting

DANGEROUS_NOTE = (
    'Hjärtsvikt och yrsel. <b>fet</b> <script>alert("x")</script> '
    '<img src="file:///etc/passwd"> <link rel="stylesheet" href="http://example.com/x.css">'
)


def make_held_meeting(marea, meeting_in, *, note: str = DANGEROUS_NOTE) -> Meeting:
    meeting = meeting_in(Meeting.State.SCHEDULED)
    services.contribution_add(
        actor=None, meeting=meeting, author="relative", relative=marea.relative,
        what_matters="Att mamma får bo kvar hemma och känna sig trygg på nätterna.",
        questions="Kan hon få hjälp med duschen två gånger i veckan?",
    )  # fmt: skip
    services.agenda_note_save(
        actor=marea.nurse, meeting=meeting, item=2, text=note, base_revision=0
    )
    services.private_topic_add(
        actor=marea.nurse, meeting=meeting, organisation=marea.health_care, raised_by="person",
        text="HEMLIGT ÄMNE: alkohol",
    )  # fmt: skip
    now = timezone.now()
    services.meeting_mark_held(
        actor=marea.nurse, meeting=Meeting.objects.get(pk=meeting.pk),
        actual_start=now - dt.timedelta(hours=1), actual_end=now,
    )  # fmt: skip
    meeting = Meeting.objects.get(pk=meeting.pk)
    services.decision_save(
        actor=marea.nurse, meeting=meeting, organisation=marea.health_care,
        category="health_care",
        description="Läkemedelsgenomgång: vätskedrivande sänks; vikten följs varje vecka.",
        responsible=marea.nurse, due_date=timezone.localdate() + dt.timedelta(days=14),
        person_answer="accepts",
    )  # fmt: skip
    services.decision_save(
        actor=marea.coordinator, meeting=meeting, organisation=marea.home_help,
        category="extended_home_help",
        description="Kvällsbesök kl 19 för kvällsmål och tillsyn; dusch två gånger i veckan.",
        responsible=marea.coordinator, due_date=None, person_answer="thinking",
    )  # fmt: skip
    services.decision_save(
        actor=marea.assessor, meeting=meeting, organisation=marea.assessment,
        category="other_social_care", description="Ansökan om trygghetslarm och färdtjänst.",
        responsible=marea.assessor, due_date=None, person_answer="declines",
    )  # fmt: skip
    services.agreement_add(
        actor=marea.nurse, meeting=meeting, kind="goal_of_care",
        text="Märta ska kunna bo kvar hemma så länge hon själv vill.",
    )  # fmt: skip
    services.agreement_add(
        actor=marea.nurse, meeting=meeting, kind="contingency",
        situation="Märta faller och kan inte resa sig",
        text="Tryck på larmet; hemtjänsten kommer.", contact="Hemtjänst Öst AB",
    )  # fmt: skip
    return Meeting.objects.get(pk=meeting.pk)


@pytest.fixture
def held_meeting(marea, meeting_in):
    return make_held_meeting(marea, meeting_in)
