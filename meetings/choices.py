"""The fixed vocabularies of seed 000: reasons (Table 1), agenda (Ruta 3), preparation
(Table 3) and decision categories (Table 4)."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from participants.models import Role


class Reason(models.TextChoices):
    # Changed behaviour
    NOT_EATING = "not_eating", _("Not eating")
    POOR_HYGIENE = "poor_hygiene", _("Poor hygiene")
    ANXIOUS_ALARMS = "anxious_alarms", _("Anxious, alarms several times a day")
    MENTAL_DECLINE = "mental_decline", _("Mental decline")
    PASSIVE = "passive", _("Passive")
    MEMORY_PROBLEMS = "memory_problems", _("Memory problems")
    MEDICATION_MANAGEMENT = "medication_management", _("Not managing medication")
    # Physical problems
    INCONTINENCE = "incontinence", _("Incontinence")
    BODILY_SYMPTOMS = "bodily_symptoms", _("Many bodily symptoms")
    PHYSICAL_DECLINE = "physical_decline", _("Worse physical state")
    REPEATED_FALLS = "repeated_falls", _("Repeated falls")
    BALANCE = "balance", _("Balance problems")
    LEG_ULCERS = "leg_ulcers", _("Leg ulcers that do not heal")
    # Worry from a relative or professional
    RELATIVE_QUESTIONS = "relative_questions", _("Many questions from relatives")
    HOME_HELP_CONTACTS = "home_help_contacts", _("Many contacts with home help about the person")
    SUM_UP = "sum_up", _("Need to sum up the whole situation")


REASON_GROUPS = [
    (
        _("Changed behaviour"),
        [
            Reason.NOT_EATING,
            Reason.POOR_HYGIENE,
            Reason.ANXIOUS_ALARMS,
            Reason.MENTAL_DECLINE,
            Reason.PASSIVE,
            Reason.MEMORY_PROBLEMS,
            Reason.MEDICATION_MANAGEMENT,
        ],
    ),
    (
        _("Physical problems"),
        [
            Reason.INCONTINENCE,
            Reason.BODILY_SYMPTOMS,
            Reason.PHYSICAL_DECLINE,
            Reason.REPEATED_FALLS,
            Reason.BALANCE,
            Reason.LEG_ULCERS,
        ],
    ),
    (
        _("Worry from a relative or professional"),
        [Reason.RELATIVE_QUESTIONS, Reason.HOME_HELP_CONTACTS, Reason.SUM_UP],
    ),
]


class RaisedBy(models.TextChoices):
    PERSON = "person", _("The person")
    RELATIVE = "relative", _("A relative")
    PHYSICIAN = "physician", _("Physician")
    NURSE = "nurse", _("Nurse")
    ASSISTANT_NURSE = "assistant_nurse", _("Assistant nurse")
    NEEDS_ASSESSOR = "needs_assessor", _("Needs assessor")
    HOME_HELP = "home_help", _("Home help")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    ROUTINE = "routine", _("Within a month")
    SOON = "soon", _("Within two weeks")
    URGENT = "urgent", _("Within a week")


class MeetingKind(models.TextChoices):
    FULL = "full", _("Full meeting (with physician)")
    SMALL = "small", _("Small meeting (without physician)")


class AgendaItem(models.IntegerChoices):
    INTRODUCTION = 1, _("Introduction")
    MEDICAL_BACKGROUND = 2, _("Medical background: illnesses, their effects, medication")
    SOCIAL_CARE = 3, _("Current social-care decisions and how they work")
    NURSING = 4, _("Specific nursing problems")
    DISCUSSION = 5, _("Joint discussion of problems and solutions")
    CLOSING = 6, _("Closing and summary of decisions by each organisation")


# Who leads each agenda item (seed 000, Ruta 3). In a small meeting the nurse leads the
# physician's items.
AGENDA_LEADS = {
    AgendaItem.INTRODUCTION: Role.PHYSICIAN,
    AgendaItem.MEDICAL_BACKGROUND: Role.PHYSICIAN,
    AgendaItem.SOCIAL_CARE: Role.NEEDS_ASSESSOR,
    AgendaItem.NURSING: Role.NURSE,
    AgendaItem.DISCUSSION: None,
    AgendaItem.CLOSING: Role.PHYSICIAN,
}

AGENDA_HINTS = {
    AgendaItem.INTRODUCTION: _("Who is here and why; the person's own goals."),
    AgendaItem.MEDICAL_BACKGROUND: _(
        "Illnesses, how they affect the person, medication. The person confirms."
    ),
    AgendaItem.SOCIAL_CARE: _(
        "Current decisions and how they work; the person and home help tell."
    ),
    AgendaItem.NURSING: _("For example weight loss, night fasting, taking medication."),
    AgendaItem.DISCUSSION: _("Problems and possible solutions, together with the person."),
    AgendaItem.CLOSING: _("Each organisation states its decisions."),
}


class PreparationTask(models.TextChoices):
    HOME_VISIT = "home_visit", _("Home visit")
    EXAMINATION = "examination", _("Examination")
    TESTS = "tests", _("Tests")
    MEDICATION_REVIEW = "medication_review", _("Medication review")
    SPECIALIST_CONSULTED = "specialist_consulted", _("Specialist consulted")
    CUSTOMER_CARD = "customer_card", _("Read the customer card")
    CURRENT_DECISIONS = "current_decisions", _("Read current social-care decisions")
    SCHEDULE = "schedule", _("Checked the home-help schedule")
    CARE_PLAN = "care_plan", _("Took out the care plan")
    NURSING_ISSUES = "nursing_issues", _("Noted nursing issues to raise")


PREPARATION_BY_ROLE = {
    Role.PHYSICIAN: [
        PreparationTask.HOME_VISIT,
        PreparationTask.EXAMINATION,
        PreparationTask.TESTS,
        PreparationTask.MEDICATION_REVIEW,
        PreparationTask.SPECIALIST_CONSULTED,
    ],
    Role.NEEDS_ASSESSOR: [PreparationTask.CUSTOMER_CARD, PreparationTask.CURRENT_DECISIONS],
    Role.HOME_HELP_COORDINATOR: [PreparationTask.SCHEDULE, PreparationTask.CARE_PLAN],
    Role.NURSE: [PreparationTask.NURSING_ISSUES],
}


class DecisionCategory(models.TextChoices):
    EXTENDED_HOME_HELP = "extended_home_help", _("Extended home help")
    ADJUSTED_HOME_HELP = "adjusted_home_help", _("Adjusted home help")
    OTHER_SOCIAL_CARE = "other_social_care", _("Other social care")
    HEALTH_CARE = "health_care", _("Health care action")
    CARE_AGREEMENT = "care_agreement", _("Agreement about care")


class PersonAnswer(models.TextChoices):
    ACCEPTS = "accepts", _("Accepts")
    DECLINES = "declines", _("Declines")
    THINKING = "thinking", _("Wants time to think")


class AgreementKind(models.TextChoices):
    GOAL_OF_CARE = "goal_of_care", _("Goal of care")
    ACUTE_DETERIORATION = "acute_deterioration", _("What to do in acute deterioration")
    CONTINGENCY = "contingency", _("Contingency: if this happens, contact")
    INFORMATION = "information", _("Information the others need")


# The standard roles a meeting should have, so no one is forgotten silently.
STANDARD_ROLES_FULL = [
    Role.PHYSICIAN,
    Role.NURSE,
    Role.NEEDS_ASSESSOR,
    Role.HOME_HELP_COORDINATOR,
    Role.CONTACT_PERSON,
]
STANDARD_ROLES_SMALL = [
    Role.NURSE,
    Role.NEEDS_ASSESSOR,
    Role.HOME_HELP_COORDINATOR,
    Role.CONTACT_PERSON,
]


class AbsenceReason(models.TextChoices):
    """Why someone invited did not take part (seed 000, Table 2's comment column)."""

    ILL = "ill", _("Ill")
    NO_TIME = "no_time", _("No time")
    NOT_INVITED = "not_invited", _("Never invited (missed in the invitations)")
    REPLACED = "replaced", _("Someone else came instead")
    OTHER = "other", _("Other reason")
