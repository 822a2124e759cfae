"""What every form of the product shares: long texts say their limit next to the field."""

from django import forms
from django.utils.formats import number_format
from django.utils.translation import gettext as _


def characters(n: int) -> str:
    """A character count as the language writes it (20 000 in Swedish, 20,000 in English)."""
    return number_format(n, force_grouping=True)


def limit_hint(field: forms.CharField) -> None:
    """Say the limit next to a long text field and let the page count against it
    (static/js/limits.js), instead of the browser silently cutting a pasted text at
    `maxlength`; the server refuses what is too long, with a message next to the field."""
    field.widget.attrs.pop("maxlength", None)
    field.widget.attrs["data-limit"] = str(field.max_length)
    limit = _("At most %(n)s characters.") % {"n": characters(field.max_length)}
    field.help_text = f"{field.help_text} {limit}" if field.help_text else limit
    field.error_messages["max_length"] = _(
        "At most %(limit_value)s characters; this text has %(show_value)s."
    ) % {"limit_value": characters(field.max_length), "show_value": "%(show_value)s"}


class LimitsMixin:
    """Applies `limit_hint` to every text area with a maximum length."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if (
                isinstance(field, forms.CharField)
                and field.max_length
                and isinstance(field.widget, forms.Textarea)
            ):
                limit_hint(field)
