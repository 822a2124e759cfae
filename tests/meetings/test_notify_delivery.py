"""How the outbox is delivered: once, retried with backoff, marked not delivered, resent by
the convener, swept concurrently, and due at the right local time. A real SMTP server on
loopback receives everything."""

import datetime as dt
import smtplib
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from meetings import delivery, scheduler
from meetings.models import OutboxMessage, Participant
from meetings.tasks import deliver_message, sweep_outbox
from participants.models import ChangeRecord

from ..notify_support import (
    free_port,
    outbox,
    require_postgres,
    schedule_meeting,
    smtp_server,
    subject,
    use_smtp,
)

Kind = OutboxMessage.Kind
Status = OutboxMessage.Status
STOCKHOLM = ZoneInfo("Europe/Stockholm")


@pytest.fixture
def inbox(settings):
    with smtp_server() as (inbox, port):
        use_smtp(settings, port)
        settings.OUTBOX_RETRY_SECONDS = 60
        settings.OUTBOX_MAX_ATTEMPTS = 5
        yield inbox


def test_a_task_run_twice_sends_one_email(area, inbox):
    s = schedule_meeting(area)
    row = outbox(s.meeting, kind=Kind.INVITATION, participant=s.bob).get()

    deliver_message.apply(args=[row.pk])
    deliver_message.apply(args=[row.pk])
    delivery.sweep()

    assert len(inbox.to("bob@example.org")) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 1)


def test_the_sweep_sends_what_is_due_and_keeps_reminders_until_their_time(area, inbox):
    s = schedule_meeting(area)
    sweep_outbox.apply()
    # Invitations to Bob, Dora and Karin; reminders wait for their due time.
    assert sorted(m["To"] for m in inbox.messages) == [
        "bob@example.org", "dora@example.org", "karin@example.org",
    ]  # fmt: skip
    waiting = outbox(s.meeting, status=Status.PENDING)
    assert set(waiting.values_list("kind", flat=True)) == {
        Kind.REMINDER_NO_REPLY,
        Kind.REMINDER_DAY_BEFORE,
    }
    assert all(row.due_at > timezone.now() for row in waiting)

    # Two days later, those who have not answered are reminded; Bob answered.
    s.bob.response = Participant.Response.ACCEPTED
    s.bob.save()
    later = timezone.now() + dt.timedelta(days=2, minutes=1)
    delivery.sweep(now=later)
    reminded = [m["To"] for m in inbox.messages if subject(m).startswith(_please_answer())]
    assert reminded == ["dora@example.org"]
    bob_reminder = outbox(s.meeting, kind=Kind.REMINDER_NO_REPLY, participant=s.bob).get()
    assert bob_reminder.status == Status.CANCELLED
    assert bob_reminder.last_error == "already answered"


def _please_answer() -> str:
    from django.utils import translation
    from django.utils.translation import gettext

    with translation.override("sv"):
        return gettext("Please answer: care meeting in the home %(date)s").split("%")[0]


def test_smtp_down_is_retried_with_backoff_then_marked_not_delivered(area, inbox):
    s = schedule_meeting(area)
    row = outbox(s.meeting, kind=Kind.INVITATION, participant=s.bob).get()
    inbox.fail_with = "421 4.3.2 Service not available, try later"

    now = timezone.now()
    assert delivery.deliver(row.pk, now=now) == delivery.RETRY
    delays = []
    for attempt in range(2, 6):
        row.refresh_from_db()
        assert row.status == Status.PENDING
        assert row.attempts == attempt - 1
        assert "421" in row.last_error
        delays.append(round((row.next_attempt_at - now).total_seconds()))
        # Not before its time, then at its time.
        assert delivery.deliver(row.pk, now=row.next_attempt_at - dt.timedelta(seconds=1)) == ""
        now = row.next_attempt_at
        outcome = delivery.deliver(row.pk, now=now)
        assert outcome == (delivery.RETRY if attempt < 5 else delivery.FAILED)
    assert delays == [60, 120, 240, 480]
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 5)
    assert inbox.messages == []
    assert inbox.attempts == 5
    # Nothing more happens by itself: a sweep a day later does not try it again.
    delivery.sweep(now=now + dt.timedelta(days=1))
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.FAILED, 5)


def test_connection_refused_is_transient_and_a_5xx_is_final(area, inbox, settings):
    s = schedule_meeting(area)
    bob = outbox(s.meeting, kind=Kind.INVITATION, participant=s.bob).get()
    smtp_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there
    assert delivery.deliver(bob.pk) == delivery.RETRY
    bob.refresh_from_db()
    assert bob.status == Status.PENDING and "Connection refused" in bob.last_error

    settings.EMAIL_PORT = smtp_port
    dora = outbox(s.meeting, kind=Kind.INVITATION, participant=s.dora).get()
    inbox.fail_with = "550 5.1.1 No such mailbox"
    assert delivery.deliver(dora.pk) == delivery.FAILED
    dora.refresh_from_db()
    assert (dora.status, dora.attempts) == (Status.FAILED, 1)


@pytest.mark.parametrize(
    ("exc", "transient"),
    [
        (smtplib.SMTPServerDisconnected("gone"), True),
        (smtplib.SMTPConnectError(421, "busy"), True),
        (smtplib.SMTPDataError(451, "later"), True),
        (smtplib.SMTPDataError(554, "no"), False),
        (smtplib.SMTPRecipientsRefused({"a@b": (450, b"later")}), True),
        (smtplib.SMTPRecipientsRefused({"a@b": (550, b"unknown")}), False),
        (smtplib.SMTPAuthenticationError(535, "bad login"), False),
        (smtplib.SMTPNotSupportedError("no STARTTLS"), False),
        (ConnectionRefusedError(), True),
        (TimeoutError(), True),
        (ValueError("template"), False),
    ],
)
def test_which_errors_are_retried(exc, transient):
    assert delivery.is_transient(exc) is transient


def _fail_every_invitation(area, inbox, settings):
    s = schedule_meeting(area)
    settings.OUTBOX_MAX_ATTEMPTS = 1
    inbox.fail_with = "452 4.2.2 Mailbox full"
    delivery.sweep()
    return s, outbox(s.meeting, kind=Kind.INVITATION, participant=s.bob).get()


def test_the_convener_sees_what_was_not_delivered_and_resends_it(
    area, inbox, settings, login, django_assert_max_num_queries
):
    s, row = _fail_every_invitation(area, inbox, settings)
    assert row.status == Status.FAILED

    client = login(area.alice)
    detail = reverse("meeting_detail", args=[s.meeting.pk])
    page = client.get(detail).content.decode()
    assert reverse("outbox_resend", args=[row.pk]) in page
    assert "bob@example.org" in page
    with django_assert_max_num_queries(60):
        client.get(detail)

    inbox.fail_with = None
    response = client.post(reverse("outbox_resend", args=[row.pk]), {"next": detail})
    assert response.status_code == 302
    assert response["Location"] == detail
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (Status.PENDING, 0, "")
    assert ChangeRecord.objects.filter(
        object_type="meetings.outboxmessage", object_id=str(row.pk), user=area.alice
    ).exists()

    delivery.sweep()
    assert len(inbox.to("bob@example.org")) == 1
    row.refresh_from_db()
    assert row.status == Status.SENT
    # The counts on the page are the outbox's: sent, on the way, reminders to come.
    from django.utils import timezone

    page = client.get(detail).content.decode()
    messages = OutboxMessage.objects.filter(meeting=s.meeting).exclude(status=Status.CANCELLED)
    open_rows = messages.exclude(status__in=[Status.SENT, Status.FAILED])
    sent = messages.filter(status=Status.SENT).count()
    waiting = open_rows.filter(due_at__lte=timezone.now()).count()
    scheduled = open_rows.filter(due_at__gt=timezone.now()).count()
    assert sent >= 1
    assert f"Skickade: {sent} · På väg: {waiting} · Kommande påminnelser: {scheduled}" in page
    # A second click after it went out does nothing.
    client.post(reverse("outbox_resend", args=[row.pk]))
    delivery.sweep()
    assert len(inbox.to("bob@example.org")) == 1


def test_a_partner_in_the_meeting_cannot_resend_and_does_not_see_the_list(
    area, inbox, settings, login
):
    s, row = _fail_every_invitation(area, inbox, settings)
    client = login(area.bob)
    page = client.get(reverse("meeting_detail", args=[s.meeting.pk])).content.decode()
    assert reverse("outbox_resend", args=[row.pk]) not in page

    response = client.post(reverse("outbox_resend", args=[row.pk]), follow=True)
    assert response.status_code == 200
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert any(m.level_tag == "error" for m in response.context["messages"])


def test_an_outsider_gets_404_and_anonymous_must_sign_in(area, inbox, settings, login, client):
    s, row = _fail_every_invitation(area, inbox, settings)
    url = reverse("outbox_resend", args=[row.pk])
    anonymous = client.post(url)
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    assert client.get(url).status_code == 405

    outsider = login(area.charlie)
    assert outsider.post(url).status_code == 404
    assert outsider.post(reverse("outbox_resend", args=[row.pk + 10_000])).status_code == 404
    row.refresh_from_db()
    assert row.status == Status.FAILED


def test_resend_refuses_a_redirect_to_another_site(area, inbox, settings, login):
    s, row = _fail_every_invitation(area, inbox, settings)
    client = login(area.alice)
    response = client.post(
        reverse("outbox_resend", args=[row.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("meeting_detail", args=[s.meeting.pk])


def test_rows_that_lost_their_meaning_are_cancelled_not_sent(area, inbox):
    s = schedule_meeting(area)
    day_before = outbox(s.meeting, kind=Kind.REMINDER_DAY_BEFORE, participant=s.dora).get()
    # Written before a change that its service did not cancel (e.g. a sequence bump).
    s.meeting.ical_sequence += 1
    s.meeting.save(update_fields=["ical_sequence"])
    assert delivery.deliver(day_before.pk, now=day_before.due_at) == ""
    day_before.refresh_from_db()
    assert day_before.status == Status.CANCELLED
    assert day_before.last_error == "replaced by a newer time"
    assert inbox.to("dora@example.org") == []


def test_a_row_whose_worker_died_is_sent_again_after_its_lease(area, inbox, settings):
    settings.OUTBOX_LEASE_SECONDS = 300
    s = schedule_meeting(area)
    row = outbox(s.meeting, kind=Kind.INVITATION, participant=s.bob).get()
    now = timezone.now()
    claimed = delivery.claim(now=now, message_id=row.pk)  # …and the process dies here
    assert claimed.status == Status.SENDING
    assert delivery.sweep(now=now + dt.timedelta(seconds=299)) == 2  # Dora and Karin only
    assert inbox.to("bob@example.org") == []
    assert delivery.deliver(row.pk, now=now + dt.timedelta(seconds=301)) == delivery.SENT
    assert len(inbox.to("bob@example.org")) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 2)


def test_a_row_interrupted_too_often_is_marked_not_delivered(area, inbox, settings):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    s = schedule_meeting(area)
    row = outbox(s.meeting, kind=Kind.INVITATION, participant=s.bob).get()
    now = timezone.now()
    for _ in range(2):
        assert delivery.claim(now=now, message_id=row.pk) is not None
        now += dt.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS + 1)
    assert delivery.claim(now=now, message_id=row.pk) is None
    row.refresh_from_db()
    assert row.status == Status.FAILED
    assert inbox.to("bob@example.org") == []


def _next_dst_change(after: dt.date) -> dt.date:
    day = after
    for _ in range(400):
        start = dt.datetime(day.year, day.month, day.day, tzinfo=STOCKHOLM)
        end = start + dt.timedelta(days=1)
        if start.utcoffset() != end.utcoffset():
            return day
        day += dt.timedelta(days=1)
    raise AssertionError("no daylight-saving change within a year")


def test_day_before_reminder_across_a_dst_change_goes_out_at_the_same_local_time(area, inbox):
    change = _next_dst_change(timezone.localdate() + dt.timedelta(days=3))
    # A meeting at 10:00 on the day the clocks change; the reminder is due the day before
    # at 10:00 local time, which is not 24 hours earlier.
    starts_at = dt.datetime(change.year, change.month, change.day, 10, 0, tzinfo=STOCKHOLM)
    s = schedule_meeting(area, starts_at=starts_at)
    row = outbox(s.meeting, kind=Kind.REMINDER_DAY_BEFORE, participant=s.bob).get()

    local_due = row.due_at.astimezone(STOCKHOLM)
    assert (local_due.date(), local_due.hour, local_due.minute) == (
        change - dt.timedelta(days=1), 10, 0,
    )  # fmt: skip
    assert starts_at - row.due_at != dt.timedelta(hours=24)

    assert delivery.deliver(row.pk, now=row.due_at - dt.timedelta(minutes=1)) == ""
    assert delivery.deliver(row.pk, now=row.due_at) == delivery.SENT
    (reminder,) = inbox.to("bob@example.org")
    text = reminder.get_body(preferencelist=("plain",)).get_content()
    assert "10:00–11:00" in text


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_message_once(area, settings):
    require_postgres("row locks (SKIP LOCKED) between two connections")
    with smtp_server() as (inbox, port):
        use_smtp(settings, port)
        s = schedule_meeting(area)
        rows = list(outbox(s.meeting, kind=Kind.INVITATION))
        rows += [
            OutboxMessage.objects.create(
                kind=Kind.FOLLOWUP_2W, meeting=s.meeting, to_address=f"extra{i}@example.org",
                recipient_user=area.bob, idempotency_key=f"extra:{i}", due_at=timezone.now(),
            )
            for i in range(5)
        ]  # fmt: skip
        # Rows the on-commit task has not delivered yet (in CI the task went to Redis).
        OutboxMessage.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=Status.PENDING, attempts=0, sent_at=None
        )
        before = len(inbox.messages)
        inbox.delay = 0.1  # each send takes a while, so the sweeps overlap
        barrier = threading.Barrier(2)
        results = []

        def run():
            try:
                barrier.wait(timeout=5)
                results.append(delivery.sweep())
            finally:
                connection.close()

        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        new = inbox.messages[before:]
        ids = [m["Message-ID"] for m in new]
        assert len(ids) == len(set(ids)) == len(rows)
        assert sum(results) == len(rows)
        assert all(results), "both sweeps did some of the work"
        for row in rows:
            row.refresh_from_db()
            assert (row.status, row.attempts) == (Status.SENT, 1)


def test_send_due_messages_command(area, inbox, capsys):
    schedule_meeting(area)
    call_command("send_due_messages")
    assert "Sent 3 message(s)." in capsys.readouterr().out
    assert len(inbox.messages) == 3


@pytest.mark.parametrize(
    ("argv", "environ", "redis", "expected"),
    [
        (["manage.py", "runserver", "127.0.0.1:8000"], {"RUN_MAIN": "true"}, "", True),
        (["manage.py", "runserver", "--noreload"], {}, "", True),
        # The autoreloader's parent only watches files.
        (["manage.py", "runserver", "127.0.0.1:8000"], {}, "", False),
        # With Redis, celery beat and workers do it.
        (["manage.py", "runserver"], {"RUN_MAIN": "true"}, "redis://r:6379/0", False),
        (["manage.py", "migrate"], {"RUN_MAIN": "true"}, "", False),
        (["manage.py", "seed_demo"], {}, "", False),
        (["pytest", "tests"], {}, "", False),
        (["celery", "-A", "vom", "worker"], {}, "", False),
        (["manage.py", "runserver", "--noreload"], {"VOM_INPROCESS_SWEEP": "false"}, "", False),
    ],
)
def test_in_process_sweep_starts_only_in_the_serving_runserver(argv, environ, redis, expected):
    assert scheduler.should_start(argv, environ, redis) is expected


def test_no_sweep_thread_runs_in_tests():
    assert not any(t.name == "vom-periodic-jobs" for t in threading.enumerate())


@pytest.mark.django_db(transaction=True)
def test_the_in_process_clock_runs_every_job_of_the_beat_schedule(settings):
    """`make run` has no beat: its thread runs CELERY_BEAT_SCHEDULE itself, every entry
    (there is no second copy of the schedule to forget one in)."""
    from celery.signals import task_failure, task_success

    ran, failed = [], []

    def succeeded(sender=None, **kwargs):
        ran.append(sender.name)

    def went_wrong(sender=None, **kwargs):
        failed.append(sender.name)

    task_success.connect(succeeded, weak=False)
    task_failure.connect(went_wrong, weak=False)
    stop = threading.Event()
    thread = threading.Thread(target=scheduler.run_forever, kwargs={"stop": stop})
    try:
        thread.start()
        wanted = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
        deadline = time.monotonic() + 60
        while not wanted <= set(ran) and not failed and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(30)
        task_success.disconnect(succeeded)
        task_failure.disconnect(went_wrong)
    assert failed == []
    assert set(ran) == wanted
    # each at its interval, not in a loop: at most twice in the time the first round took
    assert max(ran.count(name) for name in wanted) <= 2, ran
    assert not thread.is_alive()
