from celery import shared_task

from .cache import compute_in_background, warm_dashboards


@shared_task(ignore_result=True)
def warm_report_cache() -> int:
    return warm_dashboards()


@shared_task(ignore_result=True)
def compute_report(organisation_id: int | None, start: str, end: str, suppressed: bool) -> None:
    """A report a manager asked for that is too large to compute within the request."""
    compute_in_background(organisation_id, start, end, suppressed)
