"""Staff pages for the shared summary: the HTML page, the stored PDFs, read receipts, and
sending a relative their sign-in link."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from participants import audit
from participants.models import AccessLog, Relative
from participants.views import staff_required
from vom.errors import DomainError

from . import relatives as relatives_module
from . import summary_services
from .selectors import get_meeting_for_user
from .summary import SUMMARY_STATES, summary_context


def _held_meeting(user, pk, request=None):
    meeting = get_meeting_for_user(user, pk, request=request)
    # The shared summary holds every organisation's parts: once consent to share is
    # withdrawn no one is shown it any more (it is kept, for the history and the extract).
    if meeting.state not in SUMMARY_STATES or meeting.sharing_withdrawn:
        raise Http404
    return meeting


def _language(request) -> str:
    supported = {code for code, _name in settings.LANGUAGES}
    language = request.GET.get("lang", "")
    return language if language in supported else request.LANGUAGE_CODE


@staff_required
def summary_page(request, pk):
    meeting = _held_meeting(request.user, pk, request)
    language = request.LANGUAGE_CODE
    context = summary_context(meeting, language=language, audience="staff")
    participant = summary_services.staff_participant(request.user, meeting)
    overview = summary_services.receipts_overview(meeting, request.user)
    documents = summary_services.versions(meeting, language)
    audit.log_access(
        request,
        person=meeting.person,
        action=AccessLog.Action.VIEW,
        obj=meeting,
        object_type="meetings.summary",
    )
    context.update(
        meeting=meeting,
        receipts=overview.receipts,
        participant=participant,
        has_read=overview.has_read,
        documents=documents,
        current_version=overview.current_version,
        languages=settings.LANGUAGES,
    )
    return render(request, "meetings/summary/page.html", context)


@staff_required
def summary_pdf(request, pk, version=None):
    """The stored PDF: the newest version, or the one asked for."""
    meeting = _held_meeting(request.user, pk, request)
    language = _language(request)
    if version is None:
        document = summary_services.latest_document(meeting, language)
        if document is None:
            raise Http404
    else:
        document = summary_services.get_document(meeting, version, language)
    audit.log_access(request, person=meeting.person, action=AccessLog.Action.PRINT, obj=document)
    return summary_services.serve_document(document, download=request.GET.get("download") == "1")


@staff_required
@require_POST
def summary_confirm_read(request, pk):
    meeting = _held_meeting(request.user, pk, request)
    try:
        content_version = int(request.POST.get("content_version", ""))
    except ValueError:
        content_version = -1
    try:
        summary_services.summary_confirm_read(
            actor=request.user, meeting=meeting, content_version=content_version, request=request
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Thank you. The person can now see that you have read it."))
    return redirect("summary_page", pk=meeting.pk)


@staff_required
@require_POST
def relative_send_link(request, pk, relative_pk):
    """The convener sends a relative chosen in the consent a sign-in link."""
    meeting = get_meeting_for_user(request.user, pk, request=request)
    relative = get_object_or_404(Relative, pk=relative_pk, person_id=meeting.person_id)
    try:
        relatives_module.relative_signin_send(
            actor=request.user, meeting=meeting, relative=relative, request=request
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("A sign-in link is on its way to %(name)s (%(email)s).")
            % {"name": relative.name, "email": relative.email},
        )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("meeting_detail", args=[meeting.pk])
    return redirect(target)
