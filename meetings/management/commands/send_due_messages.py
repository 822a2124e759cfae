"""Deliver due outbox rows now (the same sweep as celery beat runs every minute).

manage.py send_due_messages            # one sweep
manage.py send_due_messages --loop     # forever: every periodic job of CELERY_BEAT_SCHEDULE
                                       # at its interval, in this process (no Redis)
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from meetings import delivery, scheduler


class Command(BaseCommand):
    help = "Deliver due invitations, reminders and notices from the outbox."

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop",
            action="store_true",
            help="Keep running every periodic job of CELERY_BEAT_SCHEDULE at its interval, the "
            "outbox sweep included (for hosts without Redis).",
        )

    def handle(self, *args, **options):
        if options["loop"]:
            names = ", ".join(settings.CELERY_BEAT_SCHEDULE)
            self.stdout.write(f"Running the periodic jobs ({names}) until stopped.")
            scheduler.run_forever()
            return
        sent = delivery.sweep()
        self.stdout.write(f"Sent {sent} message(s).")
