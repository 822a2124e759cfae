"""Forms of the meeting lifecycle. They validate input and keep what the user typed; the
services decide what is allowed and raise DomainError, which views put next to the field."""

import datetime as dt

from django import forms
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from participants.models import CareTeamEntry, Membership, Organisation, Relative, Role, User
from participants.selectors import CARE_ROLES
from vom.errors import DomainError
from vom.forms import LimitsMixin
from vom.timeutil import aware_local, future_local

from .choices import (
    REASON_GROUPS,
    AbsenceReason,
    AgreementKind,
    DecisionCategory,
    MeetingKind,
    PersonAnswer,
    RaisedBy,
    Urgency,
)
from .models import Consent, Participant

YES_NO = [("yes", _("Yes")), ("no", _("No"))]
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
# Years outside this range are typing mistakes; far-off years also overflow time zone maths.
YEAR_RANGE = (2000, 2100)


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")

    def format_value(self, value):
        if isinstance(value, dt.datetime) and timezone.is_aware(value):
            value = timezone.localtime(value).replace(tzinfo=None)
        return super().format_value(value)


class LocalDateTimeField(forms.Field):
    """A wall-clock time in Europe/Stockholm. A time that does not exist or occurs twice at a
    daylight-saving change, and (with future=True) a time already passed, is refused with a
    message next to the field."""

    widget = LocalDateTimeInput
    default_error_messages = {
        "invalid": _("Enter a date and time, e.g. 2026-03-12 14:30."),
        "year": _("Check the year."),
    }

    def __init__(self, *, future: bool = False, **kwargs):
        self.future = future
        super().__init__(**kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return value
        text = str(value).strip()[:40]
        for fmt in DATETIME_FORMATS:
            try:
                parsed = dt.datetime.strptime(text, fmt)  # noqa: DTZ007 - made aware below
            except ValueError:
                continue
            if not YEAR_RANGE[0] <= parsed.year <= YEAR_RANGE[1]:
                raise forms.ValidationError(self.error_messages["year"], code="year")
            return parsed
        raise forms.ValidationError(self.error_messages["invalid"], code="invalid")

    def clean(self, value):
        value = super().clean(value)
        if value is None:
            return None
        try:
            return future_local(value) if self.future else aware_local(value)
        except DomainError as exc:
            raise forms.ValidationError(str(exc.message), code="time") from None


def _yes_no_field(label, **kwargs):
    return forms.TypedChoiceField(
        label=label,
        choices=YES_NO,
        coerce=lambda v: v == "yes",
        widget=forms.RadioSelect,
        **kwargs,
    )


# --- 1. Initiative ---


class InitiativeForm(LimitsMixin, forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("On behalf of"), queryset=Organisation.objects.none(), empty_label=None
    )
    reasons = forms.MultipleChoiceField(
        label=_("Reasons"),
        required=False,
        choices=[
            (str(label), [(r.value, r.label) for r in group]) for label, group in REASON_GROUPS
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    reason_text = forms.CharField(
        label=_("More about the reasons"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    raised_by = forms.ChoiceField(
        label=_("Who raised the concern"), choices=RaisedBy.choices, widget=forms.RadioSelect
    )
    raised_by_detail = forms.CharField(
        label=_("Who, more precisely"),
        required=False,
        max_length=200,
        help_text=_("For example “daughter Anna” or “the contact person”."),
    )
    urgency = forms.ChoiceField(
        label=_("Urgency"),
        choices=Urgency.choices,
        initial=Urgency.ROUTINE,
        widget=forms.RadioSelect,
    )
    kind = forms.ChoiceField(
        label=_("Type of meeting"),
        choices=MeetingKind.choices,
        initial=MeetingKind.FULL,
        widget=forms.RadioSelect,
    )

    asked = forms.ChoiceField(
        label=_("Have you asked the person?"),
        choices=[
            ("now", _("Yes, I have asked the person: record the answer now")),
            ("later", _("Not yet: the person is asked later")),
        ],
        initial="later",
        required=False,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, organisations, consent_now=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not consent_now:
            del self.fields["asked"]  # a page that records no consent with the proposal
        self.fields["organisation"].queryset = Organisation.objects.filter(
            pk__in=[o.pk for o in organisations]
        )
        if len(organisations) == 1:
            self.fields["organisation"].initial = organisations[0].pk
            self.fields["organisation"].widget = forms.HiddenInput()
        self.reason_groups = [
            (label, [(r.value, r.label) for r in group]) for label, group in REASON_GROUPS
        ]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("reasons") and not (cleaned.get("reason_text") or "").strip():
            self.add_error("reasons", _("Tick at least one reason or describe it in words."))
        return cleaned


# --- 2. Consent ---


class RelativesField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        label = f"{obj.name} ({obj.relation})"
        if not obj.wants_involved:
            label += " – " + str(_("earlier: the person does not want them involved"))
        return label


class ConsentForm(LimitsMixin, forms.Form):
    wants_meeting = _yes_no_field(_("(a) Does the person want a meeting?"))
    relatives = RelativesField(
        label=_("(b) Which relatives should be invited?"),
        queryset=Relative.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    share_information = _yes_no_field(
        _(
            "(c) May the other organisations be contacted and information about the person "
            "be shared between them?"
        ),
        help_text=_("Until this is yes, no other organisation sees anything of the meeting."),
    )
    how = forms.ChoiceField(
        label=_("How consent was given"), choices=Consent.How.choices, widget=forms.RadioSelect
    )
    representative_name = forms.CharField(
        label=_("Representative's name"),
        required=False,
        max_length=200,
        help_text=_("When a representative (e.g. god man) gave consent."),
    )
    given_at = LocalDateTimeField(label=_("When"))

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["relatives"].queryset = Relative.objects.filter(person=person).order_by("name")
        if person.representative_name:
            self.fields["representative_name"].initial = person.representative_name
        self.fields["given_at"].initial = timezone.localtime().replace(
            second=0, microsecond=0, tzinfo=None
        )

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("how") == Consent.How.REPRESENTATIVE
            and not (cleaned.get("representative_name") or "").strip()
        ):
            self.add_error("representative_name", _("Name the representative who gave consent."))
        given_at = cleaned.get("given_at")
        if given_at and given_at > timezone.now() + dt.timedelta(minutes=5):
            self.add_error("given_at", _("Consent cannot be given in the future."))
        return cleaned


class WithdrawConsentForm(LimitsMixin, forms.Form):
    """Withdrawing ends sharing at once (and stops a meeting not yet held): the user confirms
    a sentence that says what will happen to this meeting."""

    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("For example who told you and how."),
    )
    confirm = forms.BooleanField(
        label=_("The person has withdrawn consent, and I understand what happens now."),
        error_messages={"required": _("Tick the box to confirm that consent is withdrawn.")},
    )

    def __init__(self, *args, effects: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.consequences = withdrawal_sentence(effects)


def withdrawal_sentence(effects: dict) -> str:
    """What withdrawing consent does to this meeting, in words."""
    parts = []
    if effects["stops"]:
        parts.append(str(_("The meeting stops and will not take place; everyone invited is told.")))
    elif effects["closes"]:
        parts.append(str(_("The meeting is closed.")))
    else:
        parts.append(str(_("The meeting stays as it is.")))
    if effects["pending"]:
        parts.append(
            str(
                ngettext(
                    "%(n)s message not yet sent is cancelled.",
                    "%(n)s messages not yet sent are cancelled.",
                    effects["pending"],
                )
            )
            % {"n": effects["pending"]}
        )
    if len(effects["organisations"]) > 1:
        parts.append(
            str(
                _(
                    "Each organisation (%(organisations)s) then sees only its own decisions and "
                    "their follow-up; no one sees the shared notes, the summary or the others' "
                    "parts any more."
                )
            )
            % {"organisations": ", ".join(effects["organisations"])}
        )
    if effects["relatives"]:
        parts.append(
            str(_("%(relatives)s can no longer read anything about the meeting."))
            % {"relatives": ", ".join(effects["relatives"])}
        )
    parts.append(str(_("The history is kept.")))
    return " ".join(parts)


# --- 3. Convening ---


def invitable_memberships(meeting):
    """Staff who can be invited: care roles in organisations serving the person, and the
    home health care organisations (the convener's side)."""
    team_orgs = meeting.person.care_team.current().values_list("organisation_id", flat=True)
    return (
        Membership.objects.active()
        .filter(role__in=CARE_ROLES, organisation_id__in=team_orgs)
        .select_related("user", "organisation")
        .order_by("organisation__name", "role", "user__last_name", "user__first_name")
    )


class MembershipChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.user.get_full_name() or obj.user.username
        return f"{name} – {obj.get_role_display()}, {obj.organisation.name}"


class InviteForm(LimitsMixin, forms.Form):
    """The proposed care team members (pre-checked) and anyone else from the care team."""

    other = MembershipChoiceField(
        label=_("Invite someone else"), queryset=Membership.objects.none(), required=False
    )
    other_mode = forms.ChoiceField(
        label=_("Attends"),
        choices=Participant.Mode.choices,
        initial=Participant.Mode.IN_PERSON,
        required=False,
    )

    def __init__(self, *args, meeting, proposed, pre_tick=True, exclude_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.proposed = proposed
        for entry in proposed:
            self.fields[f"entry_{entry.pk}"] = forms.BooleanField(
                label=f"{entry.member.get_full_name() or entry.member} – "
                f"{entry.get_role_display()}, {entry.organisation.name}",
                required=False,
                initial=pre_tick,
            )
            self.fields[f"mode_{entry.pk}"] = forms.ChoiceField(
                label=_("Attends"),
                choices=Participant.Mode.choices,
                initial=Participant.Mode.IN_PERSON,
                required=False,
            )
        invited = meeting.participants.filter(removed_at__isnull=True, user__isnull=False)
        others = invitable_memberships(meeting).exclude(
            user_id__in=invited.values_list("user_id", flat=True)
        )
        if exclude_user is not None:
            others = others.exclude(user=exclude_user)
        self.fields["other"].queryset = others

    def proposed_rows(self):
        return [
            (entry, self[f"entry_{entry.pk}"], self[f"mode_{entry.pk}"]) for entry in self.proposed
        ]

    def chosen(self) -> list[tuple[User, Organisation, str, str]]:
        in_person = Participant.Mode.IN_PERSON
        rows = [
            (
                entry.member,
                entry.organisation,
                entry.role,
                self.cleaned_data.get(f"mode_{entry.pk}") or in_person,
            )
            for entry in self.proposed
            if self.cleaned_data.get(f"entry_{entry.pk}")
        ]
        other = self.cleaned_data.get("other")
        if other is not None:
            mode = self.cleaned_data.get("other_mode") or in_person
            rows.append((other.user, other.organisation, other.role, mode))
        return rows


class DurationAndPlace(LimitsMixin, forms.Form):
    """How long and where, when a time is fixed."""

    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"), min_value=15, max_value=240, initial=60
    )
    location = forms.CharField(
        label=_("Place"),
        required=False,
        max_length=300,
        help_text=_("Leave empty for the person's home."),
    )


class ConveneForm(InviteForm, DurationAndPlace):
    """Convening in one form: whom to invite (proposed from the care team, editable) and the
    time agreed with the person, or two or three for the invitees to mark."""

    option_1 = LocalDateTimeField(label=_("Time agreed with the person"), future=True)
    option_2 = LocalDateTimeField(
        label=_("Another possible time"),
        future=True,
        required=False,
        help_text=_(
            "Only if you want the invitees to mark which time suits them; you fix it later."
        ),
    )
    option_3 = LocalDateTimeField(label=_("A third possible time"), future=True, required=False)
    note = forms.CharField(
        label=_("How the time was agreed"),
        required=False,
        max_length=300,
        help_text=_("For example “agreed by phone with the daughter”."),
    )

    def options(self) -> list[dt.datetime]:
        return [
            self.cleaned_data[name]
            for name in ("option_1", "option_2", "option_3")
            if self.cleaned_data.get(name)
        ]

    def clean(self):
        cleaned = super().clean()
        values = [cleaned.get(n) for n in ("option_1", "option_2", "option_3") if cleaned.get(n)]
        if len(values) != len(set(values)):
            self.add_error("option_2", _("The same time is given twice."))
        return cleaned


class ModeForm(LimitsMixin, forms.Form):
    mode = forms.ChoiceField(label=_("Attends"), choices=Participant.Mode.choices)


class TimeOptionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        local = timezone.localtime(obj.starts_at)
        suits = getattr(obj, "suits_count", None)
        label = local.strftime("%Y-%m-%d %H:%M")
        if suits is not None:
            return _("%(time)s (suits %(n)s)") % {"time": label, "n": suits}
        return label


class ScheduleForm(DurationAndPlace):
    option = TimeOptionChoiceField(
        label=_("Time"), queryset=None, empty_label=None, widget=forms.RadioSelect
    )

    def __init__(self, *args, options, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["option"].queryset = options
        if len(options) == 1:
            self.fields["option"].initial = options[0].pk


class RescheduleForm(DurationAndPlace):
    starts_at = LocalDateTimeField(label=_("New time"), future=True)

    field_order = ["starts_at", "duration_minutes", "location"]


class CancelForm(LimitsMixin, forms.Form):
    reason = forms.CharField(
        label=_("Why is the meeting cancelled?"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TimeVotesMixin:
    """One tick per proposed time that suits the invitee (`suits_<option pk>`), while the
    time is not fixed yet."""

    def add_time_votes(self, options, votes) -> None:
        votes = votes or {}
        self.option_names = []
        for option in options:
            name = f"suits_{option.pk}"
            self.fields[name] = forms.BooleanField(
                label=formats.date_format(timezone.localtime(option.starts_at), "l j F Y, H:i"),
                required=False,
                initial=votes.get(option.pk, False),
            )
            self.option_names.append((option.pk, name))

    def suits(self) -> dict[int, bool]:
        return {pk: bool(self.cleaned_data.get(name)) for pk, name in self.option_names}

    def time_fields(self):
        return [self[name] for _pk, name in self.option_names]


class RespondForm(TimeVotesMixin, LimitsMixin, forms.Form):
    response = forms.ChoiceField(
        label=_("Your answer"),
        choices=[
            (Participant.Response.ACCEPTED, _("I will come")),
            (Participant.Response.TENTATIVE, _("Maybe")),
            (Participant.Response.DECLINED, _("I cannot come")),
        ],
        widget=forms.RadioSelect,
    )
    mode = forms.ChoiceField(
        label=_("I will attend"), choices=Participant.Mode.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args, options=(), votes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_time_votes(options, votes)


class ReplyForm(TimeVotesMixin, forms.Form):
    """The answer page reached from the email's signed link (no sign-in)."""

    mode = forms.ChoiceField(
        label=_("How will you take part?"),
        choices=Participant.Mode.choices,
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(self, *args, options=(), votes=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_time_votes(options, votes)


# --- 4. Preparation ---


class PreparationForm(LimitsMixin, forms.Form):
    done = forms.MultipleChoiceField(
        label=_("Done"), required=False, widget=forms.CheckboxSelectMultiple
    )
    minutes = forms.IntegerField(
        label=_("Minutes spent preparing"), required=False, min_value=0, max_value=1440
    )

    def __init__(self, *args, steps, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["done"].choices = [(s.task, s.get_task_display()) for s in steps]
        self.fields["done"].initial = [s.task for s in steps if s.done_at]


class ContributionForm(LimitsMixin, forms.Form):
    author = forms.ChoiceField(
        label=_("Whose words"),
        choices=[("person", _("The person")), ("relative", _("A relative"))],
        widget=forms.RadioSelect,
        initial="person",
    )
    relative = forms.ModelChoiceField(
        label=_("Which relative"), queryset=Relative.objects.none(), required=False
    )
    what_matters = forms.CharField(
        label=_("What matters to you?"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("In their own words."),
    )
    questions = forms.CharField(
        label=_("Questions for the meeting"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["relative"].queryset = Relative.objects.filter(person=person).order_by("name")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("author") == "relative" and not cleaned.get("relative"):
            self.add_error("relative", _("Choose the relative."))
        if cleaned.get("author") == "person":
            cleaned["relative"] = None
        if (
            not (cleaned.get("what_matters") or "").strip()
            and not (cleaned.get("questions") or "").strip()
        ):
            self.add_error("what_matters", _("Write what matters or a question."))
        return cleaned


# --- 5. The meeting ---


class AgendaNoteForm(LimitsMixin, forms.Form):
    text = forms.CharField(
        required=False, max_length=20000, widget=forms.Textarea(attrs={"rows": 4})
    )
    base_revision = forms.IntegerField(min_value=0, widget=forms.HiddenInput)


class AttendanceForm(LimitsMixin, forms.Form):
    actual_start = LocalDateTimeField(label=_("Actual start"), required=False)
    actual_end = LocalDateTimeField(label=_("Actual end"), required=False)

    def __init__(self, *args, participants, meeting=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.participants = participants
        for p in participants:
            self.fields[f"came_{p.pk}"] = forms.BooleanField(
                label=str(p), required=False, initial=bool(p.attended)
            )
            self.fields[f"how_{p.pk}"] = forms.ChoiceField(
                label=_("How"),
                choices=Participant.Mode.choices,
                initial=p.attended_mode or p.mode,
            )
            self.fields[f"why_{p.pk}"] = forms.ChoiceField(
                label=_("Reason for absence"),
                choices=[("", _("If absent: why"))] + list(AbsenceReason.choices),
                required=False,
                initial=p.absence_reason,
            )
            self.fields[f"why_note_{p.pk}"] = forms.CharField(
                label=_("About the absence"),
                required=False,
                max_length=300,
                initial=p.absence_note,
            )
        if meeting is not None:
            self.fields["actual_start"].initial = meeting.actual_start
            self.fields["actual_end"].initial = meeting.actual_end

    def rows(self):
        return [
            (p, self[f"came_{p.pk}"], self[f"how_{p.pk}"], self[f"why_{p.pk}"],
             self[f"why_note_{p.pk}"])
            for p in self.participants
        ]  # fmt: skip

    def attendance(self) -> dict[int, tuple[bool, str]]:
        return {
            p.pk: (bool(self.cleaned_data.get(f"came_{p.pk}")), self.cleaned_data[f"how_{p.pk}"])
            for p in self.participants
        }

    def absences(self) -> dict[int, tuple[str, str]]:
        """Why each one who did not come was absent (seed 000, Table 2's comments)."""
        return {
            p.pk: (self.cleaned_data.get(f"why_{p.pk}") or "",
                   self.cleaned_data.get(f"why_note_{p.pk}") or "")
            for p in self.participants
        }  # fmt: skip

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("actual_start"), cleaned.get("actual_end")
        if start and end and end <= start:
            self.add_error("actual_end", _("The end must be after the start."))
        return cleaned


class PrivateTopicForm(LimitsMixin, forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Taken by"), queryset=Organisation.objects.none(), empty_label=None
    )
    raised_by = forms.ChoiceField(
        label=_("Raised by"),
        choices=[
            (RaisedBy.PERSON, RaisedBy.PERSON.label),
            (RaisedBy.RELATIVE, RaisedBy.RELATIVE.label),
        ],
    )
    text = forms.CharField(
        label=_("Topic"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Seen only by your organisation; never part of the shared notes."),
    )

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(
            pk__in=[o.pk for o in organisations]
        )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


class DecisionForm(LimitsMixin, forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Organisation"), queryset=Organisation.objects.none(), empty_label=None
    )
    category = forms.ChoiceField(label=_("Category"), choices=DecisionCategory.choices)
    description = forms.CharField(
        label=_("What"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    responsible = StaffChoiceField(label=_("Responsible"), queryset=User.objects.none())
    due_date = forms.DateField(
        label=_("By when"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    person_answer = forms.ChoiceField(
        label=_("The person's answer"), choices=PersonAnswer.choices, widget=forms.RadioSelect
    )

    def __init__(self, *args, organisations, meeting, user_ids=(), **kwargs):
        """`responsible` is chosen among the staff around the person: the meeting's
        participants, the person's current care team and `user_ids` (the user, a decision's
        responsible), in a care role of an acting organisation. Not every member of the
        organisation: a home health care organisation has thousands, and a select of all
        of them made the meeting-day page heavy on a tablet in someone's home."""
        super().__init__(*args, **kwargs)
        org_ids = [o.pk for o in organisations]
        self.fields["organisation"].queryset = Organisation.objects.filter(pk__in=org_ids)
        if len(org_ids) == 1:
            self.fields["organisation"].initial = org_ids[0]
            self.fields["organisation"].widget = forms.HiddenInput()
        around = (
            Q(pk__in=[pk for pk in user_ids if pk])
            | Q(pk__in=meeting.participants.filter(removed_at__isnull=True).values("user_id"))
            | Q(
                pk__in=CareTeamEntry.objects.current()
                .filter(person_id=meeting.person_id)
                .values("member_id")
            )
        )
        self.fields["responsible"].queryset = (
            User.objects.filter(around)
            .filter(
                is_active=True,
                memberships__is_active=True,
                memberships__organisation_id__in=org_ids,
                memberships__role__in=[r for r in Role.values if r in CARE_ROLES],
            )
            .distinct()
            .order_by("last_name", "first_name")
        )

    def clean_due_date(self):
        value = self.cleaned_data.get("due_date")
        if value and not YEAR_RANGE[0] <= value.year <= YEAR_RANGE[1]:
            raise forms.ValidationError(_("Check the year."))
        return value


class AgreementForm(LimitsMixin, forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=AgreementKind.choices)
    situation = forms.CharField(
        label=_("If this happens"),
        required=False,
        max_length=300,
        help_text=_("For contingencies: the foreseeable situation."),
    )
    text = forms.CharField(
        label=_("What we agree"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )
    contact = forms.CharField(
        label=_("Contact"),
        required=False,
        max_length=300,
        help_text=_("Whom to call, with phone number, also out of hours."),
    )


class MarkHeldForm(LimitsMixin, forms.Form):
    actual_start = LocalDateTimeField(label=_("Actual start"))
    actual_end = LocalDateTimeField(label=_("Actual end"))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("actual_start"), cleaned.get("actual_end")
        if start and end and end <= start:
            self.add_error("actual_end", _("The end must be after the start."))
        if start and start > timezone.now():
            self.add_error("actual_start", _("A meeting cannot be held in the future."))
        return cleaned


class MinutesForm(LimitsMixin, forms.Form):
    """Preparation, travel and meeting minutes for each editable participant (fields
    `p<pk>-preparation` etc.); no travel field for someone who took part remotely."""

    def __init__(self, *args, participants, **kwargs):
        super().__init__(*args, **kwargs)
        self.participants = participants
        for p in participants:
            self.fields[f"p{p.pk}-preparation"] = self._minutes(
                _("Preparation (minutes)"), p.preparation_minutes
            )
            if not p.attended_remotely:
                travel = p.travel_minutes if p.travel_minutes is not None else 30
                self.fields[f"p{p.pk}-travel"] = self._minutes(_("Travel (minutes)"), travel)
            self.fields[f"p{p.pk}-meeting"] = self._minutes(
                _("Meeting (minutes)"), p.meeting_minutes
            )

    @staticmethod
    def _minutes(label, initial):
        return forms.IntegerField(
            label=label, required=False, min_value=0, max_value=1440, initial=initial
        )

    def rows(self, staff):
        """(participant, [bound fields] or None when not editable here) for each staff member."""
        editable = {p.pk for p in self.participants}
        rows = []
        for p in staff:
            if p.pk not in editable:
                rows.append((p, None))
                continue
            names = [f"p{p.pk}-preparation", f"p{p.pk}-travel", f"p{p.pk}-meeting"]
            rows.append((p, [self[name] for name in names if name in self.fields]))
        return rows

    def minutes(self) -> dict[int, tuple[int | None, int | None, int | None]]:
        """{participant pk: (preparation, travel, meeting)} as `minutes_record_all` takes it."""
        data = self.cleaned_data
        return {
            p.pk: tuple(
                data.get(f"p{p.pk}-{name}") for name in ("preparation", "travel", "meeting")
            )
            for p in self.participants
        }


# --- A meeting registered afterwards ---

TOOK_PART = [
    ("", _("Not invited")),
    ("came", _("Took part")),
    ("absent", _("Invited, did not come")),
]


def _membership_label(m: Membership) -> str:
    return f"{m.user.get_full_name() or m.user.username} – {m.get_role_display()}, {m.organisation}"


class HeldMeetingForm(LimitsMixin, forms.Form):
    """A meeting that has already been held, entered with its real dates
    (`meetings.registration`). One row per staff member of the organisations serving the
    person, one per relative, and a few decision rows (empty ones are left out)."""

    DECISION_ROWS = 4

    initiator = forms.TypedChoiceField(label=_("Who took the initiative"), coerce=int)
    raised_by = forms.ChoiceField(label=_("Who raised the concern"), choices=RaisedBy.choices)
    reasons = forms.MultipleChoiceField(
        label=_("Reasons"), required=False, widget=forms.CheckboxSelectMultiple
    )
    reason_text = forms.CharField(
        label=_("More about the reasons"), required=False, max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip
    kind = forms.ChoiceField(
        label=_("Type of meeting"), choices=MeetingKind.choices, initial=MeetingKind.FULL
    )
    initiated_on = forms.DateField(
        label=_("Date of the initiative"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    consent_on = forms.DateField(
        label=_("Date of consent"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    consent_how = forms.ChoiceField(
        label=_("How consent was given"), choices=Consent.How.choices, initial="orally"
    )
    representative_name = forms.CharField(
        label=_("Representative's name"), required=False, max_length=200
    )
    share_information = forms.BooleanField(
        label=_("The other organisations could be contacted and information shared"),
        required=False,
        initial=True,
    )
    starts_at = LocalDateTimeField(label=_("The meeting started"))
    ends_at = LocalDateTimeField(label=_("The meeting ended"))
    location = forms.CharField(
        label=_("Place"), required=False, max_length=300, help_text=_("Empty: the person's home.")
    )
    convener = forms.TypedChoiceField(label=_("Who convened"), coerce=int)
    person_attended = forms.BooleanField(
        label=_("The person took part"), required=False, initial=True
    )

    def __init__(self, *args, person, **kwargs):
        super().__init__(*args, **kwargs)
        from .registration import staff_candidates

        self.person = person
        self.memberships = staff_candidates(person)
        self.relatives = list(Relative.objects.filter(person=person).order_by("name"))
        by_pk = {m.pk: m for m in self.memberships}
        self.by_pk = by_pk
        self.fields["initiator"].choices = [("", "—")] + [
            (m.pk, _membership_label(m)) for m in self.memberships
        ]
        self.fields["convener"].choices = [("", "—")] + [
            (m.pk, _membership_label(m))
            for m in self.memberships
            if m.organisation.kind == Organisation.Kind.HOME_HEALTH_CARE
            and m.role in (Role.NURSE, Role.PHYSICIAN)
        ]
        self.fields["reasons"].choices = [
            (str(label), [(r.value, r.label) for r in group]) for label, group in REASON_GROUPS
        ]
        reasons_absent = [("", "—")] + list(AbsenceReason.choices)
        for m in self.memberships:
            self._attendance_fields(f"staff_{m.pk}", reasons_absent, modes=True)
        for r in self.relatives:
            self._attendance_fields(f"relative_{r.pk}", reasons_absent, modes=False)
        organisations = sorted({m.organisation for m in self.memberships}, key=str)
        from followup.models import DecisionStatus

        for i in range(self.DECISION_ROWS):
            p = f"decision_{i}"
            self.fields[f"{p}_organisation"] = forms.TypedChoiceField(
                label=_("Organisation"), coerce=int, required=False,
                choices=[("", "—")] + [(o.pk, str(o)) for o in organisations],
            )  # fmt: skip
            self.fields[f"{p}_category"] = forms.ChoiceField(
                label=_("Category"), choices=DecisionCategory.choices, required=False
            )
            self.fields[f"{p}_description"] = forms.CharField(
                label=_("What"), required=False, max_length=2000
            )
            self.fields[f"{p}_responsible"] = forms.TypedChoiceField(
                label=_("Responsible"), coerce=int, required=False,
                choices=[("", "—")] + [(m.pk, _membership_label(m)) for m in self.memberships],
            )  # fmt: skip
            self.fields[f"{p}_due_date"] = forms.DateField(
                label=_("By when"), required=False,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )  # fmt: skip
            self.fields[f"{p}_person_answer"] = forms.ChoiceField(
                label=_("The person's answer"), choices=PersonAnswer.choices, required=False
            )
            self.fields[f"{p}_status"] = forms.ChoiceField(
                label=_("Follow-up status"), required=False,
                choices=[("", _("Not followed up yet"))] + list(DecisionStatus.choices),
            )  # fmt: skip
            self.fields[f"{p}_status_date"] = forms.DateField(
                label=_("Status since"), required=False,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            )  # fmt: skip

    def _attendance_fields(self, prefix, reasons_absent, *, modes: bool):
        select = {"class": "form-select form-select-sm"}
        self.fields[f"{prefix}_took_part"] = forms.ChoiceField(
            label=_("Took part"), choices=TOOK_PART, required=False,
            widget=forms.Select(attrs=select),
        )  # fmt: skip
        if modes:
            self.fields[f"{prefix}_mode"] = forms.ChoiceField(
                label=_("How"), choices=Participant.Mode.choices, required=False,
                widget=forms.Select(attrs=select),
            )  # fmt: skip
        self.fields[f"{prefix}_absence_reason"] = forms.ChoiceField(
            label=_("Reason for absence"), choices=reasons_absent, required=False,
            widget=forms.Select(attrs=select),
        )  # fmt: skip
        self.fields[f"{prefix}_absence_note"] = forms.CharField(
            label=_("About the absence"), required=False, max_length=300,
            widget=forms.TextInput(attrs={"class": "form-control form-control-sm"}),
        )  # fmt: skip

    # Rows for the template.
    def staff_rows(self):
        return [
            (m, [self[f"staff_{m.pk}_{n}"] for n in ("took_part", "mode", "absence_reason",
                                                      "absence_note")])
            for m in self.memberships
        ]  # fmt: skip

    def relative_rows(self):
        return [
            (r, [self[f"relative_{r.pk}_{n}"] for n in ("took_part", "absence_reason",
                                                         "absence_note")])
            for r in self.relatives
        ]  # fmt: skip

    def decision_rows(self):
        names = ("organisation", "category", "description", "responsible", "due_date",
                 "person_answer", "status", "status_date")  # fmt: skip
        return [[self[f"decision_{i}_{n}"] for n in names] for i in range(self.DECISION_ROWS)]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("reasons") and not (cleaned.get("reason_text") or "").strip():
            self.add_error("reasons", _("Give at least one reason."))
        for prefix in [f"staff_{m.pk}" for m in self.memberships] + [
            f"relative_{r.pk}" for r in self.relatives
        ]:
            took_part = cleaned.get(f"{prefix}_took_part")
            reason = cleaned.get(f"{prefix}_absence_reason")
            if reason and took_part != "absent":
                self.add_error(
                    f"{prefix}_absence_reason",
                    _("A reason for absence only for someone invited who did not come."),
                )
            if reason == AbsenceReason.OTHER and not cleaned.get(f"{prefix}_absence_note"):
                self.add_error(f"{prefix}_absence_note", _("Describe the other reason."))
        for i in range(self.DECISION_ROWS):
            p = f"decision_{i}"
            if not (cleaned.get(f"{p}_description") or "").strip():
                continue
            for name in ("organisation", "category", "responsible", "person_answer"):
                if cleaned.get(f"{p}_{name}") in (None, ""):
                    self.add_error(f"{p}_{name}", _("Fill this in for the decision."))
        return cleaned

    def held_meeting(self):
        """The registration's input (`meetings.registration.HeldMeeting`)."""
        from .registration import (
            HeldMeeting,
            RegisteredDecision,
            RelativeAttendance,
            StaffAttendance,
        )

        data = self.cleaned_data
        initiator = self.by_pk[data["initiator"]]
        staff = []
        for m in self.memberships:
            p = f"staff_{m.pk}"
            took_part = data.get(f"{p}_took_part")
            if not took_part:
                continue
            staff.append(
                StaffAttendance(
                    user=m.user, organisation=m.organisation, role=m.role,
                    attended=took_part == "came",
                    mode=data.get(f"{p}_mode") or Participant.Mode.IN_PERSON,
                    absence_reason=data.get(f"{p}_absence_reason") or "",
                    absence_note=data.get(f"{p}_absence_note") or "",
                )
            )  # fmt: skip
        relatives = [
            RelativeAttendance(
                relative=r,
                attended=data.get(f"relative_{r.pk}_took_part") == "came",
                absence_reason=data.get(f"relative_{r.pk}_absence_reason") or "",
                absence_note=data.get(f"relative_{r.pk}_absence_note") or "",
            )
            for r in self.relatives
            if data.get(f"relative_{r.pk}_took_part")
        ]
        organisations = {m.organisation.pk: m.organisation for m in self.memberships}
        decisions = []
        for i in range(self.DECISION_ROWS):
            p = f"decision_{i}"
            if not (data.get(f"{p}_description") or "").strip():
                continue
            decisions.append(
                RegisteredDecision(
                    organisation=organisations[data[f"{p}_organisation"]],
                    category=data[f"{p}_category"],
                    description=data[f"{p}_description"].strip(),
                    responsible=self.by_pk[data[f"{p}_responsible"]].user,
                    person_answer=data[f"{p}_person_answer"],
                    due_date=data.get(f"{p}_due_date"),
                    status=data.get(f"{p}_status") or "",
                    status_date=data.get(f"{p}_status_date"),
                )
            )
        return HeldMeeting(
            person=self.person,
            initiated_by=initiator.user,
            initiator_organisation=initiator.organisation,
            initiated_on=data["initiated_on"],
            consent_on=data["consent_on"],
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            convener=self.by_pk[data["convener"]].user,
            raised_by=data["raised_by"],
            reasons=data["reasons"],
            reason_text=data["reason_text"],
            kind=data["kind"],
            location=data["location"],
            consent_how=data["consent_how"],
            representative_name=data["representative_name"],
            share_information=data["share_information"],
            person_attended=data["person_attended"],
            staff=staff,
            relatives=relatives,
            decisions=decisions,
        )


class ImportFileForm(forms.Form):
    file = forms.FileField(
        label=_("Filled-in template (XLSX or CSV)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".xlsx", ".csv")):
            raise forms.ValidationError(_("Choose an XLSX or CSV file."))
        return upload
