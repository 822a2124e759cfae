"""Every person view, tried by the three personas: member, partner, outsider."""

import re

import pytest
from django.urls import reverse

from participants.models import AccessLog, CareTeamEntry

pytestmark = pytest.mark.django_db

# (url name, kwargs builder, method)
PERSON_VIEWS = [
    ("person_detail", lambda a: {"pk": a.person.pk}, "get"),
    ("person_edit", lambda a: {"pk": a.person.pk}, "get"),
    ("relative_create", lambda a: {"pk": a.person.pk}, "get"),
    ("care_team_add", lambda a: {"pk": a.person.pk}, "get"),
]


@pytest.mark.parametrize(("name", "kwargs", "method"), PERSON_VIEWS)
@pytest.mark.parametrize(("persona", "status"), [("alice", 200), ("bob", 200), ("charlie", 404)])
def test_person_views_by_persona(area, login, name, kwargs, method, persona, status):
    client = login(getattr(area, persona))
    response = getattr(client, method)(reverse(name, kwargs=kwargs(area)))
    assert response.status_code == status


def test_anonymous_is_sent_to_login(client, area):
    response = client.get(reverse("person_detail", kwargs={"pk": area.person.pk}))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_missing_person_and_hidden_person_look_the_same(area, login):
    client = login(area.charlie)
    hidden = client.get(reverse("person_detail", kwargs={"pk": area.person.pk}))
    missing = client.get(reverse("person_detail", kwargs={"pk": 999999}))
    assert hidden.status_code == missing.status_code == 404
    # The same page but for what differs on every render (the masked CSRF token) and the
    # address the user typed (the language form returns to it).
    assert _unmasked(hidden, area.person.pk) == _unmasked(missing, 999999)


def _unmasked(response, pk):
    html = response.content.decode()
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken"', html)
    return html.replace(reverse("person_detail", kwargs={"pk": pk}), "/persons/<pk>/")


def test_access_ends_when_the_organisation_leaves_the_care_team(area, login):
    client = login(area.bob)
    url = reverse("person_detail", kwargs={"pk": area.person.pk})
    assert client.get(url).status_code == 200
    entry = CareTeamEntry.objects.get(person=area.person, organisation=area.home_help)
    client_alice = login(area.alice)
    client_alice.post(reverse("care_team_end", kwargs={"pk": area.person.pk, "entry_pk": entry.pk}))
    entry.refresh_from_db()
    assert entry.end_date is not None
    client = login(area.bob)
    # ended today still counts today; a day later the partner has no access
    entry.end_date = entry.start_date
    entry.save()
    assert client.get(url).status_code == 404


def test_home_lists_only_visible_persons(area, login):
    alice_page = login(area.alice).get(reverse("home"))
    assert "Åkesson" in alice_page.content.decode()
    charlie_page = login(area.charlie).get(reverse("home"))
    assert "Åkesson" not in charlie_page.content.decode()


def test_person_view_is_logged(area, login):
    login(area.bob).get(reverse("person_detail", kwargs={"pk": area.person.pk}))
    row = AccessLog.objects.get(person=area.person, action=AccessLog.Action.VIEW)
    assert row.user == area.bob
    assert row.organisation == area.home_help
    assert row.outcome == AccessLog.Outcome.ALLOWED
    assert row.request_id


def test_a_list_is_one_row_that_names_each_person_listed(area, login):
    from participants.selectors import access_log_extract_rows

    from ..factories import CareTeamEntryFactory, PersonFactory

    others = [PersonFactory() for _ in range(3)]
    for person in [area.person, *others]:
        CareTeamEntryFactory(person=person, organisation=area.health_care, member=area.alice)
    login(area.alice).get(reverse("home"))
    row = AccessLog.objects.get(user=area.alice, action=AccessLog.Action.LIST)
    assert row.list_name == AccessLog.ListName.CASELOAD
    assert row.person is None
    assert sorted(row.listed.values_list("person_id", flat=True)) == sorted(
        p.pk for p in [area.person, *others]
    )
    # Each person's log finds the list among their own looks, and only theirs.
    for person in [area.person, *others]:
        assert list(access_log_extract_rows(person)) == [row]
    assert list(access_log_extract_rows(PersonFactory())) == []


def test_relative_edit_of_another_persons_relative_is_404(area, login):
    from tests.factories import RelativeFactory

    foreign = RelativeFactory()
    client = login(area.alice)
    url = reverse("relative_edit", kwargs={"pk": area.person.pk, "relative_pk": foreign.pk})
    assert client.get(url).status_code == 404


def test_manager_without_care_role_sees_no_person(area, login):
    from participants.models import Role
    from tests.factories import MembershipFactory

    manager = MembershipFactory(organisation=area.health_care, role=Role.MANAGER).user
    client = login(manager)
    assert client.get(reverse("person_detail", kwargs={"pk": area.person.pk})).status_code == 404
    assert "Åkesson" not in client.get(reverse("home")).content.decode()


def test_care_team_shows_each_members_phone_in_that_organisation(area, login):
    """The team panel shows a named member's direct phone from their active membership in
    the entry's organisation: not another organisation's, not an ended membership's."""
    from participants.models import Membership, Role

    from ..factories import CareTeamEntryFactory, MembershipFactory

    Membership.objects.filter(user=area.alice).update(direct_phone="08-111 11 11")
    MembershipFactory(
        user=area.alice, organisation=area.home_help, role=Role.CONTACT_PERSON,
        direct_phone="08-222 22 22",
    )  # fmt: skip
    bob_membership = Membership.objects.get(user=area.bob)
    bob_membership.direct_phone = "08-333 33 33"
    bob_membership.is_active = False
    bob_membership.save()
    CareTeamEntryFactory(
        person=area.person, organisation=area.home_help, member=area.bob,
        role=Role.HOME_HELP_COORDINATOR,
    )  # fmt: skip
    page = login(area.alice).get(reverse("person_detail", kwargs={"pk": area.person.pk}))
    html = page.content.decode()
    assert 'href="tel:08-111 11 11"' in html
    assert "08-222 22 22" not in html  # alice is not in the team for home help
    assert "08-333 33 33" not in html  # bob's membership has ended
