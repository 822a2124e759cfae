"""Small-cell suppression for the steering group's aggregate view.

A cell computed from fewer than MIN_PERSONS distinct older persons (but more than none)
is replaced by SUPPRESSED: with a handful of persons behind a number, those who know the
area can tell who it is about. Zero is shown: it says nothing about anyone.

When a column adds up to a total that is shown, a single suppressed cell could be worked
out by subtraction; the smallest other non-zero cell of that column is suppressed with it
(secondary suppression).
"""

import copy

from .tables import SUPPRESSED, Report, Table

MIN_PERSONS = 5


def is_small(persons) -> bool:
    return persons is not None and 0 < persons < MIN_PERSONS


def _basis(row: dict, key: str | None):
    if key is not None and "_basis" in row:
        return row["_basis"].get(key, 0)
    return row.get("persons")


def suppress_table(table: Table) -> Table:
    table = copy.copy(table)
    table.rows = [dict(row) for row in table.rows]
    for column in table.columns:
        if column.kind in ("text", "month"):
            continue
        hidden = 0
        for row in table.rows:
            if is_small(_basis(row, column.basis)) and row.get(column.key) is not None:
                row[column.key] = SUPPRESSED
                hidden += 1
        if column.additive and hidden == 1:
            visible = [
                row
                for row in table.rows
                if isinstance(row.get(column.key), int | float) and row[column.key] > 0
            ]
            if visible:
                min(visible, key=lambda row: row[column.key])[column.key] = SUPPRESSED
    for row in table.rows:
        if is_small(row.get("persons")):
            row["persons"] = SUPPRESSED
    return table


def suppress(report: Report) -> Report:
    if not report.has_persons:
        raise ValueError("computed with persons=False: nothing to suppress on")
    summary = {
        key: (
            SUPPRESSED if is_small(report.summary_basis.get(key)) and value is not None else value
        )
        for key, value in report.summary.items()
    }
    return Report(
        period=report.period,
        organisation=report.organisation,
        summary=summary,
        summary_basis=report.summary_basis,
        tables={key: suppress_table(table) for key, table in report.tables.items()},
        suppressed=True,
        computed_at=report.computed_at,
    )
