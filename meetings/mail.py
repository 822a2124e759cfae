"""What an outbox row says: the email (text, HTML, iCalendar) or the SMS text.

Rendering is pure: it reads the row and the meeting as they are now and returns the message;
`meetings.delivery` decides when to send it. Everything is in the recipient's language.

What each reader may see:
- why the meeting is called: only when the person has agreed to sharing (`meeting.shared`);
  the reasons from the checklist go to every invitee, the free text only to staff;
- the person's address and access notes (door code, key box): staff only, never relatives;
- SMS texts and calendar entries: no health data at all (SMS pass through operators and
  show on lock screens; calendars are shared and synced).
"""

import hashlib
import re
from dataclasses import dataclass
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _

from participants.models import Membership
from vom.textsafety import without_bidi_controls

from . import ical, reply_links
from .models import Meeting, OutboxMessage, Participant

Kind = OutboxMessage.Kind

# Kinds that ask for (or remind of) an answer and carry the signed reply links.
REPLY_KINDS = {
    Kind.INVITATION,
    Kind.RESCHEDULED,
    Kind.REMINDER_NO_REPLY,
    Kind.REMINDER_DAY_BEFORE,
}
# Kinds that describe the meeting: time, place, who comes.
DETAIL_KINDS = REPLY_KINDS | {Kind.CANCELLED, Kind.UNINVITED}
FOLLOWUP_KINDS = {Kind.FOLLOWUP_2W, Kind.FOLLOWUP_2M, Kind.DECISION_OVERDUE}


@dataclass
class Rendered:
    subject: str
    text: str
    html: str
    ics: bytes | None = None
    ics_method: str = ""


def message_id(message: OutboxMessage) -> str:
    """The same Message-ID for every attempt of one outbox row, so that if a message is
    ever handed to the mail server twice (a worker killed after the server accepted it but
    before the row was marked sent), mail systems can recognise the copy."""
    digest = hashlib.sha256(message.idempotency_key.encode()).hexdigest()[:40]
    return f"<vom.{digest}@{ical.site_host()}>"


def _local(value):
    return timezone.localtime(value) if value is not None else None


def _when(meeting: Meeting) -> str:
    if meeting.starts_at is None:
        return ""
    start, end = _local(meeting.starts_at), _local(meeting.ends_at)
    return _("%(date)s, %(start)s–%(end)s") % {
        "date": formats.date_format(start, "l j F Y"),
        "start": formats.time_format(start, "H:i"),
        "end": formats.time_format(end, "H:i"),
    }


def _short_date(meeting: Meeting | None) -> str:
    if meeting is None or meeting.starts_at is None:
        return ""
    return formats.date_format(_local(meeting.starts_at), "j F")


def recipient_is_staff(message: OutboxMessage) -> bool:
    participant = message.participant
    if participant is not None:
        return participant.kind == Participant.Kind.STAFF
    if message.recipient_relative_id:
        return False
    user = message.recipient_user
    return user is not None and Membership.objects.active().filter(user=user).exists()


def _recipient_name(message: OutboxMessage) -> str:
    participant = message.participant
    if participant is not None and participant.relative_id:
        return participant.relative.name
    if message.recipient_relative_id:
        return message.recipient_relative.name
    user = message.recipient_user or (participant.user if participant else None)
    if user is not None:
        return user.get_full_name() or user.username
    return ""


def _place(meeting: Meeting, *, staff: bool) -> str:
    if staff:
        return meeting.place
    if meeting.location:
        return meeting.location
    return _("At %(name)s's home") % {"name": meeting.person.first_name}


def _participant_line(participant: Participant) -> dict:
    if participant.kind == Participant.Kind.STAFF:
        name = participant.user.get_full_name() or participant.user.username
        role = participant.get_role_display()
        if participant.is_convener:
            role = _("%(role)s, convener") % {"role": role}
        organisation = participant.organisation.name if participant.organisation_id else ""
    elif participant.kind == Participant.Kind.RELATIVE:
        name = participant.relative.name
        role = participant.relative.relation
        organisation = ""
    else:
        name = participant.meeting.person.full_name
        role = _("the person")
        organisation = ""
    return {
        "name": name,
        "role": role,
        "organisation": organisation,
        "response": participant.get_response_display(),
        "mode": participant.get_mode_display(),
    }


def _active_participants(meeting: Meeting) -> list[Participant]:
    return list(
        meeting.participants.filter(removed_at__isnull=True)
        .select_related("user", "organisation", "relative", "meeting__person")
        .order_by("kind", "organisation__name", "role", "pk")
    )


def _convener_contact(meeting: Meeting) -> dict | None:
    convener = meeting.convener
    if convener is None:
        return None
    participant = meeting.participants.filter(is_convener=True).select_related("organisation")
    participant = participant.first()
    organisation = participant.organisation if participant else None
    membership = (
        Membership.objects.filter(user=convener, organisation=organisation).first()
        if organisation
        else None
    )
    phone = (membership.direct_phone if membership else "") or (
        organisation.phone if organisation else ""
    )
    return {
        "name": convener.get_full_name() or convener.username,
        "organisation": organisation.name if organisation else "",
        "phone": phone,
        "email": convener.email,
    }


def _first_url(candidates: list[tuple[str, list]]) -> str:
    """The first of the named pages that exists (other parts of the product add them)."""
    for name, args in candidates:
        try:
            return settings.SITE_URL + reverse(name, args=args)
        except NoReverseMatch:
            continue
    return settings.SITE_URL + "/"


def _set_password_url(user) -> str:
    """A fresh link to choose a password, made when the message is sent (never stored)."""
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL + path


def _payload_url(message: OutboxMessage) -> str:
    url = message.payload.get("url") or ""
    path = message.payload.get("path") or ""
    if url.startswith(("https://", "http://")):
        return url
    if path.startswith("/"):
        return settings.SITE_URL + path
    return ""


def _intro(message: OutboxMessage, context: dict) -> list[str]:
    """The opening paragraphs, one sentence or two per kind."""
    convener = (context.get("convener") or {}).get("name", "")
    date = context.get("short_date", "")
    kind = message.kind
    if kind == Kind.INVITATION:
        if context.get("when"):
            return [
                _(
                    "%(convener)s invites you to a care meeting in the home "
                    "(vård- och omsorgsmöte) on %(date)s."
                )
                % {"convener": convener, "date": date}
            ]
        return [
            _(
                "%(convener)s invites you to a care meeting in the home "
                "(vård- och omsorgsmöte). The time is not fixed yet: please say in VOM "
                "which of the proposed times suit you."
            )
            % {"convener": convener}
        ]
    if kind == Kind.RESCHEDULED:
        return [
            _("The care meeting has a new time. The old time no longer applies."),
            _("Please answer again, even if you answered before."),
        ]
    if kind == Kind.CANCELLED:
        reason = context["meeting"].cancel_reason if context.get("is_staff") else ""
        lines = [_("The care meeting on %(date)s is cancelled.") % {"date": date}]
        if reason:
            lines.append(_("Reason: %(reason)s") % {"reason": reason})
        return lines
    if kind == Kind.UNINVITED:
        return [
            _("You are no longer invited to the care meeting on %(date)s.") % {"date": date},
            _("If you think this is a mistake, contact the convener."),
        ]
    if kind == Kind.REMINDER_NO_REPLY:
        if not date:
            return [_("You have not yet answered the invitation to the care meeting.")]
        return [_("You have not yet answered the invitation to the care meeting on %(date)s.")
                % {"date": date}]  # fmt: skip
    if kind == Kind.REMINDER_DAY_BEFORE:
        return [_("A reminder: the care meeting is tomorrow.")]
    if kind == Kind.ROLE_DECLINED:
        declined = context.get("declined") or {}
        return [
            _("%(name)s (%(role)s, %(organisation)s) has declined the care meeting on %(date)s.")
            % {
                "name": declined.get("name", ""),
                "role": declined.get("role", ""),
                "organisation": declined.get("organisation", ""),
                "date": date,
            },
            _("Consider inviting someone else in the same role, so no one is missing."),
        ]
    if kind == Kind.FOLLOWUP_2W:
        return [
            _(
                "Two weeks have passed since the care meeting. Please report how the decisions "
                "you are responsible for are going."
            )
        ]
    if kind == Kind.FOLLOWUP_2M:
        return [
            _(
                "Two months have passed since the care meeting. Please report how the decisions "
                "you are responsible for are going."
            )
        ]
    if kind == Kind.DECISION_OVERDUE:
        return [_("A decision from the care meeting has passed its due date without being "
                  "reported as implemented.")]  # fmt: skip
    if kind == Kind.RELATIVE_SIGNIN:
        return [
            _("Here is your link to sign in to VOM and see the care meeting."),
            _("The link is personal. Do not forward it."),
        ]
    if kind == Kind.SUMMARY_READY:
        return [_("The summary of the care meeting is ready to read.")]
    if kind == Kind.ACCOUNT_WELCOME:
        organisation = message.payload.get("organisation") or ""
        return [
            _("An account in VOM, care meetings in the home, has been made for you%(at)s.")
            % {"at": (" " + _("at %(name)s") % {"name": organisation}) if organisation else ""},
            _("Your username: %(username)s") % {"username": message.recipient_user.username},
            _("Choose your password with the link below. It works for %(days)s days and once.")
            % {"days": settings.PASSWORD_RESET_TIMEOUT // (24 * 3600)},
        ]
    if kind == Kind.PASSWORD_RESET:
        return [
            _("Someone asked to choose a new password for your VOM account (%(username)s).")
            % {"username": message.recipient_user.username},
            _(
                "If it was you, choose it with the link below; it works for %(days)s days and "
                "once. If it was not you, do nothing: your password stays as it is."
            )
            % {"days": settings.PASSWORD_RESET_TIMEOUT // (24 * 3600)},
        ]
    if kind == Kind.CONVENER_NEEDED:
        return [
            _(
                "%(organisation)s has proposed a care meeting in the home for a person your "
                "organisation serves, and the person has agreed to it."
            )
            % {"organisation": context["meeting"].initiator_organisation.name},
            _(
                "No one convenes it yet. Open it in VOM and choose “I will convene” if you take "
                "it on; it then leaves your colleagues' worklists."
            ),
        ]
    return [OutboxMessage.Kind(kind).label]


def _subject(message: OutboxMessage, context: dict) -> str:
    # Subjects show on lock screens and in shared inboxes: no names, no health data.
    date = context.get("short_date", "")
    subjects = {
        Kind.INVITATION: _("Invitation: care meeting in the home %(date)s"),
        Kind.RESCHEDULED: _("New time: care meeting in the home %(date)s"),
        Kind.CANCELLED: _("Cancelled: care meeting in the home %(date)s"),
        Kind.UNINVITED: _("Invitation withdrawn: care meeting %(date)s"),
        Kind.REMINDER_NO_REPLY: _("Please answer: care meeting in the home %(date)s"),
        Kind.REMINDER_DAY_BEFORE: _("Tomorrow: care meeting in the home %(date)s"),
        Kind.ROLE_DECLINED: _("A participant has declined the care meeting %(date)s"),
        Kind.FOLLOWUP_2W: _("Follow-up after 2 weeks: decisions from a care meeting"),
        Kind.FOLLOWUP_2M: _("Follow-up after 2 months: decisions from a care meeting"),
        Kind.DECISION_OVERDUE: _("A decision from a care meeting is overdue"),
        Kind.RELATIVE_SIGNIN: _("Your sign-in link to VOM"),
        Kind.SUMMARY_READY: _("The summary of the care meeting is ready"),
        Kind.CONVENER_NEEDED: _("A care meeting in the home waits for a convener"),
        Kind.ACCOUNT_WELCOME: _("Your account in VOM: choose a password"),
        Kind.PASSWORD_RESET: _("Choose a new password for VOM"),
    }
    subject = subjects.get(message.kind, _("Message from VOM")) % {"date": date}
    return " ".join(subject.split())


def message_context(message: OutboxMessage) -> dict:
    """Everything the templates need, already filtered by what this reader may see."""
    meeting = message.meeting
    participant = message.participant
    staff = recipient_is_staff(message)
    context = {
        "message": message,
        "kind": message.kind,
        "recipient_name": _recipient_name(message),
        "is_staff": staff,
        "site_url": settings.SITE_URL,
        "action_url": _payload_url(message),
    }
    if message.kind in (Kind.ACCOUNT_WELCOME, Kind.PASSWORD_RESET):
        context["action_url"] = _set_password_url(message.recipient_user)
    if meeting is None:
        context["intro"] = _intro(message, context)
        context["subject"] = _subject(message, context)
        return context
    person = meeting.person
    everyone = _active_participants(meeting)
    context.update(
        meeting=meeting,
        person_name=person.full_name,
        when=_when(meeting),
        short_date=_short_date(meeting),
        time_options=[_local(o.starts_at) for o in meeting.time_options.all()]
        if meeting.starts_at is None
        else [],
        place=_place(meeting, staff=staff),
        duration=meeting.duration_minutes,
        access_notes=person.access_notes if staff else "",
        reasons=[r.get_code_display() for r in meeting.reasons.all()] if meeting.shared else [],
        reason_text=meeting.reason_text if (meeting.shared and staff) else "",
        others=[
            _participant_line(p) for p in everyone if participant is None or p.pk != participant.pk
        ],
        convener=_convener_contact(meeting),
        show_details=message.kind in DETAIL_KINDS,
        meeting_url=_first_url([("meeting_detail", [meeting.pk])]) if staff else "",
    )
    if participant is not None:
        context["your_response"] = participant.get_response_display()
        context["your_mode"] = participant.get_mode_display()
    if (
        message.kind in REPLY_KINDS
        and participant is not None
        and participant.kind != Participant.Kind.PERSON
        and reply_links.link_problem(
            participant,
            reply_links.ReplyLink(participant.pk, "", meeting.ical_sequence),
        )
        is None
    ):
        context["answer_links"] = reply_links.answer_links(participant)
    if message.kind == Kind.ROLE_DECLINED:
        declined = next((p for p in everyone if p.pk == message.payload.get("participant")), None)
        if declined is None:
            declined = Participant.objects.filter(pk=message.payload.get("participant")).first()
        context["declined"] = _participant_line(declined) if declined else None
    if message.kind in FOLLOWUP_KINDS and message.recipient_user_id:
        decisions = meeting.decisions.filter(responsible_id=message.recipient_user_id)
        if message.payload.get("decision"):
            decisions = decisions.filter(pk=message.payload["decision"])
        context["decisions"] = list(decisions.select_related("organisation"))
        context["action_url"] = context["action_url"] or _first_url(
            [("followup:meeting", [meeting.pk]), ("meeting_detail", [meeting.pk])]
        )
    context["intro"] = _intro(message, context)
    context["subject"] = _subject(message, context)
    return context


def _ics(message: OutboxMessage, context: dict) -> tuple[bytes | None, str]:
    meeting = message.meeting
    if meeting is None or meeting.starts_at is None or message.participant is None:
        return None, ""
    if message.kind in (Kind.INVITATION, Kind.RESCHEDULED):
        method, attendees = ical.REQUEST, _active_participants(meeting)
    elif message.kind == Kind.CANCELLED:
        method, attendees = ical.CANCEL, _active_participants(meeting)
    elif message.kind == Kind.UNINVITED:
        method, attendees = ical.CANCEL, [message.participant]
    else:
        return None, ""
    convener = context.get("convener") or {}
    description = _("Care meeting in the home. Convener: %(name)s %(phone)s") % {
        "name": convener.get("name", ""),
        "phone": convener.get("phone", ""),
    }
    return (
        ical.build_calendar(
            meeting,
            method=method,
            participants=attendees,
            location=context["place"],
            description=description.strip(),
        ),
        method,
    )


def _tidy(text: str) -> str:
    # "-- " (with the space) is the signature delimiter mail clients recognise.
    lines = [
        line.rstrip() if line.rstrip() != "--" else "-- " for line in text.strip().splitlines()
    ]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def render_email(message: OutboxMessage) -> Rendered:
    with translation.override(message.language or settings.LANGUAGE_CODE):
        context = message_context(message)
        if message.kind == Kind.RELATIVE_SIGNIN and not context["action_url"]:
            raise ValueError("a sign-in message needs payload['url'] or payload['path']")
        ics, method = _ics(message, context)
        # Names and free text with bidirectional controls would read reversed.
        return Rendered(
            subject=without_bidi_controls(context["subject"]),
            text=without_bidi_controls(
                _tidy(render_to_string("meetings/email/message.txt", context))
            ),
            html=without_bidi_controls(render_to_string("meetings/email/message.html", context)),
            ics=ics,
            ics_method=method,
        )


def build_email(message: OutboxMessage, connection=None) -> EmailMultiAlternatives:
    rendered = render_email(message)
    email = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        to=[message.to_address],
        headers={"Message-ID": message_id(message)},
        connection=connection,
    )
    email.attach_alternative(rendered.html, "text/html")
    if rendered.ics:
        part = MIMEText(rendered.ics.decode("utf-8"), "calendar", "utf-8")
        part.set_param("method", rendered.ics_method)
        part.add_header("Content-Disposition", "attachment", filename="invite.ics")
        email.attach(part)
    return email


def render_sms(message: OutboxMessage) -> str:
    """A short text with the time and, for invitations, the reply link. Never health data,
    never the person's name or address."""
    meeting = message.meeting
    with translation.override(message.language or settings.LANGUAGE_CODE):
        if meeting is None or meeting.starts_at is None:
            when = ""
        else:
            start = _local(meeting.starts_at)
            when = f"{formats.date_format(start, 'j F')} {formats.time_format(start, 'H:i')}"
        texts = {
            Kind.INVITATION: _("VOM: you are invited to a care meeting %(when)s."),
            Kind.RESCHEDULED: _("VOM: the care meeting has a new time: %(when)s."),
            Kind.CANCELLED: _("VOM: the care meeting %(when)s is cancelled."),
            Kind.UNINVITED: _("VOM: you are no longer invited to the care meeting %(when)s."),
            Kind.REMINDER_NO_REPLY: _("VOM: please answer the invitation to the meeting %(when)s."),
            Kind.REMINDER_DAY_BEFORE: _("VOM: reminder, care meeting tomorrow %(when)s."),
        }
        text = texts.get(message.kind, _("VOM: you have a new message. Sign in to read it."))
        text = text % {"when": when}
        participant = message.participant
        if (
            message.kind in REPLY_KINDS
            and participant is not None
            and meeting is not None
            and reply_links.link_problem(
                participant, reply_links.ReplyLink(participant.pk, "", meeting.ical_sequence)
            )
            is None
        ):
            # One link to the answer page; the page offers all three answers.
            text += " " + _("Answer: %(url)s") % {
                "url": reply_links.reply_url(participant, Participant.Response.ACCEPTED)
            }
        return " ".join(text.split())
