"""A SAML 2.0 identity provider (pysaml2's Server) on loopback, for the tests and the demo.

    PORT=9500 WORKDIR=/tmp/idp USERS_FILE=users.json python tests/sso/saml_idp.py

It publishes its metadata at /metadata, takes authentication requests at /sso (HTTP-Redirect),
shows a sign-in page (login, password, "SITHS card") and answers the service provider with a
signed assertion posted by the browser (HTTP-POST). Its users are read from USERS_FILE at every
sign-in: {"anna": {"password": "pw", "claims": {"urn:oid:1.2.752.29.4.13": "SE...", ...}}}, so
a test can change a person's roles and see it at the next sign-in.

MODE_FILE (optional, read at every answer) makes it lie in one way, for the hostile tests:
good, wrong_issuer (another provider's entity id), wrong_audience (another service provider),
expired, bad_signature (signed with a key not in its metadata), unsigned (nothing signed),
response_signed_only (the response signed, the assertion inside not).
"""

import base64
import contextlib
import datetime
import html
import json
import os
import secrets
import shutil
import sys
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_REDIRECT
from saml2.assertion import Policy
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server

STRONG = "http://id.elegnamnden.se/loa/1.0/loa3"
WEAK = "http://id.elegnamnden.se/loa/1.0/loa2"


def key_pair(directory: Path, name: str) -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Test-IdP {name}")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_file, cert_file = directory / f"{name}.key", directory / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return str(key_file), str(cert_file)


class TestServer(Server):
    """Knows the service provider from its request alone (no metadata of it): so it never
    encrypts to it."""

    def has_encrypt_cert_in_metadata(self, sp_entity_id):
        return False


def server(base: str, entity_id: str, keys: tuple[str, str]) -> Server:
    config = IdPConfig()
    config.load(
        {
            "entityid": entity_id,
            "xmlsec_binary": shutil.which("xmlsec1"),
            "key_file": keys[0],
            "cert_file": keys[1],
            "allow_unknown_attributes": True,
            "service": {
                "idp": {
                    "name": "Test-IdP",
                    "endpoints": {
                        "single_sign_on_service": [(f"{base}/sso", BINDING_HTTP_REDIRECT)]
                    },
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                    "want_authn_requests_signed": False,
                }
            },
            "metadata": {},
        }
    )
    return TestServer(config=config)


class Idp:
    def __init__(self, port: int, workdir: Path, users_file: Path, mode_file: Path | None):
        self.base = f"http://127.0.0.1:{port}"
        self.entity_id = f"{self.base}/metadata"
        self.users_file = users_file
        self.mode_file = mode_file
        keys = key_pair(workdir, "idp")
        self.good = server(self.base, self.entity_id, keys)
        self.forger = server(self.base, self.entity_id, key_pair(workdir, "forger"))
        self.impostor = server(self.base, "http://127.0.0.1:1/another-idp", keys)
        self.pending: dict[str, dict] = {}

    def mode(self) -> str:
        if self.mode_file and self.mode_file.exists():
            return self.mode_file.read_text().strip() or "good"
        return "good"

    def metadata(self) -> str:
        return str(entity_descriptor(self.good.config))

    def users(self) -> dict:
        return json.loads(self.users_file.read_text())

    def answer(self, pending: dict, login: str, strong: bool) -> tuple[str, str]:
        """The SAMLResponse (base64) for `pending` and where the browser posts it."""
        claims = self.users()[login]["claims"]
        identity = {
            name: value if isinstance(value, list) else [value]
            for name, value in claims.items()
            if value is not None
        }
        mode = self.mode()
        idp = {"bad_signature": self.forger, "wrong_issuer": self.impostor}.get(mode, self.good)
        lifetime = {"minutes": -10} if mode == "expired" else {"minutes": 5}
        audience = (
            "https://another-sp.example/saml/metadata/"
            if mode == "wrong_audience"
            else pending["sp"]
        )
        response = idp.create_authn_response(
            identity,
            in_response_to=pending["id"],
            destination=pending["acs"],
            sp_entity_id=audience,
            name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=login),
            authn={"class_ref": STRONG if strong else WEAK, "authn_auth": self.entity_id},
            sign_assertion=mode not in ("unsigned", "response_signed_only"),
            sign_response=mode == "response_signed_only",
            release_policy=Policy(
                {"default": {"lifetime": lifetime, "name_form": NAME_FORMAT_URI}},
                mds=idp.metadata,
            ),
        )
        return base64.b64encode(str(response).encode()).decode(), pending["acs"]


def page(title: str, body: str) -> bytes:
    return (
        '<!doctype html><html lang="sv"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family: sans-serif; max-width: 28rem; margin: 2rem auto">'
        f"{body}</body></html>"
    ).encode()


def handler(idp: Idp):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _send(self, status: int, body: bytes, content_type="text/html; charset=utf-8"):
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _login_form(self, key: str, message: str = ""):
            alert = f'<p role="alert" style="color: #a00">{html.escape(message)}</p>'
            self._send(
                200,
                page(
                    "Test-IdP (SAML)",
                    "<h1>Test-IdP (organisationens inloggning, SAML)</h1>"
                    + (alert if message else "")
                    + '<form method="post" action="/login">'
                    f'<input type="hidden" name="key" value="{html.escape(key)}">'
                    '<p><label>Användare <input name="login" autofocus></label></p>'
                    '<p><label>Lösenord <input name="password" type="password"></label></p>'
                    '<p><label><input type="checkbox" name="siths" value="1"> SITHS-kort'
                    "</label></p>"
                    '<p><button type="submit">Logga in</button></p></form>',
                ),
            )

        def do_GET(self):
            url = urllib.parse.urlparse(self.path)
            query = dict(urllib.parse.parse_qsl(url.query))
            if url.path == "/metadata":
                return self._send(200, idp.metadata().encode(), "application/samlmetadata+xml")
            if url.path == "/sso":
                try:
                    request = idp.good.parse_authn_request(
                        query["SAMLRequest"], BINDING_HTTP_REDIRECT
                    ).message
                except Exception as exc:  # noqa: BLE001 - a bad request is a 400 here
                    return self._send(400, page("Fel", f"<p>{html.escape(str(exc))}</p>"))
                key = secrets.token_urlsafe(16)
                idp.pending[key] = {
                    "id": request.id,
                    "acs": request.assertion_consumer_service_url,
                    "sp": request.issuer.text,
                    "relay_state": query.get("RelayState", ""),
                }
                return self._login_form(key)
            return self._send(404, page("404", "<p>Not found</p>"))

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
            if self.path != "/login" or form.get("key") not in idp.pending:
                return self._send(400, page("Fel", "<p>Ingen inloggning pågår.</p>"))
            user = idp.users().get(form.get("login", ""))
            if user is None or user.get("password") != form.get("password"):
                return self._login_form(form["key"], "Fel användare eller lösenord.")
            pending = idp.pending.pop(form["key"])
            saml_response, acs = idp.answer(pending, form["login"], form.get("siths") == "1")
            fields = (
                f'<input type="hidden" name="SAMLResponse" value="{saml_response}">'
                f'<input type="hidden" name="RelayState" '
                f'value="{html.escape(pending["relay_state"])}">'
            )
            return self._send(
                200,
                page(
                    "Test-IdP: tillbaka",
                    f'<form id="back" method="post" action="{html.escape(acs)}">{fields}'
                    '<p><button type="submit">Fortsätt</button></p></form>'
                    "<script>document.getElementById('back').submit()</script>",
                ),
            )

    return Handler


def main() -> int:
    port = int(os.environ.get("PORT", "9500"))
    workdir = Path(os.environ.get("WORKDIR", "."))
    mode_file = os.environ.get("MODE_FILE")
    idp = Idp(port, workdir, Path(os.environ["USERS_FILE"]), Path(mode_file) if mode_file else None)
    httpd = ThreadingHTTPServer(("127.0.0.1", port), handler(idp))
    print(f"SAML test provider on {idp.base} (metadata {idp.entity_id})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        httpd.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
