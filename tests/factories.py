import datetime as dt

import factory
from django.utils import timezone

from participants.models import (
    CareTeamEntry,
    Membership,
    Organisation,
    Person,
    Relative,
    Role,
    User,
)
from participants.personnummer import with_check_digit

TEST_PASSWORD = "Test-Password-2026!"  # noqa: S105


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n} åäö")
    kind = Organisation.Kind.HOME_HEALTH_CARE
    principal = Organisation.Principal.REGION
    phone = factory.Sequence(lambda n: f"08-100 {n:04d}")
    out_of_hours_phone = "1177"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"Förnamn{n}")
    last_name = "Åström"
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(TEST_PASSWORD)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.NURSE
    direct_phone = factory.Sequence(lambda n: f"08-200 {n:04d}")


def _personnummer(n: int) -> tuple[str, dt.date]:
    born = dt.date(1930, 1, 1) + dt.timedelta(days=n % 9000)
    nine = f"{born:%y%m%d}{(100 + n // 9000) % 1000:03d}"
    return f"{born.year // 100}{with_check_digit(nine)}", born


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    first_name = factory.Sequence(lambda n: f"Märta{n}")
    last_name = "Öberg"
    personnummer = factory.Sequence(lambda n: _personnummer(n)[0])
    date_of_birth = factory.LazyAttribute(
        lambda p: dt.date(
            int(p.personnummer[:4]), int(p.personnummer[4:6]), int(p.personnummer[6:8])
        )
    )
    street_address = "Björkvägen 3"
    postal_code = "136 40"
    city = "Sjöstad"
    access_notes = "Portkod 1234"


class CareTeamEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CareTeamEntry

    person = factory.SubFactory(PersonFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    start_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))


class RelativeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Relative

    person = factory.SubFactory(PersonFactory)
    name = factory.Sequence(lambda n: f"Anhörig {n}")
    relation = "dotter"
    phone = "070-123 45 67"
    email = factory.Sequence(lambda n: f"relative{n}@example.org")


def proposed_days_ago(meeting, days: int = 21):
    """A meeting proposed some weeks back, as one that is held today was: the services
    refuse a meeting held before it was proposed."""
    import datetime as dt

    from meetings.models import Meeting

    meeting.initiated_at -= dt.timedelta(days=days)
    Meeting.objects.filter(pk=meeting.pk).update(initiated_at=meeting.initiated_at)
    return meeting
