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
def smtp_server(port: int | None = None, inbox: Inbox | None = None):
    """An SMTP server on loopback; `port` and `inbox` to bring one back where it was."""
    inbox = inbox or Inbox()
    port = port or free_port()
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


# --- The fault matrix (test_fault_matrix.py): servers of its own on loopback ---


class RedisServer:
    """A redis-server of the test's own on a free loopback port, to kill, stop and restart
    without touching the machine's Redis."""

    def __init__(self, tmp_path: Path):
        self.port = free_port()
        self.tmp_path = tmp_path
        self.process: Process | None = None
        self.start()

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.tmp_path)]  # fmt: skip
        self.process = Process(args, os.environ.copy(), self.tmp_path / f"redis-{self.port}.log")
        assert wait_until(self.answers, 10), self.process.log()

    def answers(self) -> bool:
        import redis

        try:
            return redis.Redis.from_url(self.url(0), socket_timeout=0.5).ping()
        except redis.RedisError:
            return False

    def signal(self, signum: int) -> None:
        os.kill(self.process.popen.pid, signum)

    def kill(self) -> None:
        self.process.stop()

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.signal(signal.SIGCONT)
            self.process.stop()


class PostgresCluster:
    """A PostgreSQL cluster of the test's own (initdb as the postgres user, through
    runuser), on its own port and socket directory, holding a copy of the test database.

    Its pg_hba.conf lets the postgres user in without a password on loopback, for queries
    and for replication: `PostgresCluster(standby_of=primary)` is a streaming replica of
    `primary` (pg_basebackup -R), in recovery and open for reading (hot standby)."""

    # Loopback and the cluster's own socket only; the machine's clusters allow no replication.
    HBA = (
        "local all all trust\n"
        "host all all 127.0.0.1/32 trust\n"
        "local replication all trust\n"
        "host replication all 127.0.0.1/32 trust\n"
    )

    def __init__(self, *, standby_of: "PostgresCluster | None" = None):
        import glob
        import shutil
        import tempfile

        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        self.bin = Path(bins[-1]).parent if bins else Path(shutil.which("initdb") or "").parent
        if not (self.bin / "initdb").exists():
            conftest.unavailable("initdb is not installed")
        if shutil.which("runuser") is None or os.geteuid() != 0:
            conftest.unavailable("a cluster of the test's own needs root (runuser -u postgres)")
        self.dir = Path(tempfile.mkdtemp(prefix="vom-faults-pg-", dir="/tmp"))
        os.chmod(self.dir, 0o755)
        shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        if standby_of is None:
            self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                              "--auth=trust", "--no-sync", "-E", "UTF8")  # fmt: skip
            hba = self.data / "pg_hba.conf"
            hba.write_text(self.HBA)
            shutil.chown(hba, "postgres", "postgres")
        else:
            # -R writes standby.signal and primary_conninfo: the copy starts as a replica.
            self._as_postgres(str(self.bin / "pg_basebackup"), "-h", "127.0.0.1",
                              "-p", str(standby_of.port), "-U", "postgres", "-D",
                              str(self.data), "-R", "-X", "stream", "--checkpoint=fast",
                              "--no-sync")  # fmt: skip
        self.start()

    def _as_postgres(self, *args: str, timeout: float = 120) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], check=True, timeout=timeout,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.dir,
        )  # fmt: skip

    def pg_ctl(self, *args: str) -> None:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c max_connections=60")  # fmt: skip
        log = str(self.dir / "server.log")
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", log,
                          "-w", "-t", "60", "-o", options, *args)  # fmt: skip

    def start(self) -> None:
        self.pg_ctl("start")

    def restart(self) -> None:
        self.pg_ctl("-m", "fast", "restart")

    def url(self, name: str = "vom") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def copy_database(self, source_url: str, name: str = "vom") -> None:
        """The test database (schema and the rows the test committed) into this cluster."""
        subprocess.run(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                        name], check=True, timeout=60)  # fmt: skip
        dump = subprocess.run(["pg_dump", "--no-owner", source_url], check=True,
                              capture_output=True, timeout=120)  # fmt: skip
        subprocess.run(["psql", "-q", "-v", "ON_ERROR_STOP=1", self.url(name)],
                       input=dump.stdout, check=True, capture_output=True, timeout=120)  # fmt: skip

    def destroy(self) -> None:
        import shutil

        with contextlib.suppress(Exception):
            self.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(each) for each in text.split()]


class WebServer:
    """gunicorn serving the product (vom.wsgi, as in production) on a loopback port."""

    def __init__(self, tmp_path: Path, env: dict[str, str], workers: int = 2):
        self.port = free_port()
        args = [sys.executable, "-m", "gunicorn", "vom.wsgi:application", "--bind",
                f"127.0.0.1:{self.port}", "--workers", str(workers), "--timeout", "30",
                "--graceful-timeout", "2"]  # fmt: skip
        self.process = Process(args, env, tmp_path / f"web-{self.port}.log")
        assert wait_until(self._ready, 40, 0.2), self.process.log()

    def _ready(self) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def workers(self) -> list[int]:
        return children(self.process.popen.pid)

    def stop(self) -> None:
        self.process.stop()


class Browser:
    """A signed-in (or anonymous) visitor of a WebServer: cookies, CSRF, timings. Redirects
    are not followed; every request's time is kept."""

    def __init__(self, base: str, session_key: str = ""):
        import secrets

        self.base = base
        self.csrf = secrets.token_hex(16)  # 32 characters, as Django's unmasked secret
        self.cookies = {"csrftoken": self.csrf}
        if session_key:
            self.cookies["sessionid"] = session_key
        self.timings_ms: list[float] = []

    def request(self, path: str, data: dict | None = None, timeout: float = 30):
        """(status, body); status 0 when the connection broke."""
        import http.client
        from urllib.parse import urlencode

        connection = http.client.HTTPConnection("127.0.0.1", int(self.base.rsplit(":", 1)[1]),
                                                timeout=timeout)  # fmt: skip
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if data is not None:
            body = urlencode({**data, "csrfmiddlewaretoken": self.csrf})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        started = time.monotonic()
        try:
            connection.request("POST" if data is not None else "GET", path, body, headers)
            response = connection.getresponse()
            content = response.read().decode(errors="replace")
            status = response.status
        except (OSError, http.client.HTTPException):
            return 0, ""
        finally:
            connection.close()
        self.timings_ms.append((time.monotonic() - started) * 1000)
        return status, content

    @property
    def max_ms(self) -> int:
        return round(max(self.timings_ms, default=0))
