"""Rendered pages cached per user and per version of the data behind them.

The pages a nurse opens in someone's home (the start page, a person, a meeting, its
follow-up) are rendered once per version of their data and served from the shared cache
until that data changes. The version (participants/pagechanges.py) is read before the
page is rendered: the change rows that PostgreSQL triggers write, in the writing
transaction, for every change of the person's data or of the directory. A page is never
served from a version older than the data; a change anywhere, by anyone, gives the next
view a new key.

What still happens on every view, cached or not: the session and sign-in checks (the
middleware), the view's own access rule for whom the page is (the user, their memberships
and the person's data are all in the key), and the access-log rows the Patient Data Act
asks for: the rows the rendering view wrote are kept with the page and written again, with
this request's time, request id and address.

The key also holds the URL with its query, the language, the day (care teams and overdue
decisions change with the date), whether the second factor was passed and the CSRF secret
(the page's forms carry a token made from it). A page lives at most PAGE_CACHE_SECONDS
(default 60): what changes with the clock alone within a day ("mark as held" after the
start time) is at most that late.

Off unless the database is PostgreSQL (the triggers) and the cache is shared by every
process (Redis or Memcached), and never for a page with a message waiting to be shown.
"""

import functools
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone, translation

from participants.pagechanges import fingerprint, triggers_available

from .cache import safe_get, safe_set

PREFIX = "page:v1"


@dataclass(frozen=True)
class CachedPage:
    content: bytes
    content_type: str
    access_rows: tuple[dict, ...]


def enabled() -> bool:
    return settings.PAGE_CACHE_SECONDS > 0 and settings.SHARED_CACHE and triggers_available()


def _messages_waiting(request) -> bool:
    storage = getattr(request, "_messages", None)
    return storage is not None and len(storage) > 0


def _eligible(request) -> bool:
    user = getattr(request, "user", None)
    return (
        request.method == "GET"
        and user is not None
        and user.is_authenticated
        # Without a CSRF cookie yet, rendering sets one; the page is cached from the next view.
        and "CSRF_COOKIE" in request.META
        and not _messages_waiting(request)
        and enabled()
    )


def _key(request, view, version: str) -> str:
    user = request.user
    device = getattr(user, "otp_device", None)
    parts = (
        f"{view.__module__}.{view.__qualname__}",
        request.get_full_path(),
        user.pk,
        getattr(device, "persistent_id", ""),
        translation.get_language(),
        timezone.localdate().isoformat(),
        request.META["CSRF_COOKIE"],
        version,
    )
    return f"{PREFIX}:{hashlib.sha256(repr(parts).encode()).hexdigest()}"


def _cacheable(request, response) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and not response.cookies
        and response.get("Content-Type", "").startswith("text/html")
        and not _messages_waiting(request)
    )


def cached_page(scopes, *, required: bool = True):
    """Serve the decorated GET view from the cache while its data is unchanged.

    `scopes(request, **kwargs)` gives (sql, params) selecting the ids of the persons whose
    data the page shows, or None when this request must not be cached. With `required`, a
    page whose select finds nothing (no such meeting) is left to the view (its 404)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            spec = scopes(request, **kwargs) if _eligible(request) else None
            if spec is None:
                return view(request, *args, **kwargs)
            found, version = fingerprint(*spec)
            if required and not found:
                return view(request, *args, **kwargs)
            key = _key(request, view, version)
            page = safe_get(key)
            if isinstance(page, CachedPage):
                from participants import audit

                audit.log_rows(request, page.access_rows)
                return HttpResponse(page.content, content_type=page.content_type)
            request._vom_access_rows = []
            response = view(request, *args, **kwargs)
            if _cacheable(request, response):
                safe_set(
                    key,
                    CachedPage(
                        bytes(response.content),
                        response["Content-Type"],
                        tuple(request._vom_access_rows),
                    ),
                    settings.PAGE_CACHE_SECONDS,
                )
            return response

        return wrapper

    return decorator
