"""The shared summary of a meeting: one pure function builds what it shows, one template
renders it (as a PDF and as an HTML page), WeasyPrint turns it into a PDF.

What the summary never shows: the full personnummer, access notes (door codes), private
topics, anything from an organisation's own records. Notes typed by users reach the template
as plain strings and are escaped there.

PDF rendering is isolated in two ways:
- the URL fetcher refuses everything except data: URLs and the app's own static files, read
  from disk (a note holding <img src="file:///etc/passwd"> is text anyway; this is the second
  wall);
- each render runs in a forked child process that is killed after a time limit. A child
  process works the same in a Celery worker (prefork or solo), in eager mode inside a web
  request, and in runserver's threads, where signal.alarm would not (it needs the main
  thread) and where Celery's time limits do not apply (eager mode).
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import logging
import os
import re
import select
import signal
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from participants.models import CareTeamEntry, Membership, Organisation, Role
from participants.pdf import PDF_BASE_URL, PDF_STATIC_URL, make_url_fetcher
from vom.textsafety import without_bidi_controls

from .choices import AgendaItem, AgreementKind
from .models import (
    AgendaNote,
    Agreement,
    Contribution,
    Decision,
    Meeting,
    Participant,
)

logger = logging.getLogger(__name__)
# WeasyPrint reports every layout step at INFO; a worker log needs only its warnings.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)

AUDIENCES = frozenset({"pdf", "staff", "relative"})
SUMMARY_STATES = (Meeting.State.HELD, Meeting.State.CLOSED)

# "Who to call for what": what each role can answer, in plain words.
CALL_ABOUT = {
    Role.PHYSICIAN: gettext_lazy("Illnesses and medication (through the nurse)"),
    Role.NURSE: gettext_lazy("Health, medication, wounds and aids; questions about this plan"),
    Role.ASSISTANT_NURSE: gettext_lazy("Health care visits at home"),
    Role.NEEDS_ASSESSOR: gettext_lazy("Decisions about home help and other support"),
    Role.HOME_HELP_COORDINATOR: gettext_lazy("Home-help times, visits and changes"),
    Role.CONTACT_PERSON: gettext_lazy("Everyday home help: what works and what does not"),
}

FOLLOWUP_WEEKS = 2
FOLLOWUP_MONTHS = 2


# --- The context ---


@dataclass(frozen=True)
class ParticipantRow:
    name: str
    role: str
    organisation: str
    phone: str
    call_about: str
    kind: str
    mode: str = ""
    absent: bool = False


@dataclass(frozen=True)
class DecisionRow:
    pk: int
    category: str
    description: str
    responsible: str
    responsible_phone: str
    due_date: dt.date | None
    answer: str
    answer_code: str


@dataclass
class DecisionGroup:
    organisation: str
    organisation_id: int
    decisions: list[DecisionRow] = field(default_factory=list)


@dataclass(frozen=True)
class WayIn:
    name: str
    kind: str
    phone: str
    address: str
    email: str
    opening_hours: str
    out_of_hours_phone: str


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def meeting_day(meeting: Meeting) -> dt.date | None:
    moment = meeting.actual_start or meeting.starts_at or meeting.held_at
    return timezone.localdate(moment) if moment else None


def followup_dates(meeting: Meeting) -> list[tuple[str, dt.date]]:
    """The joint follow-up 2 weeks and 2 months after the meeting (seed 000)."""
    day = meeting_day(meeting)
    if day is None:
        return []
    return [
        (_("Follow-up after 2 weeks"), day + dt.timedelta(weeks=FOLLOWUP_WEEKS)),
        (_("Follow-up after 2 months"), add_months(day, FOLLOWUP_MONTHS)),
    ]


def _phones(user_ids, org_ids) -> dict[tuple[int, int], str]:
    """Direct phone per (user, organisation), from active memberships."""
    phones: dict[tuple[int, int], str] = {}
    rows = (
        Membership.objects.active()
        .filter(user_id__in=user_ids, organisation_id__in=org_ids)
        .exclude(direct_phone="")
        .order_by("pk")
        .values_list("user_id", "organisation_id", "direct_phone")
    )
    for user_id, org_id, phone in rows:
        phones.setdefault((user_id, org_id), phone)
    return phones


def participant_rows(meeting: Meeting) -> list[ParticipantRow]:
    """Who takes (took) part: staff with role, organisation and direct phone first, then the
    person and relatives. Declined invitations are left out."""
    participants = list(
        meeting.participants.filter(removed_at__isnull=True)
        .exclude(response=Participant.Response.DECLINED)
        .select_related("user", "organisation", "relative")
        .order_by("kind", "organisation__name", "role", "pk")
    )
    staff = [p for p in participants if p.kind == Participant.Kind.STAFF and p.user_id]
    phones = _phones({p.user_id for p in staff}, {p.organisation_id for p in staff})
    held = meeting.state in SUMMARY_STATES
    rows = []
    for p in staff:
        mode = p.attended_mode if held and p.attended_mode else p.mode
        rows.append(
            ParticipantRow(
                name=p.user.get_full_name() or p.user.username,
                role=str(Role(p.role).label) if p.role else "",
                organisation=p.organisation.name if p.organisation else "",
                phone=phones.get((p.user_id, p.organisation_id), ""),
                call_about=str(CALL_ABOUT.get(p.role, "")),
                kind=p.kind,
                mode=str(Participant.Mode(mode).label)
                if mode != Participant.Mode.IN_PERSON
                else "",
                absent=held and p.attended is False,
            )
        )
    for p in participants:
        if p.kind == Participant.Kind.PERSON:
            rows.append(
                ParticipantRow(
                    name=meeting.person.full_name, role=_("The person"), organisation="",
                    phone="", call_about="", kind=p.kind, absent=held and p.attended is False,
                )
            )  # fmt: skip
    for p in participants:
        if p.kind == Participant.Kind.RELATIVE and p.relative_id:
            rows.append(
                ParticipantRow(
                    name=p.relative.name, role=p.relative.relation, organisation="", phone="",
                    call_about="", kind=p.kind, absent=held and p.attended is False,
                )
            )  # fmt: skip
    return rows


def ways_in(meeting: Meeting, extra_org_ids=()) -> list[WayIn]:
    """Each organisation's "one way in": numbers that do not depend on one named person.
    The organisations taking part, deciding, or serving the person now."""
    org_ids = set(extra_org_ids)
    org_ids |= set(
        meeting.participants.filter(removed_at__isnull=True, organisation__isnull=False)
        .exclude(response=Participant.Response.DECLINED)
        .values_list("organisation_id", flat=True)
    )
    org_ids |= set(
        CareTeamEntry.objects.current()
        .filter(person_id=meeting.person_id)
        .values_list("organisation_id", flat=True)
    )
    organisations = Organisation.objects.filter(pk__in=org_ids).order_by("name")
    return [
        WayIn(
            name=o.name,
            kind=str(o.get_kind_display()),
            phone=o.phone,
            address=o.address,
            email=o.email,
            opening_hours=o.opening_hours,
            out_of_hours_phone=o.out_of_hours_phone,
        )
        for o in organisations
    ]


def decision_groups(meeting: Meeting) -> list[DecisionGroup]:
    decisions = list(
        Decision.objects.filter(meeting=meeting)
        .select_related("organisation", "responsible")
        .order_by("organisation__name", "created_at", "pk")
    )
    phones = _phones({d.responsible_id for d in decisions}, {d.organisation_id for d in decisions})
    groups: dict[int, DecisionGroup] = {}
    for d in decisions:
        group = groups.setdefault(
            d.organisation_id,
            DecisionGroup(organisation=d.organisation.name, organisation_id=d.organisation_id),
        )
        group.decisions.append(
            DecisionRow(
                pk=d.pk,
                category=str(d.get_category_display()),
                description=d.description,
                responsible=d.responsible.get_full_name() or d.responsible.username,
                responsible_phone=phones.get((d.responsible_id, d.organisation_id), ""),
                due_date=d.due_date,
                answer=str(d.get_person_answer_display()),
                answer_code=d.person_answer,
            )
        )
    return list(groups.values())


def summary_context(meeting: Meeting, *, language: str, audience: str) -> dict:
    """Everything the summary shows, as plain values in `language`.

    `audience` ("pdf", "staff" or "relative") changes only the frame around the content
    (links, headings), never what is shown: the person, the relatives and every organisation
    read the same summary.
    """
    if audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}")
    with translation.override(language):
        person = meeting.person
        start = meeting.actual_start or meeting.starts_at
        end = meeting.actual_end or meeting.ends_at
        contributions = [
            {
                "author": (
                    c.relative.name
                    if c.author == Contribution.Author.RELATIVE and c.relative_id
                    else person.first_name
                ),
                "is_person": c.author == Contribution.Author.PERSON,
                "what_matters": c.what_matters,
                "questions": c.questions,
            }
            for c in Contribution.objects.filter(meeting=meeting)
            .select_related("relative")
            .order_by("created_at", "pk")
        ]
        notes = [
            {"title": str(AgendaItem(n.item).label), "text": n.text}
            for n in AgendaNote.objects.filter(meeting=meeting).order_by("item")
            if n.text.strip()
        ]
        agreements, contingencies = [], []
        for a in Agreement.objects.filter(meeting=meeting).select_related("organisation"):
            row = {
                "kind": str(a.get_kind_display()),
                "situation": a.situation,
                "text": a.text,
                "contact": a.contact,
                "organisation": a.organisation.name if a.organisation else "",
            }
            if a.kind == AgreementKind.CONTINGENCY or a.situation:
                contingencies.append(row)
            else:
                agreements.append(row)
        groups = decision_groups(meeting)
        reasons = [str(r.get_code_display()) for r in meeting.reasons.all().order_by("code")]
        # A right-to-left override in a name would print it reversed in the PDF.
        return without_bidi_controls(
            {
                "audience": audience,
                "language": language,
                "meeting_id": meeting.pk,
                "person_name": person.full_name,
                "person_first_name": person.first_name,
                "person_id_masked": person.personnummer_masked,
                "start": timezone.localtime(start) if start else None,
                "end": timezone.localtime(end) if end else None,
                "place": meeting.place,
                "meeting_kind": str(meeting.get_kind_display()),
                "state": meeting.state,
                "state_label": str(meeting.get_state_display()),
                "held": meeting.state in SUMMARY_STATES,
                "content_version": meeting.content_version,
                "reasons": reasons,
                "reason_text": meeting.reason_text,
                "contributions": contributions,
                "participants": participant_rows(meeting),
                "notes": notes,
                "decision_groups": groups,
                "decision_count": sum(len(g.decisions) for g in groups),
                "agreements": agreements,
                "contingencies": contingencies,
                "followup_dates": followup_dates(meeting),
                "ways_in": ways_in(meeting, extra_org_ids={g.organisation_id for g in groups}),
                "generated_at": timezone.localtime(),
            }
        )


# --- The PDF ---


class SummaryRenderError(RuntimeError):
    pass


class SummaryRenderTimeout(SummaryRenderError):
    pass


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\A ") + '"'


def page_css(language: str) -> str:
    """ "Sida X av Y": the words come from the catalogue, the numbers from CSS counters."""
    with translation.override(language):
        label = _("Page %(page)s of %(pages)s")
    parts = []
    for piece in re.split(r"(%\(page\)s|%\(pages\)s)", label):
        if piece == "%(page)s":
            parts.append("counter(page)")
        elif piece == "%(pages)s":
            parts.append("counter(pages)")
        elif piece:
            parts.append(_css_string(piece))
    content = " ".join(parts)
    return f"@page {{ @bottom-right {{ content: {content}; }} }}"


@dataclass(frozen=True)
class RenderResult:
    pdf: bytes
    requested_urls: tuple[str, ...]
    render_ms: int


def _write_pdf(html: str, extra_css: str) -> tuple[bytes, list[str]]:
    from weasyprint import CSS, HTML
    from weasyprint.text.fonts import FontConfiguration

    fetcher = make_url_fetcher()
    fonts = FontConfiguration()
    document = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=fetcher)
    extra = CSS(string=extra_css, base_url=PDF_STATIC_URL, url_fetcher=fetcher, font_config=fonts)
    pdf = document.write_pdf(stylesheets=[extra], font_config=fonts)
    return pdf, fetcher.requested


def _render_in_child(html: str, extra_css: str, timeout: float) -> tuple[bytes, list[str]]:
    """Render in a forked child and kill it after `timeout` seconds.

    The child only turns a string into bytes: it never touches the database (it leaves with
    os._exit, so the parent's connection is not closed under it). The answer comes back
    through a pipe as one JSON header line followed by the PDF bytes.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        status = 0
        try:
            os.close(read_fd)
            try:
                pdf, requested = _write_pdf(html, extra_css)
                header = {"ok": True, "requested": requested, "size": len(pdf)}
            except Exception as exc:  # noqa: BLE001 - reported to the parent
                pdf, header = b"", {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:500]}
            data = json.dumps(header).encode() + b"\n" + pdf
            view = memoryview(data)
            while view:
                written = os.write(write_fd, view)
                view = view[written:]
        except BaseException:  # noqa: BLE001 - the child must never return into the caller
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    poller = select.poll()  # not select(): a busy worker may hold file descriptors above 1024
    poller.register(read_fd, select.POLLIN | select.POLLHUP)
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SummaryRenderTimeout(f"rendering took longer than {timeout:g} s")
            if not poller.poll(max(1, int(remaining * 1000))):
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        finished, _status = os.waitpid(pid, os.WNOHANG)
        if finished == 0:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    data = b"".join(chunks)
    head, _sep, pdf = data.partition(b"\n")
    try:
        header = json.loads(head)
    except ValueError:
        raise SummaryRenderError("the rendering process ended without an answer") from None
    if not header.get("ok"):
        raise SummaryRenderError(header.get("error", "unknown error"))
    if len(pdf) != header["size"]:
        raise SummaryRenderError("the rendering process sent an incomplete PDF")
    return pdf, header["requested"]


_WARM_UP_HTML = (
    f'<link rel="stylesheet" href="{PDF_STATIC_URL}css/summary.css">'
    '<article class="vom-summary"><h1>Å</h1><p>ä <b>ö</b></p></article>'
)
_warm = {"done": False}


def _warm_up(extra_css: str) -> None:
    """One small render in this process, once: WeasyPrint's imports and caches (fonts, the
    default stylesheets) are then inherited by every child, which halves a render's time."""
    if not _warm["done"]:
        _write_pdf(_WARM_UP_HTML, extra_css)
        _warm["done"] = True


def html_to_pdf(html: str, *, language: str, timeout: float | None = None) -> RenderResult:
    timeout = timeout or settings.SUMMARY_RENDER_TIMEOUT
    extra_css = page_css(language)
    _warm_up(extra_css)
    started = time.monotonic()
    if hasattr(os, "fork"):
        pdf, requested = _render_in_child(html, extra_css, timeout)
    else:  # pragma: no cover - no fork (Windows): no time limit, said in the docs
        pdf, requested = _write_pdf(html, extra_css)
    elapsed = int((time.monotonic() - started) * 1000)
    for url in requested:
        if not url.startswith(("data:", PDF_STATIC_URL)):
            logger.warning("summary PDF: refused to fetch %r", url[:100])
    return RenderResult(pdf=pdf, requested_urls=tuple(requested), render_ms=elapsed)


def render_summary_html(
    meeting: Meeting, language: str, *, version: int | None = None, audience: str = "pdf"
) -> str:
    """The standalone HTML document WeasyPrint turns into the PDF."""
    with translation.override(language):
        context = summary_context(meeting, language=language, audience=audience)
        context.update(version=version, static_base=PDF_STATIC_URL)
        return render_to_string("meetings/summary/pdf.html", context)


def render_summary(
    meeting: Meeting, language: str, *, version: int | None = None, timeout: float | None = None
) -> RenderResult:
    html = render_summary_html(meeting, language, version=version)
    return html_to_pdf(html, language=language, timeout=timeout)


def render_summary_pdf(meeting: Meeting, language: str, *, version: int | None = None) -> bytes:
    """The summary of `meeting` as PDF bytes, in `language` ("sv" or "en")."""
    return render_summary(meeting, language, version=version).pdf
