"""A message that was not delivered, sent once more: by the convener from the meeting
page's "Not delivered" list (`meetings/includes/outbox_status.html`), or an account email by
the organisation's administrator from the staff list."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from participants.views import staff_required
from vom.errors import DomainError

from . import delivery
from .models import OutboxMessage
from .selectors import get_meeting_for_user


@require_POST
@staff_required
def outbox_resend(request, pk: int):
    message = get_object_or_404(OutboxMessage.objects.select_related("meeting"), pk=pk)
    if message.meeting_id is not None:
        meeting = get_meeting_for_user(request.user, message.meeting_id, request=request)
        fallback = reverse("meeting_detail", args=[meeting.pk])
    elif delivery.may_resend(request.user, message):
        fallback = reverse("home")
    else:
        raise Http404  # someone else's account email: as if it did not exist
    try:
        delivery.outbox_resend(actor=request.user, message_id=message.pk, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The message will be sent again."))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return redirect(target)
