"""The permission table, cell by cell: every action for every persona, in a state where the
action is possible, and refused in every state where it is not."""

import pytest

from meetings.models import Meeting
from meetings.permissions import PERMISSIONS, MeetingContext, can, require
from meetings.selectors import meetings_visible_to
from vom.errors import DomainError

S = Meeting.State
pytestmark = pytest.mark.django_db

PERSONAS = ["nurse", "physician", "assessor", "coordinator", "contact", "outsider"]
ALL_IN_MEETING = frozenset(PERSONAS) - {"outsider"}

# action -> (state to test in, personas allowed). Org-scoped actions are tested for the
# persona's own organisation (see test_org_scoped_actions_only_for_own_organisation).
EXPECTED = {
    # before consent only the initiator's organisation (here home health care) sees it
    "consent.record": (S.INITIATED, {"nurse", "physician"}),
    # the nurse recorded the consent and convenes: she may change it; anyone may withdraw
    "consent.change": (S.SCHEDULED, {"nurse"}),
    "consent.withdraw": (S.SCHEDULED, ALL_IN_MEETING),
    "convening.start": (S.CONSENT, {"nurse", "physician"}),
    "invitations.change": (S.SCHEDULED, {"nurse"}),
    "time.agree": (S.CONVENING, {"nurse"}),
    "meeting.schedule": (S.CONVENING, {"nurse", "physician"}),
    "meeting.reschedule": (S.SCHEDULED, {"nurse", "physician"}),
    "meeting.cancel": (S.SCHEDULED, {"nurse"}),
    "participation.respond": (S.SCHEDULED, ALL_IN_MEETING),
    "preparation.record": (S.SCHEDULED, ALL_IN_MEETING),
    "contribution.add": (S.SCHEDULED, ALL_IN_MEETING),
    "notes.edit": (S.SCHEDULED, ALL_IN_MEETING),
    "private_topic.add": (S.SCHEDULED, ALL_IN_MEETING),
    "agreement.add": (S.SCHEDULED, ALL_IN_MEETING),
    "decision.edit": (S.SCHEDULED, ALL_IN_MEETING),
    "decisions.confirm": (S.SCHEDULED, ALL_IN_MEETING),
    "meeting.mark_held": (S.SCHEDULED, {"nurse", "physician"}),
    "minutes.record": (S.HELD, ALL_IN_MEETING),
    "meeting.close": (S.HELD, {"nurse"}),
}  # fmt: skip

ORG_OF = {
    "nurse": "health_care",
    "physician": "health_care",
    "assessor": "assessment",
    "coordinator": "home_help",
    "contact": "home_help",
    "outsider": "outsider_org",
}


def test_every_action_has_an_expectation():
    assert set(EXPECTED) == set(PERMISSIONS)


@pytest.mark.parametrize("action", sorted(EXPECTED))
def test_permission_cells(marea, meeting_in, action):
    state, allowed = EXPECTED[action]
    meeting = meeting_in(state)
    rule = PERMISSIONS[action]
    for persona in PERSONAS:
        user = getattr(marea, persona)
        ctx = MeetingContext.build(user, meeting)
        org_id = getattr(marea, ORG_OF[persona]).pk if rule.org_scoped else None
        assert can(ctx, action, organisation_id=org_id) == (persona in allowed), (action, persona)
        if persona not in allowed:
            with pytest.raises(DomainError):
                require(ctx, action, organisation_id=org_id)


@pytest.mark.parametrize("state", S.values)
def test_actions_are_refused_in_every_other_state(marea, meeting_in, state):
    """Every action outside its states is refused for every persona, each for its own
    organisation where the action is per organisation, with a message saying why."""
    meeting = meeting_in(state)
    refused = [action for action, rule in PERMISSIONS.items() if state not in rule.states]
    assert refused, state
    for persona in PERSONAS:
        ctx = MeetingContext.build(getattr(marea, persona), meeting)
        org_id = getattr(marea, ORG_OF[persona]).pk
        for action in refused:
            scope = org_id if PERMISSIONS[action].org_scoped else None
            assert not can(ctx, action, organisation_id=scope), (state, action, persona)
            with pytest.raises(DomainError) as refusal:
                require(ctx, action, organisation_id=scope)
            assert str(refusal.value), (state, action, persona)


@pytest.mark.parametrize("action", ["decision.edit", "decisions.confirm"])
def test_org_scoped_actions_only_for_own_organisation(marea, meeting_in, action):
    meeting = meeting_in(S.SCHEDULED)
    assessor = MeetingContext.build(marea.assessor, meeting)
    assert can(assessor, action, organisation_id=marea.assessment.pk)
    assert not can(assessor, action, organisation_id=marea.home_help.pk)
    assert not can(assessor, action, organisation_id=marea.health_care.pk)
    coordinator = MeetingContext.build(marea.coordinator, meeting)
    assert can(coordinator, action, organisation_id=marea.home_help.pk)
    assert not can(coordinator, action, organisation_id=marea.assessment.pk)


def test_outsider_sees_no_meeting_in_any_state(marea, meeting_in):
    for state in S.values:
        meeting = meeting_in(state)
        assert not meetings_visible_to(marea.outsider).filter(pk=meeting.pk).exists()


@pytest.mark.parametrize(
    ("state", "partner_sees"),
    [
        (S.INITIATED, False),
        (S.CONSENT, True),
        (S.SCHEDULED, True),
        (S.DECLINED, False),
        (S.HELD, True),
    ],
)
def test_partner_visibility_follows_consent(marea, meeting_in, state, partner_sees):
    meeting = meeting_in(state)
    for partner in (marea.coordinator, marea.assessor, marea.contact):
        assert meetings_visible_to(partner).filter(pk=meeting.pk).exists() == partner_sees
    assert meetings_visible_to(marea.nurse).filter(pk=meeting.pk).exists()


@pytest.mark.parametrize("state", S.values)
def test_the_python_rule_for_one_meeting_agrees_with_the_query(marea, meeting_in, state):
    """selectors.sees_meeting (the meeting page) and meetings_of_person_visible_to (the person
    page) decide from the care team and the participants; meetings_visible_to in SQL. Every
    persona, with the meeting shared or not, initiated by either organisation, and with an
    outsider invited, gets the same answer from all three."""
    from meetings.models import Participant
    from meetings.selectors import meetings_of_person_visible_to, sees_meeting
    from participants.selectors import care_team_for

    meeting = meeting_in(state)
    Participant.objects.get_or_create(
        meeting=meeting,
        user=marea.outsider,
        defaults={"organisation": marea.outsider_org, "kind": Participant.Kind.STAFF},
    )
    team = care_team_for(marea.person)
    team_ids = frozenset(entry.organisation_id for entry in team)
    checked = 0
    for shared in (False, True):
        for initiator in (marea.health_care, marea.home_help):
            Meeting.objects.filter(pk=meeting.pk).update(
                shared=shared, initiator_organisation=initiator
            )
            meeting.refresh_from_db()
            for name in PERSONAS:
                user = getattr(marea, name)
                expected = meetings_visible_to(user).filter(pk=meeting.pk).exists()
                invited = Participant.objects.filter(
                    meeting=meeting, user=user, removed_at__isnull=True
                ).exists()
                taking_part = set(
                    meeting.participants.filter(removed_at__isnull=True).values_list(
                        "organisation_id", flat=True
                    )
                )
                assert sees_meeting(
                    user,
                    meeting,
                    team_org_ids=team_ids,
                    invited=invited,
                    participating_org_ids=taking_part,
                ) == (expected), (name, shared, initiator.name)
                listed = meetings_of_person_visible_to(user, marea.person, team_ids)
                assert listed.filter(pk=meeting.pk).exists() == expected, (name, shared)
                checked += 1
    assert checked == 4 * len(PERSONAS)
    # The outsider invited to a shared meeting sees it; to an unshared one, not.
    assert meetings_visible_to(marea.outsider).filter(pk=meeting.pk).exists()


def test_worklist_counts_agree_with_the_sql_definition(marea, meeting_in, monkeypatch):
    """meetings.worklist.worklist reads the user's open meetings in small queries and decides
    visibility in Python; its counts by state equal `state_counts` (open_meetings in SQL)
    for every persona, also past WORKLIST_READ_MAX, where it asks the database instead."""
    from meetings import worklist as wl
    from meetings.models import Participant

    for state in (S.INITIATED, S.CONSENT, S.CONVENING, S.SCHEDULED, S.HELD, S.DECLINED):
        meeting = meeting_in(state)
        # An outsider invited: sees the meeting while it is shared, through the invitation.
        Participant.objects.get_or_create(
            meeting=meeting, user=marea.outsider, defaults={"organisation": marea.outsider_org}
        )
    Meeting.objects.filter(state=S.CONSENT).update(shared=False)  # as after a withdrawal
    totals = 0
    for name in PERSONAS:
        user = getattr(marea, name)
        items, counts = wl.worklist(user)
        assert counts == wl.state_counts(user), name
        totals += sum(n for _state, _label, n in counts)
        if name == "outsider":
            assert sum(n for _state, _label, n in counts) > 0
        monkeypatch.setattr(wl, "WORKLIST_READ_MAX", 1)
        capped_items, capped_counts = wl.worklist(user)
        monkeypatch.undo()
        assert capped_counts == counts, name
        assert len(capped_items) <= 1
        assert {i.meeting.pk for i in capped_items} <= {i.meeting.pk for i in items}
    assert totals > 0
