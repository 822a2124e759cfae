from celery import shared_task

from .notices import overdue_notices


@shared_task(ignore_result=True)
def notify_overdue_decisions() -> int:
    return overdue_notices()
