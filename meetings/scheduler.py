"""The outbox sweep inside the `runserver` process when there is no Redis (`make run`).

Without REDIS_URL, Celery runs tasks in-process (CELERY_TASK_ALWAYS_EAGER), so a message is
sent as soon as its transaction commits. Reminders and follow-up notices are rows with a due
time, though, and need a clock: this thread runs the same sweep as celery beat, every
OUTBOX_SWEEP_SECONDS. It starts only in the process that serves requests (the autoreloader's
child, or with --noreload), never in tests, migrations or other management commands, and
never when Redis is configured (then `make worker` and `make beat` do the work).
"""

import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)

_started = threading.Event()


def should_start(argv: Sequence[str], environ: Mapping[str, str], redis_url: str) -> bool:
    if redis_url:
        return False
    if environ.get("VOM_INPROCESS_SWEEP", "true").strip().lower() in {"0", "false", "no", "off"}:
        return False
    if len(argv) < 2 or argv[1] != "runserver":
        return False
    # With the autoreloader, the parent only watches files; the child (RUN_MAIN) serves.
    return environ.get("RUN_MAIN") == "true" or "--noreload" in argv


def run_forever(interval: float, stop: threading.Event | None = None) -> None:
    from followup.notices import overdue_notices
    from reports import tallies

    from .anonymise import anonymise_due
    from .delivery import sweep

    stop = stop or threading.Event()
    last_overdue_check = last_fold = last_rebuild = last_anonymise = 0.0
    while not stop.is_set():
        try:
            # The daily "anonymise-meetings" of celery beat.
            if time.monotonic() - last_anonymise >= 24 * 3600:
                anonymise_due()
                last_anonymise = time.monotonic()
            # The same hourly job celery beat runs (CELERY_BEAT_SCHEDULE "overdue-decisions").
            if time.monotonic() - last_overdue_check >= 3600:
                overdue_notices()
                last_overdue_check = time.monotonic()
            # "reports-rebuild" and "reports-fold": the report's month tallies.
            if time.monotonic() - last_rebuild >= 24 * 3600:
                tallies.rebuild()
                last_rebuild = time.monotonic()
            if time.monotonic() - last_fold >= settings.REPORTS_FOLD_SECONDS:
                tallies.fold()
                last_fold = time.monotonic()
            sent = sweep()
            if sent:
                logger.info("outbox sweep sent %s message(s)", sent)
        except Exception:  # noqa: BLE001 - keep the clock running; the next sweep retries
            logger.exception("outbox sweep failed")
        finally:
            connections.close_all()  # this thread's connections only
        stop.wait(interval)


def maybe_start(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None):
    import sys

    argv = sys.argv if argv is None else argv
    environ = os.environ if environ is None else environ
    if _started.is_set() or not should_start(argv, environ, settings.REDIS_URL):
        return None
    _started.set()
    interval = settings.OUTBOX_SWEEP_SECONDS
    thread = threading.Thread(
        target=run_forever, args=(interval,), name="vom-outbox-sweep", daemon=True
    )
    thread.start()
    logger.info("outbox sweep runs in this process every %s s (no REDIS_URL)", interval)
    return thread
