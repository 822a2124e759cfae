"""What a meeting costs: hourly rates and standard times per organisation.

The defaults are the ones of seed 000 ("Kostnadsberäkningar", DOMAIN.md "Time and cost").
An organisation that has changed nothing has no rows here; `reports.costs.CostModel` falls
back to the defaults, so a new organisation is costed from the first day.
"""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from participants.models import Organisation, Role

# Roles that take part in meetings and so have a cost. Managers, administrators and the
# steering group do not come to meetings.
COSTED_ROLES = (
    Role.PHYSICIAN,
    Role.NURSE,
    Role.ASSISTANT_NURSE,
    Role.NEEDS_ASSESSOR,
    Role.HOME_HELP_COORDINATOR,
    Role.CONTACT_PERSON,
)

# SEK per hour. The seed uses one rate (300) for everyone in home help regardless of post.
# It gives none for assistant nurses in home health care: the nurse's rate is used until
# the organisation sets its own.
DEFAULT_HOURLY_RATES = {
    Role.PHYSICIAN: Decimal("790"),
    Role.NURSE: Decimal("385"),
    Role.ASSISTANT_NURSE: Decimal("385"),
    Role.NEEDS_ASSESSOR: Decimal("420"),
    Role.HOME_HELP_COORDINATOR: Decimal("300"),
    Role.CONTACT_PERSON: Decimal("300"),
}

# Preparation when a participant did not record it (seed 000, Table 3 and the cost section).
DEFAULT_PREPARATION_MINUTES = {
    Role.PHYSICIAN: 60,
    Role.NURSE: 0,
    Role.ASSISTANT_NURSE: 0,
    Role.NEEDS_ASSESSOR: 10,
    Role.HOME_HELP_COORDINATOR: 10,
    Role.CONTACT_PERSON: 0,
}

DEFAULT_MEETING_MINUTES = 60
DEFAULT_TRAVEL_MINUTES = 30
# The nurse phoned round the participants: about 20 minutes per meeting (seed 000).
DEFAULT_CONVENING_MINUTES = 20
DEFAULT_PHYSICIAN_CONTACT_SEK = Decimal("1200")
DEFAULT_OTHER_CONTACT_SEK = Decimal("600")
DEFAULT_HOSPITAL_STAY_SEK = Decimal("34000")

# The "valid from" of the rows that existed before rates were dated: they apply from the
# start, so the figures they gave do not change.
FROM_THE_START = dt.date(2000, 1, 1)


class CostSettings(models.Model):
    """An organisation's standard times and health care unit costs from `valid_from` until
    the next set. A meeting is costed with the set in force on the day it was held, so a
    new rate does not rewrite earlier figures."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="cost_settings"
    )
    valid_from = models.DateField(_("applies from"), default=FROM_THE_START)
    meeting_minutes = models.PositiveSmallIntegerField(
        _("meeting (minutes)"),
        default=DEFAULT_MEETING_MINUTES,
        help_text=_("Used when a participant's meeting time was not recorded."),
    )
    travel_minutes = models.PositiveSmallIntegerField(
        _("travel per professional (minutes)"),
        default=DEFAULT_TRAVEL_MINUTES,
        help_text=_("Used for those who came in person when travel was not recorded."),
    )
    convening_minutes = models.PositiveSmallIntegerField(
        _("convening (minutes)"),
        default=DEFAULT_CONVENING_MINUTES,
        help_text=_("The convener's time to invite everyone, when it was not recorded."),
    )
    physician_contact_sek = models.DecimalField(
        _("physician contact (SEK)"),
        max_digits=9,
        decimal_places=2,
        default=DEFAULT_PHYSICIAN_CONTACT_SEK,
    )
    other_contact_sek = models.DecimalField(
        _("other health care staff contact (SEK)"),
        max_digits=9,
        decimal_places=2,
        default=DEFAULT_OTHER_CONTACT_SEK,
    )
    hospital_stay_sek = models.DecimalField(
        _("hospital stay (SEK)"),
        max_digits=9,
        decimal_places=2,
        default=DEFAULT_HOSPITAL_STAY_SEK,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("cost settings")
        verbose_name_plural = _("cost settings")
        ordering = ["organisation_id", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "valid_from"], name="costsettings_unique_from"
            )
        ]

    def __str__(self):
        return f"cost settings of {self.organisation_id} from {self.valid_from}"


class HourlyRate(models.Model):
    """What an hour of one role costs the organisation, and its standard preparation, from
    `valid_from` until the next row for the role."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="hourly_rates"
    )
    # Choices are limited to the costed roles on purpose: a new non-care role in
    # participants.Role must not change this table.
    role = models.CharField(
        _("role"), max_length=32, choices=[(r.value, r.label) for r in COSTED_ROLES]
    )
    sek_per_hour = models.DecimalField(_("SEK per hour"), max_digits=8, decimal_places=2)
    preparation_minutes = models.PositiveSmallIntegerField(_("standard preparation (minutes)"))
    valid_from = models.DateField(_("applies from"), default=FROM_THE_START)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["organisation_id", "role", "valid_from"]
        verbose_name = _("hourly rate")
        verbose_name_plural = _("hourly rates")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "role", "valid_from"], name="hourlyrate_unique_from"
            )
        ]

    def __str__(self):
        return f"{self.organisation_id} {self.role} from {self.valid_from}: {self.sek_per_hour}"


class MonthTally(models.Model):
    """The figures of one month for one organisation's scope (None: the whole area), in
    the parts they are added up from: counts and sums per figure and key, and the persons
    behind each (`reports.tallies`). Kept by the "reports-fold" task from `TallyMark`
    rows; the dashboard and the figure exports read only these."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, null=True, related_name="+"
    )
    month = models.DateField()
    figures = models.JSONField()
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "month"],
                name="monthtally_unique",
                nulls_distinct=False,
            )
        ]

    def __str__(self):
        return f"tally {self.organisation_id or 'area'} {self.month:%Y-%m}"


class TallyMark(models.Model):
    """A month whose tallies are behind: written by PostgreSQL triggers on the meeting
    tables in the transaction of the change (migration 0002), removed when folded."""

    month = models.DateField(db_index=True)
    created_at = models.DateTimeField(db_default=Now())

    def __str__(self):
        return f"mark {self.month:%Y-%m}"
