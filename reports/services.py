"""Everything that writes report settings: an organisation's hourly rates and standards."""

from decimal import Decimal

from django.db import transaction

from participants import audit
from participants.models import Organisation, User

from .models import COSTED_ROLES, CostSettings, HourlyRate

SETTINGS_FIELDS = [
    "meeting_minutes",
    "travel_minutes",
    "physician_contact_sek",
    "other_contact_sek",
    "hospital_stay_sek",
]


def cost_settings_update(
    *,
    actor: User,
    organisation: Organisation,
    rates: dict[str, tuple[Decimal, int]],
    settings: dict,
) -> CostSettings:
    """Replace the organisation's rates (role -> (SEK per hour, standard preparation
    minutes)) and standard times/unit costs. Rows are written for every role, so later
    changes of the defaults in code do not silently change an organisation's report."""
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
        current, _created = CostSettings.objects.get_or_create(organisation=locked)
        existing = {r.role: r for r in HourlyRate.objects.filter(organisation=locked)}
        before = {
            **audit.snapshot(current, SETTINGS_FIELDS),
            **{
                f"rate:{role}": [str(r.sek_per_hour), r.preparation_minutes]
                for role, r in existing.items()
            },
        }
        for name in SETTINGS_FIELDS:
            setattr(current, name, settings[name])
        current.updated_by = actor
        current.save()
        for role in COSTED_ROLES:
            sek, preparation = rates[role]
            row = existing.get(role) or HourlyRate(organisation=locked, role=role)
            row.sek_per_hour = sek
            row.preparation_minutes = preparation
            row.updated_by = actor
            row.save()
        after = {
            **audit.snapshot(current, SETTINGS_FIELDS),
            **{
                f"rate:{role}": [str(Decimal(rates[role][0])), rates[role][1]]
                for role in COSTED_ROLES
            },
        }
        audit.record_change(
            user=actor, obj=current, action="update", before=before, after=after, person=None
        )
        return current
