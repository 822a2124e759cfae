"""Shared pieces of the notification tests: a real SMTP server on loopback (aiosmtpd), a
meeting scheduled through the real services, and a real Celery worker process."""

import asyncio
import contextlib
import datetime as dt
import email
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from urllib.parse import quote, urlparse

from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.utils import timezone

from meetings import services
from meetings.choices import MeetingKind, RaisedBy, Reason, Urgency
from meetings.models import Consent, Meeting, OutboxMessage, Participant
from participants.models import Language, Role

from . import conftest
from .factories import MembershipFactory, RelativeFactory, proposed_days_ago

BASE_DIR = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SilentServer:
    """Accepts TCP connections and never answers: a hung Redis (or a silent mail server).
    `connections` counts the connections it accepted; after `close_after` seconds each is
    closed, so that a client without a time-out fails late instead of hanging the test."""

    def __init__(self, port: int = 0, close_after: float = 8.0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.close_after = close_after
        self.conns: list[tuple[float, socket.socket]] = []
        self.connections = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop.is_set():
            now = time.monotonic()
            for opened, conn in [c for c in self.conns if now - c[0] > self.close_after]:
                conn.close()
                self.conns.remove((opened, conn))
            try:
                conn = self.sock.accept()[0]
            except OSError:
                continue
            self.connections += 1
            self.conns.append((time.monotonic(), conn))

    def close(self):
        self.stop.set()
        self.thread.join(timeout=2)
        for _opened, conn in self.conns:
            conn.close()
        self.sock.close()


class Inbox:
    """An aiosmtpd handler that keeps what it accepts.

    `fail_with` answers DATA with an SMTP status (e.g. "421 ..."); `hold()` makes the next
    DATA wait (the client has sent the message and waits for the server's answer) until
    `release()`, then refuses it: the message is never accepted.
    """

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.fail_with: str | None = None
        self.delay = 0.0
        self.attempts = 0
        self.reached = threading.Event()
        self._release: threading.Event | None = None
        self._lock = threading.Lock()

    def hold(self) -> None:
        self._release = threading.Event()
        self.reached.clear()

    def release(self) -> None:
        if self._release is not None:
            self._release.set()
            self._release = None

    async def handle_DATA(self, server, session, envelope):
        self.attempts += 1
        release = self._release
        if release is not None:
            self.reached.set()
            await asyncio.get_running_loop().run_in_executor(None, release.wait, 60)
            return "451 4.3.0 Aborted before acceptance"
        if self.fail_with:
            return self.fail_with
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = email.message_from_bytes(envelope.content, policy=policy.default)
        with self._lock:
            self.messages.append(parsed)
        return "250 2.0.0 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]

    def wait_for(self, count: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.messages) >= count:
                return True
            time.sleep(0.05)
        return len(self.messages) >= count


def subject(message) -> str:
    """The decoded subject (the email package keeps the space of a folded header)."""
    return str(message["Subject"]).strip()


@contextlib.contextmanager
def smtp_server():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        inbox.release()
        controller.stop()


def use_smtp(settings_fixture, port: int) -> None:
    settings_fixture.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings_fixture.EMAIL_HOST = "127.0.0.1"
    settings_fixture.EMAIL_PORT = port
    settings_fixture.EMAIL_USE_TLS = False
    settings_fixture.EMAIL_USE_SSL = False
    settings_fixture.EMAIL_HOST_USER = ""
    settings_fixture.EMAIL_HOST_PASSWORD = ""
    settings_fixture.EMAIL_TIMEOUT = 5


@dataclass
class Scheduled:
    meeting: Meeting
    bob: Participant  # home-help coordinator, partner organisation
    dora: Participant  # physician, same organisation as the convener
    relative: Participant  # the daughter, reads English
    extra: dict = field(default_factory=dict)


def next_local_time(days: int = 10, hour: int = 10) -> dt.datetime:
    day = timezone.localdate() + dt.timedelta(days=days)
    return dt.datetime(
        day.year, day.month, day.day, hour, 0, tzinfo=timezone.get_current_timezone()
    )


def schedule_meeting(area, *, starts_at: dt.datetime | None = None, shared: bool = True):
    """A meeting taken to "scheduled" by the real services, as the nurse would."""
    starts_at = starts_at or next_local_time()
    dora = MembershipFactory(
        organisation=area.health_care,
        role=Role.PHYSICIAN,
        user__username="dora",
        user__first_name="Dora",
        user__last_name="Doktorsson",
    ).user
    daughter = RelativeFactory(
        person=area.person,
        name="Karin Åkesson",
        relation="dotter",
        email="karin@example.org",
        preferred_language=Language.ENGLISH,
    )
    meeting = services.meeting_initiate(
        actor=area.alice,
        person=area.person,
        organisation=area.health_care,
        reasons=[Reason.REPEATED_FALLS, Reason.NOT_EATING],
        reason_text="Har fallit tre gånger i köket sedan maj.",
        raised_by=RaisedBy.NURSE,
        urgency=Urgency.SOON,
        kind=MeetingKind.FULL,
    )
    proposed_days_ago(meeting)
    services.consent_record(
        actor=area.alice,
        meeting=meeting,
        wants_meeting=True,
        share_information=shared,
        relatives=[daughter],
        how=Consent.How.ORALLY,
        given_at=timezone.now(),
    )
    services.convening_start(actor=area.alice, meeting=meeting)
    physician = services.participant_invite(
        actor=area.alice, meeting=meeting, user=dora, organisation=area.health_care,
        role=Role.PHYSICIAN,
    )  # fmt: skip
    coordinator = None
    if shared:
        coordinator = services.participant_invite(
            actor=area.alice, meeting=meeting, user=area.bob, organisation=area.home_help,
            role=Role.HOME_HELP_COORDINATOR,
        )  # fmt: skip
    services.time_options_set(actor=area.alice, meeting=meeting, options=[starts_at])
    services.meeting_schedule(actor=area.alice, meeting=meeting, starts_at=starts_at)
    meeting.refresh_from_db()
    relative = meeting.participants.get(relative=daughter)
    return Scheduled(meeting=meeting, bob=coordinator, dora=physician, relative=relative)


def outbox(meeting, **filters):
    return OutboxMessage.objects.filter(meeting=meeting, **filters)


# --- Celery: the in-process app's broker, and a real worker process ---


def reset_broker_pools() -> None:
    from kombu import pools

    from vom.celery import app

    app._pool = None
    app.amqp._producer_pool = None
    pools.reset()


@contextlib.contextmanager
def use_broker(url: str):
    """Point this process's Celery app at `url` (tasks really published, not eager)."""
    from vom import breaker
    from vom.celery import app

    old = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url = url
    app.conf.task_always_eager = False
    reset_broker_pools()
    breaker.broker.reset()  # a broker that failed before is a different broker
    try:
        yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = old
        reset_broker_pools()
        breaker.broker.reset()


def redis_db_url(base_url: str, db: int) -> str:
    parsed = urlparse(base_url)
    auth = f"{parsed.username or ''}:{parsed.password}@" if parsed.password else ""
    return f"redis://{auth}{parsed.hostname}:{parsed.port or 6379}/{db}"


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()


@contextlib.contextmanager
def broker_database(redis_url: str, db: int):
    """A Redis database of one test file's own as the broker of a worker that shares the
    test database: emptied before and after."""
    require_postgres()
    url = redis_db_url(redis_url, db)
    flush_redis(url)
    try:
        yield url
    finally:
        flush_redis(url)


def require_postgres(why: str = "a worker process must share the test database") -> None:
    conftest.require_postgres(why)


def child_database_url() -> str:
    db = connection.settings_dict
    user = quote(db.get("USER") or "")
    password = quote(db.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{db['NAME']}"


def service_env(*, redis_url: str, smtp_port: int, **extra: str) -> dict[str, str]:
    env = os.environ.copy()
    env.update(
        DJANGO_SETTINGS_MODULE="vom.settings",
        PYTHONPATH=str(BASE_DIR),
        SECRET_KEY=settings.SECRET_KEY,
        DEBUG="false",
        DATABASE_URL=child_database_url(),
        CONN_MAX_AGE="0",
        REDIS_URL=redis_url,
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        EMAIL_TIMEOUT="2",
        SITE_URL=settings.SITE_URL,
        OUTBOX_SWEEP_SECONDS="1",
        OUTBOX_LEASE_SECONDS="3",
        OUTBOX_RETRY_SECONDS="1",
        LOG_LEVEL="INFO",
    )
    env.update(extra)
    return env


class Process:
    """A child process in its own session, stopped (SIGKILL to the group) at the end."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.popen = subprocess.Popen(
            args, cwd=BASE_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def kill(self) -> None:
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self) -> None:
        self.kill()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-6000:]


def start_worker(tmp_path: Path, env: dict[str, str], *, beat: bool) -> Process:
    name = f"vomtest-{uuid.uuid4().hex[:8]}@%h"
    args = [
        sys.executable, "-m", "celery", "-A", "vom", "worker", "--pool=solo",
        "--loglevel=INFO", "--without-gossip", "--without-mingle", "--without-heartbeat",
        "-n", name,
    ]  # fmt: skip
    if beat:
        args += ["-B", "--schedule", str(tmp_path / f"beat-{uuid.uuid4().hex[:6]}")]
    return Process(args, env, tmp_path / f"worker-{uuid.uuid4().hex[:6]}.log")


def wait_until(predicate, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()
