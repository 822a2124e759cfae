import datetime as dt

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import personnummer as pnr
from .models import (
    AccessLog,
    CareTeamEntry,
    Membership,
    Organisation,
    Person,
    Relative,
    Role,
    User,
)

# Free text has no limit in the database; a form that accepted a megabyte would fill pages
# and PDFs with it. Long enough for a door code story, short enough to read.
FREE_TEXT_MAX_LENGTH = 2000


def limit_free_text(form: forms.BaseForm, names, max_length: int = FREE_TEXT_MAX_LENGTH) -> None:
    for name in names:
        field = form.fields[name]
        field.max_length = max_length
        field.validators.append(MaxLengthValidator(max_length))
        field.widget.attrs["maxlength"] = str(max_length)


class OutboxPasswordResetForm(PasswordResetForm):
    """The reset link goes through the outbox like every other message: if the mail server
    is down it is sent when it is back (with retries and a "not delivered" state), instead
    of being lost while the page says it was sent."""

    def send_mail(self, subject_template_name, email_template_name, context, from_email,
                  to_email, html_email_template_name=None):  # fmt: skip
        from meetings import notifications

        notifications.account_email(context["user"], notifications.Kind.PASSWORD_RESET)


class LoginForm(AuthenticationForm):
    username = forms.CharField(
        label=_("Username or email"),
        max_length=254,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )

    def clean(self):
        from . import lockout

        # An account tried from many addresses takes one attempt per waiting time; the
        # password is not even checked meanwhile (and the wait is the same for a name that
        # has no account, so it tells nothing).
        credentials = {"username": self.cleaned_data.get("username")}
        wait = lockout.slowdown(self.request, credentials)
        if wait and not lockout.is_locked(self.request, credentials):
            raise forms.ValidationError(
                _("Too many failed sign-ins for this account. Wait %(n)s seconds and try again.")
                % {"n": wait},
                code="slowdown",
            )
        return super().clean()

    def confirm_login_allowed(self, user):
        """An organisation with an identity provider keeps no passwords: a user whose
        memberships are all in such organisations signs in through the provider."""
        super().confirm_login_allowed(user)
        from sso.models import ConnectedOrganisation

        memberships = Membership.objects.active().filter(user=user)
        connected = ConnectedOrganisation.objects.filter(
            organisation__in=memberships.values("organisation"), provider__is_active=True
        ).values("organisation")
        if memberships.exists() and not memberships.exclude(organisation__in=connected).exists():
            raise forms.ValidationError(
                _(
                    "Your organisation signs in through its own sign-in. Use the button "
                    "“Log in with SITHS” above."
                ),
                code="use_provider",
            )


class PersonForm(forms.ModelForm):
    personnummer = forms.CharField(
        label=_("Personal identity number"),
        max_length=20,
        help_text=_("YYYYMMDD-NNNN. A coordination number (samordningsnummer) also works."),
    )

    class Meta:
        model = Person
        fields = [
            "first_name",
            "last_name",
            "personnummer",
            "phone",
            "street_address",
            "postal_code",
            "city",
            "access_notes",
            "preferred_language",
            "interpreter_needed",
            "hearing_vision_notes",
            "representative_kind",
            "representative_name",
            "representative_phone",
            "representative_email",
        ]
        widgets = {
            "access_notes": forms.Textarea(attrs={"rows": 2}),
            "hearing_vision_notes": forms.Textarea(attrs={"rows": 2}),
        }

    def __init__(self, *args, organisations=None, **kwargs):
        super().__init__(*args, **kwargs)
        limit_free_text(self, ["access_notes", "hearing_vision_notes"])
        if self.instance.pk:
            self.initial["personnummer"] = pnr.Personnummer(
                self.instance.personnummer, self.instance.date_of_birth, False
            ).formatted
        if organisations is not None and not self.instance.pk:
            self.fields["organisation"] = forms.ModelChoiceField(
                label=_("Served by"),
                queryset=Organisation.objects.filter(pk__in=[o.pk for o in organisations]),
                initial=organisations[0] if len(organisations) == 1 else None,
                help_text=_("Your organisation joins the person's care team."),
            )

    def clean_personnummer(self):
        try:
            parsed = pnr.parse(self.cleaned_data["personnummer"])
        except pnr.InvalidPersonnummer as exc:
            raise forms.ValidationError(str(exc)) from None
        self.parsed_personnummer = parsed
        return parsed.digits

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("representative_kind")
        if kind and not cleaned.get("representative_name"):
            self.add_error("representative_name", _("Name the representative."))
        return cleaned

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("organisation", None)
        if hasattr(self, "parsed_personnummer"):
            data["date_of_birth"] = self.parsed_personnummer.date_of_birth
        return data

    def _post_clean(self):
        # The model's own validation would run before date_of_birth is derived; the service
        # saves, so only form-level validation belongs here.
        pass


class RelativeForm(forms.ModelForm):
    class Meta:
        model = Relative
        fields = ["name", "relation", "phone", "email", "preferred_language", "wants_involved"]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("phone") and not cleaned.get("email"):
            self.add_error("phone", _("Give a phone number or an email address."))
        return cleaned


class CareTeamEntryForm(forms.ModelForm):
    class Meta:
        model = CareTeamEntry
        fields = ["organisation", "role", "member", "start_date", "end_date"]
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}),
            "end_date": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = Organisation.objects.filter(is_active=True)
        self.fields["member"].queryset = (
            User.objects.filter(is_active=True, memberships__is_active=True)
            .distinct()
            .order_by("last_name", "first_name")
        )
        self.fields["member"].required = False
        self.fields["role"].required = False
        self.fields["start_date"].initial = timezone.localdate()

    def clean(self):
        cleaned = super().clean()
        member, role, organisation = (
            cleaned.get("member"),
            cleaned.get("role"),
            cleaned.get("organisation"),
        )
        if member and not role:
            self.add_error("role", _("Choose the staff member's role for this person."))
        if role and not member:
            self.add_error("member", _("Choose the staff member who has this role."))
        if (
            member
            and organisation
            and not Membership.objects.active()
            .filter(user=member, organisation=organisation)
            .exists()
        ):
            self.add_error("member", _("This staff member does not work for that organisation."))
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The end date is before the start date."))
        return cleaned

    def _post_clean(self):
        pass


class StaffForm(forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("Email"))
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    title = forms.CharField(label=_("Title"), max_length=120, required=False)
    direct_phone = forms.CharField(label=_("Direct phone"), max_length=40, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["username"]

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        field = User._meta.get_field("username")
        for validator in field.validators:
            validator(username)
        return username


class TokenForm(forms.Form):
    token_error = _("Enter the six digits the app shows.")
    token = forms.CharField(
        label=_("Code from the authenticator app"),
        max_length=12,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
            }
        ),
        help_text=_("Six digits. A new code appears every 30 seconds."),
    )

    def clean_token(self):
        token = "".join(self.cleaned_data["token"].split())
        if not (token.isascii() and token.isdigit() and len(token) == 6):
            raise forms.ValidationError(self.token_error)
        return token


class SecondFactorForm(TokenForm):
    """Signing in: the app's six digits, or one of the backup codes for a lost phone."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["token"]
        field.label = _("Code from the authenticator app, or a backup code")
        field.help_text = _("Six digits from the app, or one of your eight-character backup codes.")
        field.widget.attrs.pop("pattern", None)
        field.widget.attrs["inputmode"] = "text"
        field.widget.attrs["autocapitalize"] = "off"
        self.token_error = _(
            "Enter the six digits the app shows, or an eight-character backup code."
        )

    def clean_token(self):
        from .services import is_backup_code, normalise_backup_code

        raw = self.cleaned_data["token"]
        if is_backup_code(raw):
            return normalise_backup_code(raw)
        return super().clean_token()


# The access log starts with the product; a date far outside it is a typing error, and at
# the very ends of the calendar the conversion to UTC would overflow.
EARLIEST_LOG_DATE = dt.date(2000, 1, 1)
LATEST_LOG_DATE = dt.date(2999, 12, 31)


def _check_log_dates(form: forms.Form, *names: str) -> None:
    for name in names:
        value = form.cleaned_data.get(name)
        if value and not EARLIEST_LOG_DATE <= value <= LATEST_LOG_DATE:
            form.add_error(
                name,
                _("Choose a date between %(first)s and %(last)s.")
                % {"first": EARLIEST_LOG_DATE.isoformat(), "last": LATEST_LOG_DATE.isoformat()},
            )


class AccessLogFilterForm(forms.Form):
    person = forms.CharField(
        label=_("Person"),
        required=False,
        max_length=100,
        help_text=_("Name, record number or personal identity number (or its last four)."),
    )
    user = forms.CharField(label=_("Staff member"), required=False, max_length=100)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    action = forms.ChoiceField(
        label=_("Action"),
        required=False,
        choices=[("", _("All"))] + list(AccessLog.Action.choices),
    )

    def clean(self):
        cleaned = super().clean()
        _check_log_dates(self, "date_from", "date_to")
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned


class ReviewStartForm(forms.Form):
    period_start = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        cleaned = super().clean()
        _check_log_dates(self, "period_start", "period_end")
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", _("The end date is before the start date."))
        if end and end > timezone.localdate():
            self.add_error("period_end", _("The period cannot end in the future."))
        return cleaned


class ReviewNoteForm(forms.Form):
    note = forms.CharField(
        label=_("Your assessment"),
        max_length=FREE_TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Was every access needed for the person's care? Note anything to follow up "
            "and with whom."
        ),
    )
