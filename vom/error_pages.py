"""Error pages that need nothing the failure may have taken away.

A database that is down, restarting, or too slow (DB_STATEMENT_TIMEOUT_MS, DB_CONNECT_TIMEOUT)
answers 503 with a page in the reader's language that says so and to try again shortly,
instead of a bare "Server Error (500)". The page is rendered without the request's context
(no user, no session, no query).
"""

import logging
import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse
from django.template import loader
from django.utils import translation
from django.views import defaults

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 15


def database_unavailable(exc: BaseException | None) -> bool:
    """A failure to reach PostgreSQL or a statement it cancelled (time-out), as opposed to
    an error in the query itself."""
    return isinstance(exc, OperationalError | InterfaceError)


def _language(request) -> str:
    supported = {code for code, _name in settings.LANGUAGES}
    for language in (
        getattr(request, "LANGUAGE_CODE", None),
        request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME),
    ):
        if language in supported:
            return language
    return settings.LANGUAGE_CODE


def service_unavailable(request) -> HttpResponse:
    language = _language(request)
    with translation.override(language):
        body = loader.render_to_string("503.html", {"LANGUAGE_CODE": language})
    response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Content-Language"] = language
    return response


def server_error(request, template_name=defaults.ERROR_500_TEMPLATE_NAME):
    """handler500: 503 when the database is what failed, Django's 500 page otherwise."""
    exc = sys.exc_info()[1]
    if database_unavailable(exc):
        logger.warning("database unavailable for %s: %s", request.path, exc)
        return service_unavailable(request)
    return defaults.server_error(request, template_name)
