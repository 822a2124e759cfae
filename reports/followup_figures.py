"""Figures from the joint follow-up (followup app): what became of the decisions, home-help
hours, health care use and the person's quality of life, for meetings held in the period.

Each figure is one grouped query. "Before/after" figures are paired: a meeting counts only
when both values are there, so a change is never the difference of two different groups.
"""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from followup.models import Checkpoint
from followup.models import OutcomeMeasure as Outcome
from participants.models import Role

from .tables import Column, Table

# Weeks in an average month, to turn hours a week into a monthly cost (seed 000: 11.6 h a
# week at 300 SEK/h is "15 000 kr per month").
WEEKS_PER_MONTH = Decimal(52) / Decimal(12)

# A change that matters (DOMAIN.md): EQ-5D index by 0.10, VAS by 10, STAI-6 by more than 2
# (a lower STAI-6 is better).
THRESHOLDS = {"eq5d_index": Decimal("0.10"), "eq5d_vas": 10, "stai6_sum": 2}


def _share(part, whole):
    if not whole:
        return None
    return round(float(part) / float(whole), 4)


def _round(value, places=1):
    if value is None:
        return None
    return round(float(value), places)


# --- Decisions ---


OUTCOME_KEYS = ("implemented", "partly", "declined", "on_time", "judged", "no_report")


def decision_outcome_row(counts: dict, n: int) -> dict:
    return {
        "implemented": counts.get("implemented", 0),
        "implemented_share": _share(counts.get("implemented", 0), n),
        "partly": counts.get("partly", 0),
        "on_time_share": _share(counts.get("on_time", 0), counts.get("judged", 0)),
        "declined_by_person": counts.get("declined", 0),
        "no_report": counts.get("no_report", 0),
    }


def decision_outcome_summary(totals: dict, n: int) -> dict:
    return {
        "decisions_implemented_share": _share(totals.get("implemented", 0), n),
        "decisions_on_time_share": _share(totals.get("on_time", 0), totals.get("judged", 0)),
        "decisions_declined_by_person_share": _share(totals.get("declined", 0), n),
    }


def decision_outcome_columns() -> list:

    return [
        Column("implemented", _("Implemented")),
        Column("implemented_share", _("Share implemented"), "share"),
        Column("partly", _("Partly")),
        Column("on_time_share", _("Share on time"), "share"),
        Column("declined_by_person", _("Declined by the person")),
        Column("no_report", _("No report yet")),
    ]


# --- Home help, health care use, outcomes ---


def compute(parts, organisation, costs) -> dict:
    """From the added-up month tallies (`reports.tallies`: `_home_help`, `_health_care`,
    `_outcomes`)."""
    home_help = _home_help(parts, organisation, costs)
    health = _health_care(parts, organisation, costs)
    outcomes = _outcomes(parts)
    return {
        "summary": {**home_help["summary"], **health["summary"], **outcomes["summary"]},
        "basis": {**home_help["basis"], **health["basis"], **outcomes["basis"]},
        "tables": [home_help["table"], health["table"], outcomes["table"]],
    }


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 6)))


def _home_help_rate(organisation, costs) -> Decimal:
    """Seed 000 prices home help at the home-help staff rate (300 SEK/h)."""
    return costs.hourly_rate(organisation.pk if organisation else None, Role.CONTACT_PERSON)


def _home_help(parts, organisation, costs) -> dict:

    rate = _home_help_rate(organisation, costs)
    rows = {
        kind: {
            "n": cell.n("n"),
            "persons": cell.persons(),
            "before": _decimal(cell.mean("before_s", "n")),
            "after": _decimal(cell.mean("after_s", "n")),
            "more": cell.n("more"),
        }
        for (kind,), cell in parts.figure("home_help").items()
        if cell.n("n")
    }
    table_rows = []
    for kind, label in Checkpoint.Kind.choices:
        row = rows.get(kind)
        before, after = (row["before"], row["after"]) if row else (None, None)
        change = (after - before) if row else None
        table_rows.append(
            {
                "checkpoint": label,
                "meetings": row["n"] if row else 0,
                "hours_before": _round(before),
                "hours_after": _round(after),
                "more_help": row["more"] if row else 0,
                "cost_change_sek": _round(change * WEEKS_PER_MONTH * rate, 0) if row else None,
                "persons": row["persons"] if row else 0,
            }
        )
    latest = rows.get(Checkpoint.Kind.TWO_MONTHS)
    summary = {
        "home_help_hours_before": _round(latest["before"]) if latest else None,
        "home_help_hours_after": _round(latest["after"]) if latest else None,
        "home_help_cost_change_sek": (
            _round((latest["after"] - latest["before"]) * WEEKS_PER_MONTH * rate, 0)
            if latest
            else None
        ),
    }
    persons = latest["persons"] if latest else 0
    return {
        "summary": summary,
        "basis": dict.fromkeys(summary, persons),
        "table": Table(
            key="home_help",
            title=_("Home-help hours a week, before the meeting and at follow-up"),
            description=_(
                "Meetings with both values recorded at the checkpoint. The change in cost a "
                "month uses the home-help hourly rate."
            ),
            columns=[
                Column("checkpoint", _("Checkpoint"), "text"),
                Column("meetings", _("Meetings")),
                Column("hours_before", _("Hours before (mean)"), "decimal"),
                Column("hours_after", _("Hours after (mean)"), "decimal"),
                Column("more_help", _("More help than before")),
                Column("cost_change_sek", _("Change in cost a month (SEK)"), "sek"),
            ],
            rows=table_rows,
        ),
    }


def _health_care(parts, organisation, costs) -> dict:

    cell = parts.cell("health_care")
    totals = {key: cell.n(key) for key in ("n", "adm_before", "adm_after", "em_before", "em_after")}
    totals["persons"] = cell.persons()
    totals["months_before"] = cell.mean("months_before_s", "months_before_n")
    totals["months_after"] = cell.mean("months_after_s", "months_after_n")
    standards = costs.standards_for(organisation.pk if organisation else None)
    # An emergency visit is priced as a physician contact (seed 000's unit costs have no
    # separate price for it); a hospital admission as a hospital stay.
    stay, visit = standards.hospital_stay_sek, standards.physician_contact_sek
    n = totals["n"]
    rows = []
    for label, prefix in ((_("Before the meeting"), "before"), (_("After the meeting"), "after")):
        admissions, visits = totals[f"adm_{prefix}"] or 0, totals[f"em_{prefix}"] or 0
        rows.append(
            {
                "period": label,
                "meetings": n,
                "months": _round(totals[f"months_{prefix}"]),
                "admissions": admissions if n else None,
                "emergency_visits": visits if n else None,
                "admissions_per_person": _round(admissions / n, 2) if n else None,
                "cost_sek": float(admissions * stay + visits * visit) if n else None,
                "persons": totals["persons"],
            }
        )
    summary = {
        "hospital_admissions_before": totals["adm_before"] if n else None,
        "hospital_admissions_after": totals["adm_after"] if n else None,
        "emergency_visits_before": totals["em_before"] if n else None,
        "emergency_visits_after": totals["em_after"] if n else None,
        "health_care_cost_change_sek": (
            float(
                (totals["adm_after"] - totals["adm_before"]) * stay
                + (totals["em_after"] - totals["em_before"]) * visit
            )
            if n
            else None
        ),
    }
    return {
        "summary": summary,
        "basis": dict.fromkeys(summary, totals["persons"]),
        "table": Table(
            key="health_care_use",
            title=_("Hospital admissions and emergency visits before and after"),
            description=_(
                "Meetings with health care use recorded both before and after. A hospital "
                "admission is costed as a hospital stay, an emergency visit as a physician "
                "contact (the organisation's unit costs)."
            ),
            columns=[
                Column("period", _("Period"), "text"),
                Column("meetings", _("Meetings")),
                Column("months", _("Months covered (mean)"), "decimal"),
                Column("admissions", _("Hospital admissions")),
                Column("emergency_visits", _("Emergency visits")),
                Column("admissions_per_person", _("Admissions per person"), "decimal"),
                Column("cost_sek", _("Cost (SEK)"), "sek"),
            ],
            rows=rows,
        ),
    }


MEASURES = [
    ("eq5d_index", _("EQ-5D index"), 3),
    ("eq5d_vas", _("EQ VAS"), 1),
    ("stai6_sum", _("STAI-6 (lower is calmer)"), 1),
]
LATER = [
    (Outcome.Timepoint.AFTER, _("1–2 weeks after")),
    (Outcome.Timepoint.TWO_MONTHS, _("2 months after")),
]


def _outcomes(parts) -> dict:

    totals = {}
    for field, _label, _places in MEASURES:
        for timepoint, _tlabel in LATER:
            key = f"{field}_{timepoint}"
            cell = parts.cell("outcomes", (field, timepoint))
            n = cell.n("n")
            totals[f"{key}_n"] = n
            totals[f"{key}_persons"] = cell.persons()
            totals[f"{key}_before"] = cell.mean("before_s", "n")
            totals[f"{key}_after"] = cell.mean("after_s", "n")
            totals[f"{key}_change"] = (
                (cell.value("after_s") - cell.value("before_s")) / n if n else None
            )
            totals[f"{key}_better"] = cell.n("better")
            totals[f"{key}_worse"] = cell.n("worse")
    rows = []
    for field, label, places in MEASURES:
        for timepoint, tlabel in LATER:
            key = f"{field}_{timepoint}"
            rows.append(
                {
                    "measure": label,
                    "when": tlabel,
                    "measure_key": field,
                    "timepoint": timepoint,
                    "pairs": totals[f"{key}_n"],
                    "before": _round(totals[f"{key}_before"], places),
                    "after": _round(totals[f"{key}_after"], places),
                    "change": _round(totals[f"{key}_change"], places),
                    "better": totals[f"{key}_better"],
                    "worse": totals[f"{key}_worse"],
                    "persons": totals[f"{key}_persons"],
                }
            )
    two_months = Outcome.Timepoint.TWO_MONTHS
    summary = {
        "eq5d_index_change": _round(totals[f"eq5d_index_{two_months}_change"], 3),
        "eq5d_vas_change": _round(totals[f"eq5d_vas_{two_months}_change"], 1),
        "stai6_change": _round(totals[f"stai6_sum_{two_months}_change"], 1),
    }
    basis = {
        "eq5d_index_change": totals[f"eq5d_index_{two_months}_persons"],
        "eq5d_vas_change": totals[f"eq5d_vas_{two_months}_persons"],
        "stai6_change": totals[f"stai6_sum_{two_months}_persons"],
    }
    return {
        "summary": summary,
        "basis": basis,
        "table": Table(
            key="outcomes",
            title=_("Quality of life (EQ-5D-3L) and anxiety (STAI-6)"),
            description=_(
                "Paired: persons measured both before the meeting and at the later time. "
                "A real change is at least 0.10 on the EQ-5D index, 10 on the VAS and more "
                "than 2 on STAI-6."
            ),
            columns=[
                Column("measure", _("Measure"), "text"),
                Column("when", _("Compared with"), "text"),
                Column("pairs", _("Persons measured")),
                Column("before", _("Before (mean)"), "decimal"),
                Column("after", _("Then (mean)"), "decimal"),
                Column("change", _("Change (mean)"), "decimal"),
                Column("better", _("Clearly better")),
                Column("worse", _("Clearly worse")),
            ],
            rows=rows,
        ),
    }
