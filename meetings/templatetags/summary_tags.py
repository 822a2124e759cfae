"""The summary and relatives panel for the meeting page: `{% load summary_tags %}
{% summary_panel meeting %}`. It reads what it shows itself; on the meeting page it takes
the consent and the user's permission context (`ctx`) the view already loaded."""

from django import template

from .. import summary_services
from ..relatives import RELATIVE_STATES
from ..services import current_consent
from ..summary import SUMMARY_STATES

register = template.Library()


@register.inclusion_tag("meetings/summary/_meeting_panel.html", takes_context=True)
def summary_panel(context, meeting):
    request = context.get("request")
    user = getattr(request, "user", None)
    held = meeting.state in SUMMARY_STATES and not meeting.sharing_withdrawn
    panel = {
        "withdrawn": meeting.sharing_withdrawn,
        "meeting": meeting,
        "held": held,
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "is_convener": user is not None and meeting.convener_id == user.pk,
    }
    ctx = context.get("ctx")
    if held:
        participants = None  # read by receipts_overview unless the page has them
        if ctx is not None and ctx.meeting.pk == meeting.pk and ctx.user == user:
            participants = context.get("participants")  # the page's active participants
            is_participant = ctx.participant is not None and ctx.participant.is_organisation_staff
        else:
            is_participant = summary_services.staff_participant(user, meeting) is not None
        overview = summary_services.receipts_overview(meeting, user, participants=participants)
        panel.update(
            receipts=overview.receipts,
            current_version=overview.current_version,
            has_read=overview.has_read,
            is_participant=is_participant,
        )
    relatives = []
    if meeting.shared and meeting.state in RELATIVE_STATES:
        consent = context["consent"] if "consent" in context else current_consent(meeting)
        relatives = list(consent.relatives.all()) if consent else []
    panel["relatives"] = relatives
    return panel
