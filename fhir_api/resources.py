"""The resource types of the API: for each, where its rows come from (through the access
rule, fhir_api.selectors), its search parameters and how a page of rows becomes FHIR JSON.

A type has one or more *sources* (CareTeam: a person's care team and a meeting's
participants; Task: decisions and checkpoints), each a queryset whose ids carry the
source's prefix. Rendering takes a whole page at once, with the related rows prefetched,
so a search costs the same number of queries whatever its page size.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import (
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse

from followup.models import Checkpoint, DecisionStatus, DecisionStatusChange, OutcomeMeasure
from followup.scoring import EQ5D_DIMENSIONS
from meetings.choices import AgreementKind, DecisionCategory, PersonAnswer
from meetings.models import (
    Agreement,
    Consent,
    Decision,
    Meeting,
    Participant,
    SummaryDocument,
)
from meetings.selectors import consent_meetings_visible_to, own_parts_q
from meetings.summary import SUMMARY_STATES
from participants.models import CareTeamEntry, Membership, Organisation, Person, Relative, Role
from participants.selectors import care_organisation_ids, persons_visible_to

from . import codes as c
from .params import FhirError, date_q, integer_id, reference_id, tokens
from .selectors import decisions_for_api, meetings_for_api, staff_visible_to

S = Meeting.State


# --- Small builders ---


def ref(kind: str, ident, display: str = "") -> dict:
    result = {"reference": f"{kind}/{ident}"}
    if display:
        result["display"] = str(display)
    return result


def instant(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def day(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def clean(resource):
    """Without empty values: FHIR forbids empty strings, lists and objects."""
    if isinstance(resource, dict):
        cleaned = {key: clean(value) for key, value in resource.items()}
        return {key: value for key, value in cleaned.items() if value not in (None, "", [], {})}
    if isinstance(resource, list):
        cleaned = [clean(value) for value in resource]
        return [value for value in cleaned if value not in (None, "", [], {})]
    return resource


def human_name(first: str, last: str) -> list[dict]:
    return [{"use": "official", "family": last, "given": [first] if first else []}]


def telecom(*, phone: str = "", email: str = "", use: str = "") -> list[dict]:
    points = []
    if phone:
        points.append({"system": "phone", "value": phone, "use": use})
    if email:
        points.append({"system": "email", "value": email, "use": use})
    return points


def hsa_identifier(hsa_id: str) -> list[dict]:
    return [{"system": c.HSA_ID, "value": hsa_id}] if hsa_id else []


def role_concept(role: str) -> dict:
    label = Role(role).label if role in Role.values else role
    return c.concept(c.own("staff-role"), role, label)


@dataclass
class Context:
    """What rendering needs to know about the caller."""

    principal: object
    care_org_ids: frozenset = frozenset()

    def own_only(self, meeting: Meeting) -> bool:
        return meeting.sharing_withdrawn


# --- Sources and types ---

ParamFn = Callable[[list[str], Context], Q | None]


@dataclass
class Source:
    prefix: str
    visible: Callable[[object], QuerySet]
    render: Callable[[list, Context], list[dict]]
    params: dict[str, ParamFn] = field(default_factory=dict)
    person_of: Callable[[object], int | None] = lambda obj: None
    # Every row of an existing id (for logging a refused look as denied), or None.
    everything: Callable[[], QuerySet] | None = None


@dataclass
class ResourceType:
    name: str
    sources: list[Source]
    # Reads and searches are in the access log (resources about a person).
    logged: bool = True
    last_updated: bool = True
    history: bool = False
    documentation: dict[str, str] = field(default_factory=dict)

    def source_for(self, ident: str) -> tuple[Source, str]:
        for source in self.sources:
            if source.prefix and ident.startswith(source.prefix):
                return source, ident[len(source.prefix) :]
        for source in self.sources:
            if not source.prefix:
                return source, ident
        raise FhirError(404, f"{self.name}/{ident} is not known.", code="not-found")

    @property
    def param_names(self) -> list[str]:
        names = []
        for source in self.sources:
            names += [name for name in source.params if name not in names]
        return names


def patient_param(path: str) -> ParamFn:
    def build(values, ctx):
        q = Q()
        for value in values:
            _kind, ident = reference_id("patient", value, ("Patient",))
            q &= Q(**{path: integer_id("patient", ident)})
        return q

    return build


def id_param(path: str, name: str, kind: str) -> ParamFn:
    def build(values, ctx):
        q = Q()
        for value in values:
            _kind, ident = reference_id(name, value, (kind,))
            q &= Q(**{path: integer_id(name, ident)})
        return q

    return build


def status_param(mapping: dict[str, Q], name: str = "status") -> ParamFn:
    def build(values, ctx):
        q = Q()
        for value in values:
            wanted = tokens(value)
            unknown = [code for code in wanted if code not in mapping]
            if unknown:
                raise FhirError(400, f"{name}: {', '.join(unknown)} is not a known code here.")
            any_of = Q(pk__in=[])
            for code in wanted:
                any_of |= mapping[code]
            q &= any_of
        return q

    return build


def identifier_param(systems: dict[str, str]) -> ParamFn:
    """identifier=[system|]value, for the systems given (system → field)."""

    def build(values, ctx):
        q = Q()
        for value in values:
            any_of = Q(pk__in=[])
            for part in tokens(value):
                system, bar, ident = part.rpartition("|")
                if not bar:
                    matching = list(systems.values())
                elif system in systems:
                    matching = [systems[system]]
                else:
                    matching = []
                for path in matching:
                    any_of |= Q(**{path: ident.replace("-", "") if "nummer" in path else ident})
            q &= any_of
        return q

    return build


def name_param(*fields: str) -> ParamFn:
    def build(values, ctx):
        q = Q()
        for value in values:
            for word in value.split():
                any_of = Q(pk__in=[])
                for path in fields:
                    any_of |= Q(**{f"{path}__icontains": word})
                q &= any_of
        return q

    return build


def no_match(values, ctx):
    """A parameter that this source can never satisfy: it gives no rows."""
    return None


# --- Patient ---


def render_patients(persons: list[Person], ctx: Context) -> list[dict]:
    result = []
    for person in persons:
        digits = person.personnummer
        coordination = len(digits) == 12 and digits[6:8].isdigit() and int(digits[6:8]) > 60
        address = []
        if person.street_address or person.city:
            address = [
                {
                    "use": "home",
                    "line": [person.street_address] if person.street_address else [],
                    "postalCode": person.postal_code,
                    "city": person.city,
                    "country": "SE",
                }
            ]
        result.append(
            {
                "resourceType": "Patient",
                "id": str(person.pk),
                "identifier": [
                    {
                        "use": "official",
                        "system": c.SAMORDNINGSNUMMER if coordination else c.PERSONNUMMER,
                        "value": digits,
                    }
                ],
                "active": True,
                "name": human_name(person.first_name, person.last_name),
                "telecom": telecom(phone=person.phone, use="home"),
                "birthDate": day(person.date_of_birth),
                "address": address,
            }
        )
    return result


PATIENT = ResourceType(
    "Patient",
    [
        Source(
            "",
            lambda p: persons_visible_to(p).annotate(last_updated=F("updated_at")),
            render_patients,
            params={
                "identifier": identifier_param(
                    {c.PERSONNUMMER: "personnummer", c.SAMORDNINGSNUMMER: "personnummer"}
                )
            },
            person_of=lambda person: person.pk,
            everything=lambda: Person.objects.all(),
        )
    ],
    documentation={"identifier": "personnummer or samordningsnummer, system|value or value"},
)


# --- Organization, Practitioner, PractitionerRole: the directory, no person's data ---


def render_organisations(organisations: list[Organisation], ctx: Context) -> list[dict]:
    return [
        {
            "resourceType": "Organization",
            "id": str(org.pk),
            "identifier": hsa_identifier(org.hsa_id),
            "active": org.is_active,
            "type": [c.concept(c.own("organisation-kind"), org.kind, org.get_kind_display())],
            "name": org.name,
            "telecom": telecom(phone=org.phone, email=org.email, use="work"),
            "address": [{"text": org.address}] if org.address else [],
        }
        for org in organisations
    ]


ORGANIZATION = ResourceType(
    "Organization",
    [
        Source(
            "",
            lambda p: Organisation.objects.all(),
            render_organisations,
            params={
                "identifier": identifier_param({c.HSA_ID: "hsa_id"}),
                "name": name_param("name"),
            },
        )
    ],
    logged=False,
    last_updated=False,
)


def render_practitioners(users, ctx: Context) -> list[dict]:
    return [
        {
            "resourceType": "Practitioner",
            "id": str(user.pk),
            "identifier": hsa_identifier(user.hsa_id),
            "active": user.is_active,
            "name": human_name(user.first_name, user.last_name or user.username),
            "telecom": telecom(email=user.email, use="work"),
        }
        for user in users
    ]


PRACTITIONER = ResourceType(
    "Practitioner",
    [
        Source(
            "",
            staff_visible_to,
            render_practitioners,
            params={
                "identifier": identifier_param({c.HSA_ID: "hsa_id"}),
                "name": name_param("first_name", "last_name"),
            },
        )
    ],
    logged=False,
    last_updated=False,
)


def render_roles(memberships: list[Membership], ctx: Context) -> list[dict]:
    return [
        {
            "resourceType": "PractitionerRole",
            "id": str(m.pk),
            "active": m.is_active,
            "practitioner": ref("Practitioner", m.user_id, m.user),
            "organization": ref("Organization", m.organisation_id, m.organisation.name),
            "code": [role_concept(m.role)],
            "telecom": telecom(phone=m.direct_phone, use="work"),
        }
        for m in memberships
    ]


PRACTITIONER_ROLE = ResourceType(
    "PractitionerRole",
    [
        Source(
            "",
            lambda p: (
                Membership.objects.active()
                .filter(user__in=staff_visible_to(p))
                .select_related("user", "organisation")
            ),
            render_roles,
            params={
                "practitioner": id_param("user_id", "practitioner", "Practitioner"),
                "organization": id_param("organisation_id", "organization", "Organization"),
            },
        )
    ],
    logged=False,
    last_updated=False,
)


# --- Meeting participants, shared by CareTeam, Encounter and Appointment ---


def meetings_with_participants(queryset: QuerySet[Meeting]) -> QuerySet[Meeting]:
    return queryset.select_related("person").prefetch_related(
        Prefetch(
            "participants",
            queryset=Participant.objects.filter(removed_at__isnull=True)
            .select_related("user", "organisation", "relative")
            .order_by("kind", "pk"),
            to_attr="fhir_participants",
        )
    )


def shown_participants(meeting: Meeting, ctx: Context) -> list[Participant]:
    """After consent to share was withdrawn each organisation sees only its own parts: its
    own staff among the participants."""
    participants = meeting.fhir_participants
    if ctx.own_only(meeting):
        return [
            p
            for p in participants
            if p.kind == Participant.Kind.STAFF and p.organisation_id in ctx.care_org_ids
        ]
    return participants


def participant_ref(p: Participant, meeting: Meeting) -> dict | None:
    if p.kind == Participant.Kind.STAFF and p.user_id:
        return ref("Practitioner", p.user_id, p.user)
    if p.kind == Participant.Kind.RELATIVE and p.relative_id:
        return ref("RelatedPerson", p.relative_id, p.relative.name)
    if p.kind == Participant.Kind.PERSON:
        return ref("Patient", meeting.person_id, meeting.person)
    return None


def mode_extension(p: Participant) -> list[dict]:
    mode = p.attended_mode or p.mode
    return [
        {
            "url": c.extension("attendance-mode"),
            "valueCoding": c.coding(c.own("attendance-mode"), mode, Participant.Mode(mode).label),
        }
    ]


# --- CareTeam ---


def render_person_teams(persons: list[Person], ctx: Context) -> list[dict]:
    result = []
    for person in persons:
        participants = []
        organisations = {}
        for entry in person.fhir_team:
            organisations[entry.organisation_id] = entry.organisation
            period = {"start": day(entry.start_date), "end": day(entry.end_date)}
            if entry.member_id:
                participants.append(
                    {
                        "role": [role_concept(entry.role)] if entry.role else [],
                        "member": ref("Practitioner", entry.member_id, entry.member),
                        "onBehalfOf": ref(
                            "Organization", entry.organisation_id, entry.organisation.name
                        ),
                        "period": period,
                    }
                )
            else:
                kind = entry.organisation
                participants.append(
                    {
                        "role": [
                            c.concept(
                                c.own("organisation-kind"), kind.kind, kind.get_kind_display()
                            )
                        ],
                        "member": ref("Organization", entry.organisation_id, kind.name),
                        "period": period,
                    }
                )
        result.append(
            {
                "resourceType": "CareTeam",
                "id": f"person-{person.pk}",
                "status": "active",
                "name": f"{person.full_name}: care team",
                "subject": ref("Patient", person.pk, person),
                "participant": participants,
                "managingOrganization": [
                    ref("Organization", pk, org.name) for pk, org in organisations.items()
                ],
            }
        )
    return result


def person_teams(principal) -> QuerySet[Person]:
    return persons_visible_to(principal).prefetch_related(
        Prefetch(
            "care_team",
            queryset=CareTeamEntry.objects.current()
            .select_related("organisation", "member")
            .order_by("organisation__name", "role", "pk"),
            to_attr="fhir_team",
        )
    )


def render_meeting_teams(meetings: list[Meeting], ctx: Context) -> list[dict]:
    result = []
    for meeting in meetings:
        participants = []
        for p in shown_participants(meeting, ctx):
            member = participant_ref(p, meeting)
            if member is None:
                continue
            entry = {"member": member}
            if p.kind == Participant.Kind.STAFF:
                entry["role"] = [role_concept(p.role)] if p.role else []
                if p.organisation_id:
                    entry["onBehalfOf"] = ref("Organization", p.organisation_id, p.organisation)
            participants.append(entry)
        result.append(
            {
                "resourceType": "CareTeam",
                "id": f"meeting-{meeting.pk}",
                "status": "inactive" if meeting.state in Meeting.ENDED_STATES else "active",
                "name": f"{meeting.person.full_name}: care meeting",
                "subject": ref("Patient", meeting.person_id, meeting.person),
                "encounter": ref("Encounter", meeting.pk),
                "participant": participants,
            }
        )
    return result


CARE_TEAM = ResourceType(
    "CareTeam",
    [
        Source(
            "person-",
            person_teams,
            render_person_teams,
            params={"patient": patient_param("pk"), "subject": patient_param("pk")},
            person_of=lambda person: person.pk,
            everything=lambda: Person.objects.all(),
        ),
        Source(
            "meeting-",
            lambda p: meetings_with_participants(meetings_for_api(p)),
            render_meeting_teams,
            params={"patient": patient_param("person_id"), "subject": patient_param("person_id")},
            person_of=lambda meeting: meeting.person_id,
            everything=lambda: Meeting.objects.all(),
        ),
    ],
    last_updated=False,
    documentation={"patient": "the person's current care team and their meetings' participants"},
)


# --- CarePlan ---

CAREPLAN_STATUS = {
    S.INITIATED: "draft",
    S.CONSENT: "draft",
    S.CONVENING: "draft",
    S.SCHEDULED: "draft",
    S.HELD: "active",
    S.CLOSED: "completed",
    S.DECLINED: "revoked",
    S.CANCELLED: "revoked",
}
ACTIVITY_STATUS = {
    None: "not-started",
    DecisionStatus.NOT_STARTED: "not-started",
    DecisionStatus.IN_PROGRESS: "in-progress",
    DecisionStatus.PARTLY: "in-progress",
    DecisionStatus.IMPLEMENTED: "completed",
    DecisionStatus.DECLINED_BY_PERSON: "cancelled",
    DecisionStatus.NO_LONGER_RELEVANT: "stopped",
}


def _latest_report():
    return DecisionStatusChange.objects.filter(decision=OuterRef("pk")).order_by(
        "-reported_at", "-pk"
    )


def decisions_annotated(queryset):
    latest = _latest_report()
    return queryset.annotate(
        current_status=Subquery(latest.values("status")[:1]),
        current_note=Subquery(latest.values("note")[:1]),
        last_updated=Greatest(
            F("updated_at"), Coalesce(Subquery(latest.values("reported_at")[:1]), F("updated_at"))
        ),
    )


def careplans(principal) -> QuerySet[Meeting]:
    decision_changed = Decision.objects.filter(meeting=OuterRef("pk")).order_by("-updated_at")
    reported = DecisionStatusChange.objects.filter(decision__meeting=OuterRef("pk")).order_by(
        "-reported_at"
    )
    agreed = Agreement.objects.filter(meeting=OuterRef("pk")).order_by("-created_at")
    return (
        meetings_for_api(principal)
        .annotate(
            last_updated=Greatest(
                F("updated_at"),
                Coalesce(Subquery(decision_changed.values("updated_at")[:1]), F("updated_at")),
                Coalesce(Subquery(reported.values("reported_at")[:1]), F("updated_at")),
                Coalesce(Subquery(agreed.values("created_at")[:1]), F("updated_at")),
            )
        )
        .select_related("person", "convener", "initiated_by", "initiator_organisation")
        .prefetch_related(
            Prefetch(
                "decisions",
                queryset=decisions_annotated(
                    Decision.objects.filter(own_parts_q(principal))
                ).select_related("organisation", "responsible"),
                to_attr="fhir_decisions",
            ),
            Prefetch(
                "agreements",
                queryset=Agreement.objects.filter(own_parts_q(principal)).order_by("kind", "pk"),
                to_attr="fhir_agreements",
            ),
        )
    )


def render_careplans(meetings: list[Meeting], ctx: Context) -> list[dict]:
    result = []
    for meeting in meetings:
        author = meeting.convener or meeting.initiated_by
        activities = []
        for decision in meeting.fhir_decisions:
            answer = decision.person_answer
            activities.append(
                {
                    "detail": {
                        "extension": [
                            {
                                "url": c.extension("person-answer"),
                                "valueCoding": c.coding(
                                    c.own("person-answer"), answer, PersonAnswer(answer).label
                                ),
                            }
                        ],
                        "kind": "Task",
                        "code": c.concept(
                            c.own("decision-category"),
                            decision.category,
                            DecisionCategory(decision.category).label,
                        ),
                        "status": ACTIVITY_STATUS[decision.current_status],
                        "description": decision.description,
                        "scheduledPeriod": {"end": day(decision.due_date)},
                        "performer": [
                            ref("Organization", decision.organisation_id, decision.organisation),
                            ref("Practitioner", decision.responsible_id, decision.responsible),
                        ],
                    }
                }
            )
        notes = []
        for agreement in meeting.fhir_agreements:
            label = AgreementKind(agreement.kind).label
            text = f"{label}: "
            if agreement.situation:
                text += f"{agreement.situation} → "
            text += agreement.text
            if agreement.contact:
                text += f" ({agreement.contact})"
            notes.append({"text": text, "time": instant(agreement.created_at)})
        result.append(
            {
                "resourceType": "CarePlan",
                "id": str(meeting.pk),
                "status": CAREPLAN_STATUS[meeting.state],
                "intent": "plan",
                "category": [
                    c.concept(c.own("care-plan-category"), "sip", "Samordnad individuell plan")
                ],
                "title": "Vård- och omsorgsmöte i hemmet",
                "subject": ref("Patient", meeting.person_id, meeting.person),
                "encounter": ref("Encounter", meeting.pk),
                "period": {"start": instant(meeting.when)},
                "created": instant(meeting.initiated_at),
                "author": ref("Practitioner", author.pk, author) if author else None,
                "contributor": [
                    ref(
                        "Organization",
                        meeting.initiator_organisation_id,
                        meeting.initiator_organisation,
                    )
                ],
                "careTeam": [ref("CareTeam", f"meeting-{meeting.pk}")],
                "activity": activities,
                "note": notes,
            }
        )
    return result


def careplan_status_q() -> dict[str, Q]:
    by_status = {}
    for state, status in CAREPLAN_STATUS.items():
        by_status.setdefault(status, Q(pk__in=[]))
        by_status[status] |= Q(state=state)
    return by_status


def category_param(values, ctx):
    for value in values:
        for part in tokens(value):
            if part.rpartition("|")[2] != "sip":
                raise FhirError(400, "category: every plan here is a SIP (category=sip).")
    return Q()


CARE_PLAN = ResourceType(
    "CarePlan",
    [
        Source(
            "",
            careplans,
            render_careplans,
            params={
                "patient": patient_param("person_id"),
                "subject": patient_param("person_id"),
                "status": status_param(careplan_status_q()),
                "date": lambda values, ctx: date_q("date", values, "fhir_when"),
                "category": category_param,
            },
            person_of=lambda meeting: meeting.person_id,
            everything=lambda: Meeting.objects.all(),
        )
    ],
    history=True,
    documentation={"date": "when the meeting was held (or is planned)"},
)


# --- Task: each decision's follow-up, and the checkpoints ---

TASK_STATUS = {
    None: "requested",
    DecisionStatus.NOT_STARTED: "accepted",
    DecisionStatus.IN_PROGRESS: "in-progress",
    DecisionStatus.PARTLY: "in-progress",
    DecisionStatus.IMPLEMENTED: "completed",
    DecisionStatus.DECLINED_BY_PERSON: "cancelled",
    DecisionStatus.NO_LONGER_RELEVANT: "cancelled",
}


def decision_tasks(principal):
    return decisions_annotated(decisions_for_api(principal)).select_related(
        "meeting__person", "organisation", "responsible"
    )


def render_decision_tasks(decisions, ctx: Context) -> list[dict]:
    result = []
    for d in decisions:
        status = d.current_status
        result.append(
            {
                "resourceType": "Task",
                "id": f"decision-{d.pk}",
                "extension": [
                    {
                        "url": c.extension("responsible-practitioner"),
                        "valueReference": ref("Practitioner", d.responsible_id, d.responsible),
                    },
                    {
                        "url": c.extension("person-answer"),
                        "valueCoding": c.coding(
                            c.own("person-answer"),
                            d.person_answer,
                            PersonAnswer(d.person_answer).label,
                        ),
                    },
                ],
                "basedOn": [ref("CarePlan", d.meeting_id)],
                "status": TASK_STATUS[status],
                "businessStatus": c.concept(
                    c.own("decision-status"), status, DecisionStatus(status).label
                )
                if status
                else None,
                "intent": "plan",
                "code": {
                    "coding": [
                        c.coding(c.TASK_CODE, "fulfill", "Fulfill the focal request"),
                        c.coding(c.own("task-kind"), "decision", "Decision"),
                        c.coding(
                            c.own("decision-category"),
                            d.category,
                            DecisionCategory(d.category).label,
                        ),
                    ]
                },
                "description": d.description,
                "focus": ref("CarePlan", d.meeting_id),
                "for": ref("Patient", d.meeting.person_id, d.meeting.person),
                "encounter": ref("Encounter", d.meeting_id),
                "authoredOn": instant(d.created_at),
                "lastModified": instant(d.last_updated),
                "owner": ref("Organization", d.organisation_id, d.organisation),
                "restriction": {"period": {"end": day(d.due_date)}},
                "note": [{"text": d.current_note}] if d.current_note else [],
            }
        )
    return result


TASK_DECISION_STATUS = {
    "requested": Q(current_status__isnull=True),
    "accepted": Q(current_status=DecisionStatus.NOT_STARTED),
    "in-progress": Q(current_status__in=[DecisionStatus.IN_PROGRESS, DecisionStatus.PARTLY]),
    "completed": Q(current_status=DecisionStatus.IMPLEMENTED),
    "cancelled": Q(
        current_status__in=[DecisionStatus.DECLINED_BY_PERSON, DecisionStatus.NO_LONGER_RELEVANT]
    ),
}


def owner_param(organisation_path: str, practitioner_path: str | None):
    def build(values, ctx):
        q = Q()
        for value in values:
            kind, ident = reference_id("owner", value, ("Organization", "Practitioner"))
            number = integer_id("owner", ident)
            if kind == "Organization":
                q &= Q(**{organisation_path: number})
            elif practitioner_path is None:
                return None
            else:
                q &= Q(**{practitioner_path: number})
        return q

    return build


def task_code_param(kind: str):
    def build(values, ctx):
        for value in values:
            wanted = {part.rpartition("|")[2] for part in tokens(value)}
            if not wanted & {kind, "fulfill" if kind == "decision" else ""}:
                return None
        return Q()

    return build


def checkpoint_tasks(principal):
    return (
        Checkpoint.objects.filter(meeting__in=meetings_for_api(principal).values("pk"))
        .annotate(
            owner_id=Coalesce(
                "meeting__convening_organisation_id", "meeting__initiator_organisation_id"
            ),
            last_updated=Coalesce("completed_at", "meeting__held_at", "meeting__updated_at"),
        )
        .select_related("meeting__person")
    )


def render_checkpoint_tasks(checkpoints, ctx: Context) -> list[dict]:
    return [
        {
            "resourceType": "Task",
            "id": f"checkpoint-{cp.pk}",
            "basedOn": [ref("CarePlan", cp.meeting_id)],
            "status": "completed" if cp.completed_at else "requested",
            "intent": "plan",
            "code": {
                "coding": [
                    c.coding(c.own("task-kind"), "checkpoint", "Joint follow-up"),
                    c.coding(c.own("checkpoint-kind"), cp.kind, Checkpoint.Kind(cp.kind).label),
                ]
            },
            "description": str(Checkpoint.Kind(cp.kind).label),
            "focus": ref("CarePlan", cp.meeting_id),
            "for": ref("Patient", cp.meeting.person_id, cp.meeting.person),
            "encounter": ref("Encounter", cp.meeting_id),
            "executionPeriod": {"end": instant(cp.completed_at)},
            "lastModified": instant(cp.last_updated),
            "owner": ref("Organization", cp.owner_id),
            "restriction": {"period": {"end": day(cp.due_date)}},
            "note": [{"text": cp.note}] if cp.note else [],
        }
        for cp in checkpoints
    ]


TASK = ResourceType(
    "Task",
    [
        Source(
            "decision-",
            decision_tasks,
            render_decision_tasks,
            params={
                "owner": owner_param("organisation_id", "responsible_id"),
                "status": status_param(TASK_DECISION_STATUS),
                "patient": patient_param("meeting__person_id"),
                "based-on": id_param("meeting_id", "based-on", "CarePlan"),
                "code": task_code_param("decision"),
            },
            person_of=lambda d: d.meeting.person_id,
            everything=lambda: Decision.objects.select_related("meeting"),
        ),
        Source(
            "checkpoint-",
            checkpoint_tasks,
            render_checkpoint_tasks,
            params={
                "owner": owner_param("owner_id", None),
                "status": status_param(
                    {
                        "completed": Q(completed_at__isnull=False),
                        "requested": Q(completed_at__isnull=True),
                        **{code: Q(pk__in=[]) for code in ("accepted", "in-progress", "cancelled")},
                    }
                ),
                "patient": patient_param("meeting__person_id"),
                "based-on": id_param("meeting_id", "based-on", "CarePlan"),
                "code": task_code_param("checkpoint"),
            },
            person_of=lambda cp: cp.meeting.person_id,
            everything=lambda: Checkpoint.objects.select_related("meeting"),
        ),
    ],
    documentation={
        "owner": "Organization/id (the responsible organisation) or Practitioner/id "
        "(the responsible person, extension responsible-practitioner)",
        "code": "decision (or task-code fulfill) or checkpoint",
    },
)


# --- Consent: one per meeting, a version per recorded answer and per withdrawal ---


def consent_meetings(principal) -> QuerySet[Meeting]:
    return (
        consent_meetings_visible_to(principal)
        .filter(anonymised_at__isnull=True)
        .filter(Exists(Consent.objects.filter(meeting=OuterRef("pk"))))
        .annotate(
            last_updated=Greatest(
                Max("consents__recorded_at"),
                Coalesce(Max("consents__withdrawn_at"), Max("consents__recorded_at")),
            ),
            fhir_status_inactive=Exists(
                Consent.objects.filter(meeting=OuterRef("pk"), withdrawn_at__isnull=False)
            ),
        )
        .select_related("person", "initiator_organisation")
        .prefetch_related(
            Prefetch(
                "consents",
                queryset=Consent.objects.order_by("recorded_at", "pk").prefetch_related(
                    "relatives"
                ),
                to_attr="fhir_consents",
            )
        )
    )


def consent_versions(meeting: Meeting) -> list[tuple[str, dt.datetime, dict]]:
    """(versionId, lastUpdated, resource) of every version, oldest first: a version when an
    answer was recorded and one when it was withdrawn."""
    events = []
    for consent in meeting.fhir_consents:
        events.append((consent.recorded_at, consent.pk, 0, consent))
        if consent.withdrawn_at:
            events.append((consent.withdrawn_at, consent.pk, 1, consent))
    events.sort(key=lambda event: event[:3])
    versions = []
    current = None
    for number, (at, _pk, withdrawn, consent) in enumerate(events, start=1):
        if not withdrawn:
            current = consent
        elif current is not consent:
            continue  # an older answer withdrawn after a newer one was recorded
        resource = _consent_resource(meeting, current, withdrawn=bool(withdrawn))
        versions.append((str(number), at, resource))
    # Renumber: skipped withdrawals leave no gap.
    return [(str(n), at, res) for n, (_v, at, res) in enumerate(versions, start=1)]


def _consent_resource(meeting: Meeting, consent: Consent, *, withdrawn: bool) -> dict:
    share = consent.share_information
    if withdrawn:
        status = "inactive"
    elif not consent.wants_meeting:
        status = "rejected"
    else:
        status = "active"
    relatives = [
        {
            "role": c.concept(c.V3_PARTICIPATION, "IRCP", "information recipient"),
            "reference": ref("RelatedPerson", relative.pk, relative.name),
        }
        for relative in consent.relatives.all()
    ]
    return {
        "resourceType": "Consent",
        "id": str(meeting.pk),
        "status": status,
        "scope": c.concept(c.CONSENT_SCOPE, "patient-privacy", "Privacy Consent"),
        "category": [c.concept(c.LOINC, "59284-0", "Consent Document")],
        "patient": ref("Patient", meeting.person_id, meeting.person),
        "dateTime": instant(consent.given_at),
        "performer": [ref("Patient", meeting.person_id, meeting.person)]
        if consent.how != Consent.How.REPRESENTATIVE
        else [],
        "organization": [
            ref("Organization", meeting.initiator_organisation_id, meeting.initiator_organisation)
        ],
        "policyRule": c.concept(
            c.V3_ACT_CODE, "OPTIN" if share else "OPTOUT", "opt-in" if share else "opt-out"
        ),
        "provision": {
            "type": "permit" if consent.wants_meeting else "deny",
            "period": {
                "start": instant(consent.given_at),
                "end": instant(consent.withdrawn_at) if withdrawn else None,
            },
            "code": [c.concept(c.own("consent-provision"), "meeting", "A care meeting")],
            "provision": [
                {
                    "type": "permit" if share else "deny",
                    "code": [
                        c.concept(
                            c.own("consent-provision"),
                            "share-information",
                            "Contact and share information between the organisations",
                        )
                    ],
                    "actor": relatives,
                }
            ],
        },
    }


def render_consents(meetings: list[Meeting], ctx: Context) -> list[dict]:
    result = []
    for meeting in meetings:
        version, at, resource = consent_versions(meeting)[-1]
        resource = dict(resource)
        resource["meta"] = {"versionId": version, "lastUpdated": instant(at)}
        result.append(resource)
    return result


def consent_status_q() -> dict[str, Q]:
    withdrawn = Q(fhir_status_inactive=True)
    latest_wants = Subquery(
        Consent.objects.filter(meeting=OuterRef("pk"))
        .order_by("-recorded_at", "-pk")
        .values("wants_meeting")[:1]
    )
    return {
        "inactive": withdrawn,
        "active": ~withdrawn & Q(pk__in=Meeting.objects.alias(w=latest_wants).filter(w=True)),
        "rejected": ~withdrawn & Q(pk__in=Meeting.objects.alias(w=latest_wants).filter(w=False)),
    }


CONSENT = ResourceType(
    "Consent",
    [
        Source(
            "",
            consent_meetings,
            render_consents,
            params={
                "patient": patient_param("person_id"),
                "status": lambda values, ctx: status_param(consent_status_q())(values, ctx),
            },
            person_of=lambda meeting: meeting.person_id,
            everything=lambda: Meeting.objects.all(),
        )
    ],
    history=True,
    documentation={"status": "active, rejected (no meeting wanted) or inactive (withdrawn)"},
)


# --- Encounter and Appointment: the meeting ---

ENCOUNTER_STATUS = {
    S.INITIATED: "planned",
    S.CONSENT: "planned",
    S.CONVENING: "planned",
    S.SCHEDULED: "planned",
    S.HELD: "finished",
    S.CLOSED: "finished",
    S.DECLINED: "cancelled",
    S.CANCELLED: "cancelled",
}
APPOINTMENT_STATUS = {
    S.INITIATED: "proposed",
    S.CONSENT: "proposed",
    S.CONVENING: "pending",
    S.SCHEDULED: "booked",
    S.HELD: "fulfilled",
    S.CLOSED: "fulfilled",
    S.DECLINED: "cancelled",
    S.CANCELLED: "cancelled",
}
RESPONSE_STATUS = {
    Participant.Response.NEEDS_ACTION: "needs-action",
    Participant.Response.ACCEPTED: "accepted",
    Participant.Response.DECLINED: "declined",
    Participant.Response.TENTATIVE: "tentative",
}


def meeting_period(meeting: Meeting) -> dict:
    if meeting.actual_start:
        return {"start": instant(meeting.actual_start), "end": instant(meeting.actual_end)}
    return {"start": instant(meeting.starts_at), "end": instant(meeting.ends_at)}


def encounters(principal):
    return (
        meetings_with_participants(meetings_for_api(principal))
        .annotate(last_updated=F("updated_at"))
        .select_related("initiator_organisation")
    )


def render_encounters(meetings: list[Meeting], ctx: Context) -> list[dict]:
    result = []
    for meeting in meetings:
        participants = []
        for p in shown_participants(meeting, ctx):
            if p.kind == Participant.Kind.PERSON:
                continue  # the subject
            individual = participant_ref(p, meeting)
            if individual is None:
                continue
            participants.append(
                {
                    "extension": mode_extension(p),
                    "type": [c.concept(c.V3_PARTICIPATION, "ATND", "attender")],
                    "individual": individual,
                }
            )
        result.append(
            {
                "resourceType": "Encounter",
                "id": str(meeting.pk),
                "status": ENCOUNTER_STATUS[meeting.state],
                "class": c.coding(c.V3_ACT_CODE, "HH", "home health"),
                "subject": ref("Patient", meeting.person_id, meeting.person),
                "participant": participants,
                "appointment": [ref("Appointment", meeting.pk)] if meeting.starts_at else [],
                "period": meeting_period(meeting),
                "serviceProvider": ref(
                    "Organization",
                    meeting.initiator_organisation_id,
                    meeting.initiator_organisation,
                ),
            }
        )
    return result


ENCOUNTER = ResourceType(
    "Encounter",
    [
        Source(
            "",
            encounters,
            render_encounters,
            params={
                "patient": patient_param("person_id"),
                "subject": patient_param("person_id"),
                "status": status_param(
                    {
                        status: Q(state__in=[s for s, v in ENCOUNTER_STATUS.items() if v == status])
                        for status in set(ENCOUNTER_STATUS.values())
                    }
                ),
                "date": lambda values, ctx: date_q("date", values, "fhir_when"),
            },
            person_of=lambda meeting: meeting.person_id,
            everything=lambda: Meeting.objects.all(),
        )
    ],
)


def render_appointments(meetings: list[Meeting], ctx: Context) -> list[dict]:
    result = []
    for meeting in meetings:
        participants = [
            {
                "actor": ref("Patient", meeting.person_id, meeting.person),
                "required": "required",
                "status": "accepted",
            }
        ]
        for p in shown_participants(meeting, ctx):
            actor = participant_ref(p, meeting)
            if actor is None or p.kind == Participant.Kind.PERSON:
                continue
            participants.append(
                {
                    "extension": mode_extension(p),
                    "type": [c.concept(c.V3_PARTICIPATION, "ATND", "attender")],
                    "actor": actor,
                    "required": "required" if p.is_convener else "optional",
                    "status": RESPONSE_STATUS[p.response],
                }
            )
        result.append(
            {
                "resourceType": "Appointment",
                "id": str(meeting.pk),
                "status": APPOINTMENT_STATUS[meeting.state],
                "description": "Vård- och omsorgsmöte i hemmet",
                "start": instant(meeting.starts_at),
                "end": instant(meeting.ends_at),
                "minutesDuration": meeting.duration_minutes,
                "created": day(meeting.scheduled_at.date()) if meeting.scheduled_at else None,
                "comment": meeting.location or None,
                "participant": participants,
            }
        )
    return result


def actor_param(values, ctx):
    q = Q()
    for value in values:
        kind, ident = reference_id("actor", value, ("Patient", "Practitioner", "RelatedPerson"))
        number = integer_id("actor", ident)
        participant = Participant.objects.filter(meeting=OuterRef("pk"), removed_at__isnull=True)
        if kind == "Patient":
            q &= Q(person_id=number)
        elif kind == "Practitioner":
            q &= Exists(participant.filter(user_id=number))
        else:
            q &= Exists(participant.filter(relative_id=number))
    return q


APPOINTMENT = ResourceType(
    "Appointment",
    [
        Source(
            "",
            lambda p: encounters(p).filter(starts_at__isnull=False),
            render_appointments,
            params={
                "actor": actor_param,
                "patient": patient_param("person_id"),
                "date": lambda values, ctx: date_q("date", values, "starts_at"),
                "status": status_param(
                    {
                        status: Q(
                            state__in=[s for s, v in APPOINTMENT_STATUS.items() if v == status]
                        )
                        for status in set(APPOINTMENT_STATUS.values())
                    }
                ),
            },
            person_of=lambda meeting: meeting.person_id,
            everything=lambda: Meeting.objects.all(),
        )
    ],
    documentation={"actor": "Patient/id, Practitioner/id or RelatedPerson/id"},
)


# --- RelatedPerson ---


def render_relatives(relatives: list[Relative], ctx: Context) -> list[dict]:
    return [
        {
            "resourceType": "RelatedPerson",
            "id": str(r.pk),
            "active": r.wants_involved,
            "patient": ref("Patient", r.person_id, r.person),
            "relationship": [{"text": r.relation}] if r.relation else [],
            "name": [{"text": r.name}],
            "telecom": telecom(phone=r.phone, email=r.email),
            "communication": [
                {"language": c.concept("urn:ietf:bcp:47", r.preferred_language), "preferred": True}
            ],
        }
        for r in relatives
    ]


RELATED_PERSON = ResourceType(
    "RelatedPerson",
    [
        Source(
            "",
            lambda p: (
                Relative.objects.filter(person__in=persons_visible_to(p))
                .annotate(last_updated=F("created_at"))
                .select_related("person")
            ),
            render_relatives,
            params={"patient": patient_param("person_id")},
            person_of=lambda r: r.person_id,
            everything=lambda: Relative.objects.all(),
        )
    ],
    documentation={"active": "whether the person wants the relative involved"},
)


# --- QuestionnaireResponse and Observation: EQ-5D-3L, VAS and STAI-6 ---


def measures(principal):
    return (
        OutcomeMeasure.objects.filter(meeting__in=meetings_for_api(principal).values("pk"))
        .annotate(last_updated=F("entered_at"))
        .select_related("person")
    )


def questionnaire_url() -> str:
    return f"{settings.SITE_URL}/fhir/Questionnaire/outcome-measures"


def render_responses(rows: list[OutcomeMeasure], ctx: Context) -> list[dict]:
    result = []
    for m in rows:
        items = []
        if not m.could_not_answer:
            for name in EQ5D_DIMENSIONS:
                items.append(
                    {"linkId": f"eq5d-{name}", "answer": [{"valueInteger": getattr(m, name)}]}
                )
            items.append({"linkId": "eq5d-vas", "answer": [{"valueInteger": m.eq5d_vas}]})
            for name in OutcomeMeasure.STAI_FIELDS:
                items.append(
                    {
                        "linkId": name.replace("_", "-"),
                        "answer": [{"valueInteger": getattr(m, name)}],
                    }
                )
        else:
            reason = OutcomeMeasure.NoAnswerReason(m.no_answer_reason).label
            items.append({"linkId": "no-answer-reason", "answer": [{"valueString": str(reason)}]})
        result.append(
            {
                "resourceType": "QuestionnaireResponse",
                "id": str(m.pk),
                "questionnaire": questionnaire_url(),
                "status": "stopped" if m.could_not_answer else "completed",
                "subject": ref("Patient", m.person_id, m.person),
                "encounter": ref("Encounter", m.meeting_id),
                "authored": instant(m.entered_at),
                "author": ref("Practitioner", m.entered_by_id),
                "item": items,
            }
        )
    return result


def render_observations(rows: list[OutcomeMeasure], ctx: Context) -> list[dict]:
    result = []
    own = c.own("outcome-measure")
    for m in rows:
        resource = {
            "resourceType": "Observation",
            "id": str(m.pk),
            "status": "final",
            "category": [c.concept(c.OBSERVATION_CATEGORY, "survey", "Survey")],
            "code": c.concept(own, "outcome-measures", "EQ-5D-3L and STAI-6"),
            "subject": ref("Patient", m.person_id, m.person),
            "encounter": ref("Encounter", m.meeting_id),
            "effectiveDateTime": day(m.date),
            "issued": instant(m.entered_at),
            "performer": [ref("Practitioner", m.entered_by_id)],
            "derivedFrom": [ref("QuestionnaireResponse", m.pk)],
        }
        if m.could_not_answer:
            resource["dataAbsentReason"] = {
                "coding": [c.coding(c.DATA_ABSENT, "asked-unknown", "Asked But Unknown")],
                "text": str(OutcomeMeasure.NoAnswerReason(m.no_answer_reason).label),
            }
        else:
            resource["method"] = {"text": f"EQ-5D-3L index value set: {m.eq5d_value_set}"}
            resource["component"] = [
                {
                    "code": c.concept(own, "eq5d-3l-index", "EQ-5D-3L index"),
                    "valueQuantity": {"value": float(m.eq5d_index), "unit": "index"},
                },
                {
                    "code": c.concept(own, "eq5d-3l-profile", "EQ-5D-3L health state"),
                    "valueString": m.eq5d_profile,
                },
                {"code": c.concept(own, "eq5d-vas", "EQ VAS"), "valueInteger": m.eq5d_vas},
                {"code": c.concept(own, "stai6-sum", "STAI-6 sum"), "valueInteger": m.stai6_sum},
            ]
        result.append(resource)
    return result


def _measure_source(render) -> Source:
    return Source(
        "",
        measures,
        render,
        params={
            "patient": patient_param("person_id"),
            "subject": patient_param("person_id"),
            "date": lambda values, ctx: date_q("date", values, "date", is_date=True),
        },
        person_of=lambda m: m.person_id,
        everything=lambda: OutcomeMeasure.objects.all(),
    )


QUESTIONNAIRE_RESPONSE = ResourceType("QuestionnaireResponse", [_measure_source(render_responses)])
OBSERVATION = ResourceType("Observation", [_measure_source(render_observations)])


# --- DocumentReference: the summary PDFs ---


def documents(principal):
    return (
        SummaryDocument.objects.filter(
            meeting__in=meetings_for_api(principal).values("pk"),
            meeting__state__in=SUMMARY_STATES,
        )
        # The shared summary holds every organisation's parts: gone once sharing is withdrawn.
        .exclude(meeting__shared=False, meeting__sharing_ended_at__isnull=False)
        .exclude(file="")
        .annotate(
            last_updated=F("created_at"),
            newest=Subquery(
                SummaryDocument.objects.filter(
                    meeting=OuterRef("meeting"), language=OuterRef("language")
                )
                .order_by("-version")
                .values("version")[:1]
            ),
        )
        .select_related("meeting__person")
    )


def render_documents(rows: list[SummaryDocument], ctx: Context) -> list[dict]:
    result = []
    for doc in rows:
        url = reverse("summary_pdf_version", kwargs={"pk": doc.meeting_id, "version": doc.version})
        result.append(
            {
                "resourceType": "DocumentReference",
                "id": str(doc.pk),
                "status": "current" if doc.version == doc.newest else "superseded",
                "docStatus": "final",
                "type": c.concept(c.LOINC, "34133-9", "Summary of episode note"),
                "subject": ref("Patient", doc.meeting.person_id, doc.meeting.person),
                "date": instant(doc.created_at),
                "description": f"Sammanfattning, version {doc.version}",
                "content": [
                    {
                        "attachment": {
                            "contentType": "application/pdf",
                            "language": doc.language,
                            "url": f"{settings.SITE_URL}{url}?lang={doc.language}",
                            "title": f"summary-{doc.meeting_id}-v{doc.version}.pdf",
                            "creation": instant(doc.created_at),
                        }
                    }
                ],
                "context": {"encounter": [ref("Encounter", doc.meeting_id)]},
            }
        )
    return result


DOCUMENT_REFERENCE = ResourceType(
    "DocumentReference",
    [
        Source(
            "",
            documents,
            render_documents,
            params={"patient": patient_param("meeting__person_id")},
            person_of=lambda doc: doc.meeting.person_id,
            everything=lambda: SummaryDocument.objects.select_related("meeting"),
        )
    ],
)


TYPES = {
    t.name: t
    for t in (
        PATIENT,
        ORGANIZATION,
        PRACTITIONER,
        PRACTITIONER_ROLE,
        RELATED_PERSON,
        CARE_TEAM,
        CARE_PLAN,
        TASK,
        CONSENT,
        ENCOUNTER,
        APPOINTMENT,
        QUESTIONNAIRE_RESPONSE,
        OBSERVATION,
        DOCUMENT_REFERENCE,
    )
}


def context_for(principal) -> Context:
    return Context(principal=principal, care_org_ids=care_organisation_ids(principal))
