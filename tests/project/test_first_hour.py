"""The first hour of a newcomer: `PORT=… make run` links to its own port, a single test file
runs on a fresh clone without a build step first, and `make run` (DEBUG) shows the product's
own error pages, not Django's technical ones."""

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.urls import include, path

from meetings.models import Meeting

ROOT = Path(__file__).resolve().parents[2]


def _settings_value(name: str, **env) -> str:
    environ = {k: v for k, v in os.environ.items() if k not in {"SITE_URL", "PORT"}}
    environ.update(env)
    code = "import django; django.setup(); from django.conf import settings; print(settings.%s)"
    code %= name
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env={**environ, "DJANGO_SETTINGS_MODULE":
        "vom.settings"}, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return done.stdout.strip()


def test_the_links_in_emails_follow_the_port_make_run_serves_on():
    assert _settings_value("SITE_URL", PORT="8101") == "http://127.0.0.1:8101"
    assert _settings_value("SITE_URL") == "http://127.0.0.1:8000"
    assert _settings_value("SITE_URL", PORT="8101", SITE_URL="https://vom.example/") == (
        "https://vom.example"
    )


def test_one_test_file_runs_on_a_fresh_clone_without_collectstatic(tmp_path, settings):
    # No static files collected yet (an empty STATIC_ROOT), DEBUG off as in `make test`:
    # the pages still render, because the suite builds what it needs.
    static_root = tmp_path / "static"
    # its own test database, beside the one this run uses
    database = settings.DATABASES["default"]
    url = f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/"
    url += f"{database['NAME']}_fresh_clone"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:logging",
         "tests/project/test_http_basics.py", "-k", "static_files_are_served or security_headers"],
        cwd=ROOT, env={**os.environ, "STATIC_ROOT": str(static_root), "DEBUG": "false",
             "DATABASE_URL": url},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "2 passed" in done.stdout
    assert (static_root / "staticfiles.json").exists()


def _crash(request):
    raise RuntimeError("a fault for the test")


def _fine(request):
    return HttpResponse("fine")


urlpatterns = [path("crash/", _crash), path("fine/", _fine), path("", include("vom.urls"))]


@pytest.fixture
def debug_on(settings):
    settings.DEBUG = True
    settings.ROOT_URLCONF = __name__


@pytest.mark.django_db
def test_under_debug_a_missing_page_is_the_products_own_404(debug_on, client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    text = response.content.decode()
    assert "Vi hittade inte sidan" in text and "DEBUG = True" not in text


@pytest.mark.django_db
def test_under_debug_a_meeting_you_may_not_see_is_the_products_own_404(
    debug_on, marea, meeting_in, login
):
    meeting = meeting_in(Meeting.State.SCHEDULED)
    client = login(marea.outsider)
    response = client.get(f"/meetings/{meeting.pk}/")
    assert response.status_code == 404
    assert "Vi hittade inte sidan" in response.content.decode()


@pytest.mark.django_db
def test_under_debug_a_fault_is_the_products_own_500(debug_on, client):
    client.raise_request_exception = False
    response = client.get("/crash/")
    assert response.status_code == 500
    text = response.content.decode()
    assert "Något gick fel hos oss" in text and "a fault for the test" not in text
    assert client.get("/fine/").content == b"fine"


def _start_with(**env) -> subprocess.CompletedProcess:
    code = "import django; django.setup()"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "vom.settings", **env},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("SESSION_CACHE_SECONDS", "5000", "SESSION_CACHE_SECONDS must be at most 3600, got 5000"),
        ("OUTBOX_MAX_ATTEMPTS", "0", "OUTBOX_MAX_ATTEMPTS must be at least 1, got 0"),
        ("SUMMARY_RENDER_TIMEOUT", "soon", "SUMMARY_RENDER_TIMEOUT must be a whole number"),
    ],
)
def test_a_setting_out_of_range_stops_the_start_with_a_message(name, value, says):
    done = _start_with(**{name: value})
    assert done.returncode != 0 and says in done.stderr, done.stderr[-800:]
    assert _start_with().returncode == 0


@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_make_run_on_sqlite_migrates_loads_the_demo_and_gives_the_figures_postgresql_gives(
    tmp_path,
):
    """`make run` without DATABASE_URL is SQLite: the migrations apply (PostgreSQL's
    triggers are left out), the demo loads, and the managers' figures, computed there from
    the tables when read, are the ones the stored tallies give on PostgreSQL."""
    import json

    from django.core.management import call_command

    from reports import figures, tallies

    environ = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    environ.update(DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}", DEBUG="true")
    today = dt.date.today()
    period = ["--from", f"{today.year - 1}-01-01", "--to", today.isoformat()]
    for command in (["migrate", "--noinput"], ["seed_demo", "--quiet-logins"], ["report", *period]):
        done = subprocess.run(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=environ,
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    on_sqlite = json.loads(done.stdout)
    assert on_sqlite["meetings_held"] > 0

    call_command("seed_demo", quiet_logins=True)
    tallies.fold()
    on_postgresql = figures.compute(figures.Period(dt.date(today.year - 1, 1, 1), today)).as_json()
    assert {k: v for k, v in on_sqlite.items() if k != "tables"} == {
        k: v for k, v in on_postgresql.items() if k != "tables"
    }
    assert on_sqlite["tables"] == json.loads(json.dumps(on_postgresql["tables"], default=str))
