import os
import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from participants.models import Organisation

from ...demo import (
    DEMO_PROVIDER_NAME,
    PROVIDER_DIR,
    demo_provider_connect,
    demo_provider_files,
)


class Command(BaseCommand):
    help = (
        "The demo's OpenID Connect provider (oidc-provider on node, loopback): connects the "
        "demo's home health care to it and runs it in the foreground (Ctrl-C stops)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=9400, help="the provider's port")
        parser.add_argument(
            "--app-port", type=int, default=int(os.environ.get("PORT", "8000")), help="VOM's port"
        )
        parser.add_argument(
            "--workdir", default=None, help="where its files go (default var/demo-provider)"
        )
        parser.add_argument(
            "--setup-only", action="store_true", help="connect and write its files, do not run"
        )

    def handle(self, *args, port, app_port, workdir, setup_only, **options):
        node, npm = shutil.which("node"), shutil.which("npm")
        if not node or not npm:
            raise CommandError(
                "Node.js is missing (Debian: apt-get install nodejs npm): the demo's home "
                "health care keeps passwords."
            )
        if not (PROVIDER_DIR / "node_modules" / "oidc-provider").exists():
            self.stdout.write("Installing oidc-provider (npm ci) ...")
            done = subprocess.run(  # noqa: S603 - npm found on PATH, fixed arguments
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=PROVIDER_DIR,
                check=False,
            )
            if done.returncode != 0:
                raise CommandError("npm ci failed: the demo's home health care keeps passwords.")
        if not Organisation.objects.exists():
            raise CommandError("No demo area: run `manage.py seed_demo` first.")
        issuer = f"http://127.0.0.1:{port}"
        _provider, organisation = demo_provider_connect(issuer=issuer)
        workdir = Path(workdir) if workdir else Path(settings.BASE_DIR) / "var" / "demo-provider"
        callbacks = [
            f"http://{host}:{app_port}/accounts/sso/oidc/callback/"
            for host in ("127.0.0.1", "localhost")
        ]
        logins = demo_provider_files(
            organisation=organisation, workdir=workdir, callbacks=callbacks
        )
        self.stdout.write(
            f"{organisation.name} signs in through {DEMO_PROVIDER_NAME} at {issuer}: "
            f"{', '.join(logins)} (the demo password; tick 'SITHS-kort' for the strong factor)."
        )
        if setup_only:
            return
        env = {
            **os.environ,
            "PORT": str(port),
            "USERS_FILE": str(workdir / "users.json"),
            "CLIENTS_FILE": str(workdir / "clients.json"),
        }
        # This process becomes the provider (so `make run` stops it by this process's id).
        self.stdout.flush()
        os.execve(node, [node, str(PROVIDER_DIR / "server.mjs")], env)  # noqa: S606
