"""Plain-text rendering of register-extract values for people (page and PDF)."""

import datetime as dt

from django import template
from django.utils import formats, timezone
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def extract_value(value) -> str:
    if value is None or value == "":
        return "–"
    if value is True:
        return _("yes")
    if value is False:
        return _("no")
    if isinstance(value, dt.datetime):
        return formats.date_format(timezone.localtime(value), "j F Y H:i")
    if isinstance(value, dt.date):
        return formats.date_format(value, "j F Y")
    if isinstance(value, dict):
        return "; ".join(f"{key}: {extract_value(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        if len(value) == 2 and not any(isinstance(v, dict | list) for v in value):
            return f"{extract_value(value[0])} → {extract_value(value[1])}"
        return ", ".join(extract_value(item) for item in value)
    return str(value)
