"""Delete access-log rows older than the retention period (AUDIT_RETENTION_YEARS, at least 5).

Run it daily (cron or Celery beat). `--dry-run` only counts. On PostgreSQL the append-only
trigger lets exactly these rows go and nothing else (see migration 0004 and
participants.services.access_log_purge).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from participants.services import access_log_purge
from vom.errors import DomainError


class Command(BaseCommand):
    help = "Delete access-log rows older than AUDIT_RETENTION_YEARS (at least five years)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="only count the rows that would be deleted"
        )

    def handle(self, *args, dry_run=False, **options):
        years = settings.AUDIT_RETENTION_YEARS
        try:
            count, cutoff = access_log_purge(dry_run=dry_run, years=years)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc
        when = timezone.localtime(cutoff).strftime("%Y-%m-%d %H:%M")
        verb = "would delete" if dry_run else "deleted"
        self.stdout.write(
            f"{verb} {count} access-log rows older than {when} (retention {years} years)"
        )
