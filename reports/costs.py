"""The cost model: rates and standard times for every organisation, read in two queries.

Cost is linear in minutes, so the figures aggregate minutes in the database per
(organisation, role) and price each group here; the number of groups does not grow with
the number of meetings.
"""

from dataclasses import dataclass, field
from decimal import Decimal

from participants.models import Organisation

from .models import (
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
    physician_contact_sek: Decimal = DEFAULT_PHYSICIAN_CONTACT_SEK
    other_contact_sek: Decimal = DEFAULT_OTHER_CONTACT_SEK
    hospital_stay_sek: Decimal = DEFAULT_HOSPITAL_STAY_SEK


@dataclass
class CostModel:
    rates: dict[tuple[int, str], tuple[Decimal, int]] = field(default_factory=dict)
    standards: dict[int, Standards] = field(default_factory=dict)

    @classmethod
    def load(cls) -> "CostModel":
        rates = {
            (r.organisation_id, r.role): (r.sek_per_hour, r.preparation_minutes)
            for r in HourlyRate.objects.all()
        }
        standards = {
            s.organisation_id: Standards(
                meeting_minutes=s.meeting_minutes,
                travel_minutes=s.travel_minutes,
                physician_contact_sek=s.physician_contact_sek,
                other_contact_sek=s.other_contact_sek,
                hospital_stay_sek=s.hospital_stay_sek,
            )
            for s in CostSettings.objects.all()
        }
        return cls(rates=rates, standards=standards)

    def hourly_rate(self, organisation_id: int | None, role: str) -> Decimal:
        found = self.rates.get((organisation_id, role))
        if found is not None:
            return found[0]
        return DEFAULT_HOURLY_RATES.get(role, Decimal(0))

    def preparation_minutes(self, organisation_id: int | None, role: str) -> int:
        found = self.rates.get((organisation_id, role))
        if found is not None:
            return found[1]
        return DEFAULT_PREPARATION_MINUTES.get(role, 0)

    def standards_for(self, organisation_id: int | None) -> Standards:
        return self.standards.get(organisation_id) or Standards()

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
    ) -> tuple[int, int, int]:
        """One participant's minutes with the standards filled in where nothing was recorded.

        Someone who did not attend costs only the preparation they recorded; someone who
        attended by video or phone has no standard travel.
        """
        standards = self.standards_for(organisation_id)
        if not attended:
            return (preparation or 0, 0, 0)
        if preparation is None:
            preparation = self.preparation_minutes(organisation_id, role)
        if travel is None:
            travel = 0 if remote else standards.travel_minutes
        if meeting is None:
            meeting = standards.meeting_minutes
        return preparation, travel, meeting

    def cost(self, organisation_id: int | None, role: str, minutes: int | Decimal) -> Decimal:
        return Decimal(minutes) * self.hourly_rate(organisation_id, role) / Decimal(60)
