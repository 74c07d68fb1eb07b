"""A real OpenID provider (tests/oidc_provider, django-oauth-toolkit) in a subprocess on a free port, and the steps a
person takes there (its login form), for the HTTP client tests and the browser tests alike."""
import html
import os
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
CLIENT_ID = "voiceadmin-test"
CLIENT_SECRET = "oidc-client-secret-do-not-leak-7f3a"
# The test client's host, and the live server's (the provider accepts any port of localhost).
REDIRECT_URIS = "http://testserver/oidc/callback/ http://localhost/oidc/callback/"
PROVIDER_PASSWORD = "provider-pass"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Provider:
    url: str
    db_path: str

    def set_groups(self, username: str, *groups: str) -> None:
        """Change a user's groups at the provider, as its administrator would."""
        with sqlite3.connect(self.db_path) as db:
            user_id = db.execute("SELECT id FROM auth_user WHERE username = ?", (username,)).fetchone()[0]
            db.execute("DELETE FROM auth_user_groups WHERE user_id = ?", (user_id,))
            for name in groups:
                db.execute("INSERT OR IGNORE INTO auth_group (name) VALUES (?)", (name,))
                group_id = db.execute("SELECT id FROM auth_group WHERE name = ?", (name,)).fetchone()[0]
                db.execute("INSERT INTO auth_user_groups (user_id, group_id) VALUES (?, ?)", (user_id, group_id))


@pytest.fixture(scope="session")
def oidc_provider():
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    data_dir = tempfile.mkdtemp(prefix="va-oidc-provider-")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    Path(data_dir, "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    port = free_port()
    env = {**os.environ, "OIDC_TEST_PROVIDER_DIR": data_dir, "PYTHONPATH": str(ROOT)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen([sys.executable, "-m", "tests.oidc_provider.serve", str(port), REDIRECT_URIS, CLIENT_ID,
                             CLIENT_SECRET], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail("OIDC test provider exited: " + proc.stdout.read())
        try:
            requests.get(base + "/o/.well-known/openid-configuration/", timeout=1).raise_for_status()
            break
        except requests.RequestException:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("OIDC test provider did not start")
    yield Provider(base, os.path.join(data_dir, "provider.sqlite3"))
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def oidc_settings(settings, oidc_provider):
    """The console's settings pointing at the local provider, SSO on."""
    settings.OIDC_ENABLED = True
    settings.OIDC_RP_CLIENT_ID = CLIENT_ID
    settings.OIDC_RP_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_RP_SIGN_ALGO = "RS256"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = oidc_provider.url + "/o/authorize/"
    settings.OIDC_OP_TOKEN_ENDPOINT = oidc_provider.url + "/o/token/"
    settings.OIDC_OP_USER_ENDPOINT = oidc_provider.url + "/o/userinfo/"
    settings.OIDC_OP_JWKS_ENDPOINT = oidc_provider.url + "/o/.well-known/jwks.json"
    settings.OIDC_ROLE_MAP = "voice-operators=operator,voice-managers=manager"
    settings.OIDC_ROLE_CLAIM = "groups"
    if "notifications.auth_oidc.VoiceAdminOIDCBackend" not in settings.AUTHENTICATION_BACKENDS:
        settings.AUTHENTICATION_BACKENDS = [*settings.AUTHENTICATION_BACKENDS, "notifications.auth_oidc.VoiceAdminOIDCBackend"]
    return settings


def sign_in_at_provider(authorize_url: str, username: str, password: str = PROVIDER_PASSWORD) -> str:
    """Follow the console's redirect to the provider, fill in its login form; returns the callback URL the provider
    sends the browser back to (with the code), or the provider's last page URL when it sent none."""
    with requests.Session() as idp:
        page = idp.get(authorize_url, timeout=10)  # the provider's login form
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        answer = idp.post(page.url, data={"csrfmiddlewaretoken": token, "username": username, "password": password,
                                          "next": html.unescape(re.search(r'name="next" value="([^"]*)"', page.text).group(1))},
                          headers={"Referer": page.url}, allow_redirects=False, timeout=10)
        while answer.status_code in (301, 302) and answer.headers["Location"].startswith(("/", "http://127.0.0.1")):
            answer = idp.get(requests.compat.urljoin(page.url, answer.headers["Location"]), allow_redirects=False,
                             timeout=10)
        return answer.headers.get("Location", answer.url)
