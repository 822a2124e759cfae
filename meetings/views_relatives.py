"""The relatives' area (/anhorig/): signed in with a link, a relative sees their person's
upcoming meeting, the summaries, whom to call and how the decisions are going, and can
write what matters before a meeting. Access is checked on every request (meetings.relatives).
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from participants.models import AccessLog
from vom.errors import DomainError

from . import relatives as rel
from . import services, summary_services
from .forms_relatives import LinkRequestForm, RelativeContributionForm
from .models import Contribution
from .summary import SUMMARY_STATES, participant_rows, summary_context, ways_in


def relative_required(view):
    """A relative signed in with a link. Anyone not signed in is asked for a link; staff
    (and any other user) get 404, as for a page that does not exist."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect("relatives_link_request")
        relative = rel.relative_for_user(request.user)
        if relative is None:
            raise Http404
        request.relative = relative
        return view(request, *args, **kwargs)

    return wrapped


@relative_required
def home(request):
    relative = request.relative
    meetings = list(
        rel.meetings_for_relative(relative).select_related("person").order_by("-initiated_at")
    )
    upcoming = next((m for m in meetings if m.state in rel.UPCOMING_STATES), None)
    held = [m for m in meetings if m.state in SUMMARY_STATES]
    latest = upcoming or (held[0] if held else None)
    contacts, organisations = [], []
    if latest is not None:
        contacts = [p for p in participant_rows(latest) if p.phone or p.organisation]
        organisations = ways_in(latest)
    for meeting in meetings:
        rel.log_relative_view(request, meeting=meeting)
    return render(
        request,
        "meetings/relatives/home.html",
        {
            "relative": relative,
            "person": relative.person if meetings else None,
            "upcoming": upcoming,
            "held": held,
            "contacts": contacts,
            "organisations": organisations,
        },
    )


@relative_required
def meeting(request, pk):
    relative = request.relative
    meeting = rel.get_meeting_for_relative(relative, pk, request=request)
    upcoming = meeting.state in rel.UPCOMING_STATES
    form = RelativeContributionForm(request.POST or None) if upcoming else None
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                services.contribution_add(
                    actor=None,
                    meeting=meeting,
                    author=Contribution.Author.RELATIVE,
                    relative=relative,
                    what_matters=form.cleaned_data["what_matters"],
                    questions=form.cleaned_data["questions"],
                    request=request,
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Thank you. Everyone at the meeting will read it."))
                return redirect("relatives_meeting", pk=meeting.pk)
    context = {"relative": relative, "meeting": meeting, "upcoming": upcoming, "form": form}
    if upcoming:
        context.update(
            participants=participant_rows(meeting),
            my_contributions=list(
                meeting.contributions.filter(relative=relative).order_by("created_at", "pk")
            ),
        )
    else:
        context.update(
            summary_context(meeting, language=request.LANGUAGE_CODE, audience="relative"),
            receipts=summary_services.read_receipts_by_organisation(meeting),
            decisions=rel.decision_status_rows(meeting),
            has_pdf=summary_services.latest_document(meeting, request.LANGUAGE_CODE) is not None,
        )
        context["meeting"] = meeting
    rel.log_relative_view(request, meeting=meeting)
    return render(request, "meetings/relatives/meeting.html", context)


@relative_required
def summary_pdf(request, pk):
    meeting = rel.get_meeting_for_relative(request.relative, pk, request=request)
    if meeting.state not in SUMMARY_STATES:
        raise Http404
    document = summary_services.latest_document(meeting, request.LANGUAGE_CODE)
    if document is None:
        raise Http404
    rel.log_relative_view(request, meeting=meeting, obj=document, action=AccessLog.Action.PRINT)
    return summary_services.serve_document(document, download=request.GET.get("download") == "1")


def signin(request):
    """The link in the email opens this page; the button signs in. Signing in on a click
    (POST), not on opening, keeps mail scanners that open links from using up the link."""
    token = (request.POST.get("sesame") or request.GET.get("sesame") or "")[:500]
    if request.method == "POST":
        user = authenticate(request, sesame=token, scope=rel.SIGNIN_SCOPE) if token else None
        if user is not None and rel.relative_for_user(user) is not None:
            login(request, user)
            return redirect("relatives_home")
        return render(request, "meetings/relatives/signin.html", {"failed": True}, status=400)
    return render(request, "meetings/relatives/signin.html", {"token": token})


def link_request(request):
    """Anyone may ask for a new link; the answer never says whether the address is known."""
    form = LinkRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        rel.relative_signin_request(email=form.cleaned_data["email"])
        return redirect(f"{request.path}?sent=1")
    return render(
        request,
        "meetings/relatives/link_request.html",
        {
            "form": form,
            "sent": request.GET.get("sent") == "1",
            "valid_days": settings.SESAME_MAX_AGE // (24 * 3600),
        },
    )
