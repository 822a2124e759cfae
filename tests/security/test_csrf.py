"""A POST without the CSRF token is refused (403) and changes nothing, on every form."""

from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import reverse

from participants.models import (
    AccessLogReview,
    CareTeamEntry,
    ChangeRecord,
    Membership,
    Person,
    Relative,
    Role,
)

from ..factories import MembershipFactory, RelativeFactory
from ..twofactor import current_token, verify_second_factor

pytestmark = pytest.mark.django_db


def _csrf_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user, backend="participants.auth.UsernameOrEmailBackend")
    return client


@pytest.fixture
def admin(area):
    return MembershipFactory(organisation=area.health_care, role=Role.ORG_ADMIN).user


def _staff_posts(area):
    relative = RelativeFactory(person=area.person)
    entry = CareTeamEntry.objects.filter(person=area.person).first()
    person = {"pk": area.person.pk}
    return [
        (reverse("person_create"), {"first_name": "X", "last_name": "Y"}),
        (reverse("person_edit", kwargs=person), {"first_name": "Hacked"}),
        (reverse("relative_create", kwargs=person), {"name": "X", "phone": "1"}),
        (
            reverse("relative_edit", kwargs={**person, "relative_pk": relative.pk}),
            {"name": "Hacked", "phone": "1"},
        ),
        (reverse("care_team_add", kwargs=person), {"organisation": area.outsider_org.pk}),
        (reverse("care_team_end", kwargs={**person, "entry_pk": entry.pk}), {}),
        (reverse("otp_setup"), {"token": "123456"}),
        (reverse("logout"), {}),
        (reverse("set_language"), {"language": "en"}),
    ]


def _admin_posts(area):
    org = {"org_pk": area.health_care.pk}
    membership = Membership.objects.get(user=area.alice)
    member = {**org, "membership_pk": membership.pk}
    review = AccessLogReview.objects.create(
        organisation=area.health_care,
        reviewer=membership.user,
        period_start="2026-01-01",
        period_end="2026-01-31",
        sample_ids=[],
    )
    return [
        (reverse("staff_create", kwargs=org), {"username": "x", "role": "nurse"}),
        (reverse("staff_edit", kwargs=member), {"first_name": "Hacked"}),
        (reverse("staff_set_active", kwargs=member), {}),
        (reverse("staff_totp_reset", kwargs=member), {}),
        (reverse("access_review_start", kwargs=org), {"period_start": "2026-01-01"}),
        (reverse("access_review", kwargs={**org, "review_pk": review.pk}), {"note": "x"}),
    ]


def test_staff_posts_without_token_are_refused(area):
    client = _csrf_client(area.alice)
    posts = _staff_posts(area)
    before = (Person.objects.count(), Relative.objects.count(), CareTeamEntry.objects.count())
    changes = ChangeRecord.objects.count()
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert (
        Person.objects.count(),
        Relative.objects.count(),
        CareTeamEntry.objects.count(),
    ) == before
    assert ChangeRecord.objects.count() == changes
    assert client.get(reverse("home")).status_code == 200  # still signed in: logout refused


def test_admin_posts_without_token_are_refused(area, admin):
    client = _csrf_client(admin)
    verify_second_factor(client, admin)
    posts = _admin_posts(area)
    changes = ChangeRecord.objects.count()
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert Membership.objects.get(user=area.alice).is_active
    assert ChangeRecord.objects.count() == changes
    assert AccessLogReview.objects.get().note == ""


def test_second_factor_without_token_is_refused(area, password):
    from ..twofactor import confirmed_device

    device = confirmed_device(area.alice)
    client = Client(enforce_csrf_checks=True)
    page = client.get(reverse("login"))
    token = page.cookies["csrftoken"].value
    client.post(
        reverse("login"),
        {"username": "alice", "password": password, "csrfmiddlewaretoken": token},
    )
    response = client.post(reverse("otp_verify"), {"token": current_token(device)})
    assert response.status_code == 403
    assert client.get(reverse("home")).status_code == 302  # still not past the second factor


def test_login_without_token_is_refused(area, password):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("login"), {"username": "alice", "password": password})
    assert response.status_code == 403
    assert "_auth_user_id" not in client.session


class _PostForms(HTMLParser):
    """Each POST form of a page: its action and whether it carries the CSRF token."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._open = {"action": attrs.get("action"), "token": None}
            self.forms.append(self._open)
        elif tag == "input" and self._open and attrs.get("name") == "csrfmiddlewaretoken":
            self._open["token"] = attrs.get("value")

    def handle_endtag(self, tag):
        if tag == "form":
            self._open = None


def _post_forms(response) -> list[dict]:
    parser = _PostForms()
    parser.feed(response.content.decode())
    return parser.forms


def test_every_post_form_a_nurse_sees_carries_its_token(marea, meeting_in):
    """A form rendered without its token answers 403 when pressed ("I will convene" on
    the start page's worklist did: the worklist was included with only its own values)."""
    from meetings.models import Meeting

    waiting = meeting_in(Meeting.State.CONSENT)
    client = _csrf_client(marea.nurse)
    verify_second_factor(client, marea.nurse)
    pages = [
        reverse("home"),
        reverse("person_detail", kwargs={"pk": marea.person.pk}),
        reverse("meeting_detail", kwargs={"pk": waiting.pk}),
    ]
    tokens = {}  # each form's action: the token its page gave it
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        for form in _post_forms(response):
            assert form["token"], f"{url}: the form posting to {form['action']} has no token"
            tokens[form["action"]] = form["token"]
    claim = reverse("meeting_convening_start", kwargs={"pk": waiting.pk})
    assert claim in tokens
    # Pressed as the browser would, with the page's token: it goes through.
    response = client.post(claim, {"csrfmiddlewaretoken": tokens[claim]})
    assert response.status_code == 302
    assert Meeting.objects.get(pk=waiting.pk).state == Meeting.State.CONVENING
