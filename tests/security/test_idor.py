"""Every participants object URL, tried from another organisation (IDOR): always 404.

The table must name every URL pattern of participants that takes an object id, so a new
object URL without an entry here fails the build.
"""

import pytest
from django.urls import URLPattern, reverse

import participants.urls
from participants.models import (
    AccessLogReview,
    CareTeamEntry,
    ChangeRecord,
    Membership,
    Role,
)

from ..factories import CareTeamEntryFactory, MembershipFactory, PersonFactory, RelativeFactory

# Run with the cache on this host and with the shared cache of production (CACHE_URL).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cache_configuration")]


class Victim:
    """Objects of the health care organisation and its person."""

    def __init__(self, area):
        self.person = area.person
        self.relative = RelativeFactory(person=area.person)
        self.entry = CareTeamEntry.objects.filter(person=area.person).first()
        self.org = area.health_care
        self.membership = Membership.objects.get(user=area.alice)
        self.admin = MembershipFactory(organisation=area.health_care, role=Role.ORG_ADMIN).user
        self.review = AccessLogReview.objects.create(
            organisation=area.health_care,
            reviewer=self.admin,
            period_start="2026-01-01",
            period_end="2026-01-31",
            sample_ids=[],
        )


# url name -> kwargs pointing at the victim's objects
OBJECT_URLS = {
    "person_detail": lambda v: {"pk": v.person.pk},
    "person_edit": lambda v: {"pk": v.person.pk},
    "person_extract": lambda v: {"pk": v.person.pk},
    "person_extract_json": lambda v: {"pk": v.person.pk},
    "person_extract_pdf": lambda v: {"pk": v.person.pk},
    "relative_create": lambda v: {"pk": v.person.pk},
    "relative_edit": lambda v: {"pk": v.person.pk, "relative_pk": v.relative.pk},
    "care_team_add": lambda v: {"pk": v.person.pk},
    "care_team_end": lambda v: {"pk": v.person.pk, "entry_pk": v.entry.pk},
    "staff_list": lambda v: {"org_pk": v.org.pk},
    "staff_create": lambda v: {"org_pk": v.org.pk},
    "staff_edit": lambda v: {"org_pk": v.org.pk, "membership_pk": v.membership.pk},
    "staff_set_active": lambda v: {"org_pk": v.org.pk, "membership_pk": v.membership.pk},
    "staff_totp_reset": lambda v: {"org_pk": v.org.pk, "membership_pk": v.membership.pk},
    "access_log": lambda v: {"org_pk": v.org.pk},
    "access_review_start": lambda v: {"org_pk": v.org.pk},
    "access_review": lambda v: {"org_pk": v.org.pk, "review_pk": v.review.pk},
    "access_log_person": lambda v: {"org_pk": v.org.pk, "person_pk": v.person.pk},
    "access_log_person_csv": lambda v: {"org_pk": v.org.pk, "person_pk": v.person.pk},
}


def test_every_object_url_of_participants_is_in_the_table():
    with_ids = {
        pattern.name
        for pattern in participants.urls.urlpatterns
        if isinstance(pattern, URLPattern) and pattern.pattern.converters
    }
    assert with_ids == set(OBJECT_URLS)


@pytest.fixture
def outsiders(area):
    """A nurse and an admin of an organisation that has never served the person."""
    admin = MembershipFactory(organisation=area.outsider_org, role=Role.ORG_ADMIN).user
    return {"nurse": area.charlie, "admin": admin}


@pytest.mark.parametrize("name", sorted(OBJECT_URLS))
@pytest.mark.parametrize("who", ["nurse", "admin"])
def test_other_organisation_gets_404(area, outsiders, login, name, who):
    victim = Victim(area)
    url = reverse(name, kwargs=OBJECT_URLS[name](victim))
    client = login(outsiders[who])
    changes = ChangeRecord.objects.count()
    assert client.get(url).status_code in (404, 405)
    assert client.post(url, {"note": "x", "first_name": "Hacked", "active": "1"}).status_code == 404
    assert ChangeRecord.objects.count() == changes
    assert AccessLogReview.objects.get(pk=victim.review.pk).note == ""


def test_objects_of_another_person_through_an_own_person(area, login):
    """Own person in the URL, someone else's relative or care-team entry after it."""
    other = PersonFactory()
    foreign_relative = RelativeFactory(person=other)
    foreign_entry = CareTeamEntryFactory(person=other, organisation=area.outsider_org)
    client = login(area.alice)
    own = {"pk": area.person.pk}
    urls = [
        reverse("relative_edit", kwargs={**own, "relative_pk": foreign_relative.pk}),
        reverse("care_team_end", kwargs={**own, "entry_pk": foreign_entry.pk}),
    ]
    for url in urls:
        assert client.get(url).status_code in (404, 405)
        assert client.post(url, {"name": "Hacked", "phone": "1"}).status_code == 404
    foreign_relative.refresh_from_db()
    foreign_entry.refresh_from_db()
    assert foreign_relative.name != "Hacked" and foreign_entry.end_date is None


def test_objects_of_another_organisation_through_an_own_organisation(area, outsiders, login):
    """Own organisation in the URL, another organisation's staff, review or person after it."""
    victim = Victim(area)
    client = login(outsiders["admin"])
    own = {"org_pk": area.outsider_org.pk}
    member = {**own, "membership_pk": victim.membership.pk}
    urls = [
        reverse("staff_edit", kwargs=member),
        reverse("staff_set_active", kwargs=member),
        reverse("staff_totp_reset", kwargs=member),
        reverse("access_review", kwargs={**own, "review_pk": victim.review.pk}),
        reverse("access_log_person", kwargs={**own, "person_pk": victim.person.pk}),
        reverse("access_log_person_csv", kwargs={**own, "person_pk": victim.person.pk}),
    ]
    for url in urls:
        assert client.get(url).status_code in (404, 405), url
        assert client.post(url, {"note": "x"}).status_code == 404, url
    assert Membership.objects.get(pk=victim.membership.pk).is_active


def test_a_partner_in_the_care_team_is_no_admin_of_the_other_organisation(area, login):
    """The home-help admin serves the same person, yet gets nothing of the health care's."""
    victim = Victim(area)
    partner_admin = MembershipFactory(organisation=area.home_help, role=Role.ORG_ADMIN).user
    client = login(partner_admin)
    for name in ["staff_list", "access_log", "access_review", "access_log_person"]:
        url = reverse(name, kwargs=OBJECT_URLS[name](victim))
        assert client.get(url).status_code == 404, name
    # but the person's log through its own organisation: it serves the person
    own = reverse(
        "access_log_person", kwargs={"org_pk": area.home_help.pk, "person_pk": area.person.pk}
    )
    assert client.get(own).status_code == 200
