"""Cross-cutting HTTP concerns: request ids, session timeouts, second factor, security headers,
the product's own error pages under DEBUG."""

import time
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth.middleware import (
    AuthenticationMiddleware as DjangoAuthenticationMiddleware,
)
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; object-src 'none'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = uuid.uuid4().hex
        timed_out = self._enforce_session_limits(request)
        response = timed_out or self.get_response(request)
        response.setdefault("Content-Security-Policy", CSP)
        response["X-Request-ID"] = request.request_id
        if not request.path.startswith(settings.STATIC_URL):
            # Pages can carry personal data: never keep them in a shared or browser cache.
            response["Cache-Control"] = "no-store"
        return response

    @staticmethod
    def _enforce_session_limits(request):
        """End the session after SESSION_IDLE_SECONDS idle or SESSION_COOKIE_AGE after login.

        Django alone cannot do the absolute limit: writing last_seen modifies the session,
        and every save pushes the cookie's and the row's expiry forward by SESSION_COOKIE_AGE.
        So the login time is kept in the session (set at login, see participants.auth) and
        checked here on every request.
        """
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        now = int(time.time())
        session = request.session
        login_at = session.get(SESSION_LOGIN_AT_KEY)
        if login_at is None:
            # A session from before this key existed: the limit counts from now.
            session[SESSION_LOGIN_AT_KEY] = login_at = now
        last_seen = session.get(SESSION_LAST_SEEN_KEY, now)
        reason = None
        if now - login_at > settings.SESSION_COOKIE_AGE:
            reason = "absolute"
        elif now - last_seen > settings.SESSION_IDLE_SECONDS:
            reason = "1"
        if reason is not None:
            logout(request)
            query = {"timeout": reason}
            if request.method == "GET":
                query["next"] = request.get_full_path()
            return HttpResponseRedirect(f"{reverse('login')}?{urlencode(query)}")
        if now - last_seen >= SESSION_LAST_SEEN_GRANULARITY or SESSION_LAST_SEEN_KEY not in session:
            # Writing the session costs an UPDATE; a minute's precision is enough for idling.
            session[SESSION_LAST_SEEN_KEY] = now
        return None


class AuthenticationMiddleware(DjangoAuthenticationMiddleware):
    """Django's, with the user narrowed to the memberships of the way they signed in (a
    provider's organisation, or the organisations without a provider: sso.session)."""

    def process_request(self, request):
        from django.contrib.auth import get_user

        from sso.session import narrow

        super().process_request(request)
        request.user = SimpleLazyObject(lambda: narrow(request, get_user(request)))


SESSION_LOGIN_AT_KEY = "login_at"
SESSION_LAST_SEEN_KEY = "last_seen"
SESSION_LAST_SEEN_GRANULARITY = 60

# While the second factor is pending, only these pages answer; everything else redirects.
SECOND_FACTOR_OPEN_URLS = frozenset({"login", "logout", "set_language", "healthz"})


class SecondFactorMiddleware:
    """The one place that enforces TOTP (django-otp), after the password login.

    A user with a confirmed device must enter a token before any other page works. A user
    who must have a second factor (managers, organisation admins, operators) and has none
    is sent to enrolment and reaches nothing else until it is done. Care staff without a
    device sign in with their password alone (optional TOTP).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from participants.selectors import has_confirmed_device, second_factor_required
        from sso.session import strong_factor

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.is_verified():
            return None
        if strong_factor(request):
            return None  # the identity provider vouched for a strong factor (a SITHS card)
        match = request.resolver_match
        name = match.view_name if match is not None else None  # namespaced: admin:login differs
        if name in SECOND_FACTOR_OPEN_URLS:
            return None
        if has_confirmed_device(user):
            target = "otp_verify"
        elif second_factor_required(user):
            target = "otp_setup"
        else:
            return None
        if name == target:
            return None
        query = {"next": request.get_full_path()} if request.method == "GET" else {}
        url = reverse(target)
        return HttpResponseRedirect(f"{url}?{urlencode(query)}" if query else url)


class LanguageMiddleware:
    """Swedish unless the user chose otherwise (language cookie, then the user's setting).

    The browser's Accept-Language is ignored on purpose: care staff often have
    English-language browsers on shared devices, and the product's default is Swedish.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import translation

        supported = {code for code, _name in settings.LANGUAGES}
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in supported:
            user = getattr(request, "user", None)
            language = getattr(user, "preferred_language", None) if user else None
            if language not in supported:
                language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


# Django's technical 404 and 500 pages (DEBUG) say this; nothing the product renders does.
_TECHNICAL_PAGE = b"<code>DEBUG = True</code>"


class ProductErrorPagesMiddleware:
    """Under DEBUG (`make run`), the product's own 404 and 500 pages instead of Django's
    technical ones, so a demo shows what a user would see. The traceback of a 500 is still
    written to the console by Django's request logger."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code in (404, 500)
            and not getattr(response, "streaming", False)
            and _TECHNICAL_PAGE in response.content
        ):
            from django.views import defaults

            if response.status_code == 404:
                return defaults.page_not_found(request, exception=None)
            return defaults.server_error(request)
        return response
