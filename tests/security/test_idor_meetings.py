"""Every object URL of meetings, follow-up, summaries, the relatives' area and reports, tried
from another organisation (IDOR): always 404, and nothing changes.

The table must name every URL pattern of those apps that takes an object id, so a new object
URL without an entry fails the build (as tests/security/test_idor.py does for participants).
Then the other way round: an object of one's own in the URL, another organisation's after it.
"""

import dataclasses

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

import followup.urls
import meetings.urls
import meetings.urls_public
import meetings.urls_relatives
import meetings.urls_summary
import reports.urls
from meetings import relatives as rel
from meetings import services, summary_services
from meetings.models import DecisionConfirmation, Meeting, OutboxMessage, Participant
from participants.models import Role

from ..conftest import advance_meeting
from ..factories import CareTeamEntryFactory, MembershipFactory, PersonFactory, RelativeFactory
from ..twofactor import verify_second_factor
from .test_url_matrix import fingerprint

# Run with the cache on this host and with the shared cache of production (CACHE_URL).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cache_configuration")]
S = Meeting.State

MODULES = [meetings.urls, meetings.urls_public, meetings.urls_summary, meetings.urls_relatives,
           followup.urls, reports.urls]  # fmt: skip
# Patterns with converters that are not object ids: a signed token (its tampering is tested
# in test_notify_reply_links.py) and the export's name and format.
NOT_OBJECT_IDS = {"reply", "export"}


@dataclasses.dataclass
class Victim:
    """Objects of home health care's meeting for Märta (a held meeting, its decision, its
    stored summary, an outbox row, the relative)."""

    meeting: Meeting
    decision: object
    participant: Participant
    relative: object
    message: OutboxMessage
    organisation: object
    version: int


def m(v):
    return {"pk": v.meeting.pk}


# url name -> kwargs pointing at the victim's objects
OBJECT_URLS = {
    "meeting_new": lambda v: {"person_pk": v.meeting.person_id},
    **dict.fromkeys(
        ["meeting_detail", "meeting_consent", "meeting_consent_withdraw",
         "meeting_convening_start", "meeting_invitations", "meeting_schedule",
         "meeting_reschedule", "meeting_cancel",
         "meeting_respond", "meeting_preparation", "meeting_contribution", "meeting_day",
         "meeting_attendance", "meeting_private_topic", "meeting_decision_new",
         "meeting_decisions_confirm", "meeting_agreement", "meeting_mark_held", "meeting_minutes",
         "meeting_close", "summary_page", "summary_pdf", "summary_confirm_read", "meeting",
         "new_meeting", "relatives_meeting", "relatives_summary_pdf"],
        m,
    ),
    "meeting_participant_mode": lambda v: m(v) | {"participant_pk": v.participant.pk},
    "meeting_participant_remove": lambda v: m(v) | {"participant_pk": v.participant.pk},
    "meeting_note_save": lambda v: m(v) | {"item": 2},
    "meeting_decision_edit": lambda v: m(v) | {"decision_pk": v.decision.pk},
    "outbox_resend": lambda v: {"pk": v.message.pk},
    "summary_pdf_version": lambda v: m(v) | {"version": v.version},
    "summary_relative_link": lambda v: m(v) | {"relative_pk": v.relative.pk},
    "decision_status": lambda v: {"pk": v.decision.pk},
    "checkpoint": lambda v: m(v) | {"kind": "two_weeks"},
    "health_care_use": lambda v: m(v) | {"period": "before"},
    "outcome": lambda v: m(v) | {"timepoint": "baseline"},
    "person_measures": lambda v: {"pk": v.meeting.person_id},
    "rates": lambda v: {"org_pk": v.organisation.pk},
    "meeting_register_held": lambda v: {"person_pk": v.meeting.person_id},
    "meeting_import": lambda v: {"org_pk": v.organisation.pk},
    "meeting_import_template": lambda v: {"org_pk": v.organisation.pk, "fmt": "csv"},
}  # fmt: skip
NAMESPACED = {"meeting", "new_meeting", "decision_status", "checkpoint", "health_care_use",
              "outcome", "person_measures", "rates"}  # fmt: skip


def _name(name: str) -> str:
    if name == "rates":
        return "reports:rates"
    return f"followup:{name}" if name in NAMESPACED else name


def test_every_object_url_is_in_the_table():
    with_ids = {
        pattern.name
        for module in MODULES
        for pattern in module.urlpatterns
        if isinstance(pattern, URLPattern) and pattern.pattern.converters
    }
    assert with_ids - NOT_OBJECT_IDS == set(OBJECT_URLS)


@pytest.fixture
def victim(marea, settings, tmp_path) -> Victim:
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    meeting = advance_meeting(marea, S.HELD)
    decision = services.decision_save(
        actor=marea.nurse, meeting=meeting, organisation=marea.health_care,
        category="health_care", description="Läkemedelsgenomgång", responsible=marea.nurse,
        due_date=None, person_answer="accepts",
    )  # fmt: skip
    document = summary_services.summary_store(meeting_id=meeting.pk, language="sv")
    return Victim(
        meeting=meeting,
        decision=decision,
        participant=Participant.objects.get(meeting=meeting, user=marea.coordinator),
        relative=marea.relative,
        message=OutboxMessage.objects.filter(meeting=meeting).first(),
        organisation=marea.health_care,
        version=document.version,
    )


@pytest.fixture
def outsiders(marea):
    """Staff of an organisation that has never served Märta, and a relative of someone else."""
    org = marea.outsider_org
    admin = MembershipFactory(organisation=org, role=Role.ORG_ADMIN).user
    manager = MembershipFactory(organisation=org, role=Role.MANAGER).user
    other_relative = RelativeFactory(person=PersonFactory(), email="annan@example.org")
    return {"nurse": marea.outsider, "admin": admin, "manager": manager}, other_relative


HOSTILE = {
    "organisation": "1", "mode": "video", "participant": "1", "item2-text": "Hacked",
    "item2-base_revision": "0", "content_version": "1", "what_matters": "Hacked",
    "description": "Hacked", "text": "Hacked", "reason": "Hacked", "note": "Hacked",
}  # fmt: skip


def test_another_organisation_gets_404_for_every_object(marea, victim, outsiders):
    staff, other_relative = outsiders
    # a relative of another person, signed in with their own link
    relative = Client()
    token = rel.signin_link(rel.relative_user_ensure(other_relative)).split("sesame=", 1)[1]
    assert relative.post(reverse("relatives_signin"), {"sesame": token}).status_code == 302
    clients = {}
    for who, user in staff.items():
        clients[who] = Client()
        clients[who].force_login(user, backend="participants.auth.UsernameOrEmailBackend")
        if who != "nurse":  # the manager and the admin are past their second factor
            verify_second_factor(clients[who], user)
    before = fingerprint()
    wrong = []
    for who, client in clients.items():
        for name, kwargs in OBJECT_URLS.items():
            url = reverse(_name(name), kwargs=kwargs(victim))
            get, post = client.get(url).status_code, client.post(url, HOSTILE).status_code
            if get not in (404, 405) or post != 404:
                wrong.append(f"{name} as the outsider {who}: GET {get}, POST {post}")
        # the reports' organisation filter, with the victim organisation's number
        query = {"organisation": str(victim.organisation.pk)}
        for url in [
            reverse("reports:dashboard"),
            reverse("reports:export", args=["meetings", "csv"]),
        ]:
            status = client.get(url, query).status_code
            if status != 404:
                wrong.append(f"{url}?organisation= as the outsider {who}: {status}")
    for name in ["relatives_meeting", "relatives_summary_pdf"]:
        url = reverse(name, kwargs=OBJECT_URLS[name](victim))
        if relative.get(url).status_code != 404 or relative.post(url, HOSTILE).status_code != 404:
            wrong.append(f"{name} as another person's relative")
    assert not wrong, "\n".join(wrong)
    assert fingerprint() == before


def test_own_meeting_in_the_url_with_another_organisations_objects_after_it(
    marea, victim, outsiders, login
):
    """Charlie convenes a meeting for a person of his own; he puts Märta's participant,
    decision and relative, and home health care as the confirming organisation, after it."""
    person = PersonFactory(first_name="Gösta")
    CareTeamEntryFactory(person=person, organisation=marea.outsider_org)
    CareTeamEntryFactory(
        person=person, organisation=marea.outsider_org, member=marea.outsider, role=Role.NURSE
    )
    own_area = dataclasses.replace(
        marea, person=person, health_care=marea.outsider_org, nurse=marea.outsider,
        relative=RelativeFactory(person=person, name="Kerstin"),
    )  # fmt: skip
    own = advance_meeting(own_area, S.SCHEDULED)
    client = login(marea.outsider)
    assert client.get(reverse("meeting_detail", args=[own.pk])).status_code == 200
    before = fingerprint()
    urls = [
        reverse("meeting_participant_mode", args=[own.pk, victim.participant.pk]),
        reverse("meeting_participant_remove", args=[own.pk, victim.participant.pk]),
        reverse("meeting_decision_edit", args=[own.pk, victim.decision.pk]),
        reverse("summary_relative_link", args=[own.pk, victim.relative.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code in (404, 405), url
        assert client.post(url, HOSTILE | {"mode": "phone"}).status_code == 404, url
    # confirming decisions for another organisation: refused with a message, nothing recorded
    response = client.post(
        reverse("meeting_decisions_confirm", args=[own.pk]),
        {"organisation": str(marea.health_care.pk)},
    )
    assert response.status_code == 302
    assert not DecisionConfirmation.objects.filter(organisation=marea.health_care).exists()
    assert fingerprint() == before
