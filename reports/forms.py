import datetime as dt
from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from participants.models import Role

from .costs import CostModel
from .figures import Period
from .models import COSTED_ROLES

MAX_PERIOD_DAYS = 5 * 366


class ReportFilterForm(forms.Form):
    """The period and the organisation (GET). Which organisations may be chosen is decided
    by `selectors.report_scope`; the choices only list them."""

    date_from = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), widget=forms.DateInput(attrs={"type": "date"}))
    organisation = forms.ChoiceField(label=_("Organisation"), required=False)

    def __init__(self, *args, organisations=(), allow_all=False, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("All organisations"))] if allow_all else []
        choices += [(str(o.pk), o.name) for o in organisations]
        self.fields["organisation"].choices = choices

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end:
            if end < start:
                self.add_error("date_to", _("The end must not be before the start."))
            elif (end - start).days > MAX_PERIOD_DAYS:
                self.add_error("date_to", _("Choose a period of at most five years."))
        for name in ("date_from", "date_to"):
            day = data.get(name)
            if day and not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
                self.add_error(name, _("Choose a date between 2000 and 2100."))
        return data

    @property
    def period(self) -> Period:
        return Period(self.cleaned_data["date_from"], self.cleaned_data["date_to"])


def rate_field_names(role: str) -> tuple[str, str]:
    return f"rate_{role}", f"preparation_{role}"


class CostSettingsForm(forms.Form):
    """A dated set: hourly rate and standard preparation per role, standard times and unit
    costs, applying from a day until the next set."""

    valid_from = forms.DateField(
        label=_("Applies from"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "Meetings held from this day are costed with these values; earlier meetings keep "
            "the values they were costed with."
        ),
    )
    meeting_minutes = forms.IntegerField(
        label=_("Meeting (minutes)"),
        min_value=0,
        max_value=600,
        help_text=_("Used when a participant's meeting time was not recorded."),
    )
    travel_minutes = forms.IntegerField(
        label=_("Travel per professional (minutes)"),
        min_value=0,
        max_value=600,
        help_text=_("Used for those who came in person when travel was not recorded."),
    )
    convening_minutes = forms.IntegerField(
        label=_("Convening (minutes)"),
        min_value=0,
        max_value=600,
        help_text=_("The convener's time to invite everyone, when it was not recorded."),
    )
    physician_contact_sek = forms.DecimalField(
        label=_("Physician contact (SEK)"), min_value=0, max_value=1_000_000, decimal_places=2
    )
    other_contact_sek = forms.DecimalField(
        label=_("Other health care staff contact (SEK)"),
        min_value=0,
        max_value=1_000_000,
        decimal_places=2,
    )
    hospital_stay_sek = forms.DecimalField(
        label=_("Hospital stay (SEK)"), min_value=0, max_value=10_000_000, decimal_places=2
    )

    SETTINGS = (
        "meeting_minutes",
        "travel_minutes",
        "convening_minutes",
        "physician_contact_sek",
        "other_contact_sek",
        "hospital_stay_sek",
    )

    def __init__(self, *args, organisation, cost_model: CostModel, on: dt.date, **kwargs):
        """`on`: the day whose values in force fill the form (and its "applies from")."""
        standards = cost_model.standards_for(organisation.pk, on)
        initial = {"valid_from": on}
        initial.update({name: getattr(standards, name) for name in self.SETTINGS})
        for role in COSTED_ROLES:
            rate, prep = rate_field_names(role)
            initial[rate] = cost_model.hourly_rate(organisation.pk, role, on)
            initial[prep] = cost_model.preparation_minutes(organisation.pk, role, on)
        super().__init__(*args, initial=initial, **kwargs)
        for role in COSTED_ROLES:
            rate, prep = rate_field_names(role)
            label = Role(role).label
            self.fields[rate] = forms.DecimalField(
                label=_("%(role)s: SEK per hour") % {"role": label},
                decimal_places=2,
                validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100_000))],
            )
            self.fields[prep] = forms.IntegerField(
                label=_("%(role)s: standard preparation (minutes)") % {"role": label},
                min_value=0,
                max_value=600,
            )

    def clean_valid_from(self):
        day = self.cleaned_data["valid_from"]
        if not dt.date(2000, 1, 1) <= day <= dt.date(2100, 12, 31):
            raise forms.ValidationError(_("Choose a date between 2000 and 2100."))
        return day

    def rates(self) -> dict[str, tuple[Decimal, int]]:
        return {
            role: (
                self.cleaned_data[rate_field_names(role)[0]],
                self.cleaned_data[rate_field_names(role)[1]],
            )
            for role in COSTED_ROLES
        }

    def settings(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.SETTINGS}
