"""Who may do what with a meeting: one table, tested cell by cell.

Visibility (may the user see the meeting at all) is `selectors.meetings_visible_to`; this
table decides the actions of users who can see it. Each rule names the states in which the
action is possible and who may take it. Services check the rule again after locking the row,
so a page that was open in another tab cannot act on a stale state.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from participants.models import Organisation, Role
from participants.selectors import CARE_ROLES, active_memberships
from vom.errors import DomainError

from . import afterwards
from .models import Meeting, Participant
from .selectors import active_participants, log_denied, sees_meeting

S = Meeting.State
_UNREAD = object()


@dataclass
class MeetingContext:
    user: object
    meeting: Meeting
    care_org_ids: frozenset[int]
    team_org_ids: frozenset[int]
    participant: Participant | None
    participating_org_ids: frozenset[int] = field(default_factory=frozenset)
    # The meeting's active participants; with `full=True` with user, organisation and
    # relative, in the order the meeting page lists them (read once for the whole page).
    participants: list[Participant] = field(default_factory=list)
    # `participants` were read with `full=True` (a page can list them without a second query).
    participants_full: bool = False
    visible: bool = True
    # The consent in force (read on first use unless the page sets it from what it read).
    _consent: object = field(default=_UNREAD, repr=False)

    @classmethod
    def build(cls, user, meeting: Meeting, *, full: bool = False) -> "MeetingContext":
        """The user's context for the meeting. Whether they may see it is decided from the
        care team and participants read here (selectors.sees_meeting, the rule of
        `meetings_visible_to`)."""
        memberships = [m for m in active_memberships(user) if m.role in CARE_ROLES]
        team = frozenset(
            meeting.person.care_team.current().order_by().values_list("organisation_id", flat=True)
        )
        participants = (
            active_participants(meeting)  # with user, organisation and relative, ordered
            if full
            else list(meeting.participants.filter(removed_at__isnull=True))
        )
        participant = next((p for p in participants if p.user_id == user.pk), None)
        return cls(
            user=user,
            meeting=meeting,
            care_org_ids=frozenset(m.organisation_id for m in memberships),
            team_org_ids=team,
            participant=participant,
            participants=participants,
            participants_full=full,
            participating_org_ids=frozenset(
                p.organisation_id for p in participants if p.organisation_id
            ),
            visible=sees_meeting(
                user,
                meeting,
                team_org_ids=team,
                invited=participant is not None,
                participating_org_ids={p.organisation_id for p in participants},
            ),
        )

    @classmethod
    def load_visible(cls, user, pk, *, request=None, full: bool = False) -> "MeetingContext":
        """The meeting (with person, organisation, initiator and convener) and its context if
        the user may see it; 404 otherwise, the same as for no such meeting, and with
        `request` a refused look at a meeting that exists is logged as denied (as
        selectors.get_meeting_for_user does, in one query fewer and without subqueries)."""
        try:
            meeting = (
                Meeting.objects.select_related(
                    "person", "initiator_organisation", "initiated_by", "convener"
                )
                .filter(pk=pk)
                .first()
            )
        except (ValueError, TypeError):
            meeting = None
        ctx = cls.build(user, meeting, full=full) if meeting is not None else None
        if ctx is None or not ctx.visible:
            if meeting is not None and request is not None:
                log_denied(request, meeting)
            raise Http404
        return ctx

    def log_view(self, request) -> None:
        """The access-log row of a look at the meeting, in the capacity through which the user
        serves its person (from the care team read by `build`)."""
        from participants import audit
        from participants.models import AccessLog
        from participants.selectors import membership_for_person

        person = self.meeting.person
        audit.log_access(
            request,
            person=person,
            action=AccessLog.Action.VIEW,
            obj=self.meeting,
            membership=membership_for_person(self.user, person, team_org_ids=self.team_org_ids),
        )

    @property
    def consent(self):
        """The consent in force (newest not withdrawn), with its relatives; None if none."""
        if self._consent is _UNREAD:
            self._consent = (
                self.meeting.consents.filter(withdrawn_at__isnull=True)
                .select_related("recorded_by")
                .prefetch_related("relatives")
                .first()
            )
        return self._consent

    @consent.setter
    def consent(self, value) -> None:
        self._consent = value

    @property
    def own_parts_only(self) -> bool:
        """Consent to share was withdrawn: each organisation sees only its own parts (its
        decisions, their follow-up, its figures), not the others' nor the shared notes."""
        return self.meeting.sharing_withdrawn

    def roles_in(self, org_ids) -> set[str]:
        return {
            m.role
            for m in active_memberships(self.user)
            if m.organisation_id in org_ids and m.role in CARE_ROLES
        }

    @property
    def in_care_team(self) -> bool:
        return bool(self.care_org_ids & self.team_org_ids)

    @property
    def is_convener(self) -> bool:
        return self.meeting.convener_id == self.user.pk

    @property
    def is_initiator_org(self) -> bool:
        return self.meeting.initiator_organisation_id in self.care_org_ids

    @property
    def is_home_health_clinician(self) -> bool:
        """A nurse or physician of a home health care organisation serving the person."""
        return any(
            m.role in (Role.NURSE, Role.PHYSICIAN)
            and m.organisation.kind == Organisation.Kind.HOME_HEALTH_CARE
            and m.organisation_id in self.team_org_ids
            for m in active_memberships(self.user)
        )

    @property
    def is_participant(self) -> bool:
        return self.participant is not None

    def may_act_for(self, organisation_id: int | None) -> bool:
        """A member of the organisation, in a care role, whose organisation takes part."""
        return (
            organisation_id is not None
            and organisation_id in self.care_org_ids
            and (organisation_id in self.participating_org_ids)
        )


@dataclass(frozen=True)
class Rule:
    states: tuple[str, ...]
    who: Callable[[MeetingContext], bool]
    who_text: str
    org_scoped: bool = False


def _convener_or_helping_physician(ctx: MeetingContext) -> bool:
    return ctx.is_convener or (
        ctx.is_participant and Role.PHYSICIAN in ctx.roles_in(ctx.team_org_ids)
    )


LIVE = (S.INITIATED, S.CONSENT, S.CONVENING, S.SCHEDULED)
# Consent can be given, changed and withdrawn at any time; after the meeting only its
# sharing changes (a closed meeting stays closed).
CONSENT_STATES = (*LIVE, S.HELD, S.CLOSED)


def _has_something_to_withdraw(ctx: MeetingContext) -> bool:
    consent = ctx.consent
    if consent is None:
        return False
    return (
        consent.share_information
        or bool(consent.relatives.all())
        or (consent.wants_meeting and ctx.meeting.state in (*LIVE, S.HELD))
    )


PERMISSIONS: dict[str, Rule] = {
    "consent.record": Rule(
        CONSENT_STATES,
        lambda c: c.in_care_team and c.consent is None,
        gettext_lazy("staff in the person's care team, when no consent is recorded"),
    ),
    "consent.change": Rule(
        CONSENT_STATES,
        lambda c: (
            c.in_care_team
            and c.consent is not None
            and (c.is_convener or c.consent.recorded_by_id == c.user.pk)
        ),
        gettext_lazy("the convener or the one who recorded the consent"),
    ),
    "consent.withdraw": Rule(
        (*CONSENT_STATES, S.DECLINED, S.CANCELLED),
        lambda c: c.in_care_team and _has_something_to_withdraw(c),
        gettext_lazy("staff in the person's care team, while a consent is in force"),
    ),
    "convening.start": Rule(
        (S.CONSENT,),
        lambda c: c.is_home_health_clinician,
        gettext_lazy("the person's home health care nurse or physician"),
    ),
    "invitations.change": Rule(
        (S.CONVENING, S.SCHEDULED), lambda c: c.is_convener, gettext_lazy("the convener")
    ),
    "time.agree": Rule((S.CONVENING,), lambda c: c.is_convener, gettext_lazy("the convener")),
    "meeting.schedule": Rule(
        (S.CONVENING,), _convener_or_helping_physician, gettext_lazy("the convener")
    ),
    "meeting.reschedule": Rule(
        (S.SCHEDULED,), _convener_or_helping_physician, gettext_lazy("the convener")
    ),
    "meeting.cancel": Rule(
        LIVE,
        lambda c: c.is_convener or (c.meeting.convener_id is None and c.is_initiator_org),
        gettext_lazy("the convener, or the initiator's organisation before convening"),
    ),
    "participation.respond": Rule(
        (S.CONVENING, S.SCHEDULED), lambda c: c.is_participant, gettext_lazy("the invitee")
    ),
    "preparation.record": Rule(
        (S.CONVENING, S.SCHEDULED, S.HELD),
        lambda c: c.is_participant,
        gettext_lazy("the invitee"),
    ),
    "contribution.add": Rule(
        (S.CONSENT, S.CONVENING, S.SCHEDULED),
        lambda c: c.in_care_team,
        gettext_lazy("staff in the person's care team"),
    ),
    "notes.edit": Rule(
        (S.SCHEDULED, S.HELD), lambda c: c.is_participant, gettext_lazy("the participants")
    ),
    "private_topic.add": Rule(
        (S.CONVENING, S.SCHEDULED, S.HELD),
        lambda c: c.is_participant,
        gettext_lazy("the participants"),
    ),
    "agreement.add": Rule(
        (S.SCHEDULED, S.HELD), lambda c: c.is_participant, gettext_lazy("the participants")
    ),
    "decision.edit": Rule(
        (S.SCHEDULED, S.HELD),
        lambda c: bool(c.care_org_ids & c.participating_org_ids),
        gettext_lazy("a member of the organisation that makes the decision"),
        org_scoped=True,
    ),
    "decisions.confirm": Rule(
        (S.SCHEDULED, S.HELD),
        lambda c: c.is_participant,
        gettext_lazy("a participant from the organisation"),
        org_scoped=True,
    ),
    "meeting.mark_held": Rule(
        (S.SCHEDULED,), _convener_or_helping_physician, gettext_lazy("the convener")
    ),
    "minutes.record": Rule(
        (S.HELD, S.CLOSED), lambda c: c.is_participant, gettext_lazy("the participants")
    ),
    "meeting.close": Rule((S.HELD,), lambda c: c.is_convener, gettext_lazy("the convener")),
}


def can(ctx: MeetingContext, action: str, *, organisation_id: int | None = None) -> bool:
    rule = PERMISSIONS[action]
    if not ctx.visible or ctx.meeting.state not in rule.states:
        return False
    if not rule.who(ctx):
        return False
    return not rule.org_scoped or ctx.may_act_for(organisation_id)


def require(ctx: MeetingContext, action: str, *, organisation_id: int | None = None) -> None:
    """Raise DomainError with a message that says why the action is not possible."""
    if afterwards.current() is not None:
        # A meeting registered afterwards: the registrar records what everyone did, and
        # was checked once by the registration (meetings.registration).
        return
    rule = PERMISSIONS[action]
    if not ctx.visible:
        raise DomainError(_("You do not have access to this meeting."))
    if ctx.meeting.state not in rule.states:
        raise DomainError(
            _("This cannot be done while the meeting is “%(state)s”.")
            % {"state": ctx.meeting.get_state_display()}
        )
    if not rule.who(ctx) or (rule.org_scoped and not ctx.may_act_for(organisation_id)):
        raise DomainError(_("Only %(who)s can do this.") % {"who": rule.who_text})


def allowed_actions(ctx: MeetingContext, among=None) -> set[str]:
    """Actions the user may take now (an organisation-scoped one if for any of their
    organisations); templates show buttons. `among`: only these (a page that offers a few
    need not read what the others depend on, such as the consent)."""
    rules = PERMISSIONS.items() if among is None else ((a, PERMISSIONS[a]) for a in among)
    return {
        action
        for action, rule in rules
        if (
            can(ctx, action)
            if not rule.org_scoped
            else any(can(ctx, action, organisation_id=o) for o in ctx.care_org_ids)
        )
    }
