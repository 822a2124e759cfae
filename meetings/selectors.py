"""Which meetings a user may see. Written once; every meeting view goes through it.

A meeting is seen by staff in a care role whose organisation serves the person (the
participants access rule) and, before the person has consented to sharing, only by the
initiator's organisation and the person's home health care nurses, who convene. With
consent to share, it is seen by every organisation in the person's care team and by invited
staff. After consent is withdrawn, an organisation that took part in a held meeting still
sees it, but only its own parts (`MeetingContext.own_parts_only`).
"""

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404

from participants.models import CareTeamEntry, Organisation, Role
from participants.selectors import active_memberships, care_organisation_ids

from .models import Meeting, Participant

HELD_STATES = (Meeting.State.HELD, Meeting.State.CLOSED)


def convening_organisation_ids(user) -> frozenset[int]:
    """Home health care organisations in which the user is a nurse or physician."""
    return frozenset(
        m.organisation_id
        for m in active_memberships(user)
        if m.role in (Role.NURSE, Role.PHYSICIAN)
        and m.organisation.kind == Organisation.Kind.HOME_HEALTH_CARE
    )


def meetings_visible_to(user) -> QuerySet[Meeting]:
    care_orgs = care_organisation_ids(user)
    if not care_orgs:
        return Meeting.objects.none()
    current = CareTeamEntry.objects.current()
    serves = Exists(current.filter(person=OuterRef("person"), organisation_id__in=care_orgs))
    nurse_orgs = convening_organisation_ids(user)
    convenes = Exists(current.filter(person=OuterRef("person"), organisation_id__in=nurse_orgs))
    # A record system (fhir_api.auth.SystemPrincipal) is no user and is invited to nothing: it
    # sees what its organisation serves.
    invited = (
        Exists(
            Participant.objects.filter(meeting=OuterRef("pk"), user=user, removed_at__isnull=True)
        )
        if getattr(user, "pk", None) is not None
        else Q(pk__in=[])
    )
    # A held meeting an organisation took part in stays its own to follow up, shared or not.
    took_part = Q(state__in=HELD_STATES) & Exists(
        Participant.objects.filter(
            meeting=OuterRef("pk"), organisation_id__in=care_orgs, removed_at__isnull=True
        )
    )
    return Meeting.objects.filter(
        (serves & (Q(initiator_organisation_id__in=care_orgs) | Q(shared=True) | took_part))
        | convenes
        | (Q(shared=True) & invited)
    )


def sees_meeting(
    user,
    meeting: Meeting,
    *,
    team_org_ids,
    invited: bool,
    participating_org_ids=frozenset(),
    care_orgs: frozenset[int] | None = None,
    convening_orgs: frozenset[int] | None = None,
) -> bool:
    """The rule of `meetings_visible_to` for one meeting whose person's current care team
    (`team_org_ids`), whether the user is invited and which organisations take part are
    already known (the meeting page reads them anyway): the same decision without compiling
    and running the subqueries. tests/test_meeting_permissions.py checks that the two agree
    for every persona and state. A caller deciding many meetings passes the user's
    `care_orgs` and `convening_orgs` (read once instead of once per meeting)."""
    if care_orgs is None:
        care_orgs = care_organisation_ids(user)
    if not care_orgs:
        return False
    if convening_orgs is None:
        convening_orgs = convening_organisation_ids(user)
    serves = bool(care_orgs & team_org_ids)
    convenes = bool(convening_orgs & team_org_ids)
    took_part = meeting.state in HELD_STATES and bool(care_orgs & set(participating_org_ids))
    return (
        (serves and (meeting.initiator_organisation_id in care_orgs or meeting.shared or took_part))
        or convenes
        or (meeting.shared and invited)
    )


def meetings_of_person_visible_to(user, person, team_org_ids=None) -> QuerySet[Meeting]:
    """`meetings_visible_to(user).filter(person=person)`. With `team_org_ids` (the person's
    current care team, when the caller has read it) decided from the team instead of
    per-row subqueries."""
    if team_org_ids is None:
        return meetings_visible_to(user).filter(person=person)
    care_orgs = care_organisation_ids(user)
    if not care_orgs:
        return Meeting.objects.none()
    meetings = Meeting.objects.filter(person=person)
    if convening_organisation_ids(user) & team_org_ids:
        return meetings
    if care_orgs & team_org_ids:
        took_part = Participant.objects.filter(
            organisation_id__in=care_orgs, removed_at__isnull=True
        ).values("meeting")
        return meetings.filter(
            Q(initiator_organisation_id__in=care_orgs)
            | Q(shared=True)
            | Q(state__in=HELD_STATES, pk__in=took_part)
        )
    if getattr(user, "pk", None) is None:
        return Meeting.objects.none()
    invited = Participant.objects.filter(user=user, removed_at__isnull=True).values("meeting")
    return meetings.filter(shared=True, pk__in=invited)


def own_parts_q(user) -> Q:
    """For rows of a meeting that belong to one organisation (decisions, agreements): all of
    them while the meeting is shared or was never shared, only the user's own
    organisations' once consent to share was withdrawn."""
    return (
        Q(meeting__shared=True)
        | Q(meeting__sharing_ended_at__isnull=True)
        | Q(organisation_id__in=care_organisation_ids(user))
    )


def consent_meetings_visible_to(user) -> QuerySet[Meeting]:
    """Meetings whose consent the user may read: those they see, and those in which one of
    their organisations took part (invited, not removed), so that after a withdrawal the
    organisations that took part learn of it while the meeting itself is gone for them."""
    care_orgs = care_organisation_ids(user)
    if not care_orgs:
        return Meeting.objects.none()
    took_part = Exists(
        Participant.objects.filter(
            meeting=OuterRef("pk"), organisation_id__in=care_orgs, removed_at__isnull=True
        )
    )
    return Meeting.objects.filter(Q(pk__in=meetings_visible_to(user).values("pk")) | took_part)


def get_meeting_for_user(user, pk, *, for_update: bool = False, request=None) -> Meeting:
    """The meeting if the user may see it; 404 otherwise, the same as for no such meeting.

    With `request`, a refused look at a meeting that exists is written to the access log as
    denied, against the meeting's person (as participants.selectors.get_person_for_user does).
    """
    try:
        return (
            meetings_visible_to(user)
            .select_related("person", "initiator_organisation", "initiated_by", "convener")
            .get(pk=pk)
        )
    except (Meeting.DoesNotExist, ValueError, TypeError):
        if request is not None:
            log_denied(request, Meeting.objects.filter(pk=pk).select_related("person"))
        raise Http404 from None


def log_denied(request, found) -> None:
    """Log a refused look at a meeting, or at the first object of `found` (a queryset of
    meetings or of objects with a `meeting`), if it exists; a number that is nothing is not
    logged."""
    from participants import audit
    from participants.models import AccessLog

    try:
        obj = found if isinstance(found, Meeting) else found.first()
    except (ValueError, TypeError, OverflowError):
        return
    if obj is None:
        return
    meeting = obj if isinstance(obj, Meeting) else obj.meeting
    audit.log_access(
        request,
        person=meeting.person,
        action=AccessLog.Action.VIEW,
        obj=obj,
        outcome=AccessLog.Outcome.DENIED,
    )


_PRESENT_SQL: dict[tuple[str, ...], str] = {}


def parts_present(meeting: Meeting, names: tuple[str, ...]) -> frozenset[str]:
    """Which of the meeting's parts (related names: "decisions", "private_topics", ...) hold
    any row, in one statement of EXISTS probes on their meeting index. A page reads only
    those: most meetings have no private topics, contributions or agreements, and each
    empty read still cost a query built by the ORM."""
    sql = _PRESENT_SQL.get(names)
    if sql is None:
        from django.db import connection

        q = connection.ops.quote_name
        probes = []
        for name in names:
            remote = Meeting._meta.get_field(name).remote_field
            probes.append(
                f"EXISTS (SELECT 1 FROM {q(remote.model._meta.db_table)}"  # noqa: S608 - names from the models
                f" WHERE {q(remote.get_attname_column()[1])} = %s)"
            )
        sql = _PRESENT_SQL[names] = "SELECT " + ", ".join(probes)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, [meeting.pk] * len(names))
        row = cursor.fetchone()
    return frozenset(name for name, present in zip(names, row, strict=True) if present)


def active_participants(meeting: Meeting) -> list[Participant]:
    return list(
        meeting.participants.filter(removed_at__isnull=True)
        .select_related("user", "organisation", "relative")
        .order_by("kind", "organisation__name", "role", "pk")
    )


def participant_for(user, meeting: Meeting) -> Participant | None:
    return (
        meeting.participants.filter(user=user, removed_at__isnull=True)
        .select_related("organisation")
        .first()
    )


def meeting_detail_queryset():
    return Meeting.objects.select_related(
        "person", "initiator_organisation", "initiated_by", "convener"
    ).prefetch_related(
        "reasons",
        Prefetch(
            "participants",
            queryset=Participant.objects.filter(removed_at__isnull=True).select_related(
                "user", "organisation", "relative"
            ),
            to_attr="active_participants",
        ),
    )
