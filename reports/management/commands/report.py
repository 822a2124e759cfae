"""Print the managers' figures for a period: `manage.py report --from 2026-01-01 --to
2026-03-31 --format json [--organisation ID] [--suppress]`."""

import datetime as dt
import json

from django.core.management.base import BaseCommand, CommandError

from participants.models import Organisation
from reports import figures, tallies
from reports.suppression import suppress


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Print the report figures for a period (the same figures as the dashboard)."

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="date_from", required=True, help="YYYY-MM-DD")
        parser.add_argument("--to", dest="date_to", required=True, help="YYYY-MM-DD, included")
        parser.add_argument("--format", choices=["json"], default="json")
        parser.add_argument("--organisation", type=int, help="only meetings it took part in")
        parser.add_argument(
            "--suppress", action="store_true", help="suppress cells under 5 persons"
        )

    def handle(self, *args, date_from, date_to, organisation=None, suppress=False, **options):
        start, end = _date(date_from), _date(date_to)
        if end < start:
            raise CommandError("--to is before --from")
        org = None
        if organisation is not None:
            org = Organisation.objects.filter(pk=organisation).first()
            if org is None:
                raise CommandError(f"no organisation with id {organisation}")
        tallies.fold()  # the changes not yet folded by the "reports-fold" task
        report = figures.compute(figures.Period(start, end), org)
        if suppress:
            report = _suppress(report)
        self.stdout.write(json.dumps(report.as_json(), ensure_ascii=False, indent=2, default=str))


_suppress = suppress
