"""Identity providers the tests start on loopback: the real `oidc-provider` (node) and a
hostile OpenID Connect provider (real HTTP and real signed JWTs, each a way a provider
can lie), and helpers to walk a sign-in without a browser."""

import contextlib
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from ..conftest import unavailable

HERE = Path(__file__).resolve().parent / "oidc_provider"
STRONG_ACR = "http://id.elegnamnden.se/loa/1.0/loa3"
CLIENT_ID = "vom"
CLIENT_SECRET = "vom-test-client-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_node_modules() -> str:
    """`npm ci` from the committed lock file when node_modules is missing or older."""
    node = shutil.which("node")
    npm = shutil.which("npm")
    if not node or not npm:
        unavailable(
            "Node.js (node, npm) is not installed: the OpenID Connect test provider needs it"
        )
    marker = HERE / "node_modules" / ".package-lock.json"
    lock = HERE / "package-lock.json"
    if not marker.exists() or marker.stat().st_mtime < lock.stat().st_mtime:
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=HERE,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            unavailable(f"npm ci for the test provider failed: {done.stderr[-2000:]}")
    return node


class NodeOidcProvider:
    """The `oidc-provider` package on a loopback port, its users in a JSON file it reads at
    every sign-in (so `set_user` changes what the next sign-in is told)."""

    def __init__(self, workdir: Path, redirect_uris: list[str], post_logout_uris: list[str]):
        self.workdir = workdir
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.users_file = workdir / "users.json"
        self.clients_file = workdir / "clients.json"
        self.users: dict = {}
        self._save()
        self.clients_file.write_text(
            json.dumps(
                [
                    {
                        "client_id": CLIENT_ID,
                        "client_secret": CLIENT_SECRET,
                        "redirect_uris": redirect_uris,
                        "post_logout_redirect_uris": post_logout_uris,
                        "grant_types": ["authorization_code"],
                        "response_types": ["code"],
                    }
                ]
            )
        )
        self.process = None

    def _save(self):
        self.users_file.write_text(json.dumps(self.users))

    def set_user(self, login: str, *, password: str = "pw", **claims):
        self.users[login] = {"password": password, "claims": claims}
        self._save()

    def start(self):
        node = ensure_node_modules()
        env = {
            **os.environ,
            "PORT": str(self.port),
            "USERS_FILE": str(self.users_file),
            "CLIENTS_FILE": str(self.clients_file),
        }
        self.log = open(self.workdir / "provider.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [node, str(HERE / "server.mjs")], env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(f"{self.issuer}/.well-known/openid-configuration", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        log = (self.workdir / "provider.log").read_text()[-2000:]
        raise AssertionError(f"the OpenID Connect test provider did not start:\n{log}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if getattr(self, "log", None):
            self.log.close()


@contextlib.contextmanager
def node_oidc_provider(workdir: Path, redirect_uris, post_logout_uris):
    provider = NodeOidcProvider(workdir, redirect_uris, post_logout_uris).start()
    try:
        yield provider
    finally:
        provider.stop()


def sign_in_at_provider(
    authorize_url: str, *, login: str, password: str = "pw", siths: bool = True, until: str
) -> str:
    """Walk the provider's own sign-in page as a browser would (cookies, its form) and
    return the URL it sends the browser back to (the first that starts with `until`)."""
    session = requests.Session()
    url = authorize_url
    for _ in range(12):
        response = session.get(url, allow_redirects=False, timeout=10)
        if response.status_code == 200 and "/interaction/" in url:
            uid = urllib.parse.urlparse(url).path.split("/")[2]
            form = {"login": login, "password": password}
            if siths:
                form["siths"] = "1"
            response = session.post(
                urllib.parse.urljoin(url, f"/interaction/{uid}/login"),
                data=form,
                allow_redirects=False,
                timeout=10,
            )
        assert response.status_code in (302, 303), (url, response.status_code, response.text[:500])
        url = urllib.parse.urljoin(url, response.headers["Location"])
        if url.startswith(until):
            return url
    raise AssertionError(f"the provider never sent the browser back (last {url})")


class HostileOidcProvider:
    """An OpenID Connect provider that answers the protocol for real (discovery, keys,
    authorization, token endpoint, RS256-signed ID tokens) and lies in one way per `mode`:
    good, wrong_issuer, wrong_audience, expired, bad_signature, alg_none, replayed
    (an ID token from an earlier sign-in, with that sign-in's nonce)."""

    def __init__(self):
        from joserfc.jwk import RSAKey

        self.key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig"})
        self.mode = "good"
        self.claims: dict = {}
        self.codes: dict[str, str] = {}  # code -> nonce
        self.issued: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def id_token(self, nonce: str) -> str:
        from joserfc import jwt

        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": self.claims.get("hsa_id", "nobody"),
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            **self.claims,
        }
        key = self.key
        if self.mode == "wrong_issuer":
            claims["iss"] = "http://127.0.0.1:1/another-provider"
        elif self.mode == "wrong_audience":
            claims["aud"] = "another-client"
        elif self.mode == "expired":
            claims["iat"], claims["exp"] = now - 3600, now - 600
        elif self.mode == "bad_signature":
            key = self.other_key
        elif self.mode == "alg_none":
            import base64

            def part(data):
                return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

            return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
        elif self.mode == "replayed" and self.issued:
            return self.issued[0]
        token = jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)
        self.issued.append(token)
        return token

    def _handler(self):
        op = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _json(self, data, status=200):
                body = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                if url.path == "/.well-known/openid-configuration":
                    return self._json(
                        {
                            "issuer": op.issuer,
                            "authorization_endpoint": f"{op.issuer}/authorize",
                            "token_endpoint": f"{op.issuer}/token",
                            "jwks_uri": f"{op.issuer}/jwks",
                            "response_types_supported": ["code"],
                            "subject_types_supported": ["public"],
                            # A liar offers "none" too: it must not be accepted.
                            "id_token_signing_alg_values_supported": ["RS256", "none"],
                        }
                    )
                if url.path == "/jwks":
                    return self._json({"keys": [op.key.as_dict(private=False)]})
                if url.path == "/authorize":
                    query = dict(urllib.parse.parse_qsl(url.query))
                    code = os.urandom(8).hex()
                    op.codes[code] = query.get("nonce", "")
                    target = (
                        query["redirect_uri"]
                        + "?"
                        + urllib.parse.urlencode({"code": code, "state": query["state"]})
                    )
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                    return None
                self.send_error(404)
                return None

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                nonce = op.codes.pop(form.get("code", ""), None)
                if nonce is None:
                    return self._json({"error": "invalid_grant"}, status=400)
                return self._json(
                    {
                        "access_token": os.urandom(8).hex(),
                        "token_type": "Bearer",
                        "expires_in": 300,
                        "id_token": op.id_token(nonce),
                    }
                )

        return Handler


class SamlIdp:
    """pysaml2's identity provider (tests/sso/saml_idp.py) as its own process on a loopback
    port: signed assertions, its users in a JSON file read at every sign-in, and a mode file
    that makes it lie in one way (see that module)."""

    SCRIPT = Path(__file__).resolve().parent / "saml_idp.py"

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.entity_id = f"{self.base}/metadata"
        self.users_file = workdir / "users.json"
        self.mode_file = workdir / "mode"
        self.users: dict = {}
        self._save()
        self.set_mode("good")
        self.process = None

    def _save(self):
        self.users_file.write_text(json.dumps(self.users))

    def set_user(self, login: str, *, password: str = "pw", **claims):
        self.users[login] = {"password": password, "claims": claims}
        self._save()

    def set_mode(self, mode: str):
        self.mode_file.write_text(mode)

    def metadata(self) -> str:
        return requests.get(f"{self.base}/metadata", timeout=5).text

    def start(self):
        import sys

        if not shutil.which("xmlsec1"):
            unavailable("xmlsec1 is not installed: pysaml2 signs and checks with it")
        env = {
            **os.environ,
            "PORT": str(self.port),
            "WORKDIR": str(self.workdir),
            "USERS_FILE": str(self.users_file),
            "MODE_FILE": str(self.mode_file),
        }
        self.log = open(self.workdir / "idp.log", "w")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, str(self.SCRIPT)], env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(f"{self.base}/metadata", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        log = (self.workdir / "idp.log").read_text()[-2000:]
        raise AssertionError(f"the SAML test provider did not start:\n{log}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if getattr(self, "log", None):
            self.log.close()


@contextlib.contextmanager
def saml_idp(workdir: Path):
    idp = SamlIdp(workdir).start()
    try:
        yield idp
    finally:
        idp.stop()


def saml_sign_in_at_provider(
    redirect_url: str, *, login: str, password: str = "pw", siths: bool = True
) -> dict:
    """Walk the SAML provider's sign-in page and return the form it has the browser post back
    (action, SAMLResponse, RelayState)."""
    import re

    session = requests.Session()
    page = session.get(redirect_url, timeout=10)
    assert page.status_code == 200, page.text[:500]
    key = re.search(r'name="key" value="([^"]+)"', page.text).group(1)
    form = {"key": key, "login": login, "password": password}
    if siths:
        form["siths"] = "1"
    answer = session.post(urllib.parse.urljoin(redirect_url, "/login"), data=form, timeout=10)
    assert answer.status_code == 200, answer.text[:500]
    found = dict(re.findall(r'name="(SAMLResponse|RelayState)" value="([^"]*)"', answer.text))
    found["action"] = re.search(r'<form id="back" method="post" action="([^"]+)"', answer.text)[1]
    return found
