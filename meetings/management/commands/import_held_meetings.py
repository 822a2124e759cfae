"""Import meetings already held from a filled-in template (CSV or XLSX), as the
organisation administrator's import page does (meetings/importing.py).

  manage.py import_held_meetings FILE --as USERNAME [--organisation ID]

The user must administer the organisation (the only one they administer if not given).
Every row is checked; on any error nothing is saved, each error is printed as
"row N, column C: what is wrong" and the command exits with status 1.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from meetings import importing
from participants.models import User
from participants.selectors import admin_organisations


class Command(BaseCommand):
    help = "Import meetings already held from a filled-in template (all or nothing)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="the filled-in template, .xlsx or .csv")
        parser.add_argument(
            "--as", dest="username", required=True, help="the organisation administrator"
        )
        parser.add_argument("--organisation", type=int, help="the organisation's id")
        parser.add_argument("--language", default="sv", help="language of the messages")

    def handle(self, *args, file, username, organisation=None, language="sv", **options):
        translation.activate(language)
        user = User.objects.filter(username=username, is_active=True).first()
        administered = admin_organisations(user) if user else []
        if organisation is not None:
            administered = [o for o in administered if o.pk == organisation]
        if len(administered) != 1:
            raise CommandError(
                f"{username} must administer {'that' if organisation else 'one'} organisation"
                + ("" if organisation else " (or give --organisation)")
            )
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"no such file: {file}")
        result = importing.import_held_meetings(
            actor=user, organisation=administered[0], data=path.read_bytes(), filename=path.name
        )
        if result.errors:
            for error in result.errors:
                self.stderr.write(f"row {error.row}, column {error.column or '-'}: {error.message}")
            raise CommandError(f"nothing imported: {len(result.errors)} errors")
        self.stdout.write(f"registered {len(result.meetings)} meetings afterwards")
