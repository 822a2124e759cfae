import re

from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from participants.selectors import care_organisation_ids

from ..models import Meeting, Participant
from ..worklist import meetings_for_person

register = template.Library()

STATE_CLASSES = {
    Meeting.State.INITIATED: "state-initiated",
    Meeting.State.CONSENT: "state-consent",
    Meeting.State.CONVENING: "state-convening",
    Meeting.State.SCHEDULED: "state-scheduled",
    Meeting.State.HELD: "state-held",
    Meeting.State.CLOSED: "state-closed",
    Meeting.State.DECLINED: "state-ended",
    Meeting.State.CANCELLED: "state-ended",
}
RESPONSE_CLASSES = {
    Participant.Response.NEEDS_ACTION: "text-bg-light border",
    Participant.Response.ACCEPTED: "text-bg-success",
    Participant.Response.DECLINED: "text-bg-danger",
    Participant.Response.TENTATIVE: "text-bg-warning",
}


@register.filter
def state_class(state: str) -> str:
    return STATE_CLASSES.get(state, "state-ended")


@register.filter
def response_class(response: str) -> str:
    return RESPONSE_CLASSES.get(response, "text-bg-light border")


# A phone number inside a text such as "08-555 202 99 (socialjour)" or "+46 8 555 101 00".
_PHONE = re.compile(r"\+?\d[\d \-]{3,}\d")


@register.filter
def tel(value) -> str:
    """A phone number as a tap-to-call link (the rest of the text as it is): relatives read
    these pages on their phones."""
    text = str(value or "")
    match = _PHONE.search(text)
    if match is None:
        return escape(text)
    number = re.sub(r"[ \-]", "", match.group(0))
    link = format_html('<a href="tel:{}">{}</a>', number, match.group(0))
    return mark_safe(escape(text[: match.start()]) + link + escape(text[match.end() :]))  # noqa: S308 - parts escaped


@register.inclusion_tag("meetings/_person_meetings.html", takes_context=True)
def person_meetings(context, person, team=None):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"meetings": [], "person": person}
    can_propose = bool(care_organisation_ids(user))
    return {
        "meetings": meetings_for_person(user, person, team),
        "person": person,
        "can_propose": can_propose,
    }


@register.inclusion_tag("meetings/_propose_button.html", takes_context=True)
def propose_meeting_button(context, person):
    request = context.get("request")
    user = getattr(request, "user", None)
    show = user is not None and user.is_authenticated and bool(care_organisation_ids(user))
    return {"person": person, "show": show}
