"""Oversized and malformed input: a form error or a clear refusal, never a 500."""

import pytest
from django.urls import reverse

from participants.models import Person, Relative, Role
from participants.personnummer import with_check_digit

from ..factories import MembershipFactory

pytestmark = pytest.mark.django_db

VALID_PNR = "19" + with_check_digit("380505123")
MEGABYTE = "å" * (1024 * 1024 // 2)  # 1 MB in UTF-8


def _person(area, **overrides):
    data = {
        "first_name": "Gösta",
        "last_name": "Ängström",
        "personnummer": VALID_PNR,
        "organisation": area.health_care.pk,
        "preferred_language": "svenska",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("access_notes", MEGABYTE),
        ("hearing_vision_notes", MEGABYTE),
        ("first_name", "Ö" * 10_000),
        ("last_name", "x" * 10_000),
        ("street_address", "x" * 10_000),
        ("personnummer", "1" * 10_000),
        ("representative_email", "a" * 10_000 + "@example.org"),
    ],
)
def test_oversized_person_fields_are_form_errors(area, login, field, value):
    client = login(area.alice)
    client.cookies["django_language"] = "en"
    response = client.post(reverse("person_create"), _person(area, **{field: value}))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Person.objects.filter(personnummer=VALID_PNR).exists()
    edit = client.post(
        reverse("person_edit", kwargs={"pk": area.person.pk}),
        _person(area, **{"personnummer": area.person.personnummer, field: value}),
    )
    assert edit.status_code == 200
    assert field in edit.context["form"].errors


@pytest.mark.parametrize("field", ["name", "relation", "phone", "email"])
def test_oversized_relative_fields_are_form_errors(area, login, field):
    data = {"name": "Ulla", "relation": "dotter", "phone": "070-1", "preferred_language": "sv"}
    data[field] = "x" * 10_000
    response = login(area.alice).post(
        reverse("relative_create", kwargs={"pk": area.person.pk}), data
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Relative.objects.exists()


def test_a_body_over_the_upload_limit_is_refused_with_400(area, login, settings):
    huge = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024)
    response = login(area.alice).post(reverse("person_create"), _person(area, access_notes=huge))
    assert response.status_code == 400


def test_null_bytes_are_form_errors_not_database_errors(area, login):
    client = login(area.alice)
    response = client.post(reverse("person_create"), _person(area, first_name="Gö\x00sta"))
    assert response.status_code == 200
    assert "first_name" in response.context["form"].errors
    response = client.post(
        reverse("relative_create", kwargs={"pk": area.person.pk}),
        {"name": "U\x00", "relation": "d", "phone": "1", "preferred_language": "sv"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "query",
    ["?q=%00", "?q=" + "x" * 5000, "?page=abc", "?page=-1", "?page=99999999999999999999999"],
)
def test_search_and_paging_parameters(area, login, query):
    assert login(area.alice).get(reverse("home") + query).status_code == 200


@pytest.mark.parametrize(
    "value",
    [
        "19380505-1230",  # check digit
        "19380231-1234",  # no such day
        "21380505-1234",  # in the future
        "00380505-1236",  # year 38
        "1938-05-05-1236",
        "١٩٣٨٠٥٠٥١٢٣٦",  # the right number in Arabic-Indic digits
        "１９３８０５０５１２３６",  # full-width digits
        "19380505\n1236",
        "19380505-1236; DROP TABLE participants_person",
        "",
        " ",
        "+",
        "-" * 12,
        "0" * 12,
        "9" * 12,
    ],
)
def test_malformed_personnummer_is_a_form_error(area, login, value):
    response = login(area.alice).post(reverse("person_create"), _person(area, personnummer=value))
    assert response.status_code == 200
    assert "personnummer" in response.context["form"].errors
    assert Person.objects.count() == 1


def test_the_same_number_in_other_digits_is_no_duplicate(area, login):
    """Non-ASCII digits would be stored as a different string and pass the unique check."""
    arabic = "".join(chr(0x660 + int(c)) for c in area.person.personnummer)
    response = login(area.alice).post(reverse("person_create"), _person(area, personnummer=arabic))
    assert response.status_code == 200
    assert Person.objects.count() == 1


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-02-30", ""),
        ("2026-13-01", ""),
        ("0000-01-01", ""),
        ("10000-01-01", ""),
        ("yesterday", ""),
        ("2026-05-01", "2026-04-01"),
        ("2026-05-01", "9999-99-99"),
        ("", ""),
        ("2026-05-01" * 1000, ""),
    ],
)
def test_malformed_care_team_dates_are_form_errors(area, login, start, end):
    before = area.person.care_team.count()
    response = login(area.alice).post(
        reverse("care_team_add", kwargs={"pk": area.person.pk}),
        {"organisation": area.outsider_org.pk, "start_date": start, "end_date": end},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    assert area.person.care_team.count() == before


def test_extreme_but_valid_dates_do_not_crash(area, login):
    client = login(area.alice)
    response = client.post(
        reverse("care_team_add", kwargs={"pk": area.person.pk}),
        {
            "organisation": area.outsider_org.pk,
            "start_date": "0001-01-01",
            "end_date": "9999-12-31",
        },
    )
    assert response.status_code == 302
    assert client.get(reverse("person_detail", kwargs={"pk": area.person.pk})).status_code == 200
    assert (
        client.get(reverse("person_extract_pdf", kwargs={"pk": area.person.pk})).status_code == 200
    )


@pytest.mark.parametrize(
    "query",
    [
        {"date_from": "0001-01-01"},
        {"date_to": "9999-12-31"},
        {"date_from": "2026-02-30"},
        {"date_from": "2026-05-01", "date_to": "2026-04-01"},
        {"person": "1" * 30},
        {"person": "x" * 10_000},
        {"person": "\x00"},
        {"user": "\x00"},
        {"action": "<script>"},
        {"page": "x"},
    ],
)
def test_malformed_access_log_filters(area, login, query):
    admin = MembershipFactory(organisation=area.health_care, role=Role.ORG_ADMIN).user
    url = reverse("access_log", kwargs={"org_pk": area.health_care.pk})
    assert login(admin).get(url, query).status_code == 200


@pytest.mark.parametrize(
    "period",
    [
        {"period_start": "0001-01-01", "period_end": "0001-01-02"},
        {"period_start": "2026-01-01", "period_end": "9999-12-31"},
        {"period_start": "x" * 10_000, "period_end": ""},
    ],
)
def test_malformed_review_periods(area, login, period):
    admin = MembershipFactory(organisation=area.health_care, role=Role.ORG_ADMIN).user
    url = reverse("access_review_start", kwargs={"org_pk": area.health_care.pk})
    assert login(admin).post(url, period, follow=True).status_code == 200


def test_oversized_review_note_is_a_form_error(area, login):
    from django.utils import timezone

    from participants.models import AccessLogReview

    admin = MembershipFactory(organisation=area.health_care, role=Role.ORG_ADMIN).user
    review = AccessLogReview.objects.create(
        organisation=area.health_care,
        reviewer=admin,
        period_start=timezone.localdate(),
        period_end=timezone.localdate(),
        sample_ids=[],
    )
    url = reverse("access_review", kwargs={"org_pk": area.health_care.pk, "review_pk": review.pk})
    response = login(admin).post(url, {"note": MEGABYTE})
    assert response.status_code == 200
    assert "note" in response.context["form"].errors
    review.refresh_from_db()
    assert not review.is_completed


def test_oversized_login_input_is_not_a_500(db):
    from django.test import Client

    response = Client().post(
        reverse("login"), {"username": "x" * 100_000, "password": "y" * 10_000}
    )
    assert response.status_code == 200
