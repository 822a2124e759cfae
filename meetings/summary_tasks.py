"""Rendering the shared summary in the background (registered through CELERY_IMPORTS)."""

import logging

from celery import shared_task
from django.db import OperationalError

from . import summary_services
from .summary import SummaryRenderError

logger = logging.getLogger(__name__)


@shared_task(
    ignore_result=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
)
def render_summary(meeting_id: int) -> None:
    """Store the meeting's current summary in every language. Safe to run twice: a content
    version already stored is not rendered again. A render that fails or runs over its
    time limit is logged and not retried (it would fail the same way); the next change or
    the sweep tries again."""
    try:
        summary_services.summary_store_all(meeting_id=meeting_id)
    except SummaryRenderError:
        logger.exception("the summary of meeting %s could not be rendered", meeting_id)


@shared_task(ignore_result=True)
def summaries_sweep() -> int:
    """Queue a render for held meetings whose stored summary is behind (a lost task, a
    broker that was down). Run periodically by beat."""
    meeting_ids = summary_services.stale_meeting_ids()
    for meeting_id in meeting_ids:
        render_summary.delay(meeting_id)
    return len(meeting_ids)
