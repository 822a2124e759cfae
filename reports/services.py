"""Everything that writes report settings: an organisation's hourly rates and standards."""

import datetime as dt
from decimal import Decimal

from django.db import transaction

from participants import audit
from participants.models import Organisation, User

from .models import COSTED_ROLES, CostSettings, HourlyRate, TallyMark

SETTINGS_FIELDS = [
    "meeting_minutes",
    "travel_minutes",
    "convening_minutes",
    "physician_contact_sek",
    "other_contact_sek",
    "hospital_stay_sek",
]


def cost_settings_update(
    *,
    actor: User,
    organisation: Organisation,
    valid_from: dt.date,
    rates: dict[str, tuple[Decimal, int]],
    settings: dict,
) -> CostSettings:
    """Set the organisation's rates (role -> (SEK per hour, standard preparation minutes))
    and standard times/unit costs that apply from `valid_from` until the next set. Meetings
    held before that day keep the set they were costed with. A whole set is written for
    every role, so later changes of the defaults in code do not silently change an
    organisation's report; saving again for the same day corrects that set."""
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        current = CostSettings.objects.filter(organisation=locked, valid_from=valid_from).first()
        existing = {
            r.role: r for r in HourlyRate.objects.filter(organisation=locked, valid_from=valid_from)
        }
        before = {
            **(audit.snapshot(current, SETTINGS_FIELDS) if current else {}),
            **{
                f"rate:{role}": [str(r.sek_per_hour), r.preparation_minutes]
                for role, r in existing.items()
            },
        }
        current = current or CostSettings(organisation=locked, valid_from=valid_from)
        for name in SETTINGS_FIELDS:
            setattr(current, name, settings[name])
        current.updated_by = actor
        current.save()
        for role in COSTED_ROLES:
            sek, preparation = rates[role]
            row = existing.get(role) or HourlyRate(
                organisation=locked, role=role, valid_from=valid_from
            )
            row.sek_per_hour = sek
            row.preparation_minutes = preparation
            row.updated_by = actor
            row.save()
        after = {
            "valid_from": valid_from.isoformat(),
            **audit.snapshot(current, SETTINGS_FIELDS),
            **{
                f"rate:{role}": [str(Decimal(rates[role][0])), rates[role][1]]
                for role in COSTED_ROLES
            },
        }
        audit.record_change(
            user=actor, obj=current, action="update", before=before, after=after, person=None
        )
        if valid_from.day != 1:
            # The month's priced tallies are cut into stretches at each change day
            # (reports.tallies._priced): fold it again with the new cut.
            TallyMark.objects.create(month=valid_from.replace(day=1))
        return current
