"""Reports and exports read from a streaming replica (vom/replica.py), writes stay on the
primary, and a replica that falls behind sends the reads back to the primary, which the
dashboard says in the reader's language.

The test starts its own primary and replica clusters on loopback (`make replica`: root,
initdb through runuser, replication allowed in their own pg_hba.conf, pg_basebackup -R),
migrates and seeds the primary, and serves the product with gunicorn reading both. The
replica is told apart by what it has not replayed yet: the primary renames the manager's
organisation while the replica's replay is paused. The page's scope (who may see what) is
read from the primary and shows the new name; the figures and the export, read from the
replica, show the old one until the replica is more than REPLICA_MAX_LAG_SECONDS behind.
"""

import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import psycopg2
import pytest

from ..measures import record
from ..notify_support import (
    BASE_DIR,
    Browser,
    PostgresCluster,
    WebServer,
    service_env,
    wait_until,
)

pytestmark = pytest.mark.replica

MAX_LAG_SECONDS = 15
BEFORE = "Solhöjdens vårdcentral (före)"
AFTER = "Solhöjdens vårdcentral (efter)"

# In the primary, after the demo area is built: the month tallies folded, and a manager
# signed in with a second factor, as the sign-in pages leave a session.
SIGN_IN = """
import json
from django.test import Client
from participants.models import User
from reports import selectors, tallies
from tests.twofactor import verify_second_factor

tallies.fold()
manager = User.objects.get(username="chef.hsv")
client = Client()
client.force_login(manager, backend="participants.auth.UsernameOrEmailBackend")
verify_second_factor(client, manager)
organisation = selectors.managed_organisations(manager)[0]
print(json.dumps({"session": client.session.session_key, "organisation": organisation.pk}))
"""


@dataclass
class Replicated:
    primary: PostgresCluster
    replica: PostgresCluster
    web: WebServer
    session: str
    organisation: int

    def browser(self, language: str | None = None) -> Browser:
        browser = Browser(self.web.base, self.session)
        if language:
            browser.cookies["django_language"] = language
        return browser


def _manage(env, *args) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, f"manage.py {args[0]}: {done.stdout[-2000:]}{done.stderr[-4000:]}"
    return done.stdout


def _one(url: str, query: str, args=()):
    with psycopg2.connect(url) as db, db.cursor() as cursor:
        cursor.execute(query, args)
        row = cursor.fetchone() if cursor.description else None
    db.close()
    return row[0] if row else None


@pytest.fixture(scope="module")
def replicated(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("replica")
    primary = PostgresCluster()
    replica = web = None
    try:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(primary.port), "-U",
                        "postgres", "vom"], check=True, timeout=60)  # fmt: skip
        env = service_env(
            redis_url="", smtp_port=0, DATABASE_URL=primary.url(), EMAIL_URL="dummymail://"
        )
        _manage(env, "migrate", "--noinput")
        _manage(env, "seed_demo", "--quiet-logins")
        signed_in = json.loads(_manage(env, "shell", "-c", SIGN_IN).strip().splitlines()[-1])
        replica = PostgresCluster(standby_of=primary)
        assert _one(replica.url(), "SELECT pg_is_in_recovery()") is True
        web = WebServer(
            tmp_path,
            {
                **env,
                "DATABASE_REPLICA_URL": replica.url(),
                "REPLICA_MAX_LAG_SECONDS": str(MAX_LAG_SECONDS),
            },
        )
        yield Replicated(primary, replica, web, signed_in["session"], signed_in["organisation"])
    finally:
        if web is not None:
            web.stop()
        if replica is not None:
            replica.destroy()
        primary.destroy()


def _rename(replicated: Replicated, name: str) -> None:
    _one(
        replicated.primary.url(),
        "UPDATE participants_organisation SET name = %s WHERE id = %s",
        [name, replicated.organisation],
    )


def _name_on(url: str, replicated: Replicated) -> str:
    return _one(
        url, "SELECT name FROM participants_organisation WHERE id = %s", [replicated.organisation]
    )


def _replica_lag(replicated: Replicated) -> float:
    return float(
        _one(
            replicated.replica.url(),
            "SELECT EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())",
        )
    )


def _exports_logged(replicated: Replicated, url: str) -> int:
    return _one(url, "SELECT count(*) FROM participants_accesslog WHERE action = 'export'")


def _dashboard(browser: Browser) -> tuple[str, str]:
    """The page before the figures (the scope, read from the primary) and the figures."""
    status, page = browser.request("/reports/")
    assert status == 200, page[-3000:]
    head, marker, figures = page.partition('id="key-figures"')
    assert marker, page[-3000:]
    return head, figures


def _meetings_csv(browser: Browser) -> str:
    status, body = browser.request("/reports/export/meetings.csv")
    assert status == 200, body[-3000:]
    assert body.startswith("Möte,Status"), body[:300]
    return body


def test_reports_read_the_replica_and_the_primary_when_it_falls_behind(replicated):
    swedish, english = replicated.browser(), replicated.browser("en")

    # Caught up: the figures come from the replica, and the page has nothing to say.
    _rename(replicated, BEFORE)
    assert wait_until(lambda: _name_on(replicated.replica.url(), replicated) == BEFORE, 30)
    head, figures = _dashboard(swedish)
    assert BEFORE in head and BEFORE in figures
    assert "report-replica-behind" not in head

    # The replica stops replaying; the primary goes on.
    _one(replicated.replica.url(), "SELECT pg_wal_replay_pause()")
    paused = "SELECT pg_get_wal_replay_pause_state()"
    assert wait_until(lambda: _one(replicated.replica.url(), paused) == "paused", 10)
    _rename(replicated, AFTER)
    exports = _exports_logged(replicated, replicated.primary.url())

    head, figures = _dashboard(swedish)
    assert AFTER in head, "the scope and the filter are read from the primary"
    assert BEFORE in figures and AFTER not in figures, "the figures from the replica"
    assert "report-replica-behind" not in head
    export = _meetings_csv(swedish)
    assert export.count(BEFORE) >= 1 and AFTER not in export, "the export from the replica"
    # The export's access-log row is a write: on the primary, in the same request.
    assert _exports_logged(replicated, replicated.primary.url()) == exports + 1
    assert _replica_lag(replicated) < MAX_LAG_SECONDS, "the checks ran inside the limit"

    # More than REPLICA_MAX_LAG_SECONDS behind: the primary, and the page says so.
    assert wait_until(lambda: _replica_lag(replicated) > MAX_LAG_SECONDS + 1, 60)
    head, figures = _dashboard(swedish)
    assert AFTER in figures and BEFORE not in figures
    assert "Rapportkopian av databasen ligger" in head
    assert f"(mer än {MAX_LAG_SECONDS} s), så siffrorna är hämtade från huvuddatabasen" in head
    head, figures = _dashboard(english)
    assert AFTER in figures
    assert "The reporting copy of the database is" in head
    assert f"(more than {MAX_LAG_SECONDS} s), so these figures were read from the main" in head
    export = _meetings_csv(swedish)
    assert AFTER in export and BEFORE not in export
    assert _exports_logged(replicated, replicated.primary.url()) == exports + 2

    record(f"replica fallback dashboard_ms={_ms(swedish.timings_ms[-2:-1])} (past the limit)")

    # Replaying again: caught up, back on the replica, nothing to say.
    _one(replicated.replica.url(), "SELECT pg_wal_replay_resume()")
    assert wait_until(lambda: _name_on(replicated.replica.url(), replicated) == AFTER, 30)
    head, figures = _dashboard(swedish)
    assert AFTER in figures
    assert "report-replica-behind" not in head


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    return f"{statistics.median(ordered):.0f}/{ordered[-1]:.0f}"


def test_how_closely_the_replica_follows(replicated):
    """Figures for the README (median/max, no goal asserted): how soon a commit on the
    primary is readable on the replica, what the choice of the replica costs a report, and
    a dashboard and a meeting export served from it."""
    visible = []
    for i in range(10):
        name = f"Solhöjdens vårdcentral ({i})"
        started = time.monotonic()
        _rename(replicated, name)
        assert wait_until(lambda n=name: _name_on(replicated.replica.url(), replicated) == n,
                          10, 0.005)  # fmt: skip
        visible.append((time.monotonic() - started) * 1000)
    check = []
    with (
        psycopg2.connect(replicated.primary.url()) as primary,
        psycopg2.connect(replicated.replica.url()) as standby,
    ):
        primary.autocommit = standby.autocommit = True
        for _ in range(20):
            started = time.monotonic()
            with primary.cursor() as cursor:
                cursor.execute("SELECT pg_current_wal_lsn()::text")
                lsn = cursor.fetchone()[0]
            with standby.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn() >= %s::pg_lsn,"
                    " clock_timestamp() - pg_last_xact_replay_timestamp()",
                    [lsn],
                )
                cursor.fetchone()
            check.append((time.monotonic() - started) * 1000)
    primary.close()
    standby.close()
    browser = replicated.browser()
    for _ in range(5):
        head, _figures = _dashboard(browser)
        assert "report-replica-behind" not in head
    dashboards = browser.timings_ms[-5:]
    for _ in range(5):
        _meetings_csv(browser)
    exports = browser.timings_ms[-5:]
    record(
        f"replica visible_ms={_ms(visible)} check_ms={_ms(check)} "
        f"dashboard_ms={_ms(dashboards)} export_ms={_ms(exports)} (median/max)"
    )


def test_a_replica_that_cannot_be_reached_sends_reports_to_the_primary(replicated):
    replicated.replica.pg_ctl("-m", "fast", "stop")
    head, figures = _dashboard(replicated.browser())
    assert "Rapportkopian av databasen gick inte att nå" in head
    assert _name_on(replicated.primary.url(), replicated) in figures
    _meetings_csv(replicated.browser())
    head, _ = _dashboard(replicated.browser("en"))
    assert "The reporting copy of the database could not be reached" in head
