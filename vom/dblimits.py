"""How long a statement may run, by kind of process (settings DB_*_TIMEOUT*).

Web processes (vom/wsgi.py: gunicorn, runserver) start every connection with
DB_STATEMENT_TIMEOUT_MS, so a query stuck behind a lock or a PostgreSQL that crawls ends
the request with the "temporarily unavailable" page (vom/error_pages.py) instead of holding
a worker. Celery processes use DB_TASK_STATEMENT_TIMEOUT_MS; an export raises the limit of
its own connection to DB_EXPORT_STATEMENT_TIMEOUT_MS while it streams. Management commands
keep PostgreSQL's default (none). `connect_timeout` (DB_CONNECT_TIMEOUT) is set for every
process in settings.
"""

import contextlib
import re

from django.conf import settings
from django.db import connections


def use(kind: str) -> None:
    """Start every new connection of this process with the statement limit of `kind`
    ("web" or "task"). Call before the first query; open connections are closed."""
    milliseconds = {
        "web": settings.DB_STATEMENT_TIMEOUT_MS,
        "task": settings.DB_TASK_STATEMENT_TIMEOUT_MS,
    }[kind]
    for connection in connections.all(initialized_only=True):
        connection.close()
    for alias in connections:
        settings_dict = connections.settings[alias]
        if settings_dict["ENGINE"] != "django.db.backends.postgresql":
            continue
        options = settings_dict.setdefault("OPTIONS", {})
        kept = re.sub(r"\s*-c\s*statement_timeout=\S+", "", options.get("options", ""))
        options["options"] = f"{kept} -c statement_timeout={milliseconds}".strip()


def _set(connection, milliseconds) -> None:
    with connection.cursor() as cursor:
        if milliseconds is None:
            cursor.execute("RESET statement_timeout")
        else:
            cursor.execute("SET statement_timeout = %s", [int(milliseconds)])


def longer_statements(stream, milliseconds: int | None = None, using: str = "default"):
    """`stream` (an export's generator) with the export's statement limit on its connection
    while it runs, and the connection's own limit again after (also when the client goes
    away: the server closes the generator)."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield from stream
        return
    if milliseconds is None:
        milliseconds = settings.DB_EXPORT_STATEMENT_TIMEOUT_MS
    _set(connection, milliseconds)
    try:
        yield from stream
    finally:
        with contextlib.suppress(Exception):  # a broken connection is closed by Django
            _set(connection, None)
