"""Periodic work of the participants app (celery beat, vom/settings.py)."""

from celery import shared_task

from . import pagechanges


@shared_task(ignore_result=True)
def prune_page_changes() -> int:
    """Hourly: change rows older than an hour, except each scope's newest."""
    return pagechanges.prune()
