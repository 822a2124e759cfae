"""Rendered pages cached per user and per version of the data behind them.

The pages a nurse opens in someone's home (the start page, a person, a meeting, its
follow-up) are rendered once per version of their data and served from the shared cache
until that data changes. The version (participants/pagechanges.py) is read before the
page is rendered and kept with it: the change rows that PostgreSQL triggers write, in the
writing transaction, for every change of the person's data or of the directory. A cached
page is served only after checking, in the same statement that writes its access-log
rows, that its scopes' changes are still those of its version: a page is never served
from a version older than the data; a change anywhere, by anyone, makes the next view
render it again.

What still happens on every view, cached or not: the session and sign-in checks (the
middleware), the view's own access rule for whom the page is (the user and their
memberships are in the key, the person's data in the version checked), and the
access-log rows the Patient Data Act asks for: the rows the rendering view wrote are kept
with the page and written again, with this request's time, request id and address.

The key also holds the deployment (`BUILD`), the URL with its query, the user with their
memberships as this request read them, the language, the day (care teams and overdue
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
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.utils import timezone, translation

from participants import audit
from participants.pagechanges import Version, fingerprint, triggers_available, unchanged

from .cache import safe_delete, safe_get, safe_set
from .pg import execute_prepared

PREFIX = "page:v3"


def _build() -> str:
    """What this deployment renders with: its Python code, templates and translations and
    the static manifest, hashed once per process. A page cached by the previous deployment
    (its HTML naming static files that may be gone) is not served by this one."""
    root = Path(settings.BASE_DIR)
    folders = [
        path
        for path in sorted(root.iterdir())
        if path.name in ("templates", "locale")
        or ((path / "__init__.py").is_file() and path.name != "tests")
    ]
    sources = [
        path
        for folder in folders
        for path in sorted(folder.rglob("*"))
        if path.suffix in (".py", ".html", ".mo") and path.is_file()
    ]
    digest = hashlib.sha256()
    for path in [*sources, Path(settings.STATIC_ROOT) / "staticfiles.json"]:
        if path.is_file():
            digest.update(
                str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode()
            )
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


BUILD = _build()


@dataclass(frozen=True)
class CachedPage:
    content: bytes
    content_type: str
    # The statement serving it (`_statement`): the check of the version the page was
    # rendered from and the access-log rows the rendering wrote, built once when the page
    # is stored.
    statement: tuple[str, list, tuple[tuple[int, str], ...]]


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


def _who(user) -> tuple:
    """The signed-in user as this request knows them: their memberships decide what the
    view lets them see. The request's user can be up to AUTH_CACHE_SECONDS older than the
    version read from the database (participants.auth), so the page rendered with it is
    keyed by it: when the user is read afresh with a membership fewer, the key changes and
    the view's access rule runs again."""
    from participants.selectors import active_memberships

    memberships = sorted(
        (m.pk, m.organisation_id, m.role, m.organisation.kind) for m in active_memberships(user)
    )
    return (user.pk, user.is_active, user.is_superuser, user.get_full_name(), memberships)


def _key(request, view) -> str:
    user = request.user
    device = getattr(user, "otp_device", None)
    parts = (
        BUILD,
        f"{view.__module__}.{view.__qualname__}",
        request.get_full_path(),
        _who(user),
        getattr(device, "persistent_id", ""),
        translation.get_language(),
        timezone.localdate().isoformat(),
        request.META["CSRF_COOKIE"],
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


def _statement(version: Version, access_rows) -> tuple[str, list, tuple[tuple[int, str], ...]]:
    """(sql, params, slots): true while `version` is current, and then writing
    `access_rows` again, in one statement (one round trip per cached view). `params` hold
    None at `slots` for the serving request's own values (`audit.request_values`)."""
    check, params = unchanged(version)
    replay = audit.replay_statement(access_rows)
    if replay is None:
        return f"SELECT {check}", params, ()
    insert, insert_params, slots = replay
    sql = (
        f"WITH page_version(unchanged) AS (SELECT {check}), "  # noqa: S608 - our own SQL
        f"page_log AS ({insert} WHERE (SELECT unchanged FROM page_version)) "
        "SELECT unchanged FROM page_version"
    )
    offset = len(params)
    return sql, [*params, *insert_params], tuple((offset + i, name) for i, name in slots)


def _serve(request, page: CachedPage) -> bool:
    """Whether `page`'s version is still current; if so, its access-log rows are written
    again as this request's, in the same statement."""
    sql, params, slots = page.statement
    if slots:
        params, values = list(params), audit.request_values(request)
        for index, name in slots:
            params[index] = values[name]
    with connection.cursor() as cursor:
        execute_prepared(cursor, sql, params)
        return bool(cursor.fetchone()[0])


def cached_page(scopes, *, required: bool = True):
    """Serve the decorated GET view from the cache while its data is unchanged.

    `scopes(request, **kwargs)` gives (sql, params) selecting the scopes of the page (the
    ids of the persons whose data it shows, see `pagechanges.user_scope`), or None when
    this request must not be cached. With `required`, a page whose select finds nothing
    (no such meeting) is left to the view (its 404)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(request, *args, **kwargs):
            spec = scopes(request, **kwargs) if _eligible(request) else None
            if spec is None:
                return view(request, *args, **kwargs)
            key = _key(request, view)
            page = safe_get(key)
            if isinstance(page, CachedPage) and _serve(request, page):
                return HttpResponse(page.content, content_type=page.content_type)
            if page is not None:
                safe_delete(key)  # out of date: not fetched and checked again on every view
            version = fingerprint(*spec)
            if required and not version.found:
                return view(request, *args, **kwargs)
            request._vom_access_rows = []
            response = view(request, *args, **kwargs)
            if _cacheable(request, response):
                safe_set(
                    key,
                    CachedPage(
                        bytes(response.content),
                        response["Content-Type"],
                        _statement(version, request._vom_access_rows),
                    ),
                    settings.PAGE_CACHE_SECONDS,
                )
            return response

        return wrapper

    return decorator
