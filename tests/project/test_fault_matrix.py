"""The fault matrix (`make faults`): the product as deployed (gunicorn, a Celery worker with
beat, Redis as broker and shared cache, an SMTP server, PostgreSQL), every server on
loopback and of the test's own where the fault is injected: its own redis-server (killed,
stopped with SIGSTOP), its own PostgreSQL cluster (restarted under load), an aiosmtpd server
(down, silent), worker and web processes (SIGKILLed).

Each fault sends messages the way users cause them (a password reset asked for through the
web server: one outbox row per account) and counts what the mail server received: every
message once, none lost, none twice; and how long every request took. Each prints one line
(tests/fault_lines.py). Traffic goes to 127.0.0.1 only; every wait has a time-out.
"""

import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass

import psycopg2
import pytest
from django.test import Client

from meetings.models import OutboxMessage
from participants.models import Role

from ..factories import MembershipFactory
from ..fault_lines import GOAL_MS, FaultLine, record
from ..notify_support import (
    Browser,
    PostgresCluster,
    RedisServer,
    SilentServer,
    WebServer,
    child_database_url,
    free_port,
    require_postgres,
    service_env,
    smtp_server,
    start_worker,
    wait_until,
)

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]

Kind = OutboxMessage.Kind
PAGE_VIEWS = 50


@dataclass
class Rig:
    redis: RedisServer
    inbox: object
    smtp_port: int
    tmp_path: object
    database_url: str

    def env(self, **extra):
        values = {
            "REDIS_URL": self.redis.url(0),
            "CACHE_URL": self.redis.url(1),
            "CONN_MAX_AGE": "60",
            "OUTBOX_MAX_ATTEMPTS": "10",
            "DATABASE_URL": self.database_url,
        }
        values.update(extra)
        return service_env(redis_url=values.pop("REDIS_URL"), smtp_port=self.smtp_port, **values)


@pytest.fixture
def rig(tmp_path):
    require_postgres("the web and worker processes share the test database")
    redis = RedisServer(tmp_path)
    try:
        with smtp_server() as (inbox, smtp_port):
            yield Rig(redis, inbox, smtp_port, tmp_path, child_database_url())
    finally:
        redis.stop()


@pytest.fixture
def people(area):
    """alice signed in (her session key) and accounts that ask for a password reset."""
    accounts = [
        MembershipFactory(
            organisation=area.health_care, role=Role.ASSISTANT_NURSE, user__username=f"reset{i}"
        ).user
        for i in range(24)
    ]
    client = Client()
    client.force_login(area.alice, backend="participants.auth.UsernameOrEmailBackend")
    return area, client.cookies["sessionid"].value, [user.email for user in accounts]


def ask_resets(web: WebServer, addresses, *, browser: Browser | None = None) -> dict:
    """A password reset per address, through the web server; {address: status}."""
    browser = browser or Browser(web.base)
    return {
        address: browser.request("/accounts/password_reset/", {"email": address})[0]
        for address in addresses
    }


def view_pages(web: WebServer, session_key: str, area, count: int = PAGE_VIEWS):
    """`count` signed-in page views (start page and the person's page); the statuses."""
    browser = Browser(web.base, session_key)
    paths = ["/", f"/persons/{area.person.pk}/"]
    statuses = [browser.request(paths[i % 2])[0] for i in range(count)]
    return browser, statuses


def tally(inbox, addresses, *, rows_query=None, database_url=None, timeout=60):
    """Wait until every reset row is sent, then a little longer (sweeps that might send
    again); (sent, expected, duplicates) for `addresses`."""

    def reset_rows():
        if database_url is None:
            return list(
                OutboxMessage.objects.filter(kind=Kind.PASSWORD_RESET).values_list(
                    "to_address", "status"
                )
            )
        try:
            db = psycopg2.connect(database_url, connect_timeout=3)
        except psycopg2.Error:
            return None
        try:
            with db.cursor() as cursor:
                cursor.execute(
                    "SELECT to_address, status FROM meetings_outboxmessage WHERE kind = %s",
                    [Kind.PASSWORD_RESET],
                )
                return cursor.fetchall()
        except psycopg2.Error:
            return None
        finally:
            db.close()

    def settled():
        rows = reset_rows()
        return rows is not None and rows and all(status == "sent" for _a, status in rows)

    wait_until(settled, timeout, 0.25)
    time.sleep(2.5)  # a few more sweeps (1 s): nothing may go out again
    rows = reset_rows() or []
    expected = {address for address, _status in rows}
    received = Counter(
        address for message in inbox.messages for address in addresses if address in message["To"]
    )
    sent = sum(1 for address in expected if received[address] >= 1)
    duplicates = sum(count - 1 for count in received.values() if count > 1)
    # A message nobody's row asked for is a duplicate too (there are none: one row each).
    duplicates += sum(received[a] for a in received if a not in expected)
    return sent, len(expected), duplicates


def finish(
    name, rig, addresses, statuses, browsers, *, requests_ok=True, goal_ms=GOAL_MS, **tally_kwargs
):
    sent, expected, duplicates = tally(rig.inbox, addresses, **tally_kwargs)
    # Nothing lost: every reset the site confirmed has its row (and so its message).
    confirmed = [a for a, status in statuses.items() if status == 302]
    line = record(
        FaultLine(
            name=name,
            sent=sent,
            expected=expected,
            duplicates=duplicates,
            max_request_ms=max(b.max_ms for b in browsers),
            requests_ok=requests_ok and len(confirmed) <= expected,
            goal_ms=goal_ms,
        )
    )
    print(line)
    assert line.ok, f"{line} (statuses {statuses})"
    return line


def _anonymous(web):
    return Browser(web.base)


def test_redis_killed(rig, people):
    area, session, addresses = people
    web = WebServer(rig.tmp_path, rig.env())
    worker = start_worker(rig.tmp_path, rig.env(), beat=True)
    try:
        assert Browser(web.base, session).request("/")[0] == 200
        rig.redis.kill()  # SIGKILL: connections refused from now on
        viewer, views = view_pages(web, session, area)
        writer = _anonymous(web)
        statuses = ask_resets(web, addresses[:10], browser=writer)
        rig.redis.start()  # back, empty: whatever was queued is gone; the sweep sends it
        finish(
            "redis_killed",
            rig,
            addresses,
            statuses,
            [viewer, writer],
            requests_ok=views == [200] * PAGE_VIEWS and set(statuses.values()) == {302},
        )
    finally:
        worker.stop()
        web.stop()


def test_redis_hung(rig, people):
    area, session, addresses = people
    web = WebServer(rig.tmp_path, rig.env())
    worker = start_worker(rig.tmp_path, rig.env(), beat=True)
    try:
        assert Browser(web.base, session).request("/")[0] == 200
        rig.redis.signal(signal.SIGSTOP)  # accepts connections, answers nothing
        try:
            viewer, views = view_pages(web, session, area)
            writer = _anonymous(web)
            statuses = ask_resets(web, addresses[:10], browser=writer)
        finally:
            rig.redis.signal(signal.SIGCONT)
        finish(
            "redis_hung",
            rig,
            addresses,
            statuses,
            [viewer, writer],
            requests_ok=views == [200] * PAGE_VIEWS and set(statuses.values()) == {302},
        )
    finally:
        worker.stop()
        web.stop()


def test_postgres_restarted_under_load(rig, people):
    area, session, addresses = people
    cluster = PostgresCluster()
    try:
        cluster.copy_database(child_database_url())
        env = rig.env(DATABASE_URL=cluster.url(), OUTBOX_LEASE_SECONDS="30")
        web = WebServer(rig.tmp_path, env)
        worker = start_worker(rig.tmp_path, env, beat=True)
        try:
            viewer = Browser(web.base, session)
            writer = _anonymous(web)
            views, statuses = [], {}
            stop = threading.Event()

            def keep_viewing():
                while not stop.is_set():
                    views.append(viewer.request(f"/persons/{area.person.pk}/")[0])

            def keep_writing():
                for address in addresses:
                    if stop.is_set():
                        break
                    statuses[address] = writer.request(
                        "/accounts/password_reset/", {"email": address}
                    )[0]
                    time.sleep(0.25)

            threads = [threading.Thread(target=f) for f in (keep_viewing, keep_writing)]
            for thread in threads:
                thread.start()
            time.sleep(1.0)
            cluster.restart()  # fast shutdown: every connection is cut, then back
            time.sleep(2.0)
            stop.set()
            for thread in threads:
                thread.join(timeout=40)
            answered = set(views) | set(statuses.values())
            finish(
                "postgres_restarted",
                rig,
                addresses,
                statuses,
                [viewer, writer],
                database_url=cluster.url(),
                # Pages answer, or say the service is unavailable (503); never a 500 or a hang.
                requests_ok=answered <= {200, 302, 503} and 302 in answered,
            )
        finally:
            worker.stop()
            web.stop()
    finally:
        cluster.destroy()


def test_worker_killed_mid_send(rig, people):
    _area, _session, addresses = people
    web = WebServer(rig.tmp_path, rig.env())
    rig.inbox.hold()  # the server keeps the first message at DATA: sent, not accepted
    first = start_worker(rig.tmp_path, rig.env(), beat=True)
    try:
        writer = _anonymous(web)
        statuses = ask_resets(web, addresses[:5], browser=writer)
        assert rig.inbox.reached.wait(timeout=40), first.log()
        first.kill()  # SIGKILL mid-send: no cleanup, the row stays in "sending"
    finally:
        first.stop()
    rig.inbox.release()  # the connection is gone; that copy was never accepted
    second = start_worker(rig.tmp_path, rig.env(), beat=True)
    try:
        finish("worker_killed", rig, addresses, statuses, [writer],
               requests_ok=set(statuses.values()) == {302})  # fmt: skip
    finally:
        second.stop()
        web.stop()


def test_smtp_down(rig, people):
    _area, _session, addresses = people
    port = free_port()  # nothing listens: connection refused
    env = rig.env(EMAIL_URL=f"smtp://127.0.0.1:{port}")
    web = WebServer(rig.tmp_path, env)
    worker = start_worker(rig.tmp_path, env, beat=True)
    try:
        writer = _anonymous(web)
        statuses = ask_resets(web, addresses[:5], browser=writer)
        assert wait_until(
            lambda: (
                OutboxMessage.objects.filter(kind=Kind.PASSWORD_RESET, attempts__gte=2).count() >= 5
            ),
            30,
        ), worker.log()
        with smtp_server(port=port, inbox=rig.inbox):  # the mail server is back
            finish("smtp_down", rig, addresses, statuses, [writer],
                   requests_ok=set(statuses.values()) == {302})  # fmt: skip
    finally:
        worker.stop()
        web.stop()


def test_smtp_silent(rig, people):
    _area, _session, addresses = people
    silent = SilentServer(close_after=30)  # accepts, never says hello
    env = rig.env(EMAIL_URL=f"smtp://127.0.0.1:{silent.port}", EMAIL_TIMEOUT="2")
    web = WebServer(rig.tmp_path, env)
    worker = start_worker(rig.tmp_path, env, beat=True)
    try:
        writer = _anonymous(web)
        statuses = ask_resets(web, addresses[:5], browser=writer)
        assert wait_until(lambda: silent.connections >= 3, 30), worker.log()
        port = silent.port
        silent.close()
        with smtp_server(port=port, inbox=rig.inbox):
            finish("smtp_silent", rig, addresses, statuses, [writer],
                   requests_ok=set(statuses.values()) == {302})  # fmt: skip
    finally:
        silent.close()
        worker.stop()
        web.stop()


def test_two_beats(rig, people):
    _area, _session, addresses = people
    rig.inbox.delay = 0.2  # slower acceptance: sweeps overlap more
    web = WebServer(rig.tmp_path, rig.env())
    workers = [start_worker(rig.tmp_path, rig.env(), beat=True) for _ in range(2)]
    try:
        writer = _anonymous(web)
        statuses = ask_resets(web, addresses[:10], browser=writer)
        finish("two_beats", rig, addresses, statuses, [writer],
               requests_ok=set(statuses.values()) == {302})  # fmt: skip
    finally:
        for worker in workers:
            worker.stop()
        web.stop()


def test_web_process_killed_mid_request(rig, people):
    _area, session, addresses = people
    web = WebServer(rig.tmp_path, rig.env(), workers=2)
    worker = start_worker(rig.tmp_path, rig.env(), beat=True)
    try:
        writers = [_anonymous(web) for _ in range(3)]
        statuses, lock = {}, threading.Lock()
        queue = list(addresses)

        def keep_writing(browser):
            while True:
                with lock:
                    if not queue:
                        return
                    address = queue.pop(0)
                status = browser.request("/accounts/password_reset/", {"email": address})[0]
                with lock:
                    statuses[address] = status

        threads = [threading.Thread(target=keep_writing, args=(b,)) for b in writers]
        for thread in threads:
            thread.start()
        # SIGKILL a web process while requests are in flight (gunicorn starts another),
        # until at least one request was cut off.
        killed = 0
        while killed < 6 and 0 not in statuses.values() and queue:
            time.sleep(0.25)
            pids = web.workers()
            if pids:
                os.kill(pids[killed % len(pids)], signal.SIGKILL)
                killed += 1
        for thread in threads:
            thread.join(timeout=60)
        cut = sum(1 for status in statuses.values() if status == 0)
        # Requests cut off answer nothing (0); the others were served.
        assert set(statuses.values()) <= {0, 302}, statuses
        assert cut >= 1, f"no request was cut off in {killed} kills"
        # A request that arrives while gunicorn replaces the process waits for the new one.
        finish("web_killed", rig, addresses, statuses, writers, goal_ms=10_000)
    finally:
        worker.stop()
        web.stop()
