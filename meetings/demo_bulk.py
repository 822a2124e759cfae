"""About two meetings per bulk person, with participants and decisions, for load tests.

Bulk inserts only: no services, no audit rows. The distribution of states, reasons, roles
and decisions follows the demo area so the reports and pages see realistic data.
"""

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from participants.demo_bulk import BULK_CITY
from participants.models import CareTeamEntry, Organisation, Person, Role

from .choices import DecisionCategory, PersonAnswer, RaisedBy, Reason
from .models import Decision, Meeting, MeetingReason, Participant, StateChange

S = Meeting.State
STATES = (
    [S.CLOSED] * 60 + [S.HELD] * 15 + [S.SCHEDULED] * 8 + [S.CONVENING] * 4
    + [S.CONSENT] * 3 + [S.INITIATED] * 4 + [S.CANCELLED] * 4 + [S.DECLINED] * 2
)  # fmt: skip
HELD_OR_LATER = {S.HELD, S.CLOSED}
DECISION_TEXTS = {
    DecisionCategory.EXTENDED_HOME_HELP: "Kvällsbesök för tillsyn och måltid",
    DecisionCategory.ADJUSTED_HOME_HELP: "Samma personal vid dusch",
    DecisionCategory.OTHER_SOCIAL_CARE: "Ansökan om färdtjänst",
    DecisionCategory.HEALTH_CARE: "Läkemedelsgenomgång och dosett",
    DecisionCategory.CARE_AGREEMENT: "Vid akut försämring: ring hemsjukvården först",
}


def _team(person_ids):
    """person id -> {role: (user id, organisation id)} from the current care team."""
    team: dict[int, dict[str, tuple[int, int]]] = {}
    rows = CareTeamEntry.objects.filter(person_id__in=person_ids, member__isnull=False).values_list(
        "person_id", "role", "member_id", "organisation_id"
    )
    for person_id, role, member_id, organisation_id in rows:
        team.setdefault(person_id, {})[role] = (member_id, organisation_id)
    return team


def load_bulk_meetings(target: int, batch_persons: int = 2500, seed: int = 2008) -> int:
    """Add meetings for bulk persons until `target` meetings exist for them."""
    rng = random.Random(seed)
    persons = Person.objects.filter(city=BULK_CITY)
    existing = Meeting.objects.filter(person__city=BULK_CITY).count()
    if existing >= target:
        return 0
    person_ids = list(persons.order_by("pk").values_list("pk", flat=True))
    if not person_ids:
        return 0
    per_person = max(1, round(target / len(person_ids)))
    hhc_id = Organisation.objects.filter(kind=Organisation.Kind.HOME_HEALTH_CARE).values_list(
        "pk", flat=True
    )[0]
    now = timezone.now()
    added = 0
    # Persons that already have meetings are skipped so a second run continues where it was.
    done = set(Meeting.objects.filter(person__city=BULK_CITY).values_list("person_id", flat=True))
    todo = [pk for pk in person_ids if pk not in done]
    reasons = list(Reason.values)
    categories = list(DecisionCategory.values)
    for start in range(0, len(todo), batch_persons):
        if existing + added >= target:
            break
        chunk = todo[start : start + batch_persons]
        team = _team(chunk)
        meetings, plans = [], []
        for person_id in chunk:
            roles = team.get(person_id, {})
            nurse = roles.get(Role.NURSE)
            if nurse is None:
                continue
            for n in range(per_person):
                state = rng.choice(STATES)
                held = state in HELD_OR_LATER
                # In order and in the past: initiative, consent two days later, the meeting
                # 7 to 30 days after the initiative (a held one before today, a closed one
                # two months before today).
                earliest = 95 if state == S.CLOSED else 35
                initiated = now - dt.timedelta(
                    days=rng.randint(earliest if held else 5, 1000), minutes=rng.randint(0, 600)
                )
                starts = initiated + dt.timedelta(days=rng.randint(7, 30), hours=2)
                if state in (S.SCHEDULED, S.CONVENING):
                    starts = now + dt.timedelta(days=rng.randint(1, 30))
                meetings.append(
                    Meeting(
                        person_id=person_id,
                        state=state,
                        kind="full" if n % 5 else "small",
                        urgency="routine",
                        reason_text="Behöver samordnad planering inför hösten.",
                        initiated_at=initiated,
                        raised_by=rng.choice(RaisedBy.values),
                        initiated_by_id=nurse[0],
                        initiator_organisation_id=hhc_id,
                        initiator_role=Role.NURSE,
                        shared=state not in (S.INITIATED, S.DECLINED),
                        consent_at=initiated + dt.timedelta(days=2)
                        if state not in (S.INITIATED, S.DECLINED)
                        else None,
                        convener_id=nurse[0] if state not in (S.INITIATED, S.CONSENT) else None,
                        time_agreed_with_person=state not in (S.INITIATED, S.CONSENT),
                        starts_at=starts if state not in (S.INITIATED, S.CONSENT) else None,
                        actual_start=starts if held else None,
                        actual_end=starts + dt.timedelta(minutes=60) if held else None,
                        held_at=starts + dt.timedelta(minutes=60) if held else None,
                        closed_at=starts + dt.timedelta(days=60) if state == S.CLOSED else None,
                        cancel_reason="Personen flyttade till särskilt boende."
                        if state == S.CANCELLED
                        else "",
                    )
                )
                plans.append((roles, state, initiated))
        with transaction.atomic():
            Meeting.objects.bulk_create(meetings, batch_size=2000)
            reason_rows, participant_rows, decision_rows, changes = [], [], [], []
            for meeting, (roles, state, _initiated) in zip(meetings, plans, strict=True):
                for code in rng.sample(reasons, 2):
                    reason_rows.append(MeetingReason(meeting=meeting, code=code))
                changes.append(
                    StateChange(meeting=meeting, from_state="", to_state=S.INITIATED,
                                by_id=meeting.initiated_by_id)
                )  # fmt: skip
                if state not in (S.INITIATED, S.CONSENT, S.DECLINED):
                    wanted = [Role.NURSE, Role.NEEDS_ASSESSOR, Role.HOME_HELP_COORDINATOR,
                              Role.CONTACT_PERSON]  # fmt: skip
                    if meeting.kind == "full":
                        wanted.append(Role.PHYSICIAN)
                    for role in wanted:
                        if role not in roles:
                            continue
                        user_id, organisation_id = roles[role]
                        attended = state in HELD_OR_LATER and rng.random() > 0.15
                        participant_rows.append(
                            Participant(
                                meeting=meeting, user_id=user_id, organisation_id=organisation_id,
                                role=role, is_convener=role == Role.NURSE,
                                response=Participant.Response.ACCEPTED,
                                attended=attended if state in HELD_OR_LATER else None,
                                attended_mode="in_person" if attended else "",
                                meeting_minutes=60 if attended else None,
                                travel_minutes=30 if attended else None,
                                preparation_minutes={Role.PHYSICIAN: 55, Role.NEEDS_ASSESSOR: 10,
                                                     Role.HOME_HELP_COORDINATOR: 10}.get(role)
                                if attended else None,
                            )
                        )  # fmt: skip
                if state in HELD_OR_LATER:
                    for _ in range(rng.randint(1, 4)):
                        category = rng.choice(categories)
                        role = {
                            DecisionCategory.EXTENDED_HOME_HELP: Role.NEEDS_ASSESSOR,
                            DecisionCategory.OTHER_SOCIAL_CARE: Role.NEEDS_ASSESSOR,
                            DecisionCategory.ADJUSTED_HOME_HELP: Role.HOME_HELP_COORDINATOR,
                        }.get(category, Role.NURSE)
                        if role not in roles:
                            continue
                        user_id, organisation_id = roles[role]
                        decision_rows.append(
                            Decision(
                                meeting=meeting, organisation_id=organisation_id,
                                category=category, description=DECISION_TEXTS[category],
                                responsible_id=user_id, created_by_id=user_id,
                                due_date=(meeting.held_at + dt.timedelta(days=14)).date(),
                                person_answer=rng.choice(
                                    [PersonAnswer.ACCEPTS] * 8
                                    + [PersonAnswer.DECLINES, PersonAnswer.THINKING]
                                ),
                            )
                        )  # fmt: skip
            MeetingReason.objects.bulk_create(reason_rows, batch_size=5000)
            StateChange.objects.bulk_create(changes, batch_size=5000)
            Participant.objects.bulk_create(participant_rows, batch_size=5000)
            Decision.objects.bulk_create(decision_rows, batch_size=5000)
        added += len(meetings)
    return added
