"""A large area for load tests: bulk inserts, no per-row signals or audit."""

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from .demo import FIRST_NAMES_F, FIRST_NAMES_M, LAST_NAMES, RELATIONS, STREETS, DemoArea, _pnr
from .models import CareTeamEntry, Membership, Person, Relative, Role

BULK_CITY = "Storsjöstad"
_FIRST_DAY = dt.date(1925, 1, 1)
_DAYS = 34 * 365


def _staff_of(organisation, role):
    return list(
        Membership.objects.filter(organisation=organisation, role=role)
        .order_by("pk")
        .values_list("user_id", flat=True)
    )


# Persons per staff member: a realistic caseload, so a bulk nurse's own pages show what a
# nurse in a large municipality sees (the organisation still serves everyone).
CASELOAD = {
    Role.NURSE: 50,
    Role.PHYSICIAN: 600,
    Role.NEEDS_ASSESSOR: 150,
    Role.HOME_HELP_COORDINATOR: 250,
    Role.CONTACT_PERSON: 20,
}
BULK_USERNAME = "bulk.{role}.{n}"


def _bulk_staff(organisation, role, count: int) -> list[int]:
    """Create (or reuse) `count` staff in the role, e.g. bulk.nurse.1 … bulk.nurse.2000."""
    from .demo import _demo_password_hash
    from .models import User

    prefix = f"bulk.{role}.{organisation.pk}."
    existing = {
        u.username: u.pk for u in User.objects.filter(username__startswith=prefix).only("username")
    }
    wanted = [f"{prefix}{n}" for n in range(1, count + 1)]
    missing = [name for name in wanted if name not in existing]
    if missing:
        users = User.objects.bulk_create(
            [
                User(username=name, first_name=name.rsplit(".", 1)[-1], last_name="Bulk",
                     email=f"{name}@demo.vom.example", password=_demo_password_hash())
                for name in missing
            ],
            batch_size=2000,
        )  # fmt: skip
        users = list(User.objects.filter(username__in=missing))
        Membership.objects.bulk_create(
            [Membership(user=u, organisation=organisation, role=role) for u in users],
            batch_size=2000,
        )
        existing.update({u.username: u.pk for u in users})
    return [existing[name] for name in wanted]


def _pick(ids: list[int], index: int) -> int:
    return ids[index % len(ids)]


def load_bulk(area: DemoArea, target: int, batch: int = 5000, seed: int = 65) -> int:
    """Add bulk persons until `target` of them exist. Returns how many were added."""
    rng = random.Random(seed)
    existing = Person.objects.filter(city=BULK_CITY).count()
    if existing >= target:
        return 0
    hhc, assessment, providers = area.home_health_care, area.assessment, area.home_help

    def staff(organisation, role, persons):
        return _bulk_staff(organisation, role, max(1, -(-persons // CASELOAD[role])))

    nurses = staff(hhc, Role.NURSE, target)
    physicians = staff(hhc, Role.PHYSICIAN, target)
    assessors = staff(assessment, Role.NEEDS_ASSESSOR, target)
    share = -(-target // len(providers))
    coordinators = {p.pk: staff(p, Role.HOME_HELP_COORDINATOR, share) for p in providers}
    contacts = {p.pk: staff(p, Role.CONTACT_PERSON, share) for p in providers}
    since = timezone.localdate() - dt.timedelta(days=400)
    added = 0
    for start in range(existing, target, batch):
        stop = min(start + batch, target)
        persons = []
        for index in range(start, stop):
            born = _FIRST_DAY + dt.timedelta(days=index % _DAYS)
            female = index % 3 != 0
            persons.append(
                Person(
                    first_name=rng.choice(FIRST_NAMES_F if female else FIRST_NAMES_M),
                    last_name=LAST_NAMES[index % len(LAST_NAMES)],
                    personnummer=_pnr(born, 500 + index // _DAYS),
                    date_of_birth=born,
                    street_address=f"{STREETS[index % len(STREETS)]} {1 + index % 97}",
                    postal_code=f"137 {index % 100:02d}",
                    city=BULK_CITY,
                    access_notes=f"Portkod {1000 + index % 9000}",
                    phone=f"08-{600000 + index % 399999}",
                )
            )
        with transaction.atomic():
            Person.objects.bulk_create(persons, batch_size=batch)
            if persons[0].pk is None:  # SQLite before returning ids: fetch them back
                persons = list(
                    Person.objects.filter(
                        personnummer__in=[p.personnummer for p in persons]
                    ).order_by("pk")
                )
            entries, relatives = [], []
            for offset, person in enumerate(persons):
                index = start + offset
                provider = providers[index % len(providers)]
                entries += [
                    CareTeamEntry(person=person, organisation=hhc, start_date=since),
                    CareTeamEntry(person=person, organisation=hhc, role=Role.NURSE,
                                  member_id=nurses[index % len(nurses)], start_date=since),
                    CareTeamEntry(person=person, organisation=hhc, role=Role.PHYSICIAN,
                                  member_id=physicians[index % len(physicians)], start_date=since),
                    CareTeamEntry(person=person, organisation=assessment, role=Role.NEEDS_ASSESSOR,
                                  member_id=assessors[index % len(assessors)], start_date=since),
                    CareTeamEntry(person=person, organisation=provider, start_date=since),
                    CareTeamEntry(person=person, organisation=provider,
                                  role=Role.HOME_HELP_COORDINATOR,
                                  member_id=_pick(coordinators[provider.pk], index // 3),
                                  start_date=since),
                    CareTeamEntry(person=person, organisation=provider, role=Role.CONTACT_PERSON,
                                  member_id=_pick(contacts[provider.pk], index // 3),
                                  start_date=since),
                ]  # fmt: skip
                relatives.append(
                    Relative(
                        person=person,
                        name=f"{rng.choice(FIRST_NAMES_F)} {person.last_name}",
                        relation=RELATIONS[index % len(RELATIONS)],
                        phone=f"070-{index % 10_000_000:07d}",
                        email=f"bulk{index}@demo.vom.example",
                    )
                )
            CareTeamEntry.objects.bulk_create(entries, batch_size=batch)
            Relative.objects.bulk_create(relatives, batch_size=batch)
        added += len(persons)
    return added
