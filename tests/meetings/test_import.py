"""The administrator's import of meetings already held: a template, every error listed
with its row and column, nothing saved unless the whole file is valid; seed 000's eight
meetings from a filled-in template give the seed's figures on the dashboard."""

import csv
import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from meetings import importing
from meetings.models import Meeting, Participant
from participants.demo import load_area
from participants.models import Membership, Person, Role, User
from reports import tallies
from reports.figures import Period

from ..reports_data import computed

pytestmark = pytest.mark.django_db

SEED_000 = Path(__file__).parent.parent / "data" / "seed_000_held_meetings.csv"
OCTOBER = Period(dt.date(2026, 9, 1), dt.date(2026, 11, 30))


@pytest.fixture
def demo():
    area = load_area(persons=12)
    admin = User.objects.get(username="admin.hsv")
    return area, admin


def _import(demo, data: bytes, filename="meetings.csv"):
    area, admin = demo
    return importing.import_held_meetings(
        actor=admin, organisation=area.home_health_care, data=data, filename=filename
    )


def _rows(path=SEED_000) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _csv(rows: list[dict]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=importing.KEYS)
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def _xlsx(rows: list[dict]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(importing.KEYS)
    for row in rows:
        sheet.append([row.get(k) or None for k in importing.KEYS])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_seed_000_from_the_filled_in_template_gives_the_seed_figures(demo):
    area, admin = demo
    result = _import(demo, SEED_000.read_bytes(), "seed_000.csv")
    assert result.errors == []
    assert len(result.meetings) == 8
    assert all(m.registered_by == admin for m in Meeting.objects.all())

    report = computed(OCTOBER)
    s = report.summary
    assert s["meetings_held"] == 8
    # 30,591.67 SEK for eight meetings: 3,823.96 a meeting, the municipal side 10,300.
    assert s["mean_cost_sek"] == pytest.approx(3823.96, abs=0.01)
    assert s["municipal_cost_sek"] == pytest.approx(10300, abs=0.01)
    assert s["municipal_cost_share"] == pytest.approx(0.3367, abs=0.00005)

    # Table 2: who took part, and how many different people.
    rows = {r["role"] or r["kind"]: r for r in report.tables["attendance"].rows}
    assert rows[Role.PHYSICIAN]["meetings_attended"] == 8
    assert rows[Role.NEEDS_ASSESSOR]["meetings_attended"] == 8
    assert rows[Role.NEEDS_ASSESSOR]["different_people"] == 5
    assert rows[Role.NURSE]["meetings_attended"] == 6
    assert rows[Role.NURSE]["different_people"] == 5
    assert rows[Role.CONTACT_PERSON]["meetings_attended"] == 6
    assert rows[Role.CONTACT_PERSON]["different_people"] == 6
    assert rows[Role.HOME_HELP_COORDINATOR]["meetings_attended"] == 4
    assert rows[Role.HOME_HELP_COORDINATOR]["different_people"] == 2
    assert rows["relative"]["meetings_attended"] == 7
    relatives = {r["relatives"]: r["meetings"] for r in report.tables["relatives"].rows}
    assert relatives == {"0": 1, "1": 4, "2": 2, "3+": 1}

    # The comments of Table 2, as absence reasons.
    reasons = sorted(
        Participant.objects.exclude(absence_reason="").values_list("role", "absence_reason")
    )
    assert reasons == [
        (Role.CONTACT_PERSON, "not_invited"),
        (Role.CONTACT_PERSON, "replaced"),
        (Role.NURSE, "ill"),
        (Role.NURSE, "no_time"),
    ]


def test_the_same_file_as_xlsx_imports_the_same(demo):
    result = _import(demo, _xlsx(_rows()), "seed_000.xlsx")
    assert result.errors == []
    assert computed(OCTOBER).summary["mean_cost_sek"] == pytest.approx(3823.96, abs=0.01)


def test_every_error_is_listed_with_row_and_column_and_nothing_is_saved(demo):
    rows = _rows()
    rows[0]["consent_on"] = "2026-13-40"  # row 2: not a date
    rows[1]["staff"] = "ingen.sadan"  # row 3: no such user
    rows[2]["role"] = "physician"  # row 4: the assessor is not a physician
    rows[3]["took_part"] = "kanske"  # row 5: neither yes nor no
    result = _import(demo, _csv(rows))
    found = {(e.row, e.column) for e in result.errors}
    assert (2, "consent_on") in found
    assert (3, "staff") in found
    assert (4, "staff") in found
    assert (5, "took_part") in found
    assert all(e.message for e in result.errors)
    assert not Meeting.objects.exists()
    assert not Participant.objects.exists()


def test_a_meeting_refused_by_the_service_undoes_the_whole_file(demo):
    rows = _rows()
    # The last meeting's consent before its initiative: refused by the registration, after
    # the first seven meetings were registered in the same transaction.
    last = max(i for i, r in enumerate(rows) if r["personnummer"])
    rows[last]["consent_on"] = "2026-01-01"
    relatives_before = set(Person.objects.values_list("relatives__pk", flat=True))
    result = _import(demo, _csv(rows))
    assert [(e.row, e.column) for e in result.errors] == [(last + 2, "consent_on")]
    assert not Meeting.objects.exists()
    assert set(Person.objects.values_list("relatives__pk", flat=True)) == relatives_before


def test_only_persons_the_organisation_serves(demo):
    area, admin = demo
    rows = _rows()
    rows[0]["personnummer"] = "19121212-1212"
    result = _import(demo, _csv(rows))
    assert [(e.row, e.column) for e in result.errors] == [(2, "personnummer")]


def test_a_file_without_the_columns_is_refused(demo):
    result = _import(demo, b"what,ever\n1,2\n")
    assert {e.column for e in result.errors} >= {"meeting", "row", "what", "ever"}


def test_the_management_command_does_the_same(demo, capsys):
    call_command("import_held_meetings", str(SEED_000), "--as", "admin.hsv")
    assert "registered 8 meetings" in capsys.readouterr().out
    assert Meeting.objects.filter(registered_at__isnull=False).count() == 8


def test_the_management_command_lists_errors_and_saves_nothing(demo, tmp_path, capsys):
    rows = _rows()
    rows[0]["starts_at"] = "i går"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_csv(rows))
    with pytest.raises(CommandError):
        call_command("import_held_meetings", str(bad), "--as", "admin.hsv", "--language", "en")
    assert "row 2, column starts_at: Give a date and time" in capsys.readouterr().err
    assert not Meeting.objects.exists()
    with pytest.raises(CommandError):
        call_command("import_held_meetings", str(SEED_000), "--as", "sjukskoterska")


# --- The page ---


def test_the_admin_downloads_the_template_and_imports_on_the_page(demo, login):
    area, admin = demo
    client = login(admin)
    page = client.get(reverse("meeting_import", args=[area.home_health_care.pk]))
    assert page.status_code == 200
    xlsx = client.get(reverse("meeting_import_template", args=[area.home_health_care.pk, "xlsx"]))
    book = load_workbook(io.BytesIO(xlsx.content))
    assert [c.value for c in book.worksheets[0][1]] == importing.KEYS
    assert book.worksheets[1].max_row == len(importing.COLUMNS) + 1
    template = client.get(
        reverse("meeting_import_template", args=[area.home_health_care.pk, "csv"])
    )
    assert template.content.decode("utf-8-sig").strip() == ",".join(importing.KEYS)

    with open(SEED_000, "rb") as f:
        response = client.post(
            reverse("meeting_import", args=[area.home_health_care.pk]), {"file": f}
        )
    assert response.status_code == 302
    assert Meeting.objects.count() == 8

    # The manager's dashboard shows the seed's figures, rounded as the seed does.
    manager = User.objects.get(username="chef.hsv")
    tallies.fold()
    dashboard = login(manager).get(
        reverse("reports:dashboard"), {"date_from": "2026-09-01", "date_to": "2026-11-30"}
    )
    html = dashboard.content.decode()
    assert "3\xa0824" in html or "3 824" in html
    assert "34\xa0%" in html or "34 %" in html


def test_errors_are_shown_in_a_table_on_the_page(demo, login):
    area, admin = demo
    rows = _rows()
    rows[0]["starts_at"] = "i går"
    upload = io.BytesIO(_csv(rows))
    upload.name = "fel.csv"
    response = login(admin).post(
        reverse("meeting_import", args=[area.home_health_care.pk]), {"file": upload}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Inget sparades" in html
    assert "<code>starts_at</code>" in html
    assert not Meeting.objects.exists()


def test_only_the_organisations_admin_reaches_the_import(demo, login):
    area, _admin = demo
    url = reverse("meeting_import", args=[area.home_health_care.pk])
    other_admin = User.objects.get(username="admin.bistand")
    assert login(other_admin).get(url).status_code == 404
    nurse = Membership.objects.filter(role=Role.NURSE).first().user
    assert login(nurse).get(url).status_code == 404


def test_absence_reasons_in_the_attendance_table_and_the_meeting_export(demo):
    from django.utils import timezone
    from django.utils.translation import override

    from reports import exports
    from reports.selectors import meetings_for_export

    area, _admin = demo
    assert _import(demo, SEED_000.read_bytes()).errors == []
    with override("en"):
        report = computed(OCTOBER, area.home_health_care)
        rows = {r["role"] or r["kind"]: r for r in report.tables["attendance"].rows}
        assert rows[Role.NURSE]["absences"] == "Ill 1, No time 1"
        assert rows[Role.CONTACT_PERSON]["absences"] == (
            "Never invited (missed in the invitations) 1, Someone else came instead 1"
        )
        assert rows[Role.PHYSICIAN]["absences"] == ""
        assert "absences" in [c.key for c in report.tables["attendance"].columns]

        meetings = meetings_for_export(area.home_health_care, OCTOBER)
        header, *lines = list(exports.meeting_rows(meetings, area.home_health_care))
        col = {key: i for i, key in enumerate(exports.MEETING_COLUMN_KEYS)}
        assert header[col["staff_absent"]] == "Staff invited but absent, why"
        absent = sorted(line[col["staff_absent"]] for line in lines)
        assert absent[-2:] == [
            "Home-help contact person: Never invited (missed in the invitations); Nurse: No time",
            "Home-help contact person: Someone else came instead; Nurse: Ill",
        ]
        assert absent[:6] == [""] * 6
        registered = {line[col["registered_afterwards"]] for line in lines}
        assert registered == {timezone.localdate()}


def test_importing_the_same_file_twice_adds_nothing(demo):
    assert _import(demo, SEED_000.read_bytes()).errors == []
    again = _import(demo, SEED_000.read_bytes())
    assert len(again.errors) == 8
    assert {e.column for e in again.errors} == {"starts_at"}
    assert Meeting.objects.count() == 8
