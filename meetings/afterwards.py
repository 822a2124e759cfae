"""Registering a meeting afterwards: the one path on which the lifecycle services accept
times in the past.

`meetings.registration.meeting_register_held` runs the ordinary services (initiative,
consent, convening, invitations, the time, attendance, held, decisions, follow-up) inside
`registering(...)`. While it is active, and only then:
- times in the past are accepted (the live lifecycle refuses them);
- the moments the services would stamp with "now" (initiative, consent, held) take the
  registered dates;
- the per-action permission checks give way to the one check the registration made before
  it began (the registrar works for an organisation in the person's care team), since the
  registrar records for everyone who took part;
- no message about the meeting's run-up is written (invitations, reminders, "a convener
  is needed"): the meeting is over. The follow-up questions that are still to come (a
  meeting held last week) are written as usual (`notifications.AFTER_THE_MEETING`).
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Registration:
    registrar: object  # participants.models.User
    at: dt.datetime
    initiated_at: dt.datetime
    consent_at: dt.datetime
    held_at: dt.datetime


_current: ContextVar[Registration | None] = ContextVar("meeting_registration", default=None)


def current() -> Registration | None:
    """The registration in progress in this context, or None on the live lifecycle."""
    return _current.get()


@contextmanager
def registering(registration: Registration) -> Iterator[Registration]:
    token = _current.set(registration)
    try:
        yield registration
    finally:
        _current.reset(token)
