"""Celery tasks of the outbox. Each takes ids, is safe to run twice, and calls delivery."""

from celery import shared_task

from . import delivery


@shared_task(ignore_result=True)
def deliver_message(message_id: int) -> str:
    """Deliver one row after the transaction that wrote it committed."""
    return delivery.deliver(message_id)


@shared_task(ignore_result=True)
def sweep_outbox() -> int:
    """Every minute (celery beat): due reminders, rows whose task never ran, retries, and
    rows whose worker died mid-delivery."""
    return delivery.sweep()
