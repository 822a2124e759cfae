"""The daily anonymisation of meetings past the retention period (celery beat,
CELERY_BEAT_SCHEDULE "anonymise-meetings"; retention/anonymise.py says what is kept)."""

from celery import shared_task

from . import anonymise


@shared_task(ignore_result=True)
def anonymise_meetings() -> int:
    """Safe to run twice: anonymised meetings are not due again. Returns how many meetings
    went; the person records that nothing keeps any more follow."""
    count = sum(len(plan.meetings) for plan in anonymise.anonymise_due())
    anonymise.anonymise_person_records_due()
    return count
