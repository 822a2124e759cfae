"""Deliver due outbox rows now (the same sweep as celery beat runs every minute).

manage.py send_due_messages            # one sweep
manage.py send_due_messages --loop     # forever, every OUTBOX_SWEEP_SECONDS (no Redis)
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
            help="Keep running, one sweep every OUTBOX_SWEEP_SECONDS (for hosts without Redis).",
        )

    def handle(self, *args, **options):
        if options["loop"]:
            self.stdout.write(f"Sweeping the outbox every {settings.OUTBOX_SWEEP_SECONDS} s.")
            scheduler.run_forever(settings.OUTBOX_SWEEP_SECONDS)
            return
        sent = delivery.sweep()
        self.stdout.write(f"Sent {sent} message(s).")
