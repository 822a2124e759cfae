"""The shared summary: what it holds, the PDF (text, font, page numbers), what WeasyPrint may
fetch, the time limit, and stored versions."""

import datetime as dt
import io
import os

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone, translation
from pypdf import PdfReader

from meetings import services, summary, summary_services, summary_tasks
from meetings.choices import PersonAnswer
from meetings.models import Meeting, SummaryDocument
from participants.models import Role

from ..summary_fixtures import make_held_meeting

pytestmark = pytest.mark.django_db


@pytest.fixture
def held(marea, meeting_in, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    return make_held_meeting(marea, meeting_in)


def pdf_text(pdf: bytes) -> str:
    """The PDF's text with line breaks and runs of spaces as single spaces."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


def pdf_fonts(pdf: bytes) -> dict[str, bool]:
    """Each font's name and whether the font file is embedded."""
    fonts = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/Font"].values():
            font = ref.get_object()
            descendant = (
                font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            )
            descriptor = descendant["/FontDescriptor"].get_object()
            fonts[str(font["/BaseFont"])] = "/FontFile2" in descriptor
    return fonts


# --- The context ---


def test_context_holds_every_part_and_nothing_private(held, marea):
    context = summary.summary_context(held, language="sv", audience="pdf")
    assert context["person_name"] == "Märta Åkesson"
    assert context["person_id_masked"].endswith("-****")
    assert [g.organisation for g in context["decision_groups"]] == [
        "Biståndsenheten Åby",
        "Hemsjukvården Åby",
        "Hemtjänst Öst AB",
    ]
    decision = context["decision_groups"][1].decisions[0]
    with translation.override("sv"):
        assert decision.answer == str(PersonAnswer.ACCEPTS.label)
        nurse_label = str(Role.NURSE.label)
    assert decision.responsible_phone  # "who to call": the nurse's direct phone
    assert {p.organisation for p in context["participants"] if p.organisation} == {
        "Hemsjukvården Åby",
        "Biståndsenheten Åby",
        "Hemtjänst Öst AB",
    }
    nurse_row = next(p for p in context["participants"] if p.role == nurse_label)
    assert nurse_row.phone and nurse_row.call_about
    assert [label for label, _day in context["followup_dates"]] == [
        "Uppföljning efter 2 veckor",
        "Uppföljning efter 2 månader",
    ]
    assert {w.name for w in context["ways_in"]} >= {"Hemsjukvården Åby", "Hemtjänst Öst AB"}
    assert all(w.out_of_hours_phone for w in context["ways_in"])
    assert len(context["contingencies"]) == 1 and len(context["agreements"]) == 1
    flat = repr(context)
    assert marea.person.personnummer not in flat
    assert "HEMLIGT" not in flat  # private topics never reach the summary
    assert marea.person.access_notes not in flat  # nor door codes


def test_context_rejects_an_unknown_audience(held):
    with pytest.raises(ValueError):
        summary.summary_context(held, language="sv", audience="everyone")


def test_followup_dates_are_two_weeks_and_two_months_after_the_meeting():
    assert summary.add_months(dt.date(2026, 1, 31), 2) == dt.date(2026, 3, 31)
    assert summary.add_months(dt.date(2025, 12, 31), 2) == dt.date(2026, 2, 28)
    assert summary.add_months(dt.date(2026, 11, 15), 2) == dt.date(2027, 1, 15)


def test_html_escapes_notes(held):
    html = summary.render_summary_html(held, "sv")
    assert "<script>" not in html
    assert '<img src="file:///etc/passwd">' not in html
    assert "&lt;script&gt;" in html
    assert "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in html


# --- The PDF ---


def test_pdf_text_has_the_decisions_with_swedish_letters(held):
    result = summary.render_summary(held, "sv", version=1)
    assert result.pdf.startswith(b"%PDF-")
    text = pdf_text(result.pdf)
    with translation.override("sv"):
        thinking = str(PersonAnswer.THINKING.label)
    for expected in (
        "Märta Åkesson",
        "Läkemedelsgenomgång",
        "vätskedrivande sänks",
        "Kvällsbesök kl 19 för kvällsmål",
        "trygghetslarm och färdtjänst",
        thinking,
        "Sida 1 av",
    ):
        assert expected in text, expected
    assert "HEMLIGT" not in text


def test_pdf_in_english_says_page_x_of_y(held):
    text = pdf_text(summary.render_summary_pdf(held, "en"))
    assert "Page 1 of" in text
    assert "What was decided" in text
    assert "Läkemedelsgenomgång" in text  # what people wrote stays as written


def test_pdf_uses_the_bundled_font(held):
    fonts = pdf_fonts(summary.render_summary_pdf(held, "sv"))
    # the family declared by @font-face in summary.css, embedded: no system font was used
    assert fonts and all("VOM-Sans" in name and embedded for name, embedded in fonts.items())


def test_a_note_with_html_is_text_and_nothing_is_fetched(held):
    result = summary.render_summary(held, "sv")
    text = pdf_text(result.pdf)
    assert "<script>" in text
    assert "file:///etc/passwd" in text  # shown as the text it is
    assert all(url.startswith(summary.PDF_STATIC_URL) for url in result.requested_urls)
    assert not any(url.lower().startswith(("file:", "http:")) for url in result.requested_urls)
    assert summary.PDF_STATIC_URL + "css/summary.css" in result.requested_urls


def test_fetcher_refuses_everything_but_data_and_own_static_files():
    fetcher = summary.make_url_fetcher()
    for url in (
        "file:///etc/passwd",
        "http://example.com/x.css",
        "https://example.com/static/css/summary.css",
        "ftp://example.com/x",
        summary.PDF_STATIC_URL + "../../../../etc/passwd",
        summary.PDF_STATIC_URL + "css/../../manage.py",
        summary.PDF_STATIC_URL + "%2e%2e/%2e%2e/etc/passwd.css",
        summary.PDF_STATIC_URL + "css/summary.css?x=1",
        summary.PDF_STATIC_URL + "fonts/LICENSE-DejaVu.txt",  # not a type a document needs
        "https://vom-static.invalid@example.com/static/css/summary.css",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    css = fetcher.fetch(summary.PDF_STATIC_URL + "css/summary.css")
    assert b"@font-face" in css.read()
    data = fetcher.fetch("data:text/plain;base64,aMOkag==")
    assert data.read() == "häj".encode()
    assert fetcher.requested[0] == "file:///etc/passwd"


def test_a_render_over_its_time_limit_is_stopped(held, monkeypatch):
    html = summary.render_summary_html(held, "sv")
    children = []
    fork = os.fork

    def recorded_fork():
        pid = fork()
        if pid:
            children.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recorded_fork)
    with pytest.raises(summary.SummaryRenderTimeout):
        summary.html_to_pdf(html, language="sv", timeout=0.01)
    (child,) = children
    # The child was killed and reaped: no zombie left. (Only this child: the suite's other
    # children, the Celery worker and the browser, are not the render's.)
    with pytest.raises(ChildProcessError):
        os.waitpid(child, os.WNOHANG)


def test_a_failing_render_is_reported_not_hung():
    with pytest.raises(summary.SummaryRenderError):
        summary._render_in_child(None, "", 10)  # noqa: SLF001


def test_page_css_escapes_the_translated_words():
    with translation.override("sv"):
        css = summary.page_css("sv")
    assert (
        css == '@page { @bottom-right { content: "Sida " counter(page) " av " counter(pages); } }'
    )


def test_summary_template_has_no_unescaped_output():
    from pathlib import Path

    from django.conf import settings

    source = (
        Path(settings.BASE_DIR) / "meetings/templates/meetings/summary/summary.html"
    ).read_text()
    assert "|safe" not in source and "autoescape off" not in source


# --- Stored versions ---


def test_render_twice_stores_one_version(held):
    first = summary_services.summary_store(meeting_id=held.pk, language="sv")
    again = summary_services.summary_store(meeting_id=held.pk, language="sv")
    assert first.pk == again.pk
    assert SummaryDocument.objects.filter(meeting=held, language="sv").count() == 1
    assert first.version == 1 and first.content_version == held.content_version
    assert first.render_ms > 0
    with default_storage.open(first.file.name, "rb") as handle:
        assert handle.read(5) == b"%PDF-"


def test_task_run_twice_stores_each_language_once(held):
    summary_tasks.render_summary(held.pk)
    summary_tasks.render_summary(held.pk)
    rows = SummaryDocument.objects.filter(meeting=held).order_by("language")
    assert [(d.language, d.version) for d in rows] == [("en", 1), ("sv", 1)]


def test_a_change_makes_a_new_version_shared_by_the_languages(held, marea):
    summary_tasks.render_summary(held.pk)
    services.agreement_add(
        actor=marea.nurse, meeting=held, kind="information", text="Nyckeln finns hos grannen."
    )
    summary_tasks.render_summary(held.pk)
    versions = sorted(
        SummaryDocument.objects.filter(meeting=held).values_list("language", "version")
    )
    assert versions == [("en", 1), ("en", 2), ("sv", 1), ("sv", 2)]
    newest = summary_services.latest_document(held, "sv")
    assert "Nyckeln finns hos grannen" in pdf_text(newest.file.open("rb").read())


def test_only_held_meetings_get_a_summary(marea, meeting_in, tmp_path, settings):
    meeting = meeting_in(Meeting.State.SCHEDULED)
    assert summary_services.summary_store(meeting_id=meeting.pk, language="sv") is None
    assert summary_services.summary_store(meeting_id=999999, language="sv") is None


def test_changes_to_a_held_meeting_queue_a_render_after_commit(
    marea, meeting_in, django_capture_on_commit_callbacks
):
    meeting = meeting_in(Meeting.State.SCHEDULED)
    with django_capture_on_commit_callbacks() as callbacks:
        services.agenda_note_save(
            actor=marea.nurse, meeting=meeting, item=1, text="Före mötet", base_revision=0
        )
    assert not _renders_queued(callbacks)
    meeting = Meeting.objects.get(pk=meeting.pk)
    now = timezone.now()
    with django_capture_on_commit_callbacks() as callbacks:
        services.meeting_mark_held(
            actor=marea.nurse, meeting=meeting, actual_start=now - dt.timedelta(hours=1),
            actual_end=now,
        )  # fmt: skip
    assert _renders_queued(callbacks) == [(meeting.pk,)]


def _renders_queued(callbacks) -> list:
    from meetings.summary_tasks import render_summary

    queued = [getattr(c, "queued", None) for c in callbacks]
    return [args for name, args in filter(None, queued) if name == render_summary.name]


def test_the_sweep_finds_meetings_whose_summary_is_behind(held):
    assert held.pk in summary_services.stale_meeting_ids()
    summary_tasks.render_summary(held.pk)
    assert held.pk not in summary_services.stale_meeting_ids()
    Meeting.objects.filter(pk=held.pk).update(content_version=held.content_version + 1)
    assert held.pk in summary_services.stale_meeting_ids()
    # a meeting untouched for days is not retried for ever
    Meeting.objects.filter(pk=held.pk).update(updated_at=timezone.now() - dt.timedelta(days=3))
    assert held.pk not in summary_services.stale_meeting_ids()


def test_render_summary_command_writes_the_pdf(held, tmp_path):
    target = tmp_path / "summary.pdf"
    call_command("render_summary", str(held.pk), str(target), "--language", "sv")
    assert "Läkemedelsgenomgång" in pdf_text(target.read_bytes())


def test_render_summary_command_refuses_an_unknown_meeting(db, tmp_path):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("render_summary", "999999", str(tmp_path / "x.pdf"))
