"""`manage.py demo_provider` (what `make run` starts): the demo's home health care is connected
to the local OpenID Connect provider, its staff have HSA ids, and the provider's users are
those staff with their roles; the other organisations keep passwords."""

import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from participants.demo import DEMO_MARKER_ORG, DEMO_PASSWORD
from participants.models import Membership, Role
from sso.models import ConnectedOrganisation

pytestmark = [pytest.mark.django_db, pytest.mark.sso]


def test_the_demo_connects_home_health_care_and_writes_the_providers_users(tmp_path):
    call_command("seed_demo", quiet_logins=True)
    call_command("demo_provider", port=9499, app_port=8099, workdir=str(tmp_path), setup_only=True)
    link = ConnectedOrganisation.objects.select_related("provider", "organisation").get()
    assert link.organisation.name == DEMO_MARKER_ORG
    assert link.provider.issuer == "http://127.0.0.1:9499"
    staff = Membership.objects.filter(organisation=link.organisation).select_related("user")
    assert all(m.user.hsa_id for m in staff)
    # Care and manager roles come from the provider; the administrator's stays given here.
    assert {m.role for m in staff if not m.from_provider} == {Role.ORG_ADMIN}
    workdir = tmp_path
    users = json.loads((workdir / "users.json").read_text())
    nurse = users["sjukskoterska"]
    assert nurse["password"] == DEMO_PASSWORD
    assert nurse["claims"]["vom_roles"] == ["sjukskoterska"]
    assert nurse["claims"]["vom_unit"] == link.unit_id
    assert users["admin.hsv"]["claims"]["vom_roles"] == []
    clients = json.loads((workdir / "clients.json").read_text())
    assert "http://127.0.0.1:8099/accounts/sso/oidc/callback/" in clients[0]["redirect_uris"]
    # The login page offers it; the home health care's password is refused, the others' not.
    client = Client()
    assert "Region Sjöstad (demo)" in client.get(reverse("login")).content.decode()
    response = client.post(
        reverse("login"), {"username": "sjukskoterska", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post(reverse("login"), {"username": "handlaggare", "password": DEMO_PASSWORD})
    assert response.status_code == 302
