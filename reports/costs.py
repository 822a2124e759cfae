"""The cost model: dated rates and standard times for every organisation, read in two
queries.

Cost is linear in minutes, so the figures aggregate minutes in the database per
(organisation, role) and price each group here; the number of groups does not grow with
the number of meetings.
"""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from participants.models import Organisation

from .models import (
    DEFAULT_CONVENING_MINUTES,
    DEFAULT_HOSPITAL_STAY_SEK,
    DEFAULT_HOURLY_RATES,
    DEFAULT_MEETING_MINUTES,
    DEFAULT_OTHER_CONTACT_SEK,
    DEFAULT_PHYSICIAN_CONTACT_SEK,
    DEFAULT_PREPARATION_MINUTES,
    DEFAULT_TRAVEL_MINUTES,
    CostSettings,
    HourlyRate,
)

MUNICIPAL_PRINCIPALS = frozenset(
    {Organisation.Principal.MUNICIPALITY, Organisation.Principal.PRIVATE}
)

REGION = "region"
MUNICIPAL = "municipal"


def side_of(principal: str | None) -> str:
    """Region, or the municipal side (private home-help providers are paid by the
    municipality and counted on its side, as in seed 000)."""
    return MUNICIPAL if principal in MUNICIPAL_PRINCIPALS else REGION


@dataclass(frozen=True)
class Standards:
    meeting_minutes: int = DEFAULT_MEETING_MINUTES
    travel_minutes: int = DEFAULT_TRAVEL_MINUTES
    convening_minutes: int = DEFAULT_CONVENING_MINUTES
    physician_contact_sek: Decimal = DEFAULT_PHYSICIAN_CONTACT_SEK
    other_contact_sek: Decimal = DEFAULT_OTHER_CONTACT_SEK
    hospital_stay_sek: Decimal = DEFAULT_HOSPITAL_STAY_SEK


def _in_force(entries: list[tuple[dt.date, object]], on: dt.date):
    """The value of the latest entry that applies from `on` or earlier (None: none does)."""
    found = None
    for valid_from, value in entries:
        if valid_from > on:
            break
        found = value
    return found


@dataclass
class CostModel:
    """Every organisation's dated rates and standards. A figure asks for the values in
    force on a day (the day a meeting was held); without a day, today's. Before an
    organisation's first own set, the defaults of seed 000 apply."""

    # (organisation, role) -> [(valid from, (SEK per hour, preparation minutes))], by date
    rates: dict[tuple[int, str], list] = field(default_factory=dict)
    # organisation -> [(valid from, Standards)], by date
    standards: dict[int, list] = field(default_factory=dict)

    @classmethod
    def load(cls) -> "CostModel":
        rates: dict[tuple[int, str], list] = defaultdict(list)
        for r in HourlyRate.objects.order_by("valid_from"):
            rates[(r.organisation_id, r.role)].append(
                (r.valid_from, (r.sek_per_hour, r.preparation_minutes))
            )
        standards: dict[int, list] = defaultdict(list)
        for s in CostSettings.objects.order_by("valid_from"):
            standards[s.organisation_id].append(
                (
                    s.valid_from,
                    Standards(
                        meeting_minutes=s.meeting_minutes,
                        travel_minutes=s.travel_minutes,
                        convening_minutes=s.convening_minutes,
                        physician_contact_sek=s.physician_contact_sek,
                        other_contact_sek=s.other_contact_sek,
                        hospital_stay_sek=s.hospital_stay_sek,
                    ),
                )
            )
        return cls(rates=dict(rates), standards=dict(standards))

    def change_dates(self, organisation_id: int | None) -> list[dt.date]:
        """The days on which any of the organisation's rates or standards change."""
        days = {day for day, _value in self.standards.get(organisation_id, ())}
        for (org, _role), entries in self.rates.items():
            if org == organisation_id:
                days |= {day for day, _value in entries}
        return sorted(days)

    def _rate(self, organisation_id, role, on):
        return _in_force(self.rates.get((organisation_id, role), ()), on or timezone.localdate())

    def hourly_rate(
        self, organisation_id: int | None, role: str, on: dt.date | None = None
    ) -> Decimal:
        found = self._rate(organisation_id, role, on)
        if found is not None:
            return found[0]
        return DEFAULT_HOURLY_RATES.get(role, Decimal(0))

    def preparation_minutes(
        self, organisation_id: int | None, role: str, on: dt.date | None = None
    ) -> int:
        found = self._rate(organisation_id, role, on)
        if found is not None:
            return found[1]
        return DEFAULT_PREPARATION_MINUTES.get(role, 0)

    def standards_for(self, organisation_id: int | None, on: dt.date | None = None) -> Standards:
        found = _in_force(self.standards.get(organisation_id, ()), on or timezone.localdate())
        return found or Standards()

    def minutes(
        self,
        organisation_id: int | None,
        role: str,
        *,
        preparation: int | None,
        travel: int | None,
        meeting: int | None,
        attended: bool,
        remote: bool,
        on: dt.date | None = None,
    ) -> tuple[int, int, int]:
        """One participant's minutes with the standards filled in where nothing was recorded.

        Someone who did not attend costs only the preparation they recorded; someone who
        attended by video or phone has no standard travel.
        """
        standards = self.standards_for(organisation_id, on)
        if not attended:
            return (preparation or 0, 0, 0)
        if preparation is None:
            preparation = self.preparation_minutes(organisation_id, role, on)
        if travel is None:
            travel = 0 if remote else standards.travel_minutes
        if meeting is None:
            meeting = standards.meeting_minutes
        return preparation, travel, meeting

    def convening(
        self, organisation_id: int | None, recorded: int | None, on: dt.date | None = None
    ) -> int:
        """The convener's minutes: as recorded, else the organisation's standard."""
        if recorded is not None:
            return recorded
        return self.standards_for(organisation_id, on).convening_minutes

    def cost(
        self,
        organisation_id: int | None,
        role: str,
        minutes: int | Decimal,
        on: dt.date | None = None,
    ) -> Decimal:
        return Decimal(minutes) * self.hourly_rate(organisation_id, role, on) / Decimal(60)
