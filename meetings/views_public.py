"""Pages reached from an email without signing in: answering an invitation.

Opening a link (GET) only shows what it would do; the answer is recorded by the button on
the page (POST, with CSRF), so a mail scanner that follows every link answers for nobody.
The token alone decides whom the answer is for (see `reply_links`); nothing in the request
can point it at another participant. The pages show no health data and no address: a
forwarded email must not disclose more than the date and who convenes.
"""

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from vom.errors import DomainError

from . import reply_links, services
from .forms import ReplyForm
from .models import Meeting, Participant, TimeVote

R = Participant.Response


def _language(request, participant: Participant) -> str:
    """The language the visitor chose on the page, else the invitee's own."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    if chosen in dict(settings.LANGUAGES):
        return chosen
    if participant.user_id:
        return participant.user.preferred_language
    if participant.relative_id:
        return participant.relative.preferred_language
    return "sv"


def _name(participant: Participant) -> str:
    if participant.user_id:
        return participant.user.get_full_name() or participant.user.username
    if participant.relative_id:
        return participant.relative.name
    return ""


def _problem_page(request, title: str, text: str, status: int):
    return render(
        request, "meetings/public/reply_problem.html", {"title": title, "text": text}, status=status
    )


@require_http_methods(["GET", "POST"])
def reply(request, token: str):
    try:
        link = reply_links.read_token(token)
    except reply_links.LinkExpired:
        return _problem_page(
            request,
            _("The link has expired"),
            _("Links in invitations work for 30 days. Contact the convener or sign in to VOM."),
            410,
        )
    except reply_links.LinkInvalid:
        return _problem_page(
            request,
            _("The link does not work"),
            _("The link is incomplete or has been changed. Open it again from the email."),
            400,
        )
    participant = (
        Participant.objects.select_related(
            "user", "relative", "organisation", "meeting", "meeting__person", "meeting__convener"
        )
        .filter(pk=link.participant_id)
        .first()
    )
    if participant is None:
        return _problem_page(
            request,
            _("The link does not work"),
            _("The invitation no longer exists."),
            404,
        )
    with translation.override(_language(request, participant)):
        request.LANGUAGE_CODE = translation.get_language()
        problem = reply_links.link_problem(participant, link)
        if problem:
            return _problem_page(request, _("The link can no longer be used"), problem, 410)
        asks_mode = link.response != R.DECLINED
        meeting = participant.meeting
        # The invitation asks which of the proposed times suit: the page lets them say so.
        options = (
            list(meeting.time_options.all())
            if asks_mode and meeting.state == Meeting.State.CONVENING and not meeting.starts_at
            else []
        )
        votes = dict(
            TimeVote.objects.filter(participant=participant).values_list("option_id", "suits")
        )
        form = ReplyForm(
            request.POST if request.method == "POST" else None,
            initial={"mode": participant.mode},
            options=options,
            votes=votes,
        )
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    services.participation_respond(
                        actor=None,
                        participant=participant,
                        response=link.response,
                        mode=(form.cleaned_data.get("mode") or None) if asks_mode else None,
                    )
                    if options:
                        services.time_vote(
                            actor=None, meeting=meeting, participant=participant, suits=form.suits()
                        )
            except DomainError as exc:
                return _problem_page(
                    request, _("The answer could not be saved"), str(exc.message), 409
                )
            messages.success(request, _("Thank you. Your answer has been saved."))
            return redirect("reply", token=token)
        others = [
            (
                str(reply_links.ACTION_LABELS[response]),
                reply_links.make_token(participant, response),
            )
            for response in reply_links.ANSWERS
            if response != link.response
        ]
        return render(
            request,
            "meetings/public/reply.html",
            {
                "participant": participant,
                "name": _name(participant),
                "meeting": meeting,
                "person_short": f"{meeting.person.first_name} {meeting.person.last_name[:1]}.",
                "convener": meeting.convener,
                "response": link.response,
                "response_label": R(link.response).label,
                "action_label": reply_links.ACTION_LABELS[link.response],
                "answered": participant.response == link.response,
                "current_label": participant.get_response_display(),
                "asks_mode": asks_mode,
                "asks_times": bool(options),
                "form": form,
                "others": others,
            },
        )
