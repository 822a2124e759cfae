from celery import shared_task

from .cache import warm_dashboards


@shared_task(ignore_result=True)
def warm_report_cache() -> int:
    return warm_dashboards()
