"""Record-system clients of the FHIR API, for the operator:

    manage.py fhir_client register --organisation 3 --name "Planeringsverktyg" \
        --scope "system/CarePlan.read system/Task.read" [--public-key client.pub.pem]
    manage.py fhir_client list
    manage.py fhir_client deactivate vom-1a2b3c4d5e6f7a8b

`register` prints the client id, and the secret once when no public key is given (only its
hash is kept: a lost secret means a new client)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from participants.models import Organisation, SystemClient
from vom.errors import DomainError

from ...services import system_client_deactivate, system_client_register


class Command(BaseCommand):
    help = "Register, list or deactivate the record systems that read the FHIR API."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        register = sub.add_parser("register", help="a new client of one organisation")
        register.add_argument("--organisation", required=True, help="its id or exact name")
        register.add_argument("--name", required=True, help="the system, e.g. its product")
        register.add_argument(
            "--scope", default="system/*.read", help='e.g. "system/CarePlan.read system/Task.read"'
        )
        register.add_argument(
            "--public-key", type=Path, help="PEM file: signs in with signed JWTs (no secret)"
        )
        sub.add_parser("list", help="every client, active or not")
        deactivate = sub.add_parser("deactivate", help="stop a client at once")
        deactivate.add_argument("client_id")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from exc

    def _register(self, *, organisation, name, scope, public_key, **options):
        found = Organisation.objects.filter(
            pk=int(organisation) if organisation.isdigit() else None
        ) or Organisation.objects.filter(name=organisation)
        if len(found) != 1:
            raise CommandError(f"No single organisation {organisation!r} (give its id).")
        key = ""
        if public_key is not None:
            try:
                key = public_key.read_text()
            except OSError as exc:
                raise CommandError(f"Cannot read {public_key}: {exc}") from exc
        client, secret = system_client_register(
            organisation=found[0], name=name, scopes=scope.split(), public_key=key
        )
        self.stdout.write(f"client_id: {client.client_id}")
        self.stdout.write(f"organisation: {client.organisation} ({client.organisation_id})")
        self.stdout.write(f"scopes: {client.scopes}")
        if secret:
            self.stdout.write(f"client_secret: {secret}  (shown once; only its hash is kept)")
        else:
            self.stdout.write("signs in with JWTs signed by its private key (private_key_jwt)")

    def _list(self, **options):
        for client in SystemClient.objects.select_related("organisation").order_by("pk"):
            state = "active" if client.is_active else "inactive"
            way = "private_key_jwt" if client.public_key else "client_secret"
            self.stdout.write(
                f"{client.client_id}\t{state}\t{way}\t{client.organisation}\t{client.name}"
                f"\t{client.scopes}"
            )

    def _deactivate(self, *, client_id, **options):
        client = system_client_deactivate(client_id=client_id)
        self.stdout.write(f"{client.client_id} is inactive: its tokens are refused from now on")
