"""Server-rendered SVG charts: no JavaScript, no inline style (CSP); colours come from
classes in static/css/reports.css. Each chart is drawn from a report table, and the page
shows that table under it, which is what screen readers read."""

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .rounding import percent
from .suppression import SUPPRESSED


@dataclass
class Series:
    name: str
    css: str
    values: list


def _num(value) -> float | None:
    if value is None or value == SUPPRESSED or isinstance(value, str):
        return None
    return float(value)


def _fmt(value, kind: str) -> str:
    if value is None:
        return "–"
    if value == SUPPRESSED:
        return SUPPRESSED
    if kind == "share":
        return f"{percent(value)} %"
    if kind == "sek":
        return f"{float(value):,.0f}".replace(",", "\u202f")
    if kind == "index":
        return f"{float(value):.3f}"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1
    magnitude = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _el(tag: str, text: str | None = None, **attrs) -> str:
    """One SVG element; attribute names use _ for - (text_anchor -> text-anchor)."""
    rendered = " ".join(
        f'{name.rstrip("_").replace("_", "-")}="{escape(_coord(value))}"'
        for name, value in attrs.items()
    )
    opening = f"{tag} {rendered}" if rendered else tag
    if text is None:
        return f"<{opening}/>"
    return f"<{opening}>{text}</{tag}>"


def _coord(value) -> str:
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _open(chart_id: str, title: str, width: int, height: int) -> list[str]:
    return [
        f'<svg class="vom-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title" xmlns="http://www.w3.org/2000/svg">',
        _el("title", escape(title), id=f"{chart_id}-title"),
    ]


def _legend(series: list[Series], x: int, y: int) -> list[str]:
    parts, offset = [], x
    for s in series:
        parts.append(_el("rect", class_=s.css, x=offset, y=y - 9, width=10, height=10))
        parts.append(_el("text", escape(s.name), class_="chart-legend", x=offset + 14, y=y))
        offset += 24 + 7 * len(s.name)
    return parts


def bar_chart(
    chart_id: str, title: str, labels: list[str], series: list[Series], kind: str = "int"
) -> SafeString:
    """Vertical grouped bars, one group per label (e.g. per month)."""
    width, height, left, bottom, top = 640, 260, 52, 40, 28
    plot_w, plot_h = width - left - 10, height - bottom - top
    values = [_num(v) for s in series for v in s.values]
    known = [v for v in values if v is not None]
    top_value = _nice_max(max(known or [0]))
    # A negative value (an EQ-5D index below zero: a state worse than death) is drawn below
    # a zero line, so a group of bars never hides one of its values.
    low_value = -_nice_max(-min(known)) if known and min(known) < 0 else 0.0
    if kind == "int":
        # Four grid steps of whole numbers.
        top_value = max(4, -(-int(top_value) // 4) * 4)
    if top_value <= 0 and low_value < 0:
        top_value = 0.0
    span = (top_value - low_value) or 1.0

    def y_of(value: float) -> float:
        return top + plot_h * (top_value - value) / span

    group_w = plot_w / max(len(labels), 1)
    bar_w = max(min(group_w * 0.8 / max(len(series), 1), 28), 2)
    parts = _open(chart_id, title, width, height)
    parts += _legend(series, left, 14)
    for i in range(5):
        value = low_value + span * i / 4
        y = y_of(value)
        parts.append(_el("line", class_="chart-grid", x1=left, x2=width - 10, y1=y, y2=y))
        tick = _fmt(value if kind != "int" else int(value), kind)
        parts.append(
            _el("text", escape(tick), class_="chart-axis", x=left - 6, y=y + 4, text_anchor="end")
        )
    if low_value < 0:
        zero = y_of(0)
        parts.append(_el("line", class_="chart-grid", x1=left, x2=width - 10, y1=zero, y2=zero))
    step = max(1, len(labels) // 12)
    for g, label in enumerate(labels):
        x0 = left + g * group_w + (group_w - bar_w * len(series)) / 2
        for k, s in enumerate(series):
            value = _num(s.values[g])
            if value is None:
                continue
            y_top, y_bottom = sorted((y_of(value), y_of(0)))
            tip = escape(f"{label}: {s.name} {_fmt(s.values[g], kind)}")
            parts.append(
                _el(
                    "rect",
                    _el("title", tip),
                    class_=s.css,
                    x=x0 + k * bar_w,
                    y=y_top,
                    width=bar_w - 1,
                    height=max(y_bottom - y_top, 0),
                )
            )
        if g % step == 0:
            x = left + g * group_w + group_w / 2
            parts.append(
                _el(
                    "text",
                    escape(label),
                    class_="chart-axis",
                    x=x,
                    y=height - bottom + 16,
                    text_anchor="middle",
                )
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


def hbar_chart(
    chart_id: str, title: str, items: list[tuple[str, object, str]], kind: str = "int"
) -> SafeString:
    """Horizontal bars: (label, value, css class) per row."""
    row_h, label_w, width = 26, 210, 640
    height = 12 + row_h * max(len(items), 1)
    values = [_num(v) for _label, v, _css in items]
    biggest = max([v for v in values if v is not None] or [0])
    top_value = 1.0 if kind == "share" else _nice_max(biggest)
    plot_w = width - label_w - 70
    parts = _open(chart_id, title, width, height)
    for i, (label, value, css) in enumerate(items):
        y = 6 + i * row_h
        parts.append(
            _el(
                "text",
                escape(label if len(label) <= 30 else label[:29] + "…"),
                class_="chart-label",
                x=label_w - 8,
                y=y + 16,
                text_anchor="end",
            )
        )
        number = _num(value)
        w = plot_w * number / top_value if number else 0
        if number:
            parts.append(
                _el("rect", class_=css, x=label_w, y=y + 3, width=float(w), height=row_h - 8)
            )
        parts.append(
            _el(
                "text",
                escape(_fmt(value, kind)),
                class_="chart-value",
                x=float(label_w + w + 6),
                y=y + 16,
            )
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text above is escaped


# --- Which charts there are: drawn in the page (SVG) and in the XLSX (openpyxl) ---


@dataclass(frozen=True)
class ChartSpec:
    """A chart drawn from a report table: `category` names the column of the labels,
    `values` the columns drawn (a series each); `where` keeps only the rows with that value
    (a table holding several measures). The page draws it as SVG above the table (which
    screen readers read), the XLSX as a native chart over the table's sheet."""

    key: str
    table: str
    title: object
    category: str
    values: tuple[str, ...]
    kind: str = "int"  # int, share, sek, decimal, index
    horizontal: bool = False
    where: tuple[str, str] | None = None


SPECS = (
    ChartSpec(
        "by_month",
        "by_month",
        gettext_lazy("Meetings per month"),
        "month",
        ("initiated", "held", "cancelled"),
    ),
    ChartSpec(
        "days_to_meeting",
        "by_month",
        gettext_lazy("Days from initiative to meeting, per month (mean)"),
        "month",
        ("mean_days_to_meeting",),
        kind="decimal",
    ),
    ChartSpec(
        "cost_by_month",
        "by_month",
        gettext_lazy("Cost per held meeting per month (SEK)"),
        "month",
        ("mean_cost_sek",),
        kind="sek",
    ),
    ChartSpec(
        "attendance",
        "attendance",
        gettext_lazy("Share of held meetings each role attended"),
        "who",
        ("attended_share",),
        kind="share",
        horizontal=True,
    ),
    ChartSpec(
        "cost_by_role",
        "cost_by_role",
        gettext_lazy("Cost per held meeting by role (SEK)"),
        "role",
        ("per_meeting_sek",),
        kind="sek",
        horizontal=True,
    ),
    ChartSpec(
        "reasons",
        "reasons",
        gettext_lazy("Reasons for the initiative"),
        "reason",
        ("meetings",),
        horizontal=True,
    ),
    ChartSpec(
        "decisions_on_time",
        "decisions_on_time",
        gettext_lazy("Decisions carried out in time, per organisation"),
        "organisation",
        ("on_time_share",),
        kind="share",
        horizontal=True,
    ),
    ChartSpec(
        "eq5d_index",
        "outcomes",
        gettext_lazy("EQ-5D index before the meeting and then (mean)"),
        "when",
        ("before", "after"),
        kind="index",
        where=("measure_key", "eq5d_index"),
    ),
    ChartSpec(
        "eq5d_vas",
        "outcomes",
        gettext_lazy("EQ VAS before the meeting and then (mean)"),
        "when",
        ("before", "after"),
        kind="decimal",
        where=("measure_key", "eq5d_vas"),
    ),
    ChartSpec(
        "stai6",
        "outcomes",
        gettext_lazy("STAI-6 before the meeting and then (mean; lower is calmer)"),
        "when",
        ("before", "after"),
        kind="decimal",
        where=("measure_key", "stai6_sum"),
    ),
)


def _rows(spec: ChartSpec, table) -> list[dict]:
    rows = table.rows
    if spec.table == "attendance":
        rows = [r for r in rows if r["kind"] != "person"]
    if spec.table == "reasons":
        rows = [r for r in rows if r["meetings"] not in (0, None)]
    if spec.where:
        rows = [r for r in rows if r.get(spec.where[0]) == spec.where[1]]
    return rows


def _drawable(rows: list[dict], spec: ChartSpec) -> bool:
    return any(_num(r.get(key)) for r in rows for key in spec.values)


def _label(value) -> str:
    import datetime as dt

    from django.utils.formats import date_format

    if isinstance(value, dt.date):
        return date_format(value, "M y")
    return "" if value is None else str(value)


def charts_for(report) -> dict[str, list[SafeString]]:
    """The dashboard's charts, per table key (a table may have several), each drawn from
    the table it stands above."""
    charts: dict[str, list[SafeString]] = {}
    region = str(_("Region"))
    for spec in SPECS:
        table = report.tables.get(spec.table)
        if table is None:
            continue
        rows = _rows(spec, table)
        if not rows or not _drawable(rows, spec):
            continue
        chart_id, title = f"chart-{spec.key.replace('_', '-')}", str(spec.title)
        if spec.horizontal:
            key = spec.values[0]
            items = []
            for r in rows:
                css = "series-2"
                label = _label(r.get(spec.category))
                if spec.table == "cost_by_role":
                    label = f"{r['role']} ({r['side']})"
                    css = "side-region" if str(r["side"]) == region else "side-municipal"
                items.append((label, r.get(key), css))
            svg = hbar_chart(chart_id, title, items, kind=spec.kind)
        else:
            series = [
                Series(str(table.column(key).label), f"series-{i + 1}", [r.get(key) for r in rows])
                for i, key in enumerate(spec.values)
            ]
            svg = bar_chart(
                chart_id, title, [_label(r.get(spec.category)) for r in rows], series, spec.kind
            )
        charts.setdefault(spec.table, []).append(svg)
    return charts


def xlsx_charts(table, sheet) -> list:
    """The table's charts as openpyxl charts over its sheet, as written by
    `exports.table_rows` (a header row, then one row per table row, in column order)."""
    from openpyxl.chart import BarChart, Reference
    from openpyxl.chart.series import SeriesLabel

    found = []
    columns = [c.key for c in table.columns]
    for spec in SPECS:
        if spec.table != table.key:
            continue
        rows = _rows(spec, table)
        if not rows or not _drawable(rows, spec):
            continue
        # The chart's rows must be one run on the sheet (the filters keep neighbours).
        positions = [next(i for i, r in enumerate(table.rows) if r is row) + 2 for row in rows]
        first, last = positions[0], positions[-1]
        if positions != list(range(first, last + 1)):
            continue
        chart = BarChart()
        chart.type = "bar" if spec.horizontal else "col"
        chart.title = str(spec.title)
        chart.height, chart.width = 7.5, 16
        for key in spec.values:
            col = columns.index(key) + 1
            chart.add_data(Reference(sheet, min_col=col, min_row=first, max_row=last))
            chart.series[-1].tx = SeriesLabel(v=str(table.column(key).label))
        cat = columns.index(spec.category) + 1
        chart.set_categories(Reference(sheet, min_col=cat, min_row=first, max_row=last))
        if spec.kind == "share":
            chart.y_axis.number_format = "0%"
            chart.y_axis.scaling.min, chart.y_axis.scaling.max = 0, 1
        # openpyxl 3.1 hides both axes unless told not to.
        chart.x_axis.delete = chart.y_axis.delete = False
        found.append(chart)
    return found
