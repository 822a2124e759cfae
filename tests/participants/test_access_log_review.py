"""Access-log review for organisation admins: list and filters, the random sample with the
reviewer's note, and the per-person log extract (HTML and CSV) the person can be given."""

import csv
import datetime as dt
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from participants.models import AccessLog, AccessLogReview, Role

from ..factories import CareTeamEntryFactory, MembershipFactory, PersonFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admins(area):
    own = MembershipFactory(
        organisation=area.health_care, role=Role.ORG_ADMIN, user__username="admin_hhc"
    ).user
    outsider = MembershipFactory(
        organisation=area.outsider_org, role=Role.ORG_ADMIN, user__username="admin_out"
    ).user
    return own, outsider


def _log(user, org, person, *, role="nurse", action=AccessLog.Action.VIEW, days_ago=0):
    return AccessLog.objects.create(
        at=timezone.now() - dt.timedelta(days=days_ago),
        user=user,
        organisation=org,
        role=role,
        person=person,
        action=action,
        object_type="participants.person",
        object_id=str(person.pk),
    )


def _url(name, org, **kwargs):
    return reverse(name, kwargs={"org_pk": org.pk, **kwargs})


def test_admin_sees_every_access_to_persons_the_organisation_serves(area, admins, login):
    own, outsider = admins
    by_partner = _log(area.bob, area.home_help, area.person, role="home_help_coordinator")
    elsewhere = PersonFactory(last_name="Annanstans")
    not_ours = _log(area.charlie, area.outsider_org, elsewhere)
    response = login(own).get(_url("access_log", area.health_care))
    assert response.status_code == 200
    shown = {row.pk for row in response.context["page"].object_list}
    assert by_partner.pk in shown
    assert not_ours.pk not in shown
    # the outsider's admin sees what their own staff looked at, not the health care's persons
    response = login(outsider).get(_url("access_log", area.outsider_org))
    shown = {row.pk for row in response.context["page"].object_list}
    assert not_ours.pk in shown and by_partner.pk not in shown


@pytest.mark.parametrize("who", ["alice", "charlie", "manager", "outsider_admin", "anonymous"])
def test_only_the_organisations_admin_gets_in(area, admins, login, client, who):
    _own, outsider = admins
    manager = MembershipFactory(organisation=area.health_care, role=Role.MANAGER).user
    users = {
        "alice": area.alice,
        "charlie": area.charlie,
        "manager": manager,
        "outsider_admin": outsider,
    }
    review = AccessLogReview.objects.create(
        organisation=area.health_care,
        reviewer=_own,
        period_start=timezone.localdate(),
        period_end=timezone.localdate(),
        sample_ids=[],
    )
    c = login(users[who]) if who in users else client
    urls = [
        _url("access_log", area.health_care),
        _url("access_review", area.health_care, review_pk=review.pk),
        _url("access_log_person", area.health_care, person_pk=area.person.pk),
        _url("access_log_person_csv", area.health_care, person_pk=area.person.pk),
    ]
    for url in urls:
        response = c.get(url)
        expected = 302 if who == "anonymous" else 404
        assert response.status_code == expected, url
    response = c.post(
        _url("access_review_start", area.health_care),
        {"period_start": "2026-01-01", "period_end": "2026-01-31"},
    )
    assert response.status_code in (302, 404)
    assert AccessLogReview.objects.count() == 1


def test_filters(area, admins, login):
    own, _ = admins
    other = PersonFactory(first_name="Ragnar", last_name="Holmén")
    CareTeamEntryFactory(person=other, organisation=area.health_care)
    a = _log(area.alice, area.health_care, area.person, days_ago=10)
    b = _log(area.bob, area.home_help, other, action=AccessLog.Action.UPDATE, days_ago=2)
    client = login(own)

    def shown(**query):
        response = client.get(_url("access_log", area.health_care), query)
        assert response.status_code == 200
        # the admin's own looking is logged too; only the two rows above are of interest here
        return {row.pk for row in response.context["page"].object_list} & {a.pk, b.pk}

    assert shown(person="Holmén") == {b.pk}
    assert shown(person=str(area.person.pk)) == {a.pk}
    assert shown(person=area.person.personnummer[-4:]) == {a.pk}
    assert shown(user="alice") == {a.pk}
    assert shown(action="update") == {b.pk}
    day = (timezone.localdate() - dt.timedelta(days=5)).isoformat()
    assert shown(date_from=day) == {b.pk}
    assert shown(date_to=day) == {a.pk}
    # nonsense filters are form errors, not crashes
    for bad in [{"date_from": "2026-13-45"}, {"person": "9" * 40}, {"action": "drop"}]:
        assert client.get(_url("access_log", area.health_care), bad).status_code == 200


def test_list_is_paginated_with_a_fixed_number_of_queries(
    area, admins, login, django_assert_max_num_queries
):
    own, _ = admins
    for _ in range(30):
        person = PersonFactory()
        CareTeamEntryFactory(person=person, organisation=area.health_care)
        _log(area.alice, area.health_care, person)
        _log(area.bob, area.home_help, person, role="home_help_coordinator")
    client = login(own)
    with django_assert_max_num_queries(12):
        response = client.get(_url("access_log", area.health_care))
    assert len(response.context["page"].object_list) == 50
    with django_assert_max_num_queries(12):
        response = client.get(_url("access_log", area.health_care), {"page": 2})
    assert response.status_code == 200


def test_looking_at_the_log_is_logged(area, admins, login):
    own, _ = admins
    _log(area.alice, area.health_care, area.person)
    login(own).get(_url("access_log", area.health_care))
    row = AccessLog.objects.get(user=own, object_type="participants.accesslog")
    assert list(row.listed.values_list("person_id", flat=True)) == [area.person.pk]
    assert row.list_name == AccessLog.ListName.ACCESS_LOG
    assert row.organisation == area.health_care
    assert row.role == Role.ORG_ADMIN
    assert row.action == AccessLog.Action.LIST
    login(own).get(_url("access_log_person", area.health_care, person_pk=area.person.pk))
    assert AccessLog.objects.filter(
        user=own, object_type="participants.accesslog", action=AccessLog.Action.VIEW
    ).exists()
    login(own).get(_url("access_log_person_csv", area.health_care, person_pk=area.person.pk))
    assert AccessLog.objects.filter(
        user=own, object_type="participants.accesslog", action=AccessLog.Action.EXPORT
    ).exists()


def test_random_sample_review_with_a_note(area, admins, login):
    own, outsider = admins
    rows = [_log(area.alice, area.health_care, area.person, days_ago=d % 20) for d in range(40)]
    old = _log(area.alice, area.health_care, area.person, days_ago=90)
    client = login(own)
    today = timezone.localdate()
    response = client.post(
        _url("access_review_start", area.health_care),
        {"period_start": (today - dt.timedelta(days=30)).isoformat(), "period_end": today},
    )
    review = AccessLogReview.objects.get()
    assert response["Location"] == _url("access_review", area.health_care, review_pk=review.pk)
    assert len(review.sample_ids) == 20
    assert set(review.sample_ids) <= {r.pk for r in rows}
    assert old.pk not in review.sample_ids
    assert review.reviewer == own and not review.is_completed

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert len(page.context["rows"]) == 20
    # the outsider's admin cannot open it, not even through their own organisation id
    assert (
        login(outsider)
        .get(_url("access_review", area.outsider_org, review_pk=review.pk))
        .status_code
        == 404
    )

    client = login(own)
    note = "Alla åtkomster hör till vården; inget att följa upp."
    response = client.post(response["Location"], {"note": note})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.note == note and review.completed_at is not None
    # a completed review is not rewritten
    client.post(_url("access_review", area.health_care, review_pk=review.pk), {"note": "ändrad"})
    review.refresh_from_db()
    assert review.note == note


def test_two_draws_are_both_kept(area, admins, login):
    own, _ = admins
    for d in range(30):
        _log(area.alice, area.health_care, area.person, days_ago=d % 10)
    client = login(own)
    today = timezone.localdate().isoformat()
    for _ in range(2):
        client.post(
            _url("access_review_start", area.health_care),
            {"period_start": "2020-01-01", "period_end": today},
        )
    assert AccessLogReview.objects.count() == 2


@pytest.mark.parametrize(
    "period",
    [
        {"period_start": "2026-02-01", "period_end": "2026-01-01"},
        {"period_start": "2100-01-01", "period_end": "2100-01-02"},
        {"period_start": "nonsense", "period_end": ""},
        {"period_start": "2001-01-01", "period_end": "2001-01-02"},  # nothing logged
    ],
)
def test_bad_periods_give_a_message_not_a_review(area, admins, login, period):
    own, _ = admins
    _log(area.alice, area.health_care, area.person)
    response = login(own).post(_url("access_review_start", area.health_care), period, follow=True)
    assert response.status_code == 200
    assert list(response.context["messages"])
    assert not AccessLogReview.objects.exists()


def test_person_log_extract_names_organisations_not_staff(area, admins, login):
    own, outsider = admins
    _log(area.alice, area.health_care, area.person, days_ago=3)
    _log(area.alice, area.health_care, area.person, days_ago=3)
    _log(area.bob, area.home_help, area.person, role="home_help_coordinator", days_ago=1)
    client = login(own)
    client.cookies["django_language"] = "en"
    response = client.get(_url("access_log_person", area.health_care, person_pk=area.person.pk))
    body = response.content.decode()
    assert response.status_code == 200
    assert "Hemsjukvården Åby" in body and "Hemtjänst Öst AB" in body
    assert area.alice.get_full_name() not in body
    counts = {
        (g["organisation__name"], g["action"]): g["count"]
        for g in response.context["page"].object_list
    }
    assert counts[("Hemsjukvården Åby", "view")] == 2
    # an organisation that never served the person cannot make an extract of it
    assert (
        login(outsider)
        .get(_url("access_log_person", area.outsider_org, person_pk=area.person.pk))
        .status_code
        == 404
    )


def test_person_log_extract_as_csv(area, admins, login):
    own, _ = admins
    area.home_help.name = '=HYPERLINK("http://evil.example")'
    area.home_help.save()
    _log(area.alice, area.health_care, area.person, days_ago=2)
    _log(area.bob, area.home_help, area.person, role="home_help_coordinator", days_ago=1)
    client = login(own)
    client.cookies["django_language"] = "en"
    response = client.get(_url("access_log_person_csv", area.health_care, person_pk=area.person.pk))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert table[0] == ["Time", "Organisation", "Role", "Action", "Outcome"]
    assert len(table) == 4
    assert table[1][1] == "Hemsjukvården Åby" and table[1][2] == "Nurse"
    assert table[2][1].startswith("'=")  # a spreadsheet shows it as text, not a formula
    assert table[3][2:4] == ["Organisation administrator", "export"]  # this extract itself
    assert area.bob.username not in text and area.bob.get_full_name() not in text


def test_admin_nav_links_to_the_access_log(area, admins, login):
    own, _ = admins
    body = login(own).get(reverse("staff_list", kwargs={"org_pk": area.health_care.pk}))
    assert _url("access_log", area.health_care) in body.content.decode()


def test_refused_look_at_a_person_is_logged_as_denied(area, admins, login):
    own, outsider = admins
    url = reverse("person_detail", kwargs={"pk": area.person.pk})
    assert login(area.charlie).get(url).status_code == 404
    row = AccessLog.objects.get(user=area.charlie)
    assert row.outcome == AccessLog.Outcome.DENIED
    assert row.person == area.person and row.organisation == area.outsider_org
    # a number that is no one is not logged, and looks the same from outside
    for pk in [999_999, 99_999_999_999_999_999_999]:
        response = login(area.charlie).get(reverse("person_detail", kwargs={"pk": pk}))
        assert response.status_code == 404
    assert AccessLog.objects.filter(user=area.charlie).count() == 1
    # both admins see it: the person's organisation and the one whose staff tried
    for admin, org in [(own, area.health_care), (outsider, area.outsider_org)]:
        response = login(admin).get(_url("access_log", org), {"user": area.charlie.username})
        assert row in response.context["page"].object_list


def _list(user, org, persons, *, list_name=AccessLog.ListName.CASELOAD, days_ago=0):
    from participants.models import AccessLogPerson

    row = _log(user, org, persons[0], action=AccessLog.Action.LIST, days_ago=days_ago)
    # As audit.log_list writes it: no person on the row, each person listed beside it.
    row = AccessLog.objects.create(
        at=row.at, user=user, organisation=org, role="nurse", action=AccessLog.Action.LIST,
        object_type="participants.person", list_name=list_name,
    )  # fmt: skip
    AccessLogPerson.objects.bulk_create(AccessLogPerson(log=row, person=p) for p in persons)
    return row


def test_a_list_look_is_found_by_every_reader_of_the_log(area, admins, login):
    """One row per list, and still: the organisation's review shows the list with the
    persons it serves (not another organisation's), its person search finds the list, the
    person's log extract (page, CSV) and register extract count it, and the sample can
    draw it."""
    own, outsider = admins
    elsewhere = PersonFactory(last_name="Annanstans", first_name="Greta")
    # A partner's coordinator lists our person and one we do not serve.
    partner_list = _list(area.bob, area.home_help, [area.person, elsewhere])
    client = login(own)
    response = client.get(_url("access_log", area.health_care))
    rows = {row.pk: row for row in response.context["page"].object_list}
    assert partner_list.pk in rows
    assert [p.pk for p in rows[partner_list.pk].listed_shown] == [area.person.pk]
    page = response.content.decode()
    assert area.person.last_name in page and "Annanstans" not in page
    assert "My persons" in page or "Mina personer" in page
    # Looking at the log is itself a list of the persons it showed.
    looked = AccessLog.objects.get(user=own, list_name=AccessLog.ListName.ACCESS_LOG)
    assert area.person.pk in looked.listed.values_list("person_id", flat=True)
    assert elsewhere.pk not in looked.listed.values_list("person_id", flat=True)
    # The person search finds the list by the person's name and by the last four digits.
    for query in (area.person.last_name, area.person.personnummer[-4:]):
        response = client.get(_url("access_log", area.health_care), {"person": query})
        assert partner_list.pk in {row.pk for row in response.context["page"].object_list}
    response = client.get(_url("access_log", area.health_care), {"person": "Annanstans"})
    assert partner_list.pk not in {row.pk for row in response.context["page"].object_list}
    # The outsider's organisation neither serves the persons nor made the list.
    response = login(outsider).get(_url("access_log", area.outsider_org))
    assert partner_list.pk not in {row.pk for row in response.context["page"].object_list}
    # The person's log extract counts the list look as theirs.
    client = login(own)
    response = client.get(_url("access_log_person", area.health_care, person_pk=area.person.pk))
    groups = list(response.context["page"].object_list)
    assert any(g["action"] == "list" and g["organisation__name"] == area.home_help.name
               for g in groups)  # fmt: skip
    response = client.get(_url("access_log_person_csv", area.health_care, person_pk=area.person.pk))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert area.home_help.name in text
    # The register extract of each listed person holds the look, naming the list.
    from participants.extract import access_log_section

    for person in (area.person, elsewhere):
        data = access_log_section(person).data
        lists = [row["object"] for row in data if row["action"] == AccessLog.Action.LIST.label]
        assert str(AccessLog.ListName.CASELOAD.label) in lists
    # The random sample draws list rows as any other, and shows the served persons.
    today = timezone.localdate()
    client.post(
        _url("access_review_start", area.health_care),
        {"period_start": today.isoformat(), "period_end": today.isoformat()},
    )
    review = AccessLogReview.objects.get()
    assert partner_list.pk in review.sample_ids
    response = client.get(_url("access_review", area.health_care, review_pk=review.pk))
    page = response.content.decode()
    assert area.person.last_name in page and "Annanstans" not in page
