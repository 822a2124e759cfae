"""Demo meetings on top of the demo area: one or more in every state, with the kind of notes,
decisions and agreements seed 000 describes. Everything goes through the services, so the
history, audit rows and outbox look as they would in use; only the times of meetings that
already took place are moved back afterwards (services refuse times in the past)."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from participants.demo import DemoArea
from participants.models import Organisation, Role, User

from . import services
from .choices import AgendaItem, MeetingKind, RaisedBy, Reason, Urgency
from .models import Consent, Meeting, Participant, StateChange, TimeOption

S = Meeting.State

NOTES = {
    AgendaItem.INTRODUCTION: (
        "Alla presenterade sig. {first} vill bo kvar hemma och orka gå till affären på "
        "sommaren. En anhörig är med på telefon."
    ),
    AgendaItem.MEDICAL_BACKGROUND: (
        "Hjärtsvikt, förmaksflimmer och artros i knäna. Tar Furix, Eliquis och Alvedon. "
        "Har gått ner 6 kg sedan i våras. {first} bekräftar att kvällsdosen ibland "
        "glöms."
    ),
    AgendaItem.SOCIAL_CARE: (
        "Beviljat: morgon- och lunchbesök, städ varannan vecka, trygghetslarm. Larmar 3–4 "
        "gånger per dygn, mest kvällstid. Hemtjänsten berättar att maten ofta står orörd."
    ),
    AgendaItem.NURSING: (
        "Viktnedgång och lång nattfasta (middag kl. 15, frukost kl. 9). Dosett fungerar "
        "inte längre – tabletter hittas på golvet. Torra fötter, nagelvård behövs."
    ),
    AgendaItem.DISCUSSION: (
        "Kvällsbesök med kvällsmat och kvällsmedicin. Matdistribution diskuterades men "
        "{first} vill laga själv med stöd. Dagverksamhet en dag i veckan prövas."
    ),
    AgendaItem.CLOSING: (
        "Varje organisation sammanfattade sina beslut. Uppföljning per telefon om två "
        "veckor och två månader."
    ),
}


def _at(days: int, hour: int) -> dt.datetime:
    local = timezone.localtime() + dt.timedelta(days=days)
    return local.replace(hour=hour, minute=0, second=0, microsecond=0)


class _Area:
    def __init__(self, area: DemoArea):
        self.area = area
        hhc = area.home_health_care
        self.nurse = area.staff[f"{hhc.kind}:{Role.NURSE}"][0]
        self.physician = area.staff[f"{hhc.kind}:{Role.PHYSICIAN}"][0]

    def team(self, person) -> dict[str, tuple[User, Organisation]]:
        return {
            e.role: (e.member, e.organisation)
            for e in person.care_team.current()
            .filter(member__isnull=False)
            .select_related("member", "organisation")
        }


def _initiate(a: _Area, person, *, by_role=Role.NURSE, reasons, text, raised_by, detail="",
              urgency=Urgency.SOON, kind=MeetingKind.FULL) -> Meeting:  # fmt: skip
    team = a.team(person)
    actor, organisation = team.get(by_role) or (a.nurse, a.area.home_health_care)
    return services.meeting_initiate(
        actor=actor, person=person, organisation=organisation, reasons=reasons,
        reason_text=text, raised_by=raised_by, raised_by_detail=detail, urgency=urgency,
        kind=kind,
    )  # fmt: skip


def _consent(a: _Area, meeting, *, share=True, wants=True, by=None) -> None:
    relatives = [
        r for r in meeting.person.relatives.all() if r.wants_involved and r.relation != "granne"
    ][:1]
    services.consent_record(
        actor=by or a.nurse, meeting=meeting, wants_meeting=wants, share_information=share,
        relatives=relatives if wants else [], how="orally",
        given_at=timezone.now() - dt.timedelta(days=1),
    )  # fmt: skip


def _convene(a: _Area, meeting, options: list[dt.datetime]) -> None:
    services.convening_start(actor=a.nurse, meeting=meeting)
    services.time_options_set(
        actor=a.nurse, meeting=meeting, options=options,
        note="Överenskommet per telefon med personen och en anhörig.",
    )  # fmt: skip
    for entry in services.proposed_invitees(meeting):
        mode = Participant.Mode.VIDEO if entry.role == Role.PHYSICIAN else "in_person"
        services.participant_invite(
            actor=a.nurse, meeting=meeting, user=entry.member, organisation=entry.organisation,
            role=entry.role, mode=mode,
        )  # fmt: skip


def _answer_all(meeting, response=Participant.Response.ACCEPTED) -> None:
    for p in meeting.participants.filter(kind="staff", is_convener=False, removed_at=None):
        services.participation_respond(actor=p.user, participant=p, response=response)


def _prepare(meeting) -> None:
    for p in meeting.participants.filter(kind="staff", removed_at=None).select_related("user"):
        tasks = list(p.preparation_steps.values_list("task", flat=True))
        minutes = {Role.PHYSICIAN: 55, Role.NEEDS_ASSESSOR: 10, Role.HOME_HELP_COORDINATOR: 10}
        services.preparation_record(
            actor=p.user, meeting=meeting, done_tasks=tasks, minutes=minutes.get(p.role, 0)
        )


def _contribute(a: _Area, meeting) -> None:
    first = meeting.person.first_name
    services.contribution_add(
        actor=a.nurse, meeting=meeting, author="person",
        what_matters=f"Att få bo kvar i mitt hem. {first} vill kunna sköta sin blomsterrabatt.",
        questions="Varför känner jag mig så trött på eftermiddagarna?",
    )  # fmt: skip
    relatives = meeting.person.relatives.filter(wants_involved=True).exclude(relation="granne")
    relative = relatives.first()
    if relative is not None:
        services.contribution_add(
            actor=a.nurse, meeting=meeting, author="relative", relative=relative,
            what_matters=f"Att {first} inte är ensam på kvällarna och att någon ser att maten "
            "blir uppäten.",
            questions=f"Vem ringer vi om {first} ramlar en helg?",
        )  # fmt: skip


def _meeting_content(a: _Area, meeting) -> None:
    staff = {p.role: p for p in meeting.participants.filter(kind="staff", removed_at=None)
             .select_related("user", "organisation")}  # fmt: skip
    first = meeting.person.first_name
    writer = staff.get(Role.NURSE) or next(iter(staff.values()))
    for item, text in NOTES.items():
        services.agenda_note_save(
            actor=writer.user, meeting=meeting, item=item, text=text.format(first=first),
            base_revision=0,
        )  # fmt: skip
    decisions = [
        (Role.PHYSICIAN, "health_care",
         "Läkemedelsgenomgång: Furix minskas till 20 mg, Stesolid sätts ut.", "accepts", 7),
        (Role.NURSE, "health_care",
         "Remiss till fotvård; nagelvård i hemmet var sjätte vecka.", "accepts", 14),
        (Role.NEEDS_ASSESSOR, "extended_home_help",
         "Utökad hemtjänst: kvällsbesök kl. 19 med kvällsmat och kvällsmedicin.", "accepts", 10),
        (Role.NEEDS_ASSESSOR, "other_social_care",
         "Ansökan om dagverksamhet en dag i veckan.", "thinking", 30),
        (Role.HOME_HELP_COORDINATOR, "adjusted_home_help",
         "Samma personal vid dusch på tisdagar; ny kontaktperson presenteras.", "accepts", 14),
    ]  # fmt: skip
    for role, category, text, answer, days in decisions:
        p = staff.get(role)
        if p is None:
            continue
        services.decision_save(
            actor=p.user, meeting=meeting, organisation=p.organisation, category=category,
            description=text, responsible=p.user, person_answer=answer,
            due_date=timezone.localdate() + dt.timedelta(days=days),
        )  # fmt: skip
    services.agreement_add(
        actor=writer.user, meeting=meeting, kind="goal_of_care",
        text=f"{first} ska kunna bo kvar hemma med trygghet och äta regelbundet.",
    )  # fmt: skip
    services.agreement_add(
        actor=writer.user, meeting=meeting, kind="contingency",
        situation=f"{first} faller och inte kan resa sig",
        text="Hemtjänsten larmar 112 vid skada, annars hemsjukvården dagtid.",
        contact="Hemsjukvården 08-555 101 00; kvällar och helger 1177",
    )  # fmt: skip
    services.agreement_add(
        actor=writer.user, meeting=meeting, kind="acute_deterioration",
        text="Vid akut försämring kontaktas hemsjukvården först; inga onödiga "
        "sjukhusbesök utan samråd med läkaren.",
    )  # fmt: skip
    for p in staff.values():
        if p.organisation and meeting.decisions.filter(organisation=p.organisation).exists():
            services.decisions_confirm(actor=p.user, meeting=meeting, organisation=p.organisation)
    participants = list(meeting.participants.filter(removed_at=None))
    services.attendance_record(
        actor=writer.user, meeting=meeting,
        attendance={p.pk: (True, p.mode) for p in participants},
        actual_start=None, actual_end=None,
    )  # fmt: skip


def _move_back(meeting, days: int) -> None:
    """The meeting took place `days` ago: move its time (set while it was in the future),
    and its initiative and consent to the weeks before it, in that order, as they were."""
    start = _at(-days, 10)
    proposed, consented = start - dt.timedelta(days=21), start - dt.timedelta(days=14)
    Meeting.objects.filter(pk=meeting.pk).update(
        starts_at=start, initiated_at=proposed, consent_at=consented
    )
    Consent.objects.filter(meeting=meeting).update(given_at=consented)
    StateChange.objects.filter(meeting=meeting, from_state="").update(at=proposed)
    TimeOption.objects.filter(meeting=meeting).update(starts_at=start)
    meeting.refresh_from_db()


def _hold(a: _Area, meeting, days_ago: int) -> None:
    _move_back(meeting, days_ago)
    start = meeting.starts_at
    services.meeting_mark_held(
        actor=a.nurse, meeting=meeting, actual_start=start + dt.timedelta(minutes=5),
        actual_end=start + dt.timedelta(minutes=70),
    )  # fmt: skip
    # It was marked held when it ended, not today: the figures count it in that month.
    Meeting.objects.filter(pk=meeting.pk).update(held_at=start + dt.timedelta(minutes=70))
    StateChange.objects.filter(meeting=meeting, to_state=Meeting.State.HELD).update(
        at=start + dt.timedelta(minutes=70)
    )
    meeting.refresh_from_db()
    travel = {Role.PHYSICIAN: 30, Role.NEEDS_ASSESSOR: 30, Role.HOME_HELP_COORDINATOR: 15}
    services.minutes_record_all(
        actor=a.nurse,
        meeting=meeting,
        minutes={
            # No travel for whoever took part by video or phone.
            p.pk: (p.preparation_minutes, 0 if p.attended_remotely else travel.get(p.role, 20), 65)
            for p in meeting.participants.filter(kind="staff", removed_at=None)
        },
    )


def load_meetings(area: DemoArea) -> None:
    """Register in seed_demo's EXTENSIONS. Person 0 is left without a meeting so a demo can
    start one from scratch."""
    a = _Area(area)
    persons = area.persons
    with transaction.atomic():
        # initiated by the needs assessor: the nurse is asked to take it on
        _initiate(a, persons[1], by_role=Role.NEEDS_ASSESSOR,
                  reasons=[Reason.ANXIOUS_ALARMS, Reason.HOME_HELP_CONTACTS],
                  text="Larmar flera gånger per dygn, oroliga samtal till hemtjänsten.",
                  raised_by=RaisedBy.HOME_HELP, detail="kontaktpersonen")  # fmt: skip
        # proposed by home help, consent given: waits for a home health care nurse to convene
        # (in every nurse's worklist, and a message to the home health care's mailbox)
        m = _initiate(a, persons[2], by_role=Role.HOME_HELP_COORDINATOR,
                      reasons=[Reason.NOT_EATING, Reason.MEMORY_PROBLEMS],
                      text="Dottern ringer ofta och är orolig.", raised_by=RaisedBy.RELATIVE,
                      detail="dottern")  # fmt: skip
        _consent(a, m, by=a.team(persons[2]).get(Role.HOME_HELP_COORDINATOR, (a.nurse,))[0])
        # convening with three possible times and some answers
        m = _initiate(a, persons[3], reasons=[Reason.REPEATED_FALLS, Reason.BALANCE],
                      text="Tre fall senaste månaden.", raised_by=RaisedBy.NURSE,
                      urgency=Urgency.URGENT)  # fmt: skip
        _consent(a, m)
        _convene(a, m, [_at(6, 10), _at(7, 13), _at(9, 9)])
        services.invitations_send(actor=a.nurse, meeting=m)
        options = list(m.time_options.all())
        for i, p in enumerate(m.participants.filter(kind="staff", is_convener=False)):
            services.participation_respond(actor=p.user, participant=p, response="accepted")
            services.time_vote(
                actor=p.user, meeting=m,
                suits={o.pk: (j != i % 3) for j, o in enumerate(options)},
            )  # fmt: skip
        _contribute(a, m)
        # scheduled tomorrow and in four days, prepared
        for index, days in ((4, 1), (5, 4)):
            m = _initiate(a, persons[index], reasons=[Reason.MEDICATION_MANAGEMENT,
                          Reason.SUM_UP], text="Behöver se helheten.",
                          raised_by=RaisedBy.PHYSICIAN)  # fmt: skip
            _consent(a, m)
            _convene(a, m, [_at(days, 10)])
            services.meeting_schedule(actor=a.nurse, meeting=m, starts_at=_at(days, 10))
            _answer_all(m)
            _prepare(m)
            _contribute(a, m)
        # held, decisions entered, minutes recorded, not yet closed
        m = _initiate(a, persons[6], reasons=[Reason.NOT_EATING, Reason.LEG_ULCERS],
                      text="Bensår som inte läker, äter dåligt.",
                      raised_by=RaisedBy.NURSE)  # fmt: skip
        _consent(a, m)
        _convene(a, m, [_at(3, 10)])
        services.meeting_schedule(actor=a.nurse, meeting=m, starts_at=_at(3, 10))
        _answer_all(m)
        _prepare(m)
        _contribute(a, m)
        _meeting_content(a, m)
        _hold(a, m, days_ago=2)
        # closed, three weeks ago
        m = _initiate(a, persons[7], reasons=[Reason.PHYSICAL_DECLINE, Reason.RELATIVE_QUESTIONS],
                      text="Sämre allmäntillstånd, sonen har många frågor.",
                      raised_by=RaisedBy.RELATIVE, detail="sonen")  # fmt: skip
        _consent(a, m)
        _convene(a, m, [_at(2, 13)])
        services.meeting_schedule(actor=a.nurse, meeting=m, starts_at=_at(2, 13))
        _answer_all(m)
        _prepare(m)
        _meeting_content(a, m)
        _hold(a, m, days_ago=21)
        services.meeting_close(actor=a.nurse, meeting=m)
        # the person said no
        m = _initiate(a, persons[8], reasons=[Reason.POOR_HYGIENE], text="",
                      raised_by=RaisedBy.HOME_HELP, kind=MeetingKind.SMALL)  # fmt: skip
        _consent(a, m, wants=False, share=False)
        # cancelled: the person was admitted to hospital
        m = _initiate(a, persons[9], reasons=[Reason.MENTAL_DECLINE], text="Förvirrad kvällstid.",
                      raised_by=RaisedBy.NURSE)  # fmt: skip
        _consent(a, m)
        _convene(a, m, [_at(8, 10)])
        services.meeting_schedule(actor=a.nurse, meeting=m, starts_at=_at(8, 10))
        services.meeting_cancel(
            actor=a.nurse,
            meeting=m,
            reason="Personen är inlagd på sjukhus; nytt möte efter hemgång.",
        )
        # a small meeting without the physician, consent without sharing
        m = _initiate(a, persons[10], reasons=[Reason.INCONTINENCE], text="",
                      raised_by=RaisedBy.PERSON, kind=MeetingKind.SMALL)  # fmt: skip
        _consent(a, m, share=False)
    # Spread the initiative dates so lists and reports show a history.
    for days, meeting in enumerate(Meeting.objects.order_by("pk")):
        back = timezone.now() - dt.timedelta(days=30 - days * 2)
        Meeting.objects.filter(pk=meeting.pk, initiated_at__gt=back).update(initiated_at=back)
        StateChange.objects.filter(meeting=meeting, from_state="").update(at=back)
