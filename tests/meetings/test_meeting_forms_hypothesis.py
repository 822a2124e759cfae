"""Property tests: whatever is posted to the initiative, consent and decision forms, the answer
is the form again with errors (200) or a redirect after a saved change (302), never a 500.

The Django test client re-raises any exception a view lets through, so a crash fails the
example that caused it, and Hypothesis shrinks it to the smallest such input.
"""

import datetime as dt

import pytest
from django.urls import reverse
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from meetings.models import Meeting

from ..meeting_flow import advance, initiate

pytestmark = pytest.mark.django_db

SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

# Text that breaks naive code: control characters, NUL, RTL marks, long strings, SQL-ish.
nasty_text = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", " ", "\x00", "‮", "'; DROP TABLE x;--", "<script>", "0", "-1", "1e9"]),
    st.text(min_size=4000, max_size=4100, alphabet="åäöx "),
)
numberish = st.one_of(
    st.integers(min_value=-(2**63), max_value=2**63).map(str), nasty_text, st.just("")
)
datetimeish = st.one_of(
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31)).map(
        lambda d: d.strftime("%Y-%m-%dT%H:%M")
    ),
    st.sampled_from(
        ["2031-03-30T02:30", "2031-10-26T02:30", "2026-02-30T10:00", "T", "2026-13-01T25:61"]
    ),
    nasty_text,
)
dateish = st.one_of(
    st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31)).map(str),
    st.sampled_from(["2026-02-30", "31/12/2026", "99999-01-01"]),
    nasty_text,
)


def mostly(valid, junk=nasty_text):
    """Three in four draws valid: every field valid at once often enough to reach the
    service and the redirect, junk often enough to reach every error path."""
    return st.one_of(valid, valid, valid, junk)


def choice_or_junk(values):
    return mostly(st.sampled_from(values))


plain_words = st.text(alphabet="abcåäö ÅÄÖ,.-", min_size=1, max_size=80).filter(str.strip)
future_local = st.integers(min_value=1, max_value=400).map(
    lambda days: (dt.datetime.now() + dt.timedelta(days=days)).strftime("%Y-%m-%dT10:00")
)


def assert_handled(response):
    event(f"status {response.status_code}")  # --hypothesis-show-statistics shows the mix
    assert response.status_code in (200, 302), response.status_code


@SETTINGS
@given(
    data=st.fixed_dictionaries(
        {
            "reasons": st.lists(
                choice_or_junk(["not_eating", "repeated_falls", "sum_up", "passive"]), max_size=5
            ),
            "reason_text": mostly(plain_words),
            "raised_by": choice_or_junk(["person", "relative", "nurse", "other"]),
            "raised_by_detail": mostly(plain_words),
            "urgency": choice_or_junk(["routine", "soon", "urgent"]),
            "kind": choice_or_junk(["full", "small"]),
        },
        optional={"organisation": numberish},
    )
)
def test_initiative_form_never_crashes(area, login, data):
    data = dict(data)
    if "organisation" not in data:
        data["organisation"] = str(area.health_care.pk)
    response = login(area.alice).post(
        reverse("meeting_new", kwargs={"person_pk": area.person.pk}), data
    )
    assert_handled(response)
    if response.status_code == 302:
        assert Meeting.objects.filter(person=area.person).exists()


@SETTINGS
@given(
    data=st.fixed_dictionaries(
        {
            "wants_meeting": choice_or_junk(["yes", "no"]),
            "share_information": choice_or_junk(["yes", "no"]),
            "how": choice_or_junk(["orally", "in_writing", "representative"]),
            "representative_name": mostly(plain_words),
            "given_at": mostly(st.just("2026-01-05T09:30"), datetimeish),
        },
        optional={"relatives": st.lists(numberish, max_size=3)},
    )
)
def test_consent_form_never_crashes(area, login, data):
    meeting = initiate(area)
    response = login(area.alice).post(reverse("meeting_consent", kwargs={"pk": meeting.pk}), data)
    assert_handled(response)
    meeting.refresh_from_db()
    if response.status_code == 200:
        assert meeting.state == Meeting.State.INITIATED  # nothing recorded from a bad form


@pytest.fixture
def scheduled(area):
    return advance(area, Meeting.State.SCHEDULED)


@SETTINGS
@given(
    data=st.fixed_dictionaries(
        {
            "category": choice_or_junk(["extended_home_help", "health_care", "care_agreement"]),
            "description": mostly(plain_words),
            "due_date": mostly(st.just(""), dateish),
            "person_answer": choice_or_junk(["accepts", "declines", "thinking"]),
        },
        optional={"organisation": numberish, "responsible": numberish},
    )
)
def test_decision_form_never_crashes(area, scheduled, login, data):
    data = dict(data)
    data.setdefault("organisation", str(area.home_help.pk))
    data.setdefault("responsible", str(area.bob.pk))
    before = scheduled.decisions.count()
    response = login(area.bob).post(
        reverse("meeting_decision_new", kwargs={"pk": scheduled.pk}), data
    )
    assert_handled(response)
    if response.status_code == 200:
        assert scheduled.decisions.count() == before
    else:
        assert scheduled.decisions.filter(organisation=area.home_help).exists()


@SETTINGS
@given(
    option_1=mostly(future_local, datetimeish),
    option_2=st.one_of(st.just(""), future_local, datetimeish),
    note=nasty_text,
)
def test_time_form_never_crashes(area, login, option_1, option_2, note):
    meeting = Meeting.objects.filter(state=Meeting.State.CONVENING).first() or advance(
        area, Meeting.State.CONVENING
    )
    response = login(area.alice).post(
        reverse("meeting_invitations", kwargs={"pk": meeting.pk}),
        {"option_1": option_1, "option_2": option_2, "note": note, "duration_minutes": 60},
    )
    assert_handled(response)
