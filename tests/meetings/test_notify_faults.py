"""Faults, against the real Redis, a real Celery worker process and a real SMTP server:
Redis down or hung during a request, a worker killed mid-delivery, and the in-process clock
of `make run` (the whole matrix against real server processes: test_fault_matrix.py). The
worker and the server process use this test's PostgreSQL database, so the tests commit
their data (transaction=True). Each stops by itself (timeouts)."""

import logging
import re
import sys
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import delivery, mail, reply_links
from meetings.models import OutboxMessage, Participant
from meetings.tasks import deliver_message

from ..conftest import use_shared_cache
from ..notify_support import (
    Process,
    SilentServer,
    broker_database,
    free_port,
    outbox,
    require_postgres,
    schedule_meeting,
    service_env,
    smtp_server,
    start_worker,
    use_broker,
    use_smtp,
    wait_until,
)

Kind = OutboxMessage.Kind
Status = OutboxMessage.Status

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def broker(redis_url):
    """A Redis database of this test file's own (5), emptied before and after."""
    with broker_database(redis_url, 5) as url:
        yield url


def _closed_port_url() -> str:
    return f"redis://127.0.0.1:{free_port()}/5"


def test_redis_down_during_the_request_then_the_sweep_delivers(
    area, broker, settings, client, tmp_path
):
    with smtp_server() as (inbox, smtp_port):
        use_smtp(settings, smtp_port)
        with use_broker(_closed_port_url()):
            s = schedule_meeting(area)  # every enqueue fails fast; the rows are written
            url = reverse(
                "reply", args=[reply_links.make_token(s.dora, Participant.Response.DECLINED)]
            )
            assert client.get(url).status_code == 200
            started = time.monotonic()
            response = client.post(url)
            elapsed = time.monotonic() - started

        # The answer is saved, quickly, with Redis refusing connections.
        assert response.status_code == 302
        assert elapsed < 1.0, f"the request took {elapsed:.2f} s"
        s.dora.refresh_from_db()
        assert s.dora.response == Participant.Response.DECLINED
        notice = OutboxMessage.objects.get(kind=Kind.ROLE_DECLINED)
        assert notice.status == Status.PENDING
        assert inbox.messages == []

        # Redis is back: a real worker with beat (sweep every second) delivers it.
        worker = start_worker(
            tmp_path, service_env(redis_url=broker, smtp_port=smtp_port), beat=True
        )
        try:
            # The convener's notice and the three invitations that were never queued.
            assert inbox.wait_for(4, timeout=40), worker.log()
            assert wait_until(
                lambda: (
                    not outbox(s.meeting, status__in=[Status.PENDING, Status.SENDING])
                    .filter(due_at__lte=timezone.now())
                    .exists()
                ),
                timeout=10,
            ), worker.log()
            time.sleep(1.5)  # another sweep or two: nothing is sent twice
        finally:
            worker.stop()
        assert len(inbox.to("alice@example.org")) == 1
        assert len(inbox.messages) == 4
        notice.refresh_from_db()
        assert (notice.status, notice.attempts) == (Status.SENT, 1)


def test_a_hung_broker_delays_a_request_by_one_read_timeout_only(area, settings, client):
    require_postgres()
    silent = SilentServer()
    try:
        with use_broker(_closed_port_url()):
            s = schedule_meeting(area)
        url = reverse("reply", args=[reply_links.make_token(s.dora, Participant.Response.DECLINED)])
        with use_broker(f"redis://127.0.0.1:{silent.port}/5"):
            started = time.monotonic()
            response = client.post(url)
            elapsed = time.monotonic() - started
    finally:
        silent.close()
    assert response.status_code == 302
    # REDIS_READ_TIMEOUT (1 s) bounds the wait for the broker's answer.
    assert settings.REDIS_READ_TIMEOUT <= 1
    assert elapsed < 2.0, f"the request took {elapsed:.2f} s"
    assert OutboxMessage.objects.get(kind=Kind.ROLE_DECLINED).status == Status.PENDING


class _Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)

    def warnings(self, text: str) -> list[str]:
        return [
            r.getMessage()
            for r in self.records
            if r.levelno >= logging.WARNING and text in r.getMessage()
        ]


@pytest.fixture
def breaker_log():
    handler = _Records()
    logger = logging.getLogger("vom.breaker")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_a_hung_cache_costs_a_signed_in_page_one_timeout_then_nothing(
    area, settings, client, redis_url, breaker_log
):
    """Issue 18: with the shared cache on a Redis that accepts and never answers, every
    signed-in page took 20-55 s (no socket time-outs, 4-11 cache calls per page)."""
    from vom import breaker

    use_shared_cache(settings, redis_url)
    client.force_login(area.alice, backend="participants.auth.UsernameOrEmailBackend")
    assert client.get(reverse("home")).status_code == 200  # the session's copy is cached

    silent = SilentServer(close_after=8)
    settings.CACHES = {
        "default": {
            "BACKEND": "vom.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{silent.port}/11",
        }
    }
    settings.REDIS_BREAKER_FAILURES = 3
    settings.REDIS_BREAKER_SECONDS = 30
    timings, connections = [], []
    try:
        for _view in range(8):
            started = time.monotonic()
            response = client.get(reverse("home"))
            timings.append(time.monotonic() - started)
            connections.append(silent.connections)
            assert response.status_code == 200
            assert "Märta" in response.content.decode()
    finally:
        silent.close()
    # Each of the first three pages waits one read time-out (1 s), not one per cache call.
    assert max(timings) < 2.0, timings
    assert connections[:3] == [1, 2, 3], connections
    # Then the breaker is open: the process leaves Redis alone, the pages are fast.
    assert breaker.cache.is_open
    assert connections[3:] == [3] * 5, connections
    assert max(timings[3:]) < 0.5, timings
    # Said once in the log, not once per call.
    assert len(breaker_log.warnings("unavailable")) == 1, breaker_log.warnings("")


def test_the_breaker_tries_again_after_its_pause_and_says_when_redis_is_back(
    settings, redis_url, breaker_log
):
    from django.core.cache import cache

    from vom import breaker

    silent = SilentServer()
    settings.CACHES = {
        "default": {
            "BACKEND": "vom.redis_cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{silent.port}/11",
        }
    }
    settings.REDIS_BREAKER_FAILURES = 2
    settings.REDIS_BREAKER_SECONDS = 1
    try:
        for _request in range(2):
            breaker.new_scope()
            with pytest.raises(breaker.RedisUnavailable):
                cache.get("k")
            # The same request does not try again.
            with pytest.raises(breaker.RedisUnavailable, match="not tried"):
                cache.get("k")
        assert breaker.cache.is_open and silent.connections == 2
        breaker.new_scope()
        with pytest.raises(breaker.RedisUnavailable, match="not tried"):
            cache.set("k", 1)
        assert silent.connections == 2
    finally:
        silent.close()
    # Redis answers again (the real one); after the pause one call tries and closes it.
    settings.CACHES = {
        "default": {
            "BACKEND": "vom.redis_cache.RedisCache",
            "LOCATION": f"{redis_url.rsplit('/', 1)[0]}/11",
            "KEY_PREFIX": "breaker-test",
        }
    }
    time.sleep(1.1)
    breaker.new_scope()
    cache.set("k", 1, 5)
    assert cache.get("k") == 1
    assert not breaker.cache.is_open
    assert len(breaker_log.warnings("unavailable")) == 1
    assert len(breaker_log.warnings("answers again")) == 1


def test_a_request_that_queues_many_messages_waits_for_a_hung_broker_once(area):
    """A meeting's invitations are queued one per participant after the commit: with a hung
    broker only the first publish waits; the rows are there for the sweep."""
    from vom import breaker

    require_postgres()
    silent = SilentServer()
    try:
        with use_broker(f"redis://127.0.0.1:{silent.port}/5"):
            breaker.new_scope()
            started = time.monotonic()
            s = schedule_meeting(area)
            elapsed = time.monotonic() - started
            tried = silent.connections
    finally:
        silent.close()
    queued = outbox(s.meeting, status=Status.PENDING).count()
    assert queued >= 3
    assert elapsed < 2.5, f"scheduling took {elapsed:.2f} s"
    assert tried == 1


def test_a_worker_killed_mid_delivery_delivers_exactly_once(area, broker, tmp_path, settings):
    with smtp_server() as (inbox, smtp_port):
        with use_broker(_closed_port_url()):
            s = schedule_meeting(area)
        row = outbox(s.meeting, kind=Kind.INVITATION, participant=s.bob).get()
        outbox(s.meeting).exclude(pk=row.pk).update(status=Status.CANCELLED)
        env = service_env(redis_url=broker, smtp_port=smtp_port)

        # The server holds the message at DATA: sent, not yet accepted.
        inbox.hold()
        first = start_worker(tmp_path, env, beat=False)
        try:
            with use_broker(broker):
                delivery.queue_delivery(row.pk)
            assert inbox.reached.wait(timeout=40), first.log()
            row.refresh_from_db()
            assert (row.status, row.attempts) == (Status.SENDING, 1)
            first.kill()  # SIGKILL: no cleanup, the task stays unacknowledged
            assert first.popen.returncode == -9
        finally:
            first.stop()
        inbox.release()  # the connection is gone; the server never accepted the message
        assert inbox.messages == []

        second = start_worker(tmp_path, env, beat=True)
        try:
            # After the lease (3 s) the sweep claims the row again and sends it.
            assert inbox.wait_for(1, timeout=40), second.log()
            assert wait_until(
                lambda: OutboxMessage.objects.get(pk=row.pk).status == Status.SENT, 10
            ), second.log()
            # The task delivered twice more (a redelivery, a double publish): nothing new.
            with use_broker(broker):
                deliver_message.delay(row.pk)
                deliver_message.delay(row.pk)
            assert wait_until(
                lambda: len(re.findall(r"deliver_message\[[^\]]+\] succeeded", second.log())) >= 2,
                timeout=20,
            ), second.log()
            time.sleep(4)  # longer than a lease plus a sweep
        finally:
            second.stop()

        assert len(inbox.messages) == 1
        (received,) = inbox.messages
        assert received["To"] == "bob@example.org"
        assert received["Message-ID"] == mail.message_id(row)
        row.refresh_from_db()
        assert (row.status, row.attempts) == (Status.SENT, 2)


def test_make_run_without_redis_sends_due_reminders_from_the_server_process(area, tmp_path):
    require_postgres()
    with smtp_server() as (inbox, smtp_port):
        with use_broker(_closed_port_url()):
            s = schedule_meeting(area)
        reminder = outbox(s.meeting, kind=Kind.REMINDER_DAY_BEFORE, participant=s.bob).get()
        outbox(s.meeting).exclude(pk=reminder.pk).update(status=Status.CANCELLED)
        # The day before has come (the meeting is still ahead).
        OutboxMessage.objects.filter(pk=reminder.pk).update(due_at=timezone.now())

        port = free_port()
        env = service_env(redis_url="", smtp_port=smtp_port, DEBUG="true")
        server = Process(
            [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks",
             f"127.0.0.1:{port}"],
            env,
            tmp_path / "runserver.log",
        )  # fmt: skip
        try:
            assert inbox.wait_for(1, timeout=40), server.log()
            assert wait_until(
                lambda: OutboxMessage.objects.get(pk=reminder.pk).status == Status.SENT, 10
            ), server.log()
        finally:
            server.stop()
        (received,) = inbox.messages
        assert received["To"] == "bob@example.org"
        reminder.refresh_from_db()
        assert reminder.status == Status.SENT
