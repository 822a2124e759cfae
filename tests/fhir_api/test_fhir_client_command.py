"""The operator registers, lists and retires record-system clients (manage.py fhir_client):
a registered client signs in with what the command printed; a retired one stops at once."""

import io
import re

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import CommandError, call_command
from django.test import Client

from participants.models import ChangeRecord, SystemClient

pytestmark = pytest.mark.django_db
TOKEN = "/fhir/R4/auth/token"


def run(*args) -> str:
    out = io.StringIO()
    call_command("fhir_client", *args, stdout=out)
    return out.getvalue()


def test_a_registered_client_signs_in_and_a_retired_one_stops(marea):
    printed = run(
        "register", "--organisation", str(marea.home_help.pk), "--name", "Planeringsverktyg",
        "--scope", "system/CarePlan.read system/Task.read",
    )  # fmt: skip
    client_id = re.search(r"client_id: (\S+)", printed)[1]
    secret = re.search(r"client_secret: (\S+)", printed)[1]
    stored = SystemClient.objects.get(client_id=client_id)
    assert stored.organisation == marea.home_help and secret not in stored.secret_hash
    assert ChangeRecord.objects.filter(object_id=str(stored.pk), action="create").exists()
    response = Client().post(TOKEN, {
        "grant_type": "client_credentials", "client_id": client_id, "client_secret": secret,
    })  # fmt: skip
    assert response.status_code == 200 and response.json()["scope"] == (
        "system/CarePlan.read system/Task.read"
    )
    api = Client(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    assert api.get("/fhir/R4/CarePlan").status_code == 200
    assert api.get("/fhir/R4/Patient").status_code == 403  # not among its scopes
    assert f"{client_id}\tactive\tclient_secret" in run("list")

    run("deactivate", client_id)
    assert api.get("/fhir/R4/CarePlan").status_code == 401
    assert f"{client_id}\tinactive" in run("list")
    with pytest.raises(CommandError, match="already inactive"):
        run("deactivate", client_id)


def test_a_client_with_a_public_key_gets_no_secret(marea, tmp_path):
    key = ec.generate_private_key(ec.SECP384R1()).public_key()
    pem = tmp_path / "client.pub.pem"
    pem.write_bytes(
        key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    printed = run(
        "register", "--organisation", marea.home_help.name, "--name", "Journal",
        "--public-key", str(pem),
    )  # fmt: skip
    assert "client_secret" not in printed and "private_key_jwt" in printed
    stored = SystemClient.objects.get(client_id=re.search(r"client_id: (\S+)", printed)[1])
    assert stored.secret_hash == "" and stored.public_key.startswith("-----BEGIN PUBLIC KEY")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scope", "user/*.read"], "not a scope"),
        (["--scope", "system/Medication.read"], "not a scope"),
        (["--scope", "system/CarePlan.write"], "not a scope"),
        (["--public-key", "{bad}"], "not a PEM public key"),
        (["--public-key", "/nonexistent/key.pem"], "Cannot read"),
        (["--organisation", "999999"], "No single organisation"),
    ],
)
def test_bad_registrations_are_refused_and_save_nothing(marea, tmp_path, args, message):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    args = [str(bad) if a == "{bad}" else a for a in args]
    base = {"--organisation": str(marea.home_help.pk), "--name": "X"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    with pytest.raises(CommandError, match=message):
        run("register", *[part for pair in base.items() for part in pair])
    assert not SystemClient.objects.exists()
