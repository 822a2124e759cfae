"""Property tests (hypothesis): whatever is posted to the person and relative forms, the answer
is the page with form errors (200) or a redirect after saving (302), never a server error."""

import datetime as dt

import pytest
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from participants.models import Person
from participants.personnummer import with_check_digit

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Anything a browser can send: every Unicode character except lone surrogates (which cannot be
# encoded as UTF-8 at all), NUL and control characters included.
any_text = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=60),
    st.text(st.characters(codec="utf-8"), min_size=90, max_size=260),
    st.sampled_from(["", " ", "<script>alert(1)</script>", "' OR 1=1 --", "\x00", "😀" * 50]),
    st.just("x" * 3000),
)


@st.composite
def personnummer(draw):
    born = draw(st.dates(min_value=dt.date(1880, 1, 1), max_value=dt.date(2025, 12, 31)))
    serial = draw(st.integers(1, 999))  # 000 is never issued
    ten = with_check_digit(f"{born:%y%m%d}{serial:03d}")
    style = draw(st.sampled_from(["long", "dash", "short", "plus"]))
    if style == "long":
        return f"{born.year // 100}{ten}"
    if style == "dash":
        return f"{born.year // 100}{ten[:6]}-{ten[6:]}"
    if style == "plus":
        return f"{ten[:6]}+{ten[6:]}"
    return f"{ten[:6]}-{ten[6:]}"


def _person_data(draw_organisation):
    return st.fixed_dictionaries(
        {
            "first_name": any_text,
            "last_name": any_text,
            "personnummer": st.one_of(personnummer(), any_text),
            "phone": any_text,
            "street_address": any_text,
            "postal_code": any_text,
            "city": any_text,
            "access_notes": any_text,
            "preferred_language": any_text,
            "interpreter_needed": st.sampled_from(["", "on", "true", "nonsense"]),
            "hearing_vision_notes": any_text,
            "representative_kind": st.one_of(
                st.sampled_from(["", "god_man", "forvaltare", "power_of_attorney"]), any_text
            ),
            "representative_name": any_text,
            "representative_phone": any_text,
            "representative_email": st.one_of(st.emails(), any_text),
            "organisation": draw_organisation,
        },
        optional={"extra": any_text},
    )


def _post_in_savepoint(client, url, data):
    # Each example is rolled back, so examples do not build on each other's rows.
    with transaction.atomic():
        response = client.post(url, data)
        transaction.set_rollback(True)
    return response


def _check(response):
    assert response.status_code in (200, 302), response.status_code
    if response.status_code == 200:
        assert response.context["form"].errors


def test_person_create_never_fails(area, login):
    client = login(area.alice)
    url = reverse("person_create")
    organisation = st.one_of(
        st.just(str(area.health_care.pk)), st.just(str(area.outsider_org.pk)), any_text
    )

    @PROPERTY_SETTINGS
    @given(data=_person_data(organisation))
    def run(data):
        _check(_post_in_savepoint(client, url, data))

    run()
    assert Person.objects.count() == 1


def test_person_edit_never_fails(area, login):
    from ..factories import PersonFactory

    taken = PersonFactory().personnummer  # another person's number: a uniqueness clash
    client = login(area.alice)
    url = reverse("person_edit", kwargs={"pk": area.person.pk})
    data_strategy = _person_data(st.just(""))

    @PROPERTY_SETTINGS
    @given(data=data_strategy, clash=st.booleans())
    def run(data, clash):
        if clash:
            data["personnummer"] = taken
        _check(_post_in_savepoint(client, url, data))

    run()


def test_relative_form_never_fails(area, login):
    client = login(area.alice)
    url = reverse("relative_create", kwargs={"pk": area.person.pk})

    @PROPERTY_SETTINGS
    @given(
        data=st.fixed_dictionaries(
            {
                "name": any_text,
                "relation": any_text,
                "phone": any_text,
                "email": st.one_of(st.emails(), any_text),
                "preferred_language": st.one_of(st.sampled_from(["sv", "en"]), any_text),
                "wants_involved": st.sampled_from(["", "on", "off", "x"]),
            }
        )
    )
    def run(data):
        _check(_post_in_savepoint(client, url, data))

    run()
