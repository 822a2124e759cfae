"""The relatives' view: who is a relative, which meetings they may see, sign-in links.

A relative sees a meeting only while all of these hold, checked on every request:
- they signed in with a link (a user with no staff membership, linked to a Relative row);
- the meeting is their person's, and the person's consent to share is in force
  (`meeting.shared`);
- they are among the relatives chosen in the meeting's current consent.
Withdrawing consent, or choosing other relatives, ends access at the next request.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet, Subquery
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from participants import audit
from participants.models import AccessLog, Relative, User
from participants.selectors import active_memberships
from vom.errors import DomainError

from . import notifications
from .models import Consent, Meeting, OutboxMessage
from .permissions import MeetingContext

# A token made for anything else (a future scope) never opens the relatives' area.
SIGNIN_SCOPE = "relative"
RELATIVE_STATES = (
    Meeting.State.CONSENT,
    Meeting.State.CONVENING,
    Meeting.State.SCHEDULED,
    Meeting.State.HELD,
    Meeting.State.CLOSED,
)
UPCOMING_STATES = (Meeting.State.CONSENT, Meeting.State.CONVENING, Meeting.State.SCHEDULED)
# At most one link per relative per this many minutes when they ask for one themselves.
SELF_SERVICE_MINUTES = 10


# --- Who is a relative, and what they may see ---


def relative_for_user(user) -> Relative | None:
    """The Relative a signed-in user stands for; None for staff and anyone else."""
    if not getattr(user, "is_authenticated", False) or active_memberships(user):
        return None
    cached = getattr(user, "_vom_relative", False)
    if cached is False:
        cached = Relative.objects.select_related("person").filter(user=user).first()
        user._vom_relative = cached
    return cached


def meetings_for_relative(relative: Relative) -> QuerySet[Meeting]:
    """The person's meetings that are shared and whose current consent chose this relative."""
    current_consent = (
        Consent.objects.filter(meeting=OuterRef("pk"), withdrawn_at__isnull=True)
        .order_by("-recorded_at", "-pk")
        .values("pk")[:1]
    )
    chosen = Consent.relatives.through.objects.filter(
        consent_id=OuterRef("current_consent"), relative_id=relative.pk
    )
    return (
        Meeting.objects.filter(person_id=relative.person_id, shared=True, state__in=RELATIVE_STATES)
        .annotate(current_consent=Subquery(current_consent))
        .filter(Exists(chosen))
    )


def get_meeting_for_relative(relative: Relative, pk, *, request=None) -> Meeting:
    """The meeting if this relative may see it; 404 otherwise. With `request`, a refused look
    at a meeting that exists is logged as denied (as for staff, selectors.log_denied)."""
    try:
        return meetings_for_relative(relative).select_related("person", "convener").get(pk=pk)
    except (Meeting.DoesNotExist, ValueError, TypeError):
        if request is not None:
            from .selectors import log_denied

            log_denied(request, Meeting.objects.filter(pk=pk).select_related("person"))
        raise Http404 from None


def relative_may_see(relative: Relative, meeting: Meeting) -> bool:
    return meetings_for_relative(relative).filter(pk=meeting.pk).exists()


def log_relative_view(request, *, meeting: Meeting, obj=None, action=AccessLog.Action.VIEW):
    """Every page a relative sees is logged like a staff view (role "relative")."""
    audit.log_access(request, person=meeting.person, action=action, obj=obj or meeting)


# --- Sign-in links ---


def relative_user_ensure(relative: Relative) -> User:
    """The user a relative signs in as, created at the first invitation: no password, no
    email (the address stays on the Relative, so it can never clash with a staff login),
    no memberships."""
    with transaction.atomic():
        relative = Relative.objects.select_for_update().get(pk=relative.pk)
        if relative.user_id:
            return relative.user
        user = User(
            username=f"relative-{relative.pk}",
            first_name=relative.name[:150],
            preferred_language=relative.preferred_language,
        )
        user.set_unusable_password()
        user.save()
        relative.user = user
        relative.save(update_fields=["user"])
        return user


def signin_link(user: User) -> str:
    from sesame.utils import get_token

    query = urlencode({"sesame": get_token(user, scope=SIGNIN_SCOPE)})
    return f"{settings.SITE_URL}{reverse('relatives_signin')}?{query}"


def _send_link(relative: Relative, *, meeting: Meeting | None, key: str) -> OutboxMessage | None:
    user = relative_user_ensure(relative)
    return notifications.enqueue(
        kind=OutboxMessage.Kind.RELATIVE_SIGNIN,
        key=key,
        meeting=meeting,
        relative=relative,
        to_address=relative.email,
        language=relative.preferred_language,
        payload={
            # `url` is what meetings.mail puts on the button; `link` the same, by its name here.
            "url": (link := signin_link(user)),
            "link": link,
            "valid_days": settings.SESAME_MAX_AGE // (24 * 3600),
            "relative_name": relative.name,
        },
    )


def relative_signin_send(
    *, actor: User, meeting: Meeting, relative: Relative, request=None
) -> OutboxMessage:
    """The convener sends a relative chosen in the consent a link to the relatives' area."""
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update().select_related("person").get(pk=meeting.pk)
        if not MeetingContext.build(actor, meeting).is_convener:
            raise DomainError(_("Only the convener can send sign-in links."))
        if meeting.state not in RELATIVE_STATES or not meeting.shared:
            raise DomainError(_("The person's consent to share is not in force."))
        if not relative_may_see(relative, meeting):
            raise DomainError(_("The person has not chosen this relative."))
        if not relative.email:
            raise DomainError(_("Add the relative's email address first."))
        # Two clicks in the same minute send one link.
        minute = timezone.now().strftime("%Y%m%d%H%M")
        message = _send_link(
            relative, meeting=meeting, key=f"relative_signin:{relative.pk}:staff:{minute}"
        )
        audit.log_access(
            request,
            user=actor,
            person=meeting.person,
            action=AccessLog.Action.DISCLOSE,
            obj=relative,
        )
        return message


def relative_signin_request(*, email: str) -> int:
    """A relative asks for a new link with their address. Sends one to each relative row with
    that address who may see a meeting now, at most once per SELF_SERVICE_MINUTES; says
    nothing about which addresses are known (the page answers the same either way)."""
    email = (email or "").strip()
    if not email or "@" not in email or len(email) > 254:
        return 0
    sent = 0
    bucket = int(timezone.now().timestamp() // (SELF_SERVICE_MINUTES * 60))
    for relative in Relative.objects.filter(email__iexact=email).select_related("person"):
        meeting = meetings_for_relative(relative).order_by("-initiated_at").first()
        if meeting is None:
            continue
        with transaction.atomic():
            if _send_link(
                relative, meeting=meeting, key=f"relative_signin:{relative.pk}:self:{bucket}"
            ):
                sent += 1
    return sent


# --- What a relative sees ---


@dataclass(frozen=True)
class DecisionStatusRow:
    organisation: str
    category: str
    description: str
    responsible: str
    due_date: dt.date | None
    answer: str
    status: str
    status_code: str
    status_date: dt.date | None


def decision_status_rows(meeting: Meeting) -> list[DecisionStatusRow]:
    """The decisions with the person's answer and their current follow-up status (the
    followup app's latest report; its notes are the professionals' and are not shown)."""
    from followup.models import DecisionStatus
    from followup.selectors import decisions_with_status

    decisions = (
        decisions_with_status()
        .filter(meeting=meeting)
        .select_related("organisation", "responsible")
        .order_by("organisation__name", "created_at", "pk")
    )
    return [
        DecisionStatusRow(
            organisation=d.organisation.name,
            category=str(d.get_category_display()),
            description=d.description,
            responsible=d.responsible.get_full_name() or d.responsible.username,
            due_date=d.due_date,
            answer=str(d.get_person_answer_display()),
            status=(
                str(DecisionStatus(d.current_status).label)
                if d.current_status
                else _("Not reported yet")
            ),
            status_code=d.current_status or "",
            status_date=d.current_status_date,
        )
        for d in decisions
    ]
