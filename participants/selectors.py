"""Who may see which persons. The access rule is written here once.

A staff member in a care role sees a person only while one of their organisations is in
the person's current care team. Everyone else gets 404, exactly as for a record that does
not exist. Managers and organisation admins hold no care role and see no person's data
(need-to-know); they see figures and their own staff.
"""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.db.models.functions import Right
from django.http import Http404
from django.utils import timezone

# Who the user acts as is part of the access rule's vocabulary: callers keep asking here.
from .memberships import (  # noqa: F401 - re-exported
    CARE_ROLES,
    active_memberships,
    admin_organisations,
    care_organisation_ids,
    is_staff_member,
    membership_for_person,
)
from .models import (
    AccessLog,
    AccessLogPerson,
    AccessLogReview,
    CareTeamEntry,
    Membership,
    Organisation,
    Person,
    Role,
)


def persons_visible_to(user) -> QuerySet[Person]:
    org_ids = care_organisation_ids(user)
    if not org_ids:
        return Person.objects.none()
    serving = CareTeamEntry.objects.current().filter(
        person=OuterRef("pk"), organisation_id__in=org_ids
    )
    return Person.objects.filter(Exists(serving))


def get_person_for_user(user, pk, *, request=None) -> Person:
    """The person if the user may see them; 404 otherwise, the same as for no such person.

    With `request`, a refused look at a person who exists is written to the access log as
    denied: trying persons outside one's care team is what the log review is for.
    """
    try:
        return persons_visible_to(user).get(pk=pk)
    except (Person.DoesNotExist, ValueError, TypeError):
        if request is not None:
            _log_denied(request, pk)
        raise Http404 from None


def get_person_and_team_for_user(user, pk, *, request=None) -> tuple[Person, list[CareTeamEntry]]:
    """`get_person_for_user` and `care_team_for` together, for the person page: the rule of
    `persons_visible_to` (one of the user's care organisations is in the person's current
    care team) decided from the team the page shows, instead of a subquery before it."""
    org_ids = care_organisation_ids(user)
    try:
        # The person with their current care team in one query: without a current entry
        # nobody may see them.
        team = list(
            CareTeamEntry.objects.current()
            .filter(person_id=int(pk))
            .select_related("person", "organisation", "member")
            .order_by("organisation__name", "role", "pk")
            if org_ids
            else ()
        )
    except (ValueError, TypeError, OverflowError):
        team = []
    person = team[0].person if team else None
    for entry in team:
        entry.person = person
    _with_member_phones(team)
    if person is None or not org_ids & {entry.organisation_id for entry in team}:
        if request is not None:
            _log_denied(request, pk)
        raise Http404
    return person, team


def _log_denied(request, pk) -> None:
    from . import audit
    from .models import AccessLog

    try:
        person = Person.objects.filter(pk=int(pk)).first()
    except (ValueError, TypeError, OverflowError):
        return
    if person is not None:
        audit.log_access(
            request,
            person=person,
            action=AccessLog.Action.VIEW,
            obj=person,
            outcome=AccessLog.Outcome.DENIED,
        )


def named_persons(user) -> QuerySet[Person]:
    """Persons whose current care team names this user in one of their care organisations
    (their own caseload; such an entry is what makes the person visible to them). Found
    from the user's entries (index careteam_member_person_idx), not by testing every person
    the organisation serves."""
    org_ids = care_organisation_ids(user)
    if not org_ids:
        return Person.objects.none()
    mine = CareTeamEntry.objects.current().filter(member=user, organisation_id__in=org_ids)
    return Person.objects.filter(pk__in=mine.values("person_id"))


def search_persons(user, query: str, *, everyone: bool = False) -> QuerySet[Person]:
    """A search looks among everyone the user may see; without one, the list is the
    user's own caseload unless `everyone` is asked for (one organisation can serve tens of
    thousands of persons)."""
    query = (query or "").strip()
    persons = persons_visible_to(user) if query or everyone else named_persons(user)
    if query:
        digits = query.replace("-", "")
        if digits.isdigit() and len(digits) == 4:
            # Matches the expression index person_pnr_last4_idx.
            persons = persons.alias(last4=Right("personnummer", 4)).filter(last4=digits)
        else:
            for word in query.split():
                persons = persons.filter(
                    Q(first_name__icontains=word) | Q(last_name__icontains=word)
                )
    return persons.order_by("last_name", "first_name", "pk").only(*PERSON_LIST_FIELDS)


# What a list of persons shows (participants/home.html): name, masked number, address.
PERSON_LIST_FIELDS = (
    "pk", "first_name", "last_name", "personnummer", "street_address", "postal_code", "city",
)  # fmt: skip


def care_team_for(person: Person, day: dt.date | None = None) -> list[CareTeamEntry]:
    """The person's care team on `day` (today), with each named member's direct phone in
    that organisation as `entry.member_phone` (from an active membership; "" if none)."""
    team = list(
        person.care_team.current(day)
        .select_related("organisation", "member")
        .order_by("organisation__name", "role", "pk")
    )
    return _with_member_phones(team)


def _with_member_phones(team: list[CareTeamEntry]) -> list[CareTeamEntry]:
    member_ids = {entry.member_id for entry in team if entry.member_id}
    phones = {}
    if member_ids:
        phones = {
            (user_id, organisation_id): phone
            for user_id, organisation_id, phone in Membership.objects.active()
            .filter(user_id__in=member_ids)
            .exclude(direct_phone="")
            .values_list("user_id", "organisation_id", "direct_phone")
        }
    for entry in team:
        entry.member_phone = phones.get((entry.member_id, entry.organisation_id), "")
    return team


@dataclass(frozen=True)
class Eligibility:
    age: int
    age_ok: bool
    has_home_health_care: bool
    has_home_help: bool

    @property
    def eligible(self) -> bool:
        return self.age_ok and self.has_home_health_care and self.has_home_help


def eligibility(person: Person, team: list[CareTeamEntry] | None = None) -> Eligibility:
    """Eligible for a meeting: 65 or older and served by both home health care and home help."""
    team = care_team_for(person) if team is None else team
    kinds = {entry.organisation.kind for entry in team}
    age = person.age_on(timezone.localdate())
    return Eligibility(
        age=age,
        age_ok=age >= 65,
        has_home_health_care=Organisation.Kind.HOME_HEALTH_CARE in kinds,
        has_home_help=Organisation.Kind.HOME_HELP in kinds,
    )


# --- Second factor ---

# Roles that see staff and figures for a whole organisation: a password alone is not enough.
SECOND_FACTOR_ROLES = frozenset({Role.MANAGER, Role.ORG_ADMIN, Role.STEERING_GROUP})


def second_factor_required(user) -> bool:
    """Managers, organisation admins and operators (Django admin) must use TOTP."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.is_staff:
        return True
    return any(m.role in SECOND_FACTOR_ROLES for m in active_memberships(user))


def has_confirmed_device(user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, "_vom_has_device", None)
    if cached is None:
        cached = TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        user._vom_has_device = cached
    return cached


# --- Access log review (organisation admins) ---


def get_admin_organisation(user, org_pk) -> Organisation:
    """An organisation the user administers; any other answers 404."""
    for organisation in admin_organisations(user):
        if str(organisation.pk) == str(org_pk):
            return organisation
    raise Http404


def persons_served_by(organisation: Organisation) -> QuerySet[Person]:
    """Persons the organisation serves or has served (any period): their logs are its to check."""
    served = CareTeamEntry.objects.filter(person=OuterRef("pk"), organisation=organisation)
    return Person.objects.filter(Exists(served))


def looks_at(persons: Person | QuerySet[Person]) -> QuerySet:
    """The ids of the access-log rows that looked at this person (or at any of these
    persons): the rows that name them and the lists that showed them (`AccessLogPerson`).
    Every reader of a person's log finds their looks through this."""
    if isinstance(persons, Person):
        own = AccessLog.objects.filter(person=persons)
        listed = AccessLogPerson.objects.filter(person=persons)
    else:
        own = AccessLog.objects.filter(person__in=persons.values("pk"))
        listed = AccessLogPerson.objects.filter(person__in=persons.values("pk"))
    return own.order_by().values("pk").union(listed.order_by().values("log_id"), all=True)


def with_listed_persons(rows: QuerySet[AccessLog]) -> QuerySet[AccessLog]:
    """`rows` with the persons each list row showed (`row.listed.all()`, by name)."""
    return rows.prefetch_related(
        Prefetch(
            "listed",
            queryset=AccessLogPerson.objects.select_related("person").order_by(
                "person__last_name", "person__first_name", "person_id"
            ),
        )
    )


def show_listed_persons(organisation: Organisation, rows) -> list[int]:
    """Set `row.listed_shown` on a page of log rows (`with_listed_persons`): the persons of
    a list row that the organisation's review may show, which is all of them when its own
    staff looked, and otherwise those it serves or has served (another organisation's list
    is in its log for those only). Returns the ids of every person the page shows."""
    rows = list(rows)
    others = {
        listed.person_id
        for row in rows
        if row.organisation_id != organisation.pk
        for listed in row.listed.all()
    }
    served = set(
        CareTeamEntry.objects.filter(organisation=organisation, person_id__in=others)
        .values_list("person_id", flat=True)
        .distinct()
        if others
        else ()
    )
    person_ids = []
    for row in rows:
        row.listed_shown = [
            listed.person
            for listed in row.listed.all()
            if row.organisation_id == organisation.pk or listed.person_id in served
        ]
        if row.person_id:
            person_ids.append(row.person_id)
        person_ids.extend(person.pk for person in row.listed_shown)
    return person_ids


def access_log_for_organisation(organisation: Organisation) -> QuerySet[AccessLog]:
    """What an organisation's admin reviews: every access to the persons it serves or has
    served (by any organisation), a list that showed one of them included, and everything
    its own staff looked at."""
    served = CareTeamEntry.objects.filter(organisation=organisation)
    return AccessLog.objects.filter(
        Q(organisation=organisation)
        | Exists(served.filter(person=OuterRef("person")))
        | Exists(
            AccessLogPerson.objects.filter(
                log=OuterRef("pk"), person__in=served.values("person_id")
            )
        )
    )


def search_access_log(
    organisation: Organisation,
    *,
    person: str = "",
    user: str = "",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    action: str = "",
) -> QuerySet[AccessLog]:
    rows = access_log_for_organisation(organisation)
    person = (person or "").strip()
    if person:
        digits = person.replace("-", "")
        matching = Person.objects.all()
        if digits.isdigit() and len(digits) in (4, 10):
            matching = matching.filter(personnummer__endswith=digits)
        elif digits.isdigit() and len(digits) == 12:
            matching = matching.filter(personnummer=digits)
        elif digits.isdigit():
            matching = matching.filter(pk=int(digits[:18]))  # a record id; bigint has 18 digits
        else:
            for word in person.split():
                matching = matching.filter(
                    Q(first_name__icontains=word) | Q(last_name__icontains=word)
                )
        # A list by another organisation is in this log for the persons this one serves: its
        # other persons are not this organisation's to search for.
        served = CareTeamEntry.objects.filter(organisation=organisation).values("person_id")
        listed = AccessLogPerson.objects.filter(person__in=matching.values("pk")).filter(
            Q(log__organisation=organisation) | Q(person__in=served)
        )
        rows = rows.filter(
            pk__in=AccessLog.objects.filter(person__in=matching.values("pk"))
            .order_by()
            .values("pk")
            .union(listed.order_by().values("log_id"), all=True)
        )
    user = (user or "").strip()
    if user:
        for word in user.split():
            rows = rows.filter(
                Q(user__username__icontains=word)
                | Q(user__first_name__icontains=word)
                | Q(user__last_name__icontains=word)
            )
    if date_from:
        rows = rows.filter(at__gte=start_of_day(date_from))
    if date_to:
        rows = rows.filter(at__lt=start_of_day(date_to + dt.timedelta(days=1)))
    if action:
        rows = rows.filter(action=action)
    return with_listed_persons(
        rows.select_related("user", "organisation", "person", "system_client")
    ).order_by("-at", "-pk")


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight in the local time zone, as an aware datetime (the `at` index can be used)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def get_served_person_for_admin(organisation: Organisation, person_pk) -> Person:
    try:
        return persons_served_by(organisation).get(pk=person_pk)
    except (Person.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def access_log_extract_rows(person: Person) -> QuerySet[AccessLog]:
    """Every logged access to the person, oldest first, for the extract the person is
    given: the lists that showed them included (`looks_at`)."""
    return (
        AccessLog.objects.filter(pk__in=looks_at(person))
        .select_related("organisation")
        .order_by("at", "pk")
    )


def reviews_for_organisation(organisation: Organisation) -> QuerySet[AccessLogReview]:
    return AccessLogReview.objects.filter(organisation=organisation).select_related("reviewer")


def get_review_for_admin(organisation: Organisation, review_pk) -> AccessLogReview:
    try:
        return reviews_for_organisation(organisation).get(pk=review_pk)
    except (AccessLogReview.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def review_sample_rows(review: AccessLogReview) -> list[AccessLog]:
    return list(
        with_listed_persons(AccessLog.objects.filter(pk__in=review.sample_ids))
        .select_related("user", "organisation", "person", "system_client")
        .order_by("at", "pk")
    )
