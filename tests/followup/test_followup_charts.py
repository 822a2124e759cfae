"""The server-rendered SVG charts of a person's measures: real-change markers exactly where
scoring.is_real_change says, valid SVG without style attributes (CSP), and a data table."""

import datetime as dt
import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest
from django.utils import translation

from followup.charts import person_charts
from followup.models import OutcomeMeasure

SVG = "{http://www.w3.org/2000/svg}"
D = dt.date(2026, 1, 10)


def m(days, index=None, vas=None, stai=None, timepoint="after", could_not_answer=False):
    return OutcomeMeasure(
        pk=days + 1,
        meeting_id=1,
        person_id=1,
        timepoint=timepoint,
        date=D + dt.timedelta(days=days),
        eq5d_index=None if index is None else Decimal(index),
        eq5d_vas=vas,
        stai6_sum=stai,
        could_not_answer=could_not_answer,
        no_answer_reason="memory_problems" if could_not_answer else "",
    )


MEASURES = [
    m(0, "0.516", 50, 12, "baseline"),
    m(10, "0.616", 60, 15),  # +0.100, +10, +3: all real changes
    m(30, None, None, None, "two_months", could_not_answer=True),  # skipped
    m(60, "0.706", 69, 13, "two_months"),  # +0.090, +9, -2: none is a real change
    m(90, "0.606", 59, 9, "baseline"),  # -0.100, -10, -4: all real again
]


def markers(series):
    root = ET.fromstring(str(series.svg))
    return [
        el.get("data-date")
        for el in root.iter(f"{SVG}circle")
        if el.get("data-real-change") == series.spec.key
    ]


@pytest.fixture
def charts():
    with translation.override("en"):
        return {s.spec.key: s for s in person_charts(MEASURES)}


@pytest.mark.parametrize("key", ["eq5d_index", "eq5d_vas", "stai6"])
def test_real_change_markers_exactly_where_expected(charts, key):
    dates = markers(charts[key])
    assert dates == [
        (D + dt.timedelta(days=10)).isoformat(),
        (D + dt.timedelta(days=90)).isoformat(),
    ]
    flags = [(p.date, p.real_change) for p in charts[key].points]
    assert flags == [
        (D, False),
        (D + dt.timedelta(days=10), True),
        (D + dt.timedelta(days=60), False),
        (D + dt.timedelta(days=90), True),
    ]


def test_eq5d_change_of_0_10_is_marked_and_0_09_is_not(charts):
    points = charts["eq5d_index"].points
    assert points[1].change == Decimal("0.100") and points[1].real_change
    assert points[2].change == Decimal("0.090") and not points[2].real_change


def test_stai_change_of_two_is_not_real_three_is(charts):
    points = charts["stai6"].points
    assert [p.change for p in points[1:]] == [3, -2, -4]
    assert [p.real_change for p in points[1:]] == [True, False, True]


def test_could_not_answer_is_left_out_and_compared_across(charts):
    assert len(charts["eq5d_vas"].points) == 4
    assert charts["eq5d_vas"].points[2].change == 9  # 69 - 60, skipping the unanswered one


def test_svg_is_valid_and_has_no_style_attributes(charts):
    for series in charts.values():
        text = str(series.svg)
        root = ET.fromstring(text)
        assert root.tag == f"{SVG}svg"
        assert root.get("role") == "img"
        assert "style=" not in text and "<style" not in text and "<script" not in text
        assert len(list(root.iter(f"{SVG}circle"))) >= len(series.points)


def test_one_point_and_no_points_render(db):
    only = {s.spec.key: s for s in person_charts([m(0, "1.000", 100, 6)])}
    assert markers(only["eq5d_index"]) == []
    ET.fromstring(str(only["eq5d_index"].svg))
    none = {s.spec.key: s for s in person_charts([m(0, could_not_answer=True)])}
    assert none["stai6"].points == ()
    ET.fromstring(str(none["stai6"].svg))


def test_values_are_escaped_and_localised():
    with translation.override("sv"):
        series = person_charts(MEASURES)[0]
    assert "0,616" in str(series.svg)  # Swedish decimal comma
    assert "−0,5" in str(series.svg)  # axis tick with a real minus sign
