"""A user's memberships: in which organisations, in which roles, they act. The access rule
(`selectors`) and the access log (`audit`) both start from here, so neither needs the other
to know who the user is acting as."""

from .models import Membership, Organisation, Person, Role

CARE_ROLES = frozenset(
    {
        Role.PHYSICIAN,
        Role.NURSE,
        Role.ASSISTANT_NURSE,
        Role.NEEDS_ASSESSOR,
        Role.HOME_HELP_COORDINATOR,
        Role.CONTACT_PERSON,
    }
)


def active_memberships(user) -> list[Membership]:
    """The user's active memberships, cached on the user object for the request."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_vom_memberships", None)
    if cached is None:
        cached = list(Membership.objects.active().filter(user=user).select_related("organisation"))
        user._vom_memberships = cached
    return cached


def care_organisation_ids(user) -> frozenset[int]:
    return frozenset(m.organisation_id for m in active_memberships(user) if m.role in CARE_ROLES)


def is_staff_member(user) -> bool:
    return bool(active_memberships(user))


def admin_organisations(user) -> list[Organisation]:
    return [m.organisation for m in active_memberships(user) if m.role == Role.ORG_ADMIN]


def membership_for_person(user, person: Person, *, team_org_ids=None) -> Membership | None:
    """The membership through which the user serves this person (for logging and defaults).
    `team_org_ids`: the organisations of the person's current care team, when the caller
    has already read it."""
    memberships = active_memberships(user)
    if not memberships:
        return None
    team_orgs = team_org_ids
    if team_orgs is None:
        team_orgs = set(person.care_team.current().values_list("organisation_id", flat=True))
    for membership in memberships:
        if membership.organisation_id in team_orgs and membership.role in CARE_ROLES:
            return membership
    return memberships[0]
