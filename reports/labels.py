"""Labels and kinds of the summary figures, in the order they are shown and exported."""

from django.utils.translation import gettext_lazy as _

SUMMARY_FIELDS = [
    ("meetings_initiated", _("Meetings initiated"), "int"),
    ("meetings_held", _("Meetings held"), "int"),
    ("meetings_cancelled", _("Meetings cancelled"), "int"),
    ("meetings_declined", _("Meetings declined by the person"), "int"),
    ("persons_met", _("Persons who had a meeting"), "int"),
    ("mean_days_to_consent", _("Days from initiative to consent (mean)"), "days"),
    ("mean_days_to_meeting", _("Days from initiative to meeting (mean)"), "days"),
    (
        "days_to_consent_out_of_order",
        _("Left out of the mean: consent dated before the initiative"),
        "int",
    ),
    (
        "days_to_meeting_out_of_order",
        _("Left out of the mean: meeting dated before the initiative"),
        "int",
    ),
    ("meetings_with_relatives_share", _("Meetings with relatives present"), "share"),
    ("remote_attendance_share", _("Staff attending by video or phone"), "share"),
    ("total_cost_sek", _("Cost of the meetings (SEK)"), "sek"),
    ("mean_cost_sek", _("Cost per meeting (SEK)"), "sek"),
    ("region_cost_sek", _("Borne by the region (SEK)"), "sek"),
    ("municipal_cost_sek", _("Borne by the municipal side (SEK)"), "sek"),
    ("municipal_cost_share", _("Municipal share of cost"), "share"),
    ("own_cost_sek", _("Borne by this organisation (SEK)"), "sek"),
    ("own_cost_share", _("This organisation's share of cost"), "share"),
    ("decisions_total", _("Decisions"), "int"),
    ("decisions_declined_at_meeting_share", _("Decisions declined at the meeting"), "share"),
    ("decisions_implemented_share", _("Decisions implemented"), "share"),
    ("decisions_on_time_share", _("Decisions implemented on time"), "share"),
    ("decisions_declined_by_person_share", _("Decisions declined by the person"), "share"),
    ("home_help_hours_before", _("Home-help hours a week before (mean)"), "decimal"),
    ("home_help_hours_after", _("Home-help hours a week after (mean)"), "decimal"),
    ("home_help_cost_change_sek", _("Home help, change in cost a month (SEK)"), "sek"),
    ("hospital_admissions_before", _("Hospital admissions before"), "int"),
    ("hospital_admissions_after", _("Hospital admissions after"), "int"),
    ("emergency_visits_before", _("Emergency visits before"), "int"),
    ("emergency_visits_after", _("Emergency visits after"), "int"),
    ("health_care_cost_change_sek", _("Health care use, change in cost (SEK)"), "sek"),
    ("eq5d_index_change", _("EQ-5D index, change (mean)"), "decimal"),
    ("eq5d_vas_change", _("EQ VAS, change (mean)"), "decimal"),
    ("stai6_change", _("STAI-6, change (mean)"), "decimal"),
]


OUT_OF_ORDER = ("days_to_consent_out_of_order", "days_to_meeting_out_of_order")

SUMMARY_GROUPS = [
    (
        _("Meetings"),
        [
            "meetings_initiated",
            "meetings_held",
            "meetings_cancelled",
            "meetings_declined",
            "persons_met",
            "mean_days_to_consent",
            "days_to_consent_out_of_order",
            "mean_days_to_meeting",
            "days_to_meeting_out_of_order",
            "meetings_with_relatives_share",
            "remote_attendance_share",
        ],
    ),
    (
        _("Cost"),
        [
            "mean_cost_sek",
            "total_cost_sek",
            "region_cost_sek",
            "municipal_cost_sek",
            "municipal_cost_share",
            "own_cost_sek",
            "own_cost_share",
        ],
    ),
    (
        _("Decisions"),
        [
            "decisions_total",
            "decisions_implemented_share",
            "decisions_on_time_share",
            "decisions_declined_by_person_share",
            "decisions_declined_at_meeting_share",
        ],
    ),
    (
        _("After the meeting"),
        [
            "home_help_hours_before",
            "home_help_hours_after",
            "home_help_cost_change_sek",
            "hospital_admissions_before",
            "hospital_admissions_after",
            "emergency_visits_before",
            "emergency_visits_after",
            "health_care_cost_change_sek",
            "eq5d_index_change",
            "eq5d_vas_change",
            "stai6_change",
        ],
    ),
]


def summary_groups(report) -> list[tuple[str, list[tuple[str, str, str, object]]]]:
    """(title, [(key, label, kind, value)]) for the dashboard; keys the report lacks are
    left out, keys no group names come last."""
    fields = {key: (label, kind) for key, label, kind in summary_fields(report)}
    # Impossible date pairs are said on the page only when there are some (exports always
    # carry the count).
    for key in OUT_OF_ORDER:
        if not report.summary.get(key):
            fields.pop(key, None)
    groups, placed = [], set()
    for title, keys in SUMMARY_GROUPS:
        items = [(k, *fields[k], report.summary[k]) for k in keys if k in fields]
        placed.update(keys)
        if items:
            groups.append((title, items))
    rest = [(k, *fields[k], report.summary[k]) for k in fields if k not in placed]
    if rest:
        groups.append((_("Other"), rest))
    return groups


def summary_fields(report):
    """The fields the report has, in order; keys without a label come last, unlabelled."""
    known = [field for field in SUMMARY_FIELDS if field[0] in report.summary]
    labelled = {field[0] for field in known}
    return known + [(key, key, "decimal") for key in report.summary if key not in labelled]
