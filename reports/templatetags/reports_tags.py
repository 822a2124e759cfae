from django import template
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

from reports.rounding import Percent, percent
from reports.selectors import may_see_reports
from reports.suppression import SUPPRESSED

register = template.Library()


@register.simple_tag(takes_context=True)
def reports_nav_item(context):
    """The navigation link to the reports, for those who may see them (managers,
    organisation admins, the steering group). Memberships are cached on the user."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not may_see_reports(user):
        return ""
    return format_html(
        '<li class="nav-item"><a class="nav-link px-2" href="{}">{}</a></li>',
        reverse("reports:dashboard"),
        _("Reports"),
    )


@register.filter
def cell(value, kind):
    """A report value formatted for its kind, in the current language."""
    if value is None:
        return "–"
    if value == SUPPRESSED:
        # "<5" reads as a count; an amount or a share computed from few persons is "(<5)".
        return value if kind == "int" else f"({value})"
    if kind == "share":
        return f"{number_format(value if isinstance(value, Percent) else percent(value), 0)} %"
    if kind == "sek":
        return number_format(round(float(value)), 0, force_grouping=True)
    if kind in ("days", "minutes", "decimal"):
        return number_format(value, 1 if isinstance(value, float) else 0, force_grouping=True)
    if kind == "month":
        return date_format(value, "F Y")
    if kind == "int":
        return number_format(value, 0, force_grouping=True)
    return value


@register.filter
def get(row, key):
    return row.get(key) if hasattr(row, "get") else None
