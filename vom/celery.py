import logging
import os

from celery import Celery, Task
from celery.signals import beat_init, worker_init, worker_process_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vom.settings")


class GuardedTask(Task):
    """Publishing a task never hangs the caller on a hung Redis: the broker's time-outs
    (settings) bound one try, and `vom.breaker.broker` skips the next tries in the same
    request and, after repeated failures, for a while in the whole process. Every caller
    already copes with a publish that fails (the outbox sweep sends, the summaries sweep
    renders, a report is computed in the request)."""

    def apply_async(self, *args, **kwargs):
        if self.app.conf.task_always_eager:
            return super().apply_async(*args, **kwargs)
        from kombu.exceptions import OperationalError
        from redis.exceptions import ConnectionError, TimeoutError

        from . import breaker

        failures = (OperationalError, OSError, ConnectionError, TimeoutError)
        return breaker.broker.call(super().apply_async, *args, failures=failures, **kwargs)

    def queue_after_commit(self, *args, **kwargs) -> None:
        """Queue this task once the current transaction commits (at once outside one), as
        pretix's TransactionAwareTask does: a worker never looks for a row that is not
        committed yet. A broker that fails is logged and not raised: what the task works on
        is already a row, and its periodic sweep picks it up."""
        from django.db import transaction

        def publish():
            try:
                self.apply_async(args=args, kwargs=kwargs)
            except Exception:  # noqa: BLE001 - any broker failure: the sweep does it later
                logging.getLogger(__name__).warning(
                    "could not queue %s%r; its periodic sweep will do it", self.name, args
                )

        publish.queued = (self.name, args)  # what the callback will queue, for a reader
        transaction.on_commit(publish)


app = Celery("vom", task_cls=GuardedTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def queue_after_commit(task_name: str, *args) -> None:
    """Queue the task registered as `task_name` once the current transaction commits
    (`GuardedTask.queue_after_commit`). Services name the task they hand work to instead of
    importing its module, so the arrows run one way: a tasks module imports its services,
    never the other way round. The task modules are loaded as a worker loads them
    (autodiscovered `tasks` modules and CELERY_IMPORTS) the first time a name is not known."""
    if task_name not in app.tasks:
        app.loader.import_default_modules()
    app.tasks[task_name].queue_after_commit(*args)


@worker_init.connect
@worker_process_init.connect
@beat_init.connect
def _task_statement_limits(**_kwargs):
    """Tasks may run longer statements than web requests (DB_TASK_STATEMENT_TIMEOUT_MS)."""
    from . import dblimits

    dblimits.use("task")
