"""The person's meetings in the register extract (participants.extract, GDPR art. 15).

Sections: which organisations the extract speaks for, the meetings, consents, participations,
contributions ("what matters to you?"), agenda notes, decisions, agreements, and the topics the
person took outside the group with the viewer's own organisation.

Each organisation answers for what it holds: with a viewer (staff asking on the person's
behalf), the sections hold the meetings that the viewer may see (`meetings_visible_to`: the
organisations in the person's current care team see shared meetings, and before consent to
share, only the initiator's organisation and the person's home health care nurses), and the
private topics of the viewer's own organisations only, never another organisation's. The
person can ask each organisation for its part. `MeetingScope` narrows the other apps' sections
(follow-up rows and change history) to the same meetings.

Like the other sections, the access log and the change history do not name staff; here staff
are named where the person meets them anyway (who took part, who is responsible for a
decision), as in the summary the person receives.
"""

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from participants.extract import COMMON_LABELS, ExtractScope, ExtractSection
from participants.models import Person, Role
from participants.selectors import care_organisation_ids

from .history import history_parts, records_of_rows
from .models import (
    AgendaNote,
    Agreement,
    Consent,
    Contribution,
    Decision,
    Meeting,
    Participant,
    PrivateTopic,
)
from .selectors import meetings_visible_to

MEETING = _("meeting number")
LABELS = COMMON_LABELS | {
    "meeting_id": MEETING,
    "state": _("state"),
    "kind": _("type"),
    "urgency": _("urgency"),
    "reasons": _("reasons"),
    "reason_text": _("more about the reasons"),
    "raised_by": _("who raised the concern"),
    "raised_by_detail": _("who, more precisely"),
    "initiated_at": _("proposed"),
    "initiator": _("proposed by (organisation)"),
    "starts_at": _("time"),
    "place": _("place"),
    "held_at": _("held"),
    "ended_at": _("ended"),
    "cancel_reason": _("reason for cancelling"),
    "wants_meeting": _("the person wants a meeting"),
    "share_information": _("information may be shared between the organisations"),
    "relatives": _("relatives to invite"),
    "how": _("how consent was given"),
    "representative_name": _("representative's name"),
    "given_at": _("when"),
    "withdrawn_at": _("withdrawn"),
    "withdrawal_note": _("note on the withdrawal"),
    "who": _("who"),
    "response": _("answer"),
    "mode": _("attends"),
    "attended": _("attended"),
    "author": _("written by"),
    "what_matters": _("what matters"),
    "questions": _("questions"),
    "item": _("agenda item"),
    "text": _("text"),
    "category": _("category"),
    "description": _("what"),
    "responsible": _("responsible"),
    "due_date": _("by when"),
    "person_answer": _("the person's answer"),
    "agreement_kind": _("kind"),
    "situation": _("if this happens"),
    "contact": _("contact"),
    "topic": _("topic"),
    "organisations": _("organisations"),
    "covers": _("what this extract covers"),
}


def _plain(value):
    if value is None or isinstance(value, bool | int | str) or hasattr(value, "isoformat"):
        return value
    return str(value)


def _meetings(person: Person, viewer) -> QuerySet[Meeting]:
    meetings = Meeting.objects.filter(person=person, anonymised_at__isnull=True)
    if viewer is not None:
        meetings = meetings.filter(pk__in=meetings_visible_to(viewer).values("pk"))
    return meetings


def _section(key, title, data) -> ExtractSection:
    return ExtractSection(key, title, data, LABELS)


def scope_section(person: Person, viewer=None) -> ExtractSection:
    if viewer is None:
        organisations, covers = "", _("Every meeting held about the person in VOM.")
    else:
        ids = care_organisation_ids(viewer)
        names = sorted(
            m.organisation.name
            for m in viewer.memberships.select_related("organisation").filter(
                organisation_id__in=ids
            )
        )
        organisations = ", ".join(dict.fromkeys(names))
        covers = _(
            "The meetings, and their follow-up, that these organisations take part in or may "
            "see. Each organisation answers for what it holds: ask the others in the care team "
            "for their part."
        )
    return _section(
        "meetings_scope",
        _("Meetings: what this extract covers"),
        {"organisations": organisations, "covers": str(covers)},
    )


def meetings_section(person: Person, viewer=None) -> ExtractSection:
    rows = (
        _meetings(person, viewer)
        .select_related("initiator_organisation")
        .prefetch_related("reasons")
        .order_by("initiated_at", "pk")
    )
    data = [
        {
            "meeting_id": m.pk,
            "state": str(m.get_state_display()),
            "kind": str(m.get_kind_display()),
            "urgency": str(m.get_urgency_display()),
            "reasons": ", ".join(str(r.get_code_display()) for r in m.reasons.all()),
            "reason_text": m.reason_text,
            "raised_by": str(m.get_raised_by_display()),
            "raised_by_detail": m.raised_by_detail,
            "initiated_at": m.initiated_at,
            "initiator": m.initiator_organisation.name,
            "starts_at": m.starts_at,
            "place": m.location,
            "held_at": m.held_at,
            "ended_at": m.ended_at,
            "cancel_reason": m.cancel_reason,
        }
        for m in rows
    ]
    return _section("meetings", _("Care meetings"), data)


def consents_section(person: Person, viewer=None) -> ExtractSection:
    rows = (
        Consent.objects.filter(meeting__in=_meetings(person, viewer))
        .prefetch_related("relatives")
        .order_by("meeting_id", "recorded_at", "pk")
    )
    data = [
        {
            "meeting_id": c.meeting_id,
            "wants_meeting": c.wants_meeting,
            "share_information": c.share_information,
            "relatives": ", ".join(r.name for r in c.relatives.all()),
            "how": str(c.get_how_display()),
            "representative_name": c.representative_name,
            "given_at": c.given_at,
            "withdrawn_at": c.withdrawn_at,
            "withdrawal_note": c.withdrawal_note,
        }
        for c in rows
    ]
    return _section("meeting_consents", _("Consents"), data)


def _who(p: Participant) -> str:
    if p.kind == Participant.Kind.RELATIVE:
        return p.relative.name if p.relative_id else str(p.get_kind_display())
    if p.kind == Participant.Kind.PERSON:
        return str(p.get_kind_display())
    name = (p.user.get_full_name() or p.user.username) if p.user_id else ""
    role = str(Role(p.role).label) if p.role in Role.values else ""
    return ", ".join(x for x in [name, role, p.organisation.name if p.organisation_id else ""] if x)


def participations_section(person: Person, viewer=None) -> ExtractSection:
    rows = (
        Participant.objects.filter(meeting__in=_meetings(person, viewer), removed_at__isnull=True)
        .select_related("user", "organisation", "relative")
        .order_by("meeting_id", "kind", "pk")
    )
    data = [
        {
            "meeting_id": p.meeting_id,
            "who": _who(p),
            "response": str(p.get_response_display()),
            "mode": str(p.get_mode_display()),
            "attended": p.attended,
        }
        for p in rows
    ]
    return _section("meeting_participants", _("Invited to the meetings"), data)


def contributions_section(person: Person, viewer=None) -> ExtractSection:
    rows = (
        Contribution.objects.filter(meeting__in=_meetings(person, viewer))
        .select_related("relative")
        .order_by("meeting_id", "created_at", "pk")
    )
    data = [
        {
            "meeting_id": c.meeting_id,
            "author": c.relative.name if c.relative_id else str(c.get_author_display()),
            "what_matters": c.what_matters,
            "questions": c.questions,
            "created_at": c.created_at,
        }
        for c in rows
    ]
    return _section("meeting_contributions", _("What matters to you?"), data)


def notes_section(person: Person, viewer=None) -> ExtractSection:
    rows = AgendaNote.objects.filter(meeting__in=_meetings(person, viewer)).exclude(text="")
    data = [
        {
            "meeting_id": n.meeting_id,
            "item": str(n.get_item_display()),
            "text": n.text,
            "updated_at": n.updated_at,
        }
        for n in rows.order_by("meeting_id", "item")
    ]
    return _section("meeting_notes", _("Notes from the meetings"), data)


def decisions_section(person: Person, viewer=None) -> ExtractSection:
    rows = (
        Decision.objects.filter(meeting__in=_meetings(person, viewer))
        .select_related("organisation", "responsible")
        .order_by("meeting_id", "organisation__name", "created_at", "pk")
    )
    data = [
        {
            "meeting_id": d.meeting_id,
            "organisation": d.organisation.name,
            "category": str(d.get_category_display()),
            "description": d.description,
            "responsible": d.responsible.get_full_name() or d.responsible.username,
            "due_date": d.due_date,
            "person_answer": str(d.get_person_answer_display()),
            "created_at": d.created_at,
        }
        for d in rows
    ]
    return _section("meeting_decisions", _("Decisions"), data)


def agreements_section(person: Person, viewer=None) -> ExtractSection:
    rows = (
        Agreement.objects.filter(meeting__in=_meetings(person, viewer))
        .select_related("organisation")
        .order_by("meeting_id", "kind", "pk")
    )
    data = [
        {
            "meeting_id": a.meeting_id,
            "agreement_kind": str(a.get_kind_display()),
            "situation": a.situation,
            "text": a.text,
            "contact": a.contact,
            "organisation": a.organisation.name if a.organisation_id else None,
        }
        for a in rows
    ]
    return _section("meeting_agreements", _("Agreements about care"), data)


def private_topics_section(person: Person, viewer=None) -> ExtractSection:
    """Topics taken outside the group: only the viewer's own organisations' (none without a
    viewer: each belongs to one organisation, which answers for it)."""
    if viewer is None:
        rows = PrivateTopic.objects.none()
    else:
        rows = PrivateTopic.objects.filter(
            meeting__in=_meetings(person, viewer),
            organisation_id__in=care_organisation_ids(viewer),
        ).select_related("organisation")
    data = [
        {
            "meeting_id": t.meeting_id,
            "organisation": t.organisation.name,
            "topic": t.text,
            "created_at": t.created_at,
        }
        for t in rows.order_by("meeting_id", "created_at", "pk")
    ]
    return _section(
        "meeting_private_topics", _("Topics outside the group (this organisation)"), data
    )


SECTIONS = [
    scope_section,
    meetings_section,
    consents_section,
    participations_section,
    contributions_section,
    notes_section,
    decisions_section,
    agreements_section,
    private_topics_section,
]


class MeetingScope(ExtractScope):
    """Narrows the other sections to the meetings the viewer may see."""

    def meeting_ids(self, person: Person, viewer) -> set[int]:
        return set(_meetings(person, viewer).values_list("pk", flat=True))

    def history(self, records, person: Person, viewer):
        visible = _meetings(person, viewer)
        keep = ~Q(object_type=Meeting._meta.label_lower) | records_of_rows(visible)
        for model, path in history_parts().items():
            own = model.objects.filter(**{f"{path}__in": visible})
            if model is PrivateTopic:
                own = own.filter(organisation_id__in=care_organisation_ids(viewer))
            keep &= ~Q(object_type=model._meta.label_lower) | records_of_rows(own)
        return records.filter(keep)
