"""A person's outcome measures over time as server-rendered SVG: EQ-5D index, EQ VAS and
STAI-6, one small chart each. No JavaScript and no CDN.

The SVG is inline in the page, and the Content Security Policy forbids style attributes, so
everything is drawn with presentation attributes (fill, stroke, font-size). A point is ringed
when it differs from the previous answered measurement by a real change
(`scoring.is_real_change`). Each chart is followed by a data table in the page, so the chart
itself is hidden from screen readers apart from its title.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.utils import formats
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import scoring
from .models import OutcomeMeasure

# Drawn at 520 units wide so the 15-unit text stays readable when a phone scales it down.
WIDTH = 520
HEIGHT = 240
LEFT, RIGHT, TOP, BOTTOM = 52, 28, 24, 52
LINE = "#0b5f6b"
MARK = "#b3261e"
GRID = "#d0d5da"
TEXT = "#343a40"


@dataclass(frozen=True)
class MeasureSpec:
    key: str  # a key of scoring.REAL_CHANGE
    title: object
    low: Decimal
    high: Decimal
    ticks: tuple
    decimals: int
    better: object  # which way is better, for the reader


SPECS = (
    MeasureSpec(
        "eq5d_index",
        gettext_lazy("EQ-5D index"),
        Decimal("-0.6"),
        Decimal("1"),
        (Decimal("-0.5"), Decimal("0"), Decimal("0.5"), Decimal("1")),
        3,
        gettext_lazy("higher is better"),
    ),
    MeasureSpec(
        "eq5d_vas",
        gettext_lazy("EQ VAS (0–100)"),
        Decimal(0),
        Decimal(100),
        tuple(Decimal(v) for v in (0, 25, 50, 75, 100)),
        0,
        gettext_lazy("higher is better"),
    ),
    MeasureSpec(
        "stai6",
        gettext_lazy("STAI-6 anxiety (6–24)"),
        Decimal(6),
        Decimal(24),
        tuple(Decimal(v) for v in (6, 12, 18, 24)),
        0,
        gettext_lazy("lower is better"),
    ),
)


@dataclass(frozen=True)
class Point:
    date: dt.date
    timepoint: str
    timepoint_label: str
    meeting_id: int
    value: Decimal
    change: Decimal | None  # from the previous answered measurement
    real_change: bool
    value_text: str = ""
    change_text: str = ""


@dataclass(frozen=True)
class Series:
    spec: MeasureSpec
    points: tuple[Point, ...]
    svg: SafeString

    @property
    def real_change_count(self) -> int:
        return sum(1 for p in self.points if p.real_change)


def _value(measure: OutcomeMeasure, key: str):
    return {
        "eq5d_index": measure.eq5d_index,
        "eq5d_vas": measure.eq5d_vas,
        "stai6": measure.stai6_sum,
    }[key]


def _points(measures: list[OutcomeMeasure], spec: MeasureSpec) -> list[Point]:
    points: list[Point] = []
    previous = None
    for measure in measures:
        value = _value(measure, spec.key)
        if measure.could_not_answer or value is None:
            continue
        change = real = None
        if previous is not None:
            change = Decimal(value) - Decimal(previous)
            real = scoring.is_real_change(spec.key, previous, value)
        points.append(
            Point(
                date=measure.date,
                timepoint=measure.timepoint,
                timepoint_label=str(measure.get_timepoint_display()),
                meeting_id=measure.meeting_id,
                value=Decimal(value),
                change=change,
                real_change=bool(real),
                value_text=number(Decimal(value), spec.decimals),
                change_text="" if change is None else number(change, spec.decimals, signed=True),
            )
        )
        previous = value
    return points


def number(value: Decimal, decimals: int, *, signed: bool = False) -> str:
    text = formats.number_format(value, decimals, use_l10n=True)
    if signed and value > 0:
        text = "+" + text
    return text.replace("-", "−")  # a real minus sign reads better than a hyphen


def _svg(spec: MeasureSpec, points: list[Point], chart_id: str) -> SafeString:
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def y(value: Decimal) -> float:
        value = min(max(value, spec.low), spec.high)
        return TOP + plot_h * float((spec.high - value) / (spec.high - spec.low))

    dates = [p.date for p in points]
    first, last = (min(dates), max(dates)) if dates else (None, None)
    span = (last - first).days if dates else 0

    def x(day: dt.date) -> float:
        if not span:
            return LEFT + plot_w / 2
        return LEFT + plot_w * (day - first).days / span

    title = escape(f"{spec.title} ({spec.better})")
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'class="vom-chart" role="img" aria-labelledby="{chart_id}-title" '
        f'data-measure="{spec.key}" font-family="system-ui, sans-serif" font-size="16">',
        f'<title id="{chart_id}-title">{title}</title>',
        f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
    ]
    for tick in spec.ticks:
        ty = y(tick)
        out.append(
            f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}" '
            f'stroke="{GRID}" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{LEFT - 8}" y="{ty + 4:.1f}" text-anchor="end" fill="{TEXT}">'
            f"{escape(number(tick, 1 if spec.key == 'eq5d_index' else 0))}</text>"
        )
    out.append(
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        f'stroke="{TEXT}" stroke-width="1"/>'
    )
    if not points:
        empty = escape(_("No answered measurements yet."))
        out.append(
            f'<text x="{WIDTH / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" fill="{TEXT}">'
            f"{empty}</text>"
        )
    else:
        for day in sorted({first, last}):
            anchor = "middle" if not span else ("start" if day == first else "end")
            out.append(
                f'<text x="{x(day):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="{anchor}" '
                f'fill="{TEXT}">{day.isoformat()}</text>'
            )
        coords = [(x(p.date), y(p.value)) for p in points]
        if len(coords) > 1:
            path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
            out.append(
                f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2.5"/>'
            )
        for point, (cx, cy) in zip(points, coords, strict=True):
            label = f"{point.date.isoformat()} {point.timepoint_label}: " + number(
                point.value, spec.decimals
            )
            out.append(
                f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="5" fill="{LINE}" '
                f'data-date="{point.date.isoformat()}"><title>{escape(label)}</title></circle>'
            )
            if point.real_change:
                change = number(point.change, spec.decimals, signed=True)
                tooltip = escape(_("Real change: %(change)s") % {"change": change})
                out.append(
                    f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="10" fill="none" stroke="{MARK}" '
                    f'stroke-width="2.5" class="real-change" data-real-change="{spec.key}" '
                    f'data-date="{point.date.isoformat()}">'
                    f"<title>{tooltip}</title>"
                    f"</circle>"
                )
                # Keep the label inside the drawing at the edges and at the top.
                anchor = "middle"
                if cx > WIDTH - RIGHT - 30:
                    anchor = "end"
                elif cx < LEFT + 30:
                    anchor = "start"
                ly = cy - 16 if cy - 16 > 14 else cy + 28
                out.append(
                    f'<text x="{cx:.1f}" y="{ly:.1f}" text-anchor="{anchor}" fill="{MARK}" '
                    f'font-weight="bold">{escape(change)}</text>'
                )
    legend_y = HEIGHT - 8
    legend = escape(_("Ringed: a real change from the previous measurement"))
    out.append(
        f'<circle cx="{LEFT + 6}" cy="{legend_y - 4}" r="6" fill="none" stroke="{MARK}" '
        f'stroke-width="2.5"/>'
        f'<text x="{LEFT + 18}" y="{legend_y}" fill="{TEXT}">'
        f"{legend}</text>"
    )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 - every interpolated text is escaped above


def person_charts(measures: list[OutcomeMeasure], *, id_prefix: str = "chart") -> list[Series]:
    """One chart per measure from the person's measurements, oldest first."""
    ordered = sorted(measures, key=lambda m: (m.date, m.pk or 0))
    series = []
    for spec in SPECS:
        points = _points(ordered, spec)
        series.append(Series(spec, tuple(points), _svg(spec, points, f"{id_prefix}-{spec.key}")))
    return series
