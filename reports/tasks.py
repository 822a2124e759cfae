from celery import shared_task

from . import tallies


# Folds that queue up while no worker runs are dropped (expires): the next one does the
# same work.
@shared_task(ignore_result=True)
def fold_tallies() -> int:
    """The months whose tallies are behind, computed again (CELERY_BEAT_SCHEDULE
    "reports-fold")."""
    return len(tallies.fold())


@shared_task(ignore_result=True)
def rebuild_tallies() -> int:
    """Every month marked once a day ("reports-rebuild"): decisions past their due date are
    judged against today. The next fold computes them."""
    return tallies.rebuild()
