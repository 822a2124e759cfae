"""A session signed in through an identity provider lasts at most SSO_RECHECK_SECONDS before
the provider vouches for the person again (roles taken away there end here within that time)."""

import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpResponseRedirect
from django.urls import reverse

from .session import SSO_CHECKED_AT_KEY, SSO_PROVIDER_KEY, signed_in_organisation


class ProviderSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        organisation_id = signed_in_organisation(request)
        if organisation_id is not None:
            checked_at = request.session.get(SSO_CHECKED_AT_KEY) or 0
            if time.time() - checked_at > settings.SSO_RECHECK_SECONDS:
                return self._sign_in_again(request, organisation_id)
        return self.get_response(request)

    @staticmethod
    def _sign_in_again(request, organisation_id):
        from .models import IdentityProvider, SignInEvent
        from .services import sign_in_event_write

        provider_id = request.session.get(SSO_PROVIDER_KEY)
        user = request.user if request.user.is_authenticated else None
        logout(request)
        provider = IdentityProvider.objects.filter(pk=provider_id, is_active=True).first()
        sign_in_event_write(
            provider=provider,
            outcome=SignInEvent.Outcome.ENDED,
            reason="recheck",
            user=user,
            organisation_id=organisation_id,
            context={"ip": request.META.get("REMOTE_ADDR"), "request_id": ""},
        )
        if provider is None:
            return HttpResponseRedirect(reverse("login"))
        query = {"next": request.get_full_path()} if request.method == "GET" else {}
        url = reverse("sso_start", args=[provider.pk])
        return HttpResponseRedirect(f"{url}?{urlencode(query)}" if query else url)
