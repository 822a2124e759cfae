from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from meetings.models import Meeting
from meetings.summary import SummaryRenderError, render_summary


class Command(BaseCommand):
    help = "Write the current summary of a meeting as a PDF (rendered now, not the stored one)."

    def add_arguments(self, parser):
        parser.add_argument("meeting_id", type=int)
        parser.add_argument("path", type=Path, help="where to write the PDF")
        parser.add_argument(
            "--language",
            default=settings.LANGUAGE_CODE,
            choices=[code for code, _name in settings.LANGUAGES],
        )

    def handle(self, *args, meeting_id, path, language, **options):
        meeting = Meeting.objects.select_related("person").filter(pk=meeting_id).first()
        if meeting is None:
            raise CommandError(f"There is no meeting {meeting_id}.")
        try:
            result = render_summary(meeting, language)
        except SummaryRenderError as exc:
            raise CommandError(f"Could not render the summary: {exc}") from exc
        try:
            path.write_bytes(result.pdf)
        except OSError as exc:
            raise CommandError(f"Could not write {path}: {exc}") from exc
        self.stderr.write(
            f"Wrote {path} ({len(result.pdf) // 1024} KiB, {result.render_ms} ms, "
            f"content version {meeting.content_version})."
        )
