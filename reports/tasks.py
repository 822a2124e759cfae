from celery import shared_task

from .cache import PENDING_SECONDS, compute_in_background, warm_dashboards


@shared_task(ignore_result=True)
def warm_report_cache() -> int:
    return warm_dashboards()


# Not acknowledged late: a report that kills its worker (memory) is not redelivered
# forever. The time limits end it before its pending mark expires.
@shared_task(
    ignore_result=True,
    acks_late=False,
    soft_time_limit=PENDING_SECONDS - 60,
    time_limit=PENDING_SECONDS - 30,
)
def compute_report(
    organisation_id: int | None, start: str, end: str, suppressed: bool, token: str = ""
) -> None:
    """A report a manager asked for that is too large to compute within the request."""
    compute_in_background(organisation_id, start, end, suppressed, token)
