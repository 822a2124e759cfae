"""Signed reply links: accept, decline or "maybe" from the email, without signing in.

A token names one participant, one answer and the meeting's sequence (its version), signed
with SECRET_KEY and a timestamp. It cannot be changed to act for someone else (the
signature breaks), it stops working after REPLY_LINK_MAX_AGE, when the time has changed
(a newer invitation replaces it), and when the meeting has passed, been cancelled or the
participant is no longer invited. Opening the link only shows a page; the answer is recorded
by the form on it, so mail scanners that follow links do not answer for anyone.
"""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import Meeting, Participant

SALT = "meetings.reply-link"
REPLY_LINK_MAX_AGE = dt.timedelta(days=30)

R = Participant.Response
CODES = {"a": R.ACCEPTED, "d": R.DECLINED, "t": R.TENTATIVE}
RESPONSE_CODES = {response: code for code, response in CODES.items()}
ANSWERS = [R.ACCEPTED, R.TENTATIVE, R.DECLINED]
ACTION_LABELS = {
    R.ACCEPTED: gettext_lazy("Yes, I will come"),
    R.TENTATIVE: gettext_lazy("Maybe"),
    R.DECLINED: gettext_lazy("No, I cannot come"),
}


class LinkInvalid(Exception):
    """Not a link we made, or changed after we made it."""


class LinkExpired(Exception):
    """A genuine link that is too old."""


@dataclass(frozen=True)
class ReplyLink:
    participant_id: int
    response: str
    sequence: int


def make_token(participant: Participant, response: str, *, sequence: int | None = None) -> str:
    if sequence is None:
        sequence = participant.meeting.ical_sequence
    payload = {"p": participant.pk, "r": RESPONSE_CODES[response], "s": sequence}
    return signing.TimestampSigner(salt=SALT).sign_object(payload)


def reply_url(participant: Participant, response: str, *, sequence: int | None = None) -> str:
    token = make_token(participant, response, sequence=sequence)
    return settings.SITE_URL + reverse("reply", args=[token])


def read_token(token: str) -> ReplyLink:
    try:
        payload = signing.TimestampSigner(salt=SALT).unsign_object(
            token, max_age=REPLY_LINK_MAX_AGE
        )
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except (signing.BadSignature, ValueError, UnicodeError) as exc:
        raise LinkInvalid from exc
    try:
        return ReplyLink(
            participant_id=int(payload["p"]),
            response=CODES[payload["r"]],
            sequence=int(payload["s"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LinkInvalid from exc


def link_problem(participant: Participant, link: ReplyLink) -> str | None:
    """Why this genuine link can no longer be used, or None."""
    meeting = participant.meeting
    if participant.removed_at is not None:
        return _("You are no longer invited to this meeting.")
    if meeting.state == Meeting.State.CANCELLED:
        return _("The meeting has been cancelled.")
    if meeting.state not in (Meeting.State.CONVENING, Meeting.State.SCHEDULED):
        return _("The meeting no longer takes answers.")
    if meeting.starts_at is not None and meeting.starts_at <= timezone.now():
        return _("The meeting has already taken place.")
    if link.sequence != meeting.ical_sequence:
        return _("The time of the meeting has changed. Use the link in the newest email.")
    return None


def answer_links(participant: Participant) -> list[tuple[str, str]]:
    """(what the button says, url) for each possible answer, in the order shown in emails."""
    return [
        (str(ACTION_LABELS[response]), reply_url(participant, response)) for response in ANSWERS
    ]
