"""Faults, against the real Redis, a real Celery worker process and a real SMTP server:
Redis down during a request, a worker killed mid-delivery, and the in-process clock of
`make run`. The worker and the server process use this test's PostgreSQL database, so the
tests commit their data (transaction=True). Each stops by itself (timeouts)."""

import re
import socket
import sys
import threading
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from meetings import delivery, mail, reply_links
from meetings.models import OutboxMessage, Participant
from meetings.tasks import deliver_message

from .notify_support import (
    Process,
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


class SilentServer:
    """Accepts TCP connections and never answers: a hung Redis."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                self.conns.append(self.sock.accept()[0])
            except OSError:
                continue

    def close(self):
        self.stop.set()
        self.thread.join(timeout=2)
        for conn in self.conns:
            conn.close()
        self.sock.close()


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


def test_a_hung_redis_delays_a_request_by_the_socket_timeout_only(area, settings, client):
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
    # CELERY_BROKER_TRANSPORT_OPTIONS socket_timeout (2 s) bounds the wait.
    assert elapsed < 3.5, f"the request took {elapsed:.2f} s"
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["socket_timeout"] <= 2
    assert OutboxMessage.objects.get(kind=Kind.ROLE_DECLINED).status == Status.PENDING


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
