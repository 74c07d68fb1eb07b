"""Signed-in pages are never cached, every page carries a strict Content-Security-Policy that our templates keep,
and a qualification's licence scan is always a download."""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.urls import reverse

from notifications.models import Qualification
from tests.register.helpers import make_qualification, png_bytes, upload

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]

# Pages a signed-in user reaches from the menu (admin included); each is fetched and its HTML checked.
PAGES = [
    "notifications:home", "notifications:call_record_list", "notifications:call_export_list", "notifications:dial_tts",
    "notifications:dial_voice", "notifications:blocked_number_list", "notifications:blocked_number_create",
    "notifications:qualification_list", "notifications:qualification_create", "notifications:caller_number_list",
    "notifications:voice_file_list", "notifications:voice_file_create", "notifications:tts_template_list",
    "notifications:tts_template_create", "notifications:receipt_delivery_list", "notifications:system_health",
    "admin:index", "admin:notifications_callrecord_changelist", "admin:auth_user_changelist",
]


def directives(policy: str) -> dict[str, list[str]]:
    parsed = {}
    for part in policy.split(";"):
        name, *values = part.split()
        parsed[name] = values
    return parsed


def assert_strict_policy(response) -> None:
    policy = directives(response["Content-Security-Policy"])
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # no inline script, no eval, no other origin
    assert "'unsafe-inline'" not in policy["style-src"] and "'unsafe-eval'" not in response["Content-Security-Policy"]
    assert policy["object-src"] == ["'none'"] and policy["frame-ancestors"] == ["'none'"]


class InlineCodeFinder(HTMLParser):
    """What a strict CSP would block in a page: inline scripts, on*= handlers, style= and <style>, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script" and "src" not in attributes and attributes.get("type") not in ("application/json",):
            self.problems.append(f"inline <script> at line {self.getpos()[0]}")
        if tag == "style":
            self.problems.append(f"<style> block at line {self.getpos()[0]}")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name}= on <{tag}> at line {self.getpos()[0]}")
            elif name == "style":
                self.problems.append(f"style= on <{tag}> at line {self.getpos()[0]}")
            elif name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL on <{tag}> at line {self.getpos()[0]}")


def inline_code_in(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    return finder.problems


def test_signed_in_pages_are_not_stored_and_carry_the_strict_policy(client, superuser):
    client.force_login(superuser)
    for name in PAGES:
        response = client.get(reverse(name))
        assert response.status_code == 200, name
        assert "no-store" in response["Cache-Control"], name
        assert "private" in response["Cache-Control"], name
        assert_strict_policy(response)
        assert inline_code_in(response.content.decode()) == [], name


def test_every_role_gets_no_store_even_on_errors(client, operator, manager):
    for user in (operator, manager):
        client.force_login(user)
        for url in (reverse("notifications:home"), "/no-such-page/", reverse("admin:index")):
            response = client.get(url)
            assert "no-store" in response.get("Cache-Control", ""), (user, url, response.status_code)
            assert "Content-Security-Policy" in response


def test_login_page_has_the_policy_and_no_inline_code(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert_strict_policy(response)
    assert inline_code_in(response.content.decode()) == []


def test_signing_in_answers_no_store_from_the_first_response(client):
    User.objects.create_user("staffer", password="correct horse battery")
    response = client.post(reverse("login"), {"username": "staffer", "password": "correct horse battery"})
    assert response.status_code == 302
    assert "no-store" in response["Cache-Control"]


def test_receipt_webhook_answer_is_not_marked_for_a_user(client):
    response = client.post("/receipts/VoiceReport/wrong-token/", data="[]", content_type="application/json")
    assert response.status_code == 403
    assert "no-store" not in response.get("Cache-Control", "")


def test_queue_dashboard_alone_gets_the_looser_policy(client, superuser):
    """django-rq's pages (staff only, not ours) carry inline scripts; they keep working, nothing else is loosened."""
    client.force_login(superuser)
    response = client.get("/admin/rq/")
    assert "'unsafe-inline'" in directives(response["Content-Security-Policy"])["script-src"]
    assert "no-store" in response["Cache-Control"]
    assert settings.CONTENT_SECURITY_POLICY_EXCEPTIONS.keys() == {"/admin/rq/"}


def test_no_template_of_ours_has_inline_script_handlers_or_styles():
    """Templates that no page above renders (fragments, error pages, admin overrides) keep to the policy too."""
    problems = {}
    for template in [*ROOT.glob("templates/**/*.html"), *ROOT.glob("notifications/templates/**/*.html")]:
        source = template.read_text()
        found = inline_code_in(re.sub(r"\{[%{#].*?[%}#]\}", "", source, flags=re.S))
        if found:
            problems[str(template.relative_to(ROOT))] = found
    assert problems == {}


def test_licence_scan_is_a_download_never_shown_inline(client, operator):
    client.force_login(operator)
    qualification = make_qualification()
    qualification.licence.save("营业执照 scan.png", upload("scan.png", png_bytes(), "image/png"))
    response = client.get(reverse("notifications:qualification_licence", args=[qualification.pk]))
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename" in disposition and ".png" in disposition
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    # Even a browser that renders it anyway runs nothing from it in our origin.
    assert directives(response["Content-Security-Policy"]) == {"default-src": ["'none'"], "sandbox": []}
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content) == png_bytes()


def test_licence_pdf_is_a_download_too(client, operator):
    client.force_login(operator)
    qualification = make_qualification()
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    qualification.licence.save("licence.pdf", upload("licence.pdf", pdf, "application/pdf"))
    response = client.get(reverse("notifications:qualification_licence", args=[qualification.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert Qualification.objects.get().licence.name.endswith(".pdf")


def test_detail_page_offers_the_licence_as_a_download(client, operator):
    client.force_login(operator)
    qualification = make_qualification()
    qualification.licence.save("licence.png", upload("licence.png", png_bytes(), "image/png"))
    page = client.get(reverse("notifications:qualification_detail", args=[qualification.pk]), HTTP_ACCEPT_LANGUAGE="en")
    link = reverse("notifications:qualification_licence", args=[qualification.pk])
    assert f'href="{link}" download' in page.content.decode()


def test_an_empty_policy_setting_keeps_the_strict_default():
    """`.env.example` lists DJANGO_CONTENT_SECURITY_POLICY= (empty): copying it must not switch the policy off."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "voiceadmin.settings.test", "DJANGO_CONTENT_SECURITY_POLICY": ""}
    result = subprocess.run([sys.executable, "-c", "from django.conf import settings; print(settings.CONTENT_SECURITY_POLICY)"],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True)
    assert directives(result.stdout.strip())["script-src"] == ["'self'"]
