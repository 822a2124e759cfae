import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from participants.demo import DEMO_PASSWORD
from participants.models import Organisation, Person, Role
from participants.selectors import eligibility, persons_visible_to

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_the_area_once_and_prints_logins(capsys):
    call_command("seed_demo")
    first = capsys.readouterr().out
    assert "sjukskoterska" in first and DEMO_PASSWORD in first
    assert Organisation.objects.filter(kind=Organisation.Kind.HOME_HELP).count() == 3
    assert Person.objects.count() == 40
    call_command("seed_demo")
    assert "reusing" in capsys.readouterr().out
    assert Person.objects.count() == 40
    names = " ".join(Person.objects.values_list("last_name", flat=True))
    assert any(ch in names for ch in "åäöÅÄÖ")


def test_demo_team_sizes_follow_seed_000():
    call_command("seed_demo", quiet_logins=True)
    hhc = Organisation.objects.get(kind=Organisation.Kind.HOME_HEALTH_CARE)
    roles = list(hhc.memberships.values_list("role", flat=True))
    assert roles.count(Role.PHYSICIAN) == 1
    assert roles.count(Role.NURSE) == 6
    assert roles.count(Role.ASSISTANT_NURSE) == 2
    assessment = Organisation.objects.get(kind=Organisation.Kind.NEEDS_ASSESSMENT)
    assert assessment.memberships.filter(role=Role.NEEDS_ASSESSOR).count() == 5
    for org in Organisation.objects.all():
        assert org.memberships.filter(role=Role.MANAGER).exists(), org


def test_demo_login_works_and_nurse_sees_her_persons():
    call_command("seed_demo", quiet_logins=True)
    client = Client()
    response = client.post(
        reverse("login"), {"username": "sjukskoterska", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    home = client.get(reverse("home"))
    assert home.status_code == 200
    own = home.context["page"].object_list
    assert 0 < len(own) < 25  # her own caseload
    everyone = client.get(reverse("home") + "?all=1")
    assert len(everyone.context["page"].object_list) == 25
    from participants.models import User

    nurse = User.objects.get(username="sjukskoterska")
    visible = persons_visible_to(nurse)
    assert visible.count() == 40
    eligible = [eligibility(p).eligible for p in visible]
    assert any(eligible) and not all(eligible)


def test_bulk_persons_are_added_up_to_the_target():
    call_command("seed_demo", persons=300, quiet_logins=True)
    assert Person.objects.filter(city="Storsjöstad").count() == 300
    call_command("seed_demo", persons=300, quiet_logins=True)
    assert Person.objects.filter(city="Storsjöstad").count() == 300
    person = Person.objects.filter(city="Storsjöstad").first()
    assert eligibility(person).eligible


def test_bulk_meetings_with_decisions_and_follow_ups():
    from followup.models import Checkpoint, DecisionStatusChange
    from meetings.models import Decision, Meeting

    call_command("seed_demo", persons=60, meetings=120, quiet_logins=True)
    bulk = Meeting.objects.filter(person__city="Storsjöstad")
    assert bulk.count() == 120
    held = bulk.filter(state__in=["held", "closed"])
    assert held.exists()
    assert Decision.objects.filter(meeting__in=held).exists()
    assert DecisionStatusChange.objects.filter(decision__meeting__in=held).exists()
    assert Checkpoint.objects.filter(meeting__in=held).count() == 2 * held.count()
    call_command("seed_demo", persons=60, meetings=120, quiet_logins=True)
    assert bulk.count() == 120
