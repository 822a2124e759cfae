"""Server-rendered SVG charts: no JavaScript, no inline style (CSP); colours come from
classes in static/css/reports.css. Each chart is drawn from a report table, and the page
shows that table under it, which is what screen readers read."""

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

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
    top_value = _nice_max(max([v for v in values if v is not None] or [0]))
    if kind == "int":
        # Four grid steps of whole numbers.
        top_value = max(4, -(-int(top_value) // 4) * 4)
    group_w = plot_w / max(len(labels), 1)
    bar_w = max(min(group_w * 0.8 / max(len(series), 1), 28), 2)
    parts = _open(chart_id, title, width, height)
    parts += _legend(series, left, 14)
    for i in range(5):
        value = top_value * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(_el("line", class_="chart-grid", x1=left, x2=width - 10, y1=y, y2=y))
        tick = _fmt(value if kind != "int" else int(value), kind)
        parts.append(
            _el("text", escape(tick), class_="chart-axis", x=left - 6, y=y + 4, text_anchor="end")
        )
    step = max(1, len(labels) // 12)
    for g, label in enumerate(labels):
        x0 = left + g * group_w + (group_w - bar_w * len(series)) / 2
        for k, s in enumerate(series):
            value = _num(s.values[g])
            if value is None:
                continue
            h = plot_h * value / top_value
            tip = escape(f"{label}: {s.name} {_fmt(s.values[g], kind)}")
            parts.append(
                _el(
                    "rect",
                    _el("title", tip),
                    class_=s.css,
                    x=x0 + k * bar_w,
                    y=top + plot_h - h,
                    width=bar_w - 1,
                    height=h,
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


def charts_for(report, labels: dict) -> dict[str, SafeString]:
    """The dashboard's charts, keyed by the table each one is drawn from."""
    from django.utils.formats import date_format

    charts = {}
    months = report.tables["by_month"].rows
    if months:
        month_labels = [date_format(r["month"], "M y") for r in months]
        charts["by_month"] = bar_chart(
            "chart-months",
            str(labels["by_month"]),
            month_labels,
            [
                Series(str(labels["initiated"]), "series-1", [r["initiated"] for r in months]),
                Series(str(labels["held"]), "series-2", [r["held"] for r in months]),
                Series(str(labels["cancelled"]), "series-3", [r["cancelled"] for r in months]),
            ],
        )
        charts["cost_by_month"] = bar_chart(
            "chart-cost-months",
            str(labels["cost_by_month"]),
            month_labels,
            [Series(str(labels["mean_cost"]), "series-2", [r["mean_cost_sek"] for r in months])],
            kind="sek",
        )
    attendance = [r for r in report.tables["attendance"].rows if r["kind"] != "person"]
    charts["attendance"] = hbar_chart(
        "chart-attendance",
        str(labels["attendance"]),
        [(str(r["who"]), r["attended_share"], "series-2") for r in attendance],
        kind="share",
    )
    cost_rows = report.tables["cost_by_role"].rows
    if cost_rows:
        charts["cost_by_role"] = hbar_chart(
            "chart-cost-role",
            str(labels["cost_by_role"]),
            [
                (
                    f"{r['role']} ({r['side']})",
                    r["per_meeting_sek"],
                    "side-region" if r["side"] == labels["region"] else "side-municipal",
                )
                for r in cost_rows
            ],
            kind="sek",
        )
    reasons = [r for r in report.tables["reasons"].rows if r["meetings"] not in (0, None)]
    if reasons:
        charts["reasons"] = hbar_chart(
            "chart-reasons",
            str(labels["reasons"]),
            [(str(r["reason"]), r["meetings"], "series-1") for r in reasons],
        )
    return charts
