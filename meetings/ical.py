"""iCalendar invitations and cancellations (RFC 5545, iTIP RFC 5546) for one meeting.

One UID per meeting for its whole life, so a calendar updates the same entry when the time
changes (SEQUENCE is `meeting.ical_sequence`, raised by every reschedule and the cancel).
Calendars are often shared or synced to phones and other systems, so the entry carries the
person's initials only and no health data; the email says the rest.
"""

import datetime as dt
from urllib.parse import urlparse
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vText

from .models import Meeting, Participant

REQUEST = "REQUEST"
CANCEL = "CANCEL"

PARTSTAT = {
    Participant.Response.NEEDS_ACTION: "NEEDS-ACTION",
    Participant.Response.ACCEPTED: "ACCEPTED",
    Participant.Response.DECLINED: "DECLINED",
    Participant.Response.TENTATIVE: "TENTATIVE",
}


def site_host() -> str:
    return urlparse(settings.SITE_URL).hostname or "vom.example"


def meeting_uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.pk}@{site_host()}"


def person_initials(meeting: Meeting) -> str:
    person = meeting.person
    return f"{person.first_name[:1]}. {person.last_name[:1]}.".strip()


def _address(participant: Participant) -> tuple[str, str]:
    """(email, display name) of an invitee; the person has no address of their own here."""
    if participant.user_id:
        return participant.user.email, participant.user.get_full_name() or participant.user.username
    if participant.relative_id:
        return participant.relative.email, participant.relative.name
    return "", ""


def _cal_address(email: str, name: str, **params) -> vCalAddress:
    address = vCalAddress(f"mailto:{email}")
    if name:
        address.params["CN"] = vText(name)
    for key, value in params.items():
        address.params[key.replace("_", "-").upper()] = vText(value)
    return address


def build_calendar(
    meeting: Meeting,
    *,
    method: str,
    participants: list[Participant],
    location: str,
    description: str = "",
    now: dt.datetime | None = None,
) -> bytes:
    """A VCALENDAR with one VEVENT and the VTIMEZONE it refers to.

    `participants` are the attendees to list (everyone still invited for a REQUEST; for a
    CANCEL sent to one removed invitee, only that invitee). `location` is chosen by the
    caller because the person's address goes to staff only.
    """
    if meeting.starts_at is None:
        raise ValueError("a calendar entry needs the meeting's start time")
    zone = ZoneInfo(settings.TIME_ZONE)
    start = meeting.starts_at.astimezone(zone)
    end = meeting.ends_at.astimezone(zone)
    now = now or timezone.now()

    calendar = Calendar()
    calendar.add("prodid", "-//VOM//Care meetings in the home//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)

    event = Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", meeting.ical_sequence)
    event.add("dtstamp", now.astimezone(dt.UTC))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add(
        "summary",
        _("Care meeting in the home (%(initials)s)") % {"initials": person_initials(meeting)},
    )
    if location:
        event.add("location", location)
    if description:
        event.add("description", description)
    event.add("status", "CANCELLED" if method == CANCEL else "CONFIRMED")
    event.add("transp", "OPAQUE")

    convener = meeting.convener
    if convener is not None and convener.email:
        event.add("organizer", _cal_address(convener.email, convener.get_full_name()))
    for participant in participants:
        email, name = _address(participant)
        if not email:
            continue
        event.add(
            "attendee",
            _cal_address(
                email,
                name,
                cutype="INDIVIDUAL",
                role="CHAIR" if participant.is_convener else "REQ-PARTICIPANT",
                partstat=PARTSTAT[participant.response],
                # Answers are recorded through the signed links in the email; a calendar's
                # own reply would only reach the convener's mailbox.
                rsvp="FALSE",
            ),
        )
    calendar.add_component(event)
    # The VTIMEZONE covers a year either side: enough for any client, and short.
    calendar.add_missing_timezones(
        first_date=(start - dt.timedelta(days=366)).date(),
        last_date=(end + dt.timedelta(days=366)).date(),
    )
    return calendar.to_ical()
