"""Every URL has an owner (issue 8): each URL pattern of the project has an entry in the
permission matrix below, persona by persona, and every persona gets exactly that status.

A new URL without an entry fails `test_every_url_has_an_entry` with its name. The objects the
URLs point at are built through the real services (tests/conftest.py `marea`,
`advance_meeting`): a meeting being convened, a scheduled one and a held one with decisions, a
stored summary, follow-up, an access-log review. Then every URL is opened (GET) as every
persona, and every URL that changes something is posted to by those who may not: they are
refused and nothing changes.

Personas, all around the same person (Märta): the nurse (alice, who convenes), the physician
(dora) and the nurse work for home health care; the needs assessor (erik); the home-help
coordinator (bob) and contact person (frida) of a private home-help provider; a manager and an
organisation admin of home health care (past their second factor); the relative Ulla signed in
with her link in the relatives' area; a nurse of an organisation that does not serve Märta
(charlie); and someone not signed in.

Statuses: 200 the page; 302 a redirect (to the login, the link request, or back to the meeting
with a message saying why the step is not possible now); 403 refused; 404 not found (also what
one may not see: the same as what does not exist); 405 the URL only takes POST.
"""

from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from followup import services as followup_services
from meetings import relatives as rel
from meetings import reply_links, services, summary_services
from meetings.models import (
    AgendaNote,
    Agreement,
    Contribution,
    Decision,
    DecisionConfirmation,
    Meeting,
    OutboxMessage,
    Participant,
    PrivateTopic,
    ReadReceipt,
    SummaryDocument,
)
from participants.models import (
    AccessLogReview,
    CareTeamEntry,
    ChangeRecord,
    Membership,
    Person,
    Relative,
    Role,
)

from ..conftest import advance_meeting
from ..factories import CareTeamEntryFactory, MembershipFactory, PersonFactory, RelativeFactory
from ..twofactor import verify_second_factor

# Run with the cache on this host and with the shared cache of production (CACHE_URL).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cache_configuration")]
S = Meeting.State

PERSONAS = (
    "nurse", "physician", "assessor", "coordinator", "contact",
    "manager", "admin", "relative", "outsider", "anonymous",
)  # fmt: skip

# url name: (object set, the status of each persona, in the order of PERSONAS)
#   object sets: "-" none; "person" a person in everyone's care team, with a relative; "org" home
#   health care (the organisation of the manager and the admin); "convening", "scheduled",
#   "held" the meetings in those states (World.kwargs has the rest of each URL's arguments).
# fmt: off
MATRIX = {
    #                                           nurs phys asse coor cont mana admi rela outs anon
    # Signing in and out, language, health check: open to all.
    "login":                      ("-",         "302 302 302 302 302 302 302 302 302 200"),
    "logout":                     ("-",         "405 405 405 405 405 405 405 405 405 405"),
    "password_reset":             ("-",         "200 200 200 200 200 200 200 200 200 200"),
    "password_reset_done":        ("-",         "200 200 200 200 200 200 200 200 200 200"),
    "password_reset_confirm":     ("-",         "200 200 200 200 200 200 200 200 200 200"),
    "password_reset_complete":    ("-",         "200 200 200 200 200 200 200 200 200 200"),
    "set_language":               ("-",         "302 302 302 302 302 302 302 302 302 302"),
    "healthz":                    ("-",         "200 200 200 200 200 200 200 200 200 200"),
    # Sign-in through an identity provider: no such provider; a callback nobody started.
    "sso_start":                  ("-",         "404 404 404 404 404 404 404 404 404 404"),
    "sso_oidc_callback":          ("-",         "403 403 403 403 403 403 403 403 403 403"),
    # SAML: our service provider's metadata is public; the provider's answer is posted.
    "sso_saml_metadata":          ("-",         "200 200 200 200 200 200 200 200 200 200"),
    "sso_saml_acs":               ("-",         "405 405 405 405 405 405 405 405 405 405"),
    # The second factor: nobody here has one pending; a relative could set one up (harmless).
    "otp_verify":                 ("-",         "302 302 302 302 302 302 302 302 302 302"),
    "otp_setup":                  ("-",         "200 200 200 200 200 200 200 200 200 302"),
    "otp_backup_codes":           ("-",         "302 302 302 302 302 200 200 302 302 302"),
    # Own lists: care staff see their persons and meetings; a manager starts on the reports,
    # an organisation admin on the staff list, the relative in their own area.
    "home":                       ("-",         "200 200 200 200 200 302 302 302 200 302"),
    "meeting_list":               ("-",         "200 200 200 200 200 200 200 404 200 302"),
    "followup:my_decisions":      ("-",         "200 200 200 200 200 200 200 404 200 302"),
    # The person: the care team only (managers and admins hold no care role: need-to-know).
    "person_create":              ("-",         "200 200 200 200 200 404 404 404 200 302"),
    "person_detail":              ("person",    "200 200 200 200 200 404 404 404 404 302"),
    "person_edit":                ("person",    "200 200 200 200 200 404 404 404 404 302"),
    "relative_create":            ("person",    "200 200 200 200 200 404 404 404 404 302"),
    "relative_edit":              ("person",    "200 200 200 200 200 404 404 404 404 302"),
    "care_team_add":              ("person",    "200 200 200 200 200 404 404 404 404 302"),
    "care_team_end":              ("person",    "405 405 405 405 405 405 405 404 405 302"),
    "person_extract":             ("person",    "200 200 200 200 200 404 404 404 404 302"),
    "person_extract_json":        ("person",    "200 200 200 200 200 404 404 404 404 302"),
    "person_extract_pdf":         ("person",    "200 200 200 200 200 404 404 404 404 302"),
    "followup:person_measures":   ("person",    "200 200 200 200 200 404 404 404 404 302"),
    "meeting_new":                ("person",    "200 200 200 200 200 404 404 404 404 302"),
    "meeting_register_held":      ("person",    "200 200 200 200 200 404 404 404 404 302"),
    # The meeting: everyone in the care team sees it once shared; steps are for some only
    # (a 302 back to the meeting with the reason for the others).
    "meeting_detail":             ("scheduled", "200 200 200 200 200 404 404 404 404 302"),
    # Changing the consent is for its recorder and the convener (here both the nurse);
    # anyone in the care team may record that the person withdraws it.
    "meeting_consent":            ("scheduled", "200 302 302 302 302 404 404 404 404 302"),
    "meeting_consent_withdraw":   ("scheduled", "200 200 200 200 200 404 404 404 404 302"),
    "meeting_convening_start":    ("scheduled", "405 405 405 405 405 405 405 404 405 302"),
    "meeting_invitations":        ("convening", "200 302 302 302 302 404 404 404 404 302"),
    "meeting_schedule":           ("convening", "200 200 302 302 302 404 404 404 404 302"),
    "meeting_participant_mode":   ("scheduled", "405 405 405 405 405 405 405 404 405 302"),
    "meeting_participant_remove": ("scheduled", "405 405 405 405 405 405 405 404 405 302"),
    "meeting_reschedule":         ("scheduled", "200 200 302 302 302 404 404 404 404 302"),
    "meeting_cancel":             ("scheduled", "200 302 302 302 302 404 404 404 404 302"),
    "meeting_respond":            ("scheduled", "200 200 200 200 200 404 404 404 404 302"),
    "meeting_preparation":        ("scheduled", "200 200 200 200 200 404 404 404 404 302"),
    "meeting_contribution":       ("scheduled", "200 200 200 200 200 404 404 404 404 302"),
    "meeting_day":                ("scheduled", "200 200 200 200 200 404 404 404 404 302"),
    "meeting_note_save":          ("scheduled", "405 405 405 405 405 405 405 404 405 302"),
    "meeting_attendance":         ("scheduled", "405 405 405 405 405 405 405 404 405 302"),
    "meeting_private_topic":      ("scheduled", "200 200 200 200 200 404 404 404 404 302"),
    "meeting_decision_new":       ("scheduled", "200 200 200 200 200 404 404 404 404 302"),
    "meeting_agreement":          ("scheduled", "200 200 200 200 200 404 404 404 404 302"),
    "meeting_mark_held":          ("scheduled", "200 200 302 302 302 404 404 404 404 302"),
    # The home-help provider's decision: only its own staff change it.
    "meeting_decision_edit":      ("held",      "302 302 302 200 200 404 404 404 404 302"),
    "meeting_decisions_confirm":  ("held",      "405 405 405 405 405 405 405 404 405 302"),
    "meeting_minutes":            ("held",      "200 200 200 200 200 404 404 404 404 302"),
    "meeting_close":              ("held",      "405 405 405 405 405 405 405 404 405 302"),
    # From emails: the reply page shows only the date and who convenes, to whoever has the link.
    "reply":                      ("scheduled", "200 200 200 200 200 200 200 200 200 200"),
    "outbox_resend":              ("scheduled", "405 405 405 405 405 405 405 405 405 405"),
    # The shared summary.
    "summary_page":               ("held",      "200 200 200 200 200 404 404 404 404 302"),
    "summary_pdf":                ("held",      "200 200 200 200 200 404 404 404 404 302"),
    "summary_pdf_version":        ("held",      "200 200 200 200 200 404 404 404 404 302"),
    "summary_confirm_read":       ("held",      "405 405 405 405 405 405 405 404 405 302"),
    "summary_relative_link":      ("held",      "405 405 405 405 405 405 405 404 405 302"),
    # Follow-up.
    "followup:meeting":           ("held",      "200 200 200 200 200 404 404 404 404 302"),
    "followup:decision_status":   ("held",      "200 200 200 200 200 404 404 404 404 302"),
    "followup:checkpoint":        ("held",      "200 200 200 200 200 404 404 404 404 302"),
    "followup:health_care_use":   ("held",      "200 200 200 200 200 404 404 404 404 302"),
    "followup:outcome":           ("held",      "200 200 200 200 200 404 404 404 404 302"),
    "followup:new_meeting":       ("held",      "200 200 200 200 200 404 404 404 404 302"),
    # The relatives' area: the relative chosen in the consent only.
    "relatives_home":             ("-",         "404 404 404 404 404 404 404 200 404 302"),
    "relatives_signin":           ("-",         "200 200 200 200 200 200 200 200 200 200"),
    "relatives_link_request":     ("-",         "200 200 200 200 200 200 200 200 200 200"),
    "relatives_meeting":          ("held",      "404 404 404 404 404 404 404 200 404 302"),
    "relatives_summary_pdf":      ("held",      "404 404 404 404 404 404 404 200 404 302"),
    # Figures: managers and admins of their own organisation.
    "reports:dashboard":          ("-",         "404 404 404 404 404 200 200 404 404 302"),
    "reports:export":             ("-",         "404 404 404 404 404 200 200 404 404 302"),
    "reports:rates":              ("org",       "404 404 404 404 404 200 200 404 404 302"),
    "reports:refresh":            ("-",         "405 405 405 405 405 405 405 405 405 302"),
    # The organisation admin's pages.
    "staff_list":                 ("org",       "404 404 404 404 404 404 200 404 404 302"),
    "staff_create":               ("org",       "404 404 404 404 404 404 200 404 404 302"),
    "staff_edit":                 ("org",       "404 404 404 404 404 404 200 404 404 302"),
    "staff_set_active":           ("org",       "405 405 405 405 405 405 405 404 405 302"),
    "staff_totp_reset":           ("org",       "405 405 405 405 405 405 405 404 405 302"),
    "access_log":                 ("org",       "404 404 404 404 404 404 200 404 404 302"),
    "meeting_import":             ("org",       "404 404 404 404 404 404 200 404 404 302"),
    "meeting_import_template":    ("org",       "404 404 404 404 404 404 200 404 404 302"),
    "access_review_start":        ("org",       "405 405 405 405 405 405 405 404 405 302"),
    "access_review":              ("org",       "404 404 404 404 404 404 200 404 404 302"),
    "access_log_person":          ("org",       "404 404 404 404 404 404 200 404 404 302"),
    "access_log_person_csv":      ("org",       "404 404 404 404 404 404 200 404 404 302"),
    # The FHIR API (issue 21): staff through their session, by the rule of the pages; a
    # relative is refused (403), someone not signed in asked to sign in (401).
    "fhir:metadata":              ("-",         "200 200 200 200 200 200 200 200 200 200"),
    "fhir:smart_configuration":   ("-",         "200 200 200 200 200 200 200 200 200 200"),
    "fhir:token":                 ("-",         "405 405 405 405 405 405 405 405 405 405"),
    "fhir:search":                ("-",         "200 200 200 200 200 200 200 403 200 401"),
    "fhir:read":                  ("-",         "200 200 200 200 200 404 404 403 404 401"),
    "fhir:history":               ("-",         "200 200 200 200 200 404 404 403 404 401"),
    "fhir:vread":                 ("-",         "200 200 200 200 200 404 404 403 404 401"),
}
# fmt: on
# Anyone may post to these (signing out, choosing the language, the FHIR token endpoint,
# which checks the client's own credentials): nothing to refuse.
# Posts anyone may send: the SAML answer is refused (403) unless it answers this browser's
# own sign-in (tests/sso/test_saml_hostile.py).
OPEN_POSTS = {"logout", "set_language", "fhir:token", "sso_saml_acs"}


# --- The world the URLs point at ---


@dataclass
class World:
    marea: object
    person: Person  # served by the same organisations, with a relative and no meetings
    convening: Meeting
    scheduled: Meeting
    held: Meeting
    decision: Decision  # the home-help provider's, in the held meeting
    manager: object
    admin: object
    review: AccessLogReview
    outbox: OutboxMessage

    def kwargs(self, name: str, objects: str) -> dict:
        m = self.marea
        meeting = {"convening": self.convening, "scheduled": self.scheduled, "held": self.held}
        if objects == "-":
            return SPECIAL.get(name, lambda w: {})(self)
        if objects == "person":
            base = {"pk": self.person.pk}
        elif objects == "org":
            base = {"org_pk": m.health_care.pk}
        else:
            base = {"pk": meeting[objects].pk}
        kwargs = base | SPECIAL.get(name, lambda w: {})(self)
        return {key: value for key, value in kwargs.items() if value is not None}


def _participant(meeting, user):
    return Participant.objects.get(meeting=meeting, user=user, removed_at=None)


# Extra URL arguments beyond the object set's own.
SPECIAL = {
    "password_reset_confirm": lambda w: {"uidb64": "MQ", "token": "set-password"},
    "sso_start": lambda w: {"pk": 999999},
    "meeting_new": lambda w: {"person_pk": w.person.pk, "pk": None},
    "meeting_register_held": lambda w: {"person_pk": w.person.pk, "pk": None},
    "meeting_import_template": lambda w: {"fmt": "xlsx"},
    "meeting_participant_mode": lambda w: {
        "participant_pk": _participant(w.scheduled, w.marea.coordinator).pk
    },
    "meeting_participant_remove": lambda w: {
        "participant_pk": _participant(w.scheduled, w.marea.coordinator).pk
    },
    "meeting_note_save": lambda w: {"item": 2},
    "meeting_decision_edit": lambda w: {"decision_pk": w.decision.pk},
    "outbox_resend": lambda w: {"pk": w.outbox.pk},
    "reply": lambda w: {
        "pk": None,
        "token": reply_links.make_token(_participant(w.scheduled, w.marea.coordinator), "accepted"),
    },
    "followup:decision_status": lambda w: {"pk": w.decision.pk},
    "followup:checkpoint": lambda w: {"kind": "two_weeks"},
    "followup:health_care_use": lambda w: {"period": "before"},
    "followup:outcome": lambda w: {"timepoint": "baseline"},
    "reports:export": lambda w: {"what": "figures", "fmt": "csv"},
    "summary_pdf_version": lambda w: {
        "version": SummaryDocument.objects.filter(meeting=w.held).latest("version").version
    },
    "summary_relative_link": lambda w: {"relative_pk": w.marea.relative.pk},
    "relative_edit": lambda w: {"relative_pk": w.person.relatives.get().pk},
    "care_team_end": lambda w: {
        "entry_pk": CareTeamEntry.objects.filter(person=w.person).first().pk
    },
    "staff_edit": lambda w: {"membership_pk": Membership.objects.get(user=w.marea.nurse).pk},
    "staff_set_active": lambda w: {"membership_pk": Membership.objects.get(user=w.marea.nurse).pk},
    "staff_totp_reset": lambda w: {"membership_pk": Membership.objects.get(user=w.marea.nurse).pk},
    "access_review": lambda w: {"review_pk": w.review.pk},
    "access_log_person": lambda w: {"person_pk": w.person.pk},
    "access_log_person_csv": lambda w: {"person_pk": w.person.pk},
    "fhir:search": lambda w: {"resource_type": "CarePlan"},
    "fhir:read": lambda w: {"resource_type": "CarePlan", "ident": w.held.pk},
    "fhir:history": lambda w: {"resource_type": "Consent", "ident": w.held.pk},
    "fhir:vread": lambda w: {"resource_type": "Consent", "ident": w.held.pk, "version": "1"},
}


def build_world(marea) -> World:
    person = PersonFactory(first_name="Gösta", last_name="Lind")
    RelativeFactory(person=person, name="Kerstin Lind")
    for entry in CareTeamEntry.objects.filter(person=marea.person):
        CareTeamEntryFactory(
            person=person, organisation=entry.organisation, member=entry.member, role=entry.role
        )
    convening = advance_meeting(marea, S.CONVENING)
    scheduled = advance_meeting(marea, S.SCHEDULED)
    held = advance_meeting(marea, S.HELD)
    decision = services.decision_save(
        actor=marea.coordinator, meeting=held, organisation=marea.home_help,
        category="extended_home_help", description="Kvällsbesök för mat",
        responsible=marea.coordinator, due_date=None, person_answer="accepts",
    )  # fmt: skip
    followup_services.decision_status_report(
        actor=marea.coordinator, decision=decision, status="in_progress",
        date=timezone.localdate(),
    )  # fmt: skip
    summary_services.summary_store(meeting_id=held.pk, language="sv")
    manager = MembershipFactory(organisation=marea.health_care, role=Role.MANAGER).user
    admin = MembershipFactory(organisation=marea.health_care, role=Role.ORG_ADMIN).user
    review = AccessLogReview.objects.create(
        organisation=marea.health_care, reviewer=admin, period_start=timezone.localdate(),
        period_end=timezone.localdate(), sample_ids=[],
    )  # fmt: skip
    outbox = OutboxMessage.objects.filter(meeting=scheduled).first()
    return World(
        marea, person, convening, scheduled, held, decision, manager, admin, review, outbox
    )


def persona_clients(world: World) -> dict[str, Client]:
    m = world.marea
    staff = {
        "nurse": m.nurse, "physician": m.physician, "assessor": m.assessor,
        "coordinator": m.coordinator, "contact": m.contact, "manager": world.manager,
        "admin": world.admin, "outsider": m.outsider,
    }  # fmt: skip
    clients = {}
    for persona, user in staff.items():
        client = Client()
        client.force_login(user, backend="participants.auth.UsernameOrEmailBackend")
        if persona in ("manager", "admin"):
            verify_second_factor(client, user)
        clients[persona] = client
    # The relative signs in the way relatives do: the link from the email, then the button.
    relative = Client()
    token = rel.signin_link(rel.relative_user_ensure(m.relative)).split("sesame=", 1)[1]
    assert relative.post(reverse("relatives_signin"), {"sesame": token}).status_code == 302
    clients["relative"] = relative
    clients["anonymous"] = Client()
    return clients


# --- Every URL of the project ---


def all_url_names(resolver=None, namespace=None, prefix=""):
    """(name, route) of every pattern, namespaced includes too; the operator's admin apart."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            route = prefix + str(entry.pattern)
            if route == "operator/":
                continue  # Django's admin: test_operator_admin_is_closed_to_everyone_else
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from all_url_names(entry, inner, route)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield name or f"(unnamed) {prefix}{entry.pattern}", prefix + str(entry.pattern)


def test_every_url_has_an_entry():
    urls = dict(all_url_names())
    missing = sorted(f"{name} ({route})" for name, route in urls.items() if name not in MATRIX)
    assert not missing, "URLs without an entry in the permission matrix: " + ", ".join(missing)
    stale = sorted(set(MATRIX) - set(urls))
    assert not stale, "Matrix entries for URLs that no longer exist: " + ", ".join(stale)
    for name, (_objects, statuses) in MATRIX.items():
        assert len(statuses.split()) == len(PERSONAS), name


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
def world(marea, media) -> World:
    return build_world(marea)


def _url(world: World, name: str) -> str:
    return reverse(name, kwargs=world.kwargs(name, MATRIX[name][0]))


def test_every_persona_gets_the_status_of_the_matrix(world):
    clients = persona_clients(world)
    wrong = []
    for name, (_objects, statuses) in MATRIX.items():
        url = _url(world, name)
        for persona, expected in zip(PERSONAS, statuses.split(), strict=True):
            status = clients[persona].get(url).status_code
            if status != int(expected):
                wrong.append(f"{name} as {persona}: {status}, the matrix says {expected}")
    # Django's admin under /operator/ has no entry: no persona gets past its own login.
    for persona, client in clients.items():
        for path in ["/operator/", "/operator/participants/person/", "/operator/auth/group/"]:
            status = client.get(path).status_code
            if status not in (302, 404):
                wrong.append(f"{path} as {persona}: {status}, expected 302 or 404")
    assert not wrong, "\n".join(wrong)


def fingerprint() -> tuple:
    """What a refused POST must leave as it was."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return (
        list(Meeting.objects.order_by("pk").values_list("state", "content_version", "shared")),
        list(
            Participant.objects.order_by("pk").values_list(
                "removed_at", "mode", "response", "attended", "meeting_minutes"
            )
        ),
        list(AgendaNote.objects.order_by("pk").values_list("text", "revision")),
        list(Decision.objects.order_by("pk").values_list("description", "person_answer")),
        DecisionConfirmation.objects.count(),
        ReadReceipt.objects.count(),
        Agreement.objects.count(),
        Contribution.objects.count(),
        PrivateTopic.objects.count(),
        list(OutboxMessage.objects.order_by("pk").values_list("status", "attempts")),
        list(Membership.objects.order_by("pk").values_list("is_active", "role")),
        list(CareTeamEntry.objects.order_by("pk").values_list("end_date")),
        list(Person.objects.order_by("pk").values_list("first_name", "last_name")),
        list(Relative.objects.order_by("pk").values_list("name", "user_id")),
        TOTPDevice.objects.count(),
        AccessLogReview.objects.count(),
        ChangeRecord.objects.count(),
    )


def _hostile_post(world: World) -> dict:
    """Every field a POST-only URL reads, with values that would change something."""
    m = world.marea
    return {
        "organisation": m.home_help.pk, "mode": "video", "participant": "1", "next": "/",
        "item2-text": "Hacked", "item2-base_revision": "0", "content_version": "999",
        "actual_start": "2026-01-01T10:00", "actual_end": "2026-01-01T11:00",
        "period_start": "2026-01-01", "period_end": "2026-01-02", "active": "0",
    }  # fmt: skip


def test_refused_posts_to_post_only_urls_change_nothing(world):
    """The outsider, the relative and someone not signed in post to every URL that only takes
    POST: refused (404, or the login for someone not signed in) and nothing changes."""
    clients = persona_clients(world)
    login = reverse("login")
    post_only = [
        name for name, (_o, statuses) in MATRIX.items()
        if "405" in statuses.split() and name not in OPEN_POSTS
    ]  # fmt: skip
    assert len(post_only) >= 14
    before = fingerprint()
    data = _hostile_post(world)
    for name in post_only:
        url = _url(world, name)
        assert clients["outsider"].post(url, data).status_code == 404, name
        assert clients["relative"].post(url, data).status_code == 404, name
        response = clients["anonymous"].post(url, data)
        assert response.status_code == 302 and response["Location"].startswith(login), name
    assert fingerprint() == before
    # The fingerprint does see a change: the same POST by the convener saves the note.
    response = clients["nurse"].post(_url(world, "meeting_note_save"), data)
    assert response.status_code == 302
    assert fingerprint() != before
