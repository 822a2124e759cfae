"""Who sees which figures. Written once; every report view and export goes through it.

- A manager or organisation administrator sees the figures of their own organisation(s):
  the meetings the organisation took part in, unsuppressed, and may export those meetings
  row by row (see `meetings_for_export` and docs/reports.md for what the rows carry).
- The steering group sees every organisation, and the whole area, in aggregate only:
  cells under five persons are suppressed and there is no row-level export.
- Everyone else (care staff, relatives) gets 404, as for a page that does not exist.
"""

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from meetings.models import Meeting, Participant
from participants.models import Organisation, Role
from participants.selectors import active_memberships

from .figures import Period, meetings_in_scope

REPORT_ROLES = frozenset({Role.MANAGER, Role.ORG_ADMIN})
STEERING_GROUP = Role.STEERING_GROUP


def managed_organisations(user) -> list[Organisation]:
    """Organisations whose figures the user sees as their own (manager or admin)."""
    seen, result = set(), []
    for m in active_memberships(user):
        if m.role in REPORT_ROLES and m.organisation_id not in seen:
            seen.add(m.organisation_id)
            result.append(m.organisation)
    return sorted(result, key=lambda o: o.name)


def is_steering_group(user) -> bool:
    return any(m.role == STEERING_GROUP for m in active_memberships(user))


def may_see_reports(user) -> bool:
    return bool(managed_organisations(user)) or is_steering_group(user)


@dataclass(frozen=True)
class ReportScope:
    """What one request may see: an organisation (None: the whole area), whether small
    cells are suppressed, and whether meeting rows may be exported."""

    organisation: Organisation | None
    suppressed: bool
    rows_allowed: bool


def report_scope(user, organisation_pk=None) -> ReportScope:
    """The scope for the requested organisation; 404 for anything the user may not see.

    Without an organisation: a manager gets their (first) own organisation, the steering
    group the whole area.
    """
    own = managed_organisations(user)
    steering = is_steering_group(user)
    if not own and not steering:
        raise Http404
    if organisation_pk in (None, ""):
        if steering:
            return ReportScope(None, suppressed=True, rows_allowed=False)
        return ReportScope(own[0], suppressed=False, rows_allowed=True)
    for organisation in own:
        if str(organisation.pk) == str(organisation_pk):
            return ReportScope(organisation, suppressed=False, rows_allowed=True)
    if steering:
        try:
            organisation = Organisation.objects.get(pk=int(organisation_pk), is_active=True)
        except (Organisation.DoesNotExist, ValueError, TypeError, OverflowError):
            raise Http404 from None
        return ReportScope(organisation, suppressed=True, rows_allowed=False)
    raise Http404


def organisation_choices(user) -> list[Organisation]:
    """The organisations the user can pick in the filter."""
    if is_steering_group(user):
        return list(Organisation.objects.filter(is_active=True).order_by("name"))
    return managed_organisations(user)


def get_rates_organisation(user, organisation_pk) -> Organisation:
    """An organisation whose hourly rates the user may change (its manager or admin)."""
    for organisation in managed_organisations(user):
        if str(organisation.pk) == str(organisation_pk):
            return organisation
    raise Http404


def meetings_for_export(organisation: Organisation, period: Period) -> QuerySet[Meeting]:
    """Meetings of the period the organisation took part in AND may see as an organisation:
    it initiated them, it convened them, or the person consented to sharing (and has not
    withdrawn it). Same consent rule as `meetings.selectors`, at the organisation level."""
    convened = Participant.objects.filter(
        meeting=OuterRef("pk"), organisation=organisation, is_convener=True
    )
    in_period = period.within("initiated_at") | period.within("held_at") | period.within("ended_at")
    return (
        meetings_in_scope(organisation)
        .filter(in_period)
        .filter(Q(initiator_organisation=organisation) | Q(shared=True) | Exists(convened))
    )


def rate_sets(organisation: Organisation) -> list:
    """The organisation's dated sets of rates and standards, newest first."""
    from .models import CostSettings

    return list(
        CostSettings.objects.filter(organisation=organisation)
        .select_related("updated_by")
        .order_by("-valid_from")
    )
