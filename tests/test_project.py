"""Project-wide behaviour: login everywhere, role groups exist."""
from django.contrib.auth.models import Group

from notifications.roles import MANAGERS, OPERATORS, ROLE_PERMISSIONS


def test_role_groups_have_their_permissions(db):
    for name in (OPERATORS, MANAGERS):
        codenames = set(Group.objects.get(name=name).permissions.values_list("codename", flat=True))
        assert codenames == set(ROLE_PERMISSIONS[name])


def test_home_redirects_anonymous_visitor_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")



def test_the_menu_marks_the_page_the_user_is_on(client, operator, manager):
    import re

    from django.urls import reverse

    def current(path: str) -> list[str]:
        page = client.get(path, headers={"accept-language": "en"}).content.decode()
        menu = page.split('aria-label="Main menu"')[1].split("</nav>")[0]
        return re.findall(r'aria-current="page"[^>]*>([^<]+)</a>', menu)

    client.force_login(operator)
    assert current(reverse("notifications:home")) == ["Dashboard"]
    assert current(reverse("notifications:call_record_list")) == ["Call log"]
    assert current(reverse("notifications:call_record_list") + "?mine=1") == ["My calls"]
    assert current(reverse("notifications:dial_voice")) == ["Test-dial"]
    assert current(reverse("notifications:tts_template_list")) == ["TTS templates"]
    client.force_login(manager)
    assert current(reverse("notifications:call_export_list")) == ["Exports"]
    assert current(reverse("notifications:blocked_number_list")) == ["Do-not-call list"]
    assert current(reverse("notifications:caller_number_list")) == ["Caller numbers"]


def test_both_catalogs_translate_every_text():
    """A text left untranslated or marked fuzzy (ignored when compiled) would show in the wrong language."""
    import re
    from pathlib import Path

    for catalog in sorted(Path(__file__).resolve().parent.parent.joinpath("locale").glob("*/LC_MESSAGES/django.po")):
        entries = catalog.read_text(encoding="utf-8").split("\n\n")[1:]  # the first is the header
        fuzzy = [entry for entry in entries if re.search(r"^#, .*fuzzy", entry, re.M)]
        empty = [entry for entry in entries if not entry.lstrip().startswith("#~")
                 and re.search(r'^msgstr(\[\d\])? ""$(?!\n")', entry, re.M)]
        assert not fuzzy and not empty, (catalog, (fuzzy + empty)[:3])
