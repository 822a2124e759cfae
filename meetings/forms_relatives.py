"""Forms of the relatives' area: few fields, large, and they keep what was typed."""

from django import forms
from django.utils.translation import gettext_lazy as _


class RelativeContributionForm(forms.Form):
    what_matters = forms.CharField(
        label=_("What matters most to you and to your relative?"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Everyone at the meeting reads this before it starts."),
    )
    questions = forms.CharField(
        label=_("Your questions for the meeting"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean(self):
        cleaned = super().clean()
        if (
            not (cleaned.get("what_matters") or "").strip()
            and not (cleaned.get("questions") or "").strip()
        ):
            raise forms.ValidationError({"what_matters": _("Write what matters or a question.")})
        return cleaned


class LinkRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("Your email address"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "inputmode": "email"}),
        help_text=_("The address the care staff have for you."),
    )
