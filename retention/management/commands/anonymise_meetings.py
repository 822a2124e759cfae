"""Anonymise ended meetings past MEETING_RETENTION_YEARS, then the person records nothing
keeps any more (retention/anonymise.py).

Celery beat runs the same daily ("anonymise-meetings"). `--dry-run` lists what would go and
changes nothing. The list has meeting numbers, states, dates and counts only: no names and
no text, so it can be kept in an operator's log.
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from retention.anonymise import (
    anonymise_due,
    anonymise_person_records_due,
    retention_cutoff,
    retention_years,
)


class Command(BaseCommand):
    help = "Anonymise ended meetings past MEETING_RETENTION_YEARS (--dry-run lists them)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be anonymised, change nothing"
        )

    def handle(self, *args, dry_run=False, **options):
        cutoff = timezone.localtime(retention_cutoff()).strftime("%Y-%m-%d")
        plans = anonymise_due(dry_run=dry_run)
        for plan in plans:
            for meeting in plan.meetings:
                self.stdout.write(meeting.line())
        count = sum(len(plan.meetings) for plan in plans)
        verb = "would anonymise" if dry_run else "anonymised"
        self.stdout.write(
            f"{verb} {count} meetings of {len(plans)} persons, last entry before {cutoff} "
            f"(retention {retention_years()} years)"
        )
        records = anonymise_person_records_due(dry_run=dry_run)
        for person_id in records:
            self.stdout.write(f"person record {person_id}")
        self.stdout.write(
            f"{verb} {len(records)} person records with no meeting, no care team and no "
            f"change since {cutoff}"
        )
