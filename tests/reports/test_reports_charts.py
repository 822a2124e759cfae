"""Charts where people would rather look than read (issue 20): meetings per month, days
from initiative to meeting, decisions carried out in time per organisation and the EQ-5D /
STAI-6 change, drawn from the report's tables by one chart module, as SVG in the page
(no inline style or script: the CSP forbids them; the table under each is what screen
readers read) and as native charts in the XLSX."""

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import pytest
from django.urls import reverse

from followup.models import DecisionStatusChange, OutcomeMeasure
from meetings.models import Decision
from participants.models import Role
from reports import charts
from reports.figures import Period

from ..factories import MembershipFactory
from ..reports_data import aware, computed, report_area, seed_000_meetings

pytestmark = pytest.mark.django_db

MARCH = Period(dt.date(2026, 3, 1), dt.date(2026, 3, 31))
QUERY = {"date_from": "2026-03-01", "date_to": "2026-03-31"}


@pytest.fixture
def rarea():
    area = report_area()
    meetings = seed_000_meetings(area, dt.date(2026, 3, 2))
    coordinator = area.coordinators[0]
    # Two decisions of the home-help provider with a due date: one in time, one late.
    for i, done in enumerate((dt.date(2026, 3, 10), dt.date(2026, 3, 30))):
        decision = Decision.objects.create(
            meeting=meetings[i], organisation=area.home_help, category="extended_home_help",
            description="Kvällsbesök", responsible=coordinator, person_answer="accepts",
            due_date=dt.date(2026, 3, 20), created_by=coordinator,
        )  # fmt: skip
        DecisionStatusChange.objects.create(
            decision=decision, status="implemented", date=done, reported_by=coordinator,
            reported_at=aware(done),
        )  # fmt: skip
    for meeting, (eq_b, eq_a, stai_b, stai_a) in zip(
        meetings[:2], (("0.500", "0.700", 16, 12), ("0.600", "0.620", 14, 14)), strict=True
    ):
        for timepoint, eq, stai in (("baseline", eq_b, stai_b), ("two_months", eq_a, stai_a)):
            OutcomeMeasure.objects.create(
                person=meeting.person, meeting=meeting, timepoint=timepoint,
                date=dt.date(2026, 3, 1), eq5d_index=Decimal(eq), eq5d_value_set="UK TTO",
                eq5d_vas=60, stai6_sum=stai, entered_by=area.nurses[0],
            )  # fmt: skip
    return area


def test_the_charts_are_drawn_from_the_tables(rarea):
    report = computed(MARCH)
    drawn = charts.charts_for(report)
    on_time = {r["organisation"]: r for r in report.tables["decisions_on_time"].rows}
    assert on_time[rarea.home_help.name]["on_time_share"] == 0.5
    svg = "".join(drawn["decisions_on_time"])
    assert rarea.home_help.name in svg and "50 %" in svg
    by_month = "".join(drawn["by_month"])
    assert 'id="chart-by-month-title"' in by_month
    assert 'id="chart-days-to-meeting-title"' in by_month
    # 14 days from initiative to meeting in seed 000's meetings of the tests
    assert report.tables["by_month"].rows[0]["mean_days_to_meeting"] == 14.0
    assert "Mar 26: " in by_month or "mar 26: " in by_month
    outcomes = "".join(drawn["outcomes"])
    for chart_id in ("chart-eq5d-index", "chart-eq5d-vas", "chart-stai6"):
        assert f'id="{chart_id}-title"' in outcomes
    assert "0.550" in outcomes and "0.660" in outcomes  # the EQ-5D means before and then


def test_the_page_shows_each_chart_above_its_table_and_passes_the_csp(rarea, login):
    computed(MARCH)  # folded
    client = login(MembershipFactory(organisation=rarea.home_help, role=Role.MANAGER).user)
    response = client.get(reverse("reports:dashboard"), QUERY)
    csp = response["Content-Security-Policy"]
    assert "style-src 'self'" in csp and "unsafe-inline" not in csp
    html = response.content.decode()
    svgs = re.findall(r"<svg.*?</svg>", html, re.S)
    assert len(svgs) >= 8
    for svg in svgs:
        assert " style=" not in svg and "<script" not in svg and "<style" not in svg
        assert 'role="img"' in svg and "<title" in svg
    for chart_id, table in (
        ("chart-by-month", "by_month"),
        ("chart-days-to-meeting", "by_month"),
        ("chart-decisions-on-time", "decisions_on_time"),
        ("chart-stai6", "outcomes"),
    ):
        chart_at = html.index(f'id="{chart_id}-title"')
        section = html.rindex('<section aria-labelledby="table-', 0, chart_at)
        assert html[section:].startswith(f'<section aria-labelledby="table-{table}"')
        # the chart is hidden from screen readers; the table after it has the numbers
        assert html.rindex('<figure class="report-chart" aria-hidden="true">', 0, chart_at)
        table_at = html.index("<table", chart_at)
        assert html.index("</section>", chart_at) > table_at
    table = html[html.index('id="table-decisions_on_time"') :]
    table = table[: table.index("</section>")]
    assert "50 %" in table and rarea.home_help.name in table


def test_the_xlsx_has_native_charts_over_the_sheets(rarea, login):
    computed(MARCH)
    client = login(MembershipFactory(organisation=rarea.home_help, role=Role.MANAGER).user)
    response = client.get(reverse("reports:export", args=["figures", "xlsx"]), QUERY)
    data = b"".join(response.streaming_content)
    archive = zipfile.ZipFile(io.BytesIO(data))
    chart_files = sorted(n for n in archive.namelist() if n.startswith("xl/charts/chart"))
    xml = {name: archive.read(name).decode() for name in chart_files}
    titles = " ".join(xml.values())
    for title in (
        "Möten per månad",
        "Dagar från initiativ till möte",
        "Beslut genomförda i tid",
        "EQ-5D-index",
        "STAI-6",
    ):
        assert title in titles, title
    # each chart refers to the cells of its own sheet (the numbers stay in the workbook)
    month_chart = next(x for x in xml.values() if "Möten per månad" in x)
    assert re.search(r"'Möten per månad'!\$B\$2(:\$B\$\d+)?<", month_chart)
    on_time = next(x for x in xml.values() if "Beslut genomförda i tid" in x)
    # (a sheet's name is at most 31 characters)
    assert "'Beslut genomförda i tid per org'!$E$2<" in on_time
    # and the workbook still opens with the figures in its cells
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data), read_only=True)
    sheet = book["Beslut genomförda i tid per org"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == rarea.home_help.name and rows[1][4] == 0.5


def test_a_negative_mean_is_drawn_below_the_zero_line_not_left_out():
    """An EQ-5D index below zero (a state judged worse than death) is a bar below zero, so
    the before/after pair is never shown as the after bar alone."""
    svg = str(
        charts.bar_chart(
            "eq5d",
            "EQ-5D",
            ["Before", "After"],
            [charts.Series("Index", "series-1", [-0.1, 0.4])],
            kind="decimal",
        )
    )
    bars = re.findall(r'<rect[^>]*class="series-1"[^>]*>', svg)
    heights = [float(re.search(r'height="([\d.]+)"', b)[1]) for b in bars]
    ys = [float(re.search(r' y="([\d.]+)"', b)[1]) for b in bars]
    assert len(bars) == 3  # the legend's square and the two bars
    before, after = heights[1], heights[2]
    assert before > 0 and after > before  # both drawn, to scale
    assert ys[1] > ys[2]  # the negative bar starts at the zero line, below the positive one's top
