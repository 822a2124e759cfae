"""Celery beat inside the `runserver` process when there is no Redis (`make run`).

Without REDIS_URL, Celery runs tasks in-process (CELERY_TASK_ALWAYS_EAGER), so a message is
sent as soon as its transaction commits. Reminders, follow-up notices, the report's tallies
and retention need a clock, though: this thread runs every entry of CELERY_BEAT_SCHEDULE
itself, at its interval, so there is one schedule and nothing to keep in step. It starts
only in the process that serves requests (the autoreloader's child, or with --noreload),
never in tests, migrations or other management commands, and never when Redis is configured
(then `make worker` and `make beat` do the work).
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


def _seconds(schedule) -> float:
    """An entry's interval: a number of seconds, or a celery schedule with `run_every`."""
    every = getattr(schedule, "run_every", schedule)
    return every.total_seconds() if hasattr(every, "total_seconds") else float(every)


def run_forever(interval: float | None = None, stop: threading.Event | None = None) -> None:
    """Run each CELERY_BEAT_SCHEDULE entry when it is due (every entry once at the start),
    in this thread, until `stop` is set. `interval` caps the wait between two looks."""
    from vom.celery import app

    app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    every = {name: _seconds(entry["schedule"]) for name, entry in schedule.items()}
    due = dict.fromkeys(schedule, 0.0)
    stop = stop or threading.Event()
    while not stop.is_set():
        for name, entry in schedule.items():
            if time.monotonic() < due[name]:
                continue
            try:
                app.tasks[entry["task"]].apply(
                    args=entry.get("args", ()), kwargs=entry.get("kwargs", {}), throw=True
                )
            except Exception:  # noqa: BLE001 - keep the clock running; the next run retries
                logger.exception("periodic job %s failed", name)
            finally:
                connections.close_all()  # this thread's connections only
            due[name] = time.monotonic() + every[name]
        wait = max(0.0, min(due.values()) - time.monotonic())
        stop.wait(min(wait, interval) if interval else wait)


def maybe_start(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None):
    import sys

    argv = sys.argv if argv is None else argv
    environ = os.environ if environ is None else environ
    if _started.is_set() or not should_start(argv, environ, settings.REDIS_URL):
        return None
    _started.set()
    thread = threading.Thread(target=run_forever, name="vom-periodic-jobs", daemon=True)
    thread.start()
    logger.info("the periodic jobs of CELERY_BEAT_SCHEDULE run in this process (no REDIS_URL)")
    return thread
