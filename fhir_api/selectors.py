"""What a caller may see through the API, composed from the access rule of the pages:
persons (participants.selectors), meetings and consent (meetings.selectors), decisions
(followup.selectors). Nothing here adds a rule of its own except for staff, who are seen
where the pages show them: colleagues, and members named in the care team of a person the
caller may see or taking part in a meeting the caller may see."""

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from meetings.models import Decision, Meeting, Participant
from meetings.selectors import meetings_visible_to, own_parts_q
from participants.models import CareTeamEntry, Membership, User
from participants.selectors import active_memberships, persons_visible_to


def meetings_for_api(principal) -> QuerySet[Meeting]:
    """Meetings the caller sees; an anonymised meeting (its person removed) is not served."""
    return (
        meetings_visible_to(principal)
        .filter(anonymised_at__isnull=True)
        .annotate(fhir_when=Coalesce("actual_start", "starts_at"))
    )


def decisions_for_api(principal) -> QuerySet[Decision]:
    """The rule of followup.selectors.get_decision_for_user, for a whole list."""
    return Decision.objects.filter(
        own_parts_q(principal), meeting__in=meetings_for_api(principal).values("pk")
    )


def staff_visible_to(principal) -> QuerySet[User]:
    org_ids = {m.organisation_id for m in active_memberships(principal)}
    if not org_ids:
        return User.objects.none()
    colleagues = Membership.objects.active().filter(
        user=OuterRef("pk"), organisation_id__in=org_ids
    )
    in_team = CareTeamEntry.objects.current().filter(
        member=OuterRef("pk"), person__in=persons_visible_to(principal)
    )
    taking_part = Participant.objects.filter(
        user=OuterRef("pk"),
        removed_at__isnull=True,
        meeting__in=meetings_for_api(principal).values("pk"),
    )
    responsible = decisions_for_api(principal).filter(responsible=OuterRef("pk"))
    return User.objects.filter(
        Q(Exists(colleagues)) | Exists(in_team) | Exists(taking_part) | Exists(responsible),
        is_active=True,
    )
