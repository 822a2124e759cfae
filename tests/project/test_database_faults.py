"""A PostgreSQL that hangs or crawls is bounded (vom/dblimits.py, vom/error_pages.py): a
web request gives up connecting after DB_CONNECT_TIMEOUT and a statement after
DB_STATEMENT_TIMEOUT_MS, and the reader gets a 503 page in their language, not a hang or a
bare 500. The restart under load is in test_fault_matrix.py."""

import time

import psycopg2
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from vom import dblimits

from ..notify_support import SilentServer, child_database_url, require_postgres

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def web_limits(settings):
    """This process's connections as a web process starts them, restored afterwards."""
    require_postgres("statement_timeout is PostgreSQL's")
    options = connection.settings_dict.setdefault("OPTIONS", {})
    saved = dict(options)
    settings.DB_STATEMENT_TIMEOUT_MS = 700
    dblimits.use("web")
    yield
    connection.close()
    options.clear()
    options.update(saved)


def _signed_in_client(user, language=None):
    client = Client(raise_request_exception=False)
    client.force_login(user, backend="participants.auth.UsernameOrEmailBackend")
    if language:
        client.cookies["django_language"] = language
    return client


def test_a_web_connection_starts_with_the_statement_limit(web_limits):
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "700ms"
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_a_statement_stuck_behind_a_lock_ends_in_a_503_page(area, web_limits):
    client = _signed_in_client(area.alice)
    assert client.get(reverse("home")).status_code == 200
    blocker = psycopg2.connect(child_database_url())
    try:
        with blocker.cursor() as cursor:
            cursor.execute("BEGIN")
            cursor.execute("LOCK TABLE django_session IN ACCESS EXCLUSIVE MODE")
            started = time.monotonic()
            response = client.get(reverse("home"))
            elapsed = time.monotonic() - started
    finally:
        blocker.rollback()
        blocker.close()
    assert response.status_code == 503
    assert elapsed < 3, f"{elapsed:.2f} s"
    assert response["Retry-After"]
    page = response.content.decode()
    assert "VOM är tillfälligt otillgängligt" in page
    assert "Märta" not in page
    # The connection is usable again for the next request.
    assert client.get(reverse("home")).status_code == 200


def test_a_database_that_does_not_answer_ends_in_a_503_page_in_english(area, web_limits):
    client = _signed_in_client(area.alice, language="en")
    silent = SilentServer()
    settings_dict = connection.settings_dict
    saved = (settings_dict["HOST"], settings_dict["PORT"])
    connection.close()
    settings_dict["HOST"], settings_dict["PORT"] = "127.0.0.1", silent.port
    try:
        started = time.monotonic()
        response = client.get(reverse("home"))
        elapsed = time.monotonic() - started
    finally:
        connection.close()
        settings_dict["HOST"], settings_dict["PORT"] = saved
        silent.close()
    assert silent.connections >= 1
    assert response.status_code == 503
    # DB_CONNECT_TIMEOUT (3 s by default) bounds the wait, not the 8 s the server holds on.
    assert elapsed < 5, f"{elapsed:.2f} s"
    assert "VOM is temporarily unavailable" in response.content.decode()
    assert response["Content-Language"] == "en"


def test_an_export_streams_with_the_longer_limit_and_gives_it_back(web_limits, settings):
    settings.DB_EXPORT_STATEMENT_TIMEOUT_MS = 60_000

    def rows():
        with connection.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            yield cursor.fetchone()[0]

    assert list(dblimits.longer_statements(rows())) == ["1min"]
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "700ms"
