"""WCAG 2.1 AA by axe-core on every console page each role can reach, in both languages, on a desktop and a phone,
forms also in their error state. Any violation fails, naming the page, the rule and the elements."""
import pytest

from .conftest import PASSWORD, axe_violations, crawl, submit_empty

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

FORM_PAGES = ("/new/", "/edit/", "/dial/tts/", "/dial/voice/", "/blocked/new/", "/blocked-numbers/add/", "/blocked-numbers/import/")


@pytest.mark.parametrize("role", ["operator", "manager", "admin"])
def test_every_page_passes_axe_in_both_languages_and_widths(browser, live_server, login_as, demo, role):
    login_as(role, PASSWORD)
    pages = crawl(browser, live_server.url)
    assert len(pages) >= 8, pages  # the crawl really walked the console
    found, scans = [], 0
    for language in ("zh-hans", "en"):
        browser.add_cookie({"name": "django_language", "value": language})
        for width in (1366, 390):
            browser.set_window_size(width, 900)
            for path in pages:
                browser.get(live_server.url + path)
                found += [f"{role} {language} {width}px {path}: {line}" for line in axe_violations(browser)]
                scans += 1
                if path.endswith(FORM_PAGES) and submit_empty(browser):
                    found += [f"{role} {language} {width}px {path} (after an empty submit): {line}"
                              for line in axe_violations(browser)]
                    scans += 1
    browser.set_window_size(1366, 900)
    browser.get("about:blank")
    print(f"{role}: {scans} scans over {len(pages)} pages")
    assert found == [], "\n".join(found)


def test_login_page_passes_axe_in_both_languages_and_widths(browser, live_server):
    found, scans = [], 0
    for language in ("zh-hans", "en"):
        browser.get(live_server.url + "/accounts/login/")
        browser.delete_all_cookies()
        browser.add_cookie({"name": "django_language", "value": language})
        for width in (1366, 390):
            browser.set_window_size(width, 900)
            browser.get(live_server.url + "/accounts/login/")
            found += [f"{language} {width}px login: {line}" for line in axe_violations(browser)]
            assert submit_empty(browser)
            found += [f"{language} {width}px login (after an empty submit): {line}" for line in axe_violations(browser)]
            scans += 2
    browser.set_window_size(1366, 900)
    print(f"login: {scans} scans")
    assert found == [], "\n".join(found)
