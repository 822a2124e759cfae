"""Forms of the follow-up. They check the shape of the input and keep what the user typed;
the services decide what is allowed and raise DomainError, shown next to the field."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import scoring
from .models import Checkpoint, DecisionStatus, OutcomeMeasure

# Years outside this range are typing mistakes.
YEAR_RANGE = (2000, 2100)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class PastDateField(forms.DateField):
    widget = DateInput
    default_error_messages = {"invalid": _("Enter a date, e.g. 2026-03-12.")}

    def clean(self, value):
        day = super().clean(value)
        if day is None:
            return day
        if not YEAR_RANGE[0] <= day.year <= YEAR_RANGE[1]:
            raise forms.ValidationError(_("Check the year."))
        if day > timezone.localdate():
            raise forms.ValidationError(_("The date cannot be in the future."))
        return day


class DecisionStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=DecisionStatus.choices)
    date = PastDateField(label=_("Since"), help_text=_("The day the status applied from."))
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)


class HoursField(forms.DecimalField):
    def __init__(self, **kwargs):
        super().__init__(
            min_value=0,
            max_value=168,
            max_digits=4,
            decimal_places=1,
            required=False,
            localize=True,  # Swedish users type 12,5
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
            **kwargs,
        )


class CheckpointForm(forms.Form):
    person_situation = forms.ChoiceField(
        label=_("Where does the person live now?"),
        choices=Checkpoint.Situation.choices,
        widget=forms.RadioSelect,
    )
    home_help_hours_before = HoursField(
        label=_("Home-help hours per week before the meeting"),
        help_text=_("From the needs assessment or the home-help schedule."),
    )
    home_help_hours_after = HoursField(label=_("Home-help hours per week now"))
    note = forms.CharField(
        label=_("Note"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class HealthCareUseForm(forms.Form):
    months = forms.IntegerField(
        label=_("Months covered"),
        min_value=1,
        max_value=24,
        initial=6,
        help_text=_("How many months before (or after) the meeting the counts cover."),
    )
    hospital_admissions = forms.IntegerField(
        label=_("Hospital admissions"), min_value=0, max_value=100
    )
    emergency_visits = forms.IntegerField(
        label=_("Emergency department visits"), min_value=0, max_value=100
    )


# The EQ-5D-3L statements (EuroQol). English msgids; the Swedish catalogue holds the official
# Swedish wording that the person reads or hears.
EQ5D_QUESTIONS = {
    "mobility": (
        _("Mobility"),
        [
            _("I have no problems in walking about"),
            _("I have some problems in walking about"),
            _("I am confined to bed"),
        ],
    ),
    "self_care": (
        _("Self-care"),
        [
            _("I have no problems with self-care"),
            _("I have some problems washing or dressing myself"),
            _("I am unable to wash or dress myself"),
        ],
    ),
    "usual_activities": (
        _("Usual activities (e.g. work, study, housework, family or leisure activities)"),
        [
            _("I have no problems with performing my usual activities"),
            _("I have some problems with performing my usual activities"),
            _("I am unable to perform my usual activities"),
        ],
    ),
    "pain_discomfort": (
        _("Pain / discomfort"),
        [
            _("I have no pain or discomfort"),
            _("I have moderate pain or discomfort"),
            _("I have extreme pain or discomfort"),
        ],
    ),
    "anxiety_depression": (
        _("Anxiety / depression"),
        [
            _("I am not anxious or depressed"),
            _("I am moderately anxious or depressed"),
            _("I am extremely anxious or depressed"),
        ],
    ),
}

STAI6_QUESTIONS = {
    "calm": _("I feel calm"),
    "tense": _("I am tense"),
    "upset": _("I feel upset"),
    "relaxed": _("I am relaxed"),
    "content": _("I feel content"),
    "worried": _("I am worried"),
}
STAI6_ANSWERS = [
    (1, _("Not at all")),
    (2, _("Somewhat")),
    (3, _("Moderately so")),
    (4, _("Very much so")),
]


class OutcomeForm(forms.Form):
    """EQ-5D-3L (five radio groups and the VAS) and STAI-6 (six items), or "could not answer"
    with a reason."""

    date = PastDateField(label=_("Date"))
    could_not_answer = forms.BooleanField(
        label=_("The person could not answer"),
        required=False,
        help_text=_("Then leave the questions empty and give the reason."),
    )
    no_answer_reason = forms.ChoiceField(
        label=_("Why not"),
        required=False,
        choices=[("", "—"), *OutcomeMeasure.NoAnswerReason.choices],
    )
    no_answer_note = forms.CharField(label=_("More about why"), required=False, max_length=300)
    eq5d_vas = forms.IntegerField(
        label=_("Your health today, from 0 (the worst you can imagine) to 100 (the best)"),
        required=False,
        min_value=0,
        max_value=100,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("date", timezone.localdate())
        super().__init__(*args, **kwargs)
        for name, (label, statements) in EQ5D_QUESTIONS.items():
            self.fields[name] = forms.TypedChoiceField(
                label=label,
                required=False,
                coerce=int,
                empty_value=None,
                choices=list(enumerate(statements, start=1)),
                widget=forms.RadioSelect,
            )
        for item, label in STAI6_QUESTIONS.items():
            self.fields[f"stai_{item}"] = forms.TypedChoiceField(
                label=label,
                required=False,
                coerce=int,
                empty_value=None,
                choices=STAI6_ANSWERS,
                widget=forms.RadioSelect(attrs={"class": "stai-answer"}),
            )
        # Fields in the order of the questionnaire.
        order = [
            "date",
            *EQ5D_QUESTIONS,
            "eq5d_vas",
            *(f"stai_{item}" for item in STAI6_QUESTIONS),
            "could_not_answer",
            "no_answer_reason",
            "no_answer_note",
        ]
        self.order_fields(order)

    @property
    def eq5d_fields(self):
        return [self[name] for name in EQ5D_QUESTIONS]

    @property
    def stai_fields(self):
        return [self[f"stai_{item}"] for item in STAI6_QUESTIONS]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("could_not_answer"):
            if not cleaned.get("no_answer_reason"):
                self.add_error("no_answer_reason", _("Say why the person could not answer."))
            elif (
                cleaned["no_answer_reason"] == OutcomeMeasure.NoAnswerReason.OTHER
                and not (cleaned.get("no_answer_note") or "").strip()
            ):
                self.add_error("no_answer_note", _("Describe the other reason."))
            return cleaned
        # Every question needs an answer; say so next to each one left empty.
        for name in EQ5D_QUESTIONS:
            if cleaned.get(name) is None and name not in self.errors:
                self.add_error(name, _("Choose one of the three statements."))
        if cleaned.get("eq5d_vas") is None and "eq5d_vas" not in self.errors:
            self.add_error("eq5d_vas", _("Give the health scale as a whole number from 0 to 100."))
        for item in scoring.STAI6_ITEMS:
            name = f"stai_{item}"
            if cleaned.get(name) is None and name not in self.errors:
                self.add_error(name, _("Choose one of the answers."))
        return cleaned

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "date": data["date"],
            "eq5d": {name: data.get(name) for name in scoring.EQ5D_DIMENSIONS},
            "vas": data.get("eq5d_vas"),
            "stai": {item: data.get(f"stai_{item}") for item in scoring.STAI6_ITEMS},
            "could_not_answer": bool(data.get("could_not_answer")),
            "no_answer_reason": data.get("no_answer_reason") or "",
            "no_answer_note": data.get("no_answer_note") or "",
        }

    @classmethod
    def initial_from(cls, measure: OutcomeMeasure | None) -> dict:
        if measure is None:
            return {}
        initial = {
            "date": measure.date,
            "could_not_answer": measure.could_not_answer,
            "no_answer_reason": measure.no_answer_reason,
            "no_answer_note": measure.no_answer_note,
            "eq5d_vas": measure.eq5d_vas,
        }
        initial |= {name: getattr(measure, name) for name in scoring.EQ5D_DIMENSIONS}
        initial |= {
            f"stai_{item}": getattr(measure, f"stai_{item}") for item in scoring.STAI6_ITEMS
        }
        return initial
