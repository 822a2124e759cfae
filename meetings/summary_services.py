"""Stored summaries and read receipts: rendering a new version when a held meeting changes,
confirming that one has read it, and what each organisation has read (the trygghetskvitto).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from participants import audit
from participants.models import AccessLog, User
from vom.celery import queue_after_commit
from vom.errors import DomainError

from .models import Meeting, Participant, ReadReceipt, SummaryDocument
from .summary import SUMMARY_STATES, render_summary

logger = logging.getLogger(__name__)


def summary_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


# --- Rendering and storing ---


def summary_changed(meeting: Meeting) -> None:
    """Called by the services whenever what the summary shows changes: once the meeting is
    held, a new version is rendered after the transaction commits."""
    if meeting.state in SUMMARY_STATES:
        queue_render(meeting.pk)


def queue_render(meeting_id: int) -> None:
    """Render after the commit; a render the broker lost is picked up by `summaries_sweep`."""
    queue_after_commit("meetings.summary_tasks.render_summary", meeting_id)


def _version_for(meeting: Meeting, content_version: int) -> int:
    """One version number per content version, shared by the languages."""
    same = (
        SummaryDocument.objects.filter(meeting=meeting, content_version=content_version)
        .values_list("version", flat=True)
        .first()
    )
    if same is not None:
        return same
    latest = SummaryDocument.objects.filter(meeting=meeting).aggregate(v=Max("version"))["v"]
    return (latest or 0) + 1


def _stored(meeting_id: int, content_version: int, language: str) -> SummaryDocument | None:
    return SummaryDocument.objects.filter(
        meeting_id=meeting_id, content_version=content_version, language=language
    ).first()


def summary_store(*, meeting_id: int, language: str) -> SummaryDocument | None:
    """Render the current content of a held or closed meeting and store it as a new version.

    Safe to run twice and concurrently: a content version is stored once per language. The
    PDF is rendered and written to storage outside the row lock (slow, maybe S3); the row is
    created under the meeting's lock, and only if the content did not change meanwhile
    (otherwise the current content is rendered again).
    """
    for _attempt in range(3):
        meeting = Meeting.objects.select_related("person").filter(pk=meeting_id).first()
        if meeting is None or meeting.state not in SUMMARY_STATES:
            return None
        content_version = meeting.content_version
        existing = _stored(meeting_id, content_version, language)
        if existing is not None:
            return existing
        version = _version_for(meeting, content_version)
        result = render_summary(meeting, language, version=version)
        name = default_storage.save(
            f"summaries/{meeting.pk}/v{version}-{language}-{secrets.token_hex(8)}.pdf",
            ContentFile(result.pdf),
        )
        document, again = _record(
            meeting_id, content_version, language, version, name, result.render_ms
        )
        if document is None or document.file.name != name:
            default_storage.delete(name)
        if not again:
            return document
    logger.warning("summary of meeting %s not stored after three attempts", meeting_id)
    return None


def _record(
    meeting_id: int, content_version: int, language: str, version: int, name: str, render_ms: int
) -> tuple[SummaryDocument | None, bool]:
    """Create the row under the meeting's lock. Returns (document, render again?)."""
    with transaction.atomic():
        locked = Meeting.objects.select_for_update().get(pk=meeting_id)
        same = _stored(meeting_id, content_version, language)
        if same is not None:
            return same, False  # another run stored it meanwhile
        if locked.state not in SUMMARY_STATES:
            return None, False
        if locked.content_version != content_version:
            return None, True  # changed while rendering: this PDF may mix old and new
        if _version_for(locked, content_version) != version:
            return None, True  # the number went to another content version
        document = SummaryDocument.objects.create(
            meeting=locked,
            version=version,
            content_version=content_version,
            language=language,
            render_ms=render_ms,
            file=name,
        )
        return document, False


def summary_store_all(*, meeting_id: int) -> list[SummaryDocument]:
    """The current version in every language of the app."""
    documents = []
    for language in summary_languages():
        document = summary_store(meeting_id=meeting_id, language=language)
        if document is not None:
            documents.append(document)
    return documents


def stale_meeting_ids(limit: int = 20, within_days: int = 2) -> list[int]:
    """Held or closed meetings changed in the last days whose newest stored summary is
    older than their content (a lost task, a broker that was down). Older meetings are
    left alone: a render that keeps failing is not retried for ever."""
    import datetime as dt

    since = timezone.now() - dt.timedelta(days=within_days)
    return list(
        Meeting.objects.filter(state__in=SUMMARY_STATES, updated_at__gte=since)
        .annotate(stored=Max("summaries__content_version"))
        .filter(Q(stored__isnull=True) | Q(stored__lt=F("content_version")))
        .order_by("-updated_at")
        .values_list("pk", flat=True)[:limit]
    )


# --- Reading stored summaries ---


def latest_document(meeting: Meeting, language: str) -> SummaryDocument | None:
    """The newest stored version in `language`, else in Swedish, else any."""
    documents = SummaryDocument.objects.filter(meeting=meeting).exclude(file="")
    for candidate in (language, settings.LANGUAGE_CODE):
        document = documents.filter(language=candidate).order_by("-version").first()
        if document is not None:
            return document
    return documents.order_by("-version").first()


def get_document(meeting: Meeting, version: int, language: str) -> SummaryDocument:
    from django.http import Http404

    try:
        return SummaryDocument.objects.exclude(file="").get(
            meeting=meeting, version=version, language=language
        )
    except (SummaryDocument.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def versions(meeting: Meeting, language: str) -> list[SummaryDocument]:
    return list(
        SummaryDocument.objects.filter(meeting=meeting, language=language)
        .exclude(file="")
        .order_by("-version")
    )


def document_filename(document: SummaryDocument) -> str:
    """No name in the file name: it ends up in download folders and mail attachments."""
    day = timezone.localdate(document.created_at)
    word = "sammanfattning" if document.language == "sv" else "summary"
    return f"vom-{word}-{day:%Y-%m-%d}-v{document.version}.pdf"


def serve_document(document: SummaryDocument, *, download: bool = False):
    """The stored file as it is: no rendering on the way out."""
    from django.http import FileResponse

    response = FileResponse(
        document.file.open("rb"),
        as_attachment=download,
        filename=document_filename(document),
        content_type="application/pdf",
    )
    response["Cache-Control"] = "no-store"
    return response


# --- Read receipts ---


def staff_participant(user, meeting: Meeting) -> Participant | None:
    return (
        meeting.participants.filter(
            user=user,
            removed_at__isnull=True,
            kind=Participant.Kind.STAFF,
            organisation__isnull=False,
        )
        .select_related("organisation")
        .first()
    )


def summary_confirm_read(
    *, actor: User, meeting: Meeting, content_version: int, request=None
) -> ReadReceipt:
    """A participant confirms having read the summary as it is now, for their organisation."""
    with transaction.atomic():
        meeting = Meeting.objects.select_for_update().select_related("person").get(pk=meeting.pk)
        if meeting.state not in SUMMARY_STATES:
            raise DomainError(_("There is no summary until the meeting has been held."))
        participant = staff_participant(actor, meeting)
        if participant is None:
            raise DomainError(_("Only the meeting's participants confirm that they have read it."))
        if content_version != meeting.content_version:
            raise DomainError(
                _("The summary changed while you were reading. Read the new version and confirm.")
            )
        receipt, created = ReadReceipt.objects.get_or_create(
            meeting=meeting,
            user=actor,
            content_version=content_version,
            defaults={"organisation": participant.organisation},
        )
        if created:
            audit.record_change(
                user=actor,
                obj=receipt,
                action="create",
                before={},
                after={
                    "content_version": content_version,
                    "organisation": str(receipt.organisation),
                },
                person=meeting.person,
            )
            audit.log_access(
                request,
                user=actor,
                person=meeting.person,
                action=AccessLog.Action.CREATE,
                obj=receipt,
            )
        return receipt


@dataclass
class ReaderRow:
    name: str
    role: str
    read_at: object = None
    version: int | None = None
    is_current: bool = False


@dataclass
class OrganisationReceipt:
    """Has this organisation read the summary? The person's trygghetskvitto, per organisation."""

    organisation: str
    readers: list[ReaderRow] = field(default_factory=list)

    @property
    def has_read_current(self) -> bool:
        return any(r.is_current for r in self.readers)

    @property
    def has_read_any(self) -> bool:
        return any(r.read_at for r in self.readers)

    @property
    def read_at(self):
        times = [r.read_at for r in self.readers if r.is_current and r.read_at]
        return min(times) if times else None


@dataclass
class ReceiptsOverview:
    receipts: list[OrganisationReceipt]
    current_version: int | None  # the stored version number of the current content
    has_read: bool  # the user has read the current content


def receipts_overview(meeting: Meeting, user, participants=None) -> ReceiptsOverview:
    """The read receipts by organisation, the current version number and whether `user` has
    read it, in two queries (or three without `participants`, the meeting's active
    participants with user and organisation, as the meeting page reads them anyway)."""
    latest: dict[int, ReadReceipt] = {}
    for receipt in ReadReceipt.objects.filter(meeting=meeting).order_by("content_version"):
        latest[receipt.user_id] = receipt  # the newest content version each user read
    version_of = dict(
        SummaryDocument.objects.filter(meeting=meeting).values_list("content_version", "version")
    )
    mine = latest.get(getattr(user, "pk", None))
    return ReceiptsOverview(
        receipts=_receipts(meeting, participants, latest, version_of),
        current_version=version_of.get(meeting.content_version),
        has_read=mine is not None and mine.content_version == meeting.content_version,
    )


def read_receipts_by_organisation(meeting: Meeting) -> list[OrganisationReceipt]:
    """Per organisation taking part: who has read which version, and when (3 queries)."""
    return receipts_overview(meeting, None).receipts


def _receipts(meeting, participants, latest, version_of) -> list[OrganisationReceipt]:
    from participants.models import Role

    if participants is None:
        participants = (
            meeting.participants.filter(removed_at__isnull=True)
            .select_related("user", "organisation")
            .order_by("organisation__name", "role", "pk")
        )
    # In the order the database gave (organisation name by its collation, role, pk): the
    # meeting page's participants are ordered by kind first, so its staff come in that order.
    staff = [p for p in participants if p.is_organisation_staff and p.is_active]
    groups: dict[int, OrganisationReceipt] = {}
    for p in staff:
        group = groups.setdefault(p.organisation_id, OrganisationReceipt(p.organisation.name))
        receipt = latest.get(p.user_id)
        group.readers.append(
            ReaderRow(
                name=p.user.get_full_name() or p.user.username,
                role=str(Role(p.role).label) if p.role else "",
                read_at=receipt.read_at if receipt else None,
                version=version_of.get(receipt.content_version) if receipt else None,
                is_current=bool(receipt and receipt.content_version == meeting.content_version),
            )
        )
    return list(groups.values())


# --- For `make bench` (scripts/bench_targets.py) ---


def bench_render_ms(meeting: Meeting, *, runs: int = 5, language: str = "sv") -> list[int]:
    """Wall-clock milliseconds of whole renders (context, template, PDF in the child
    process), after one warm-up render as a long-running worker would have done."""
    import time

    render_summary(meeting, language)
    timings = []
    for _run in range(runs):
        started = time.monotonic()
        render_summary(meeting, language)
        timings.append(int((time.monotonic() - started) * 1000))
    return timings


def bench_pdf_path(meeting: Meeting, language: str = "sv") -> str:
    """The URL path of the stored PDF (stored first if need be), for wrk: serving it must
    not render anything."""
    from django.urls import reverse

    if meeting.state in SUMMARY_STATES and latest_document(meeting, language) is None:
        summary_store(meeting_id=meeting.pk, language=language)
    return reverse("summary_pdf", args=[meeting.pk]) + f"?lang={language}"
