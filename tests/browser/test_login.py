"""The login page and the language switch in a real browser."""
import pytest
from django.contrib.auth.models import User
from selenium.webdriver.common.by import By

from tests.browser.conftest import switch_language

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_login_page_speaks_both_languages(browser, live_server):
    browser.delete_all_cookies()
    browser.get(live_server.url + "/accounts/login/")
    assert "登录" in browser.find_element(By.TAG_NAME, "h1").text
    switch_language(browser, "en")
    assert "Log in to VoiceAdmin" in browser.find_element(By.TAG_NAME, "h1").text
    assert browser.find_element(By.CSS_SELECTOR, "label[for=id_username]").text.startswith("Username")


def test_wrong_password_is_refused_and_right_one_lands_on_dashboard(browser, live_server, login_as):
    User.objects.create_user("staffer", password="correct horse battery")
    login_as("staffer", "wrong password")
    assert "/accounts/login/" in browser.current_url
    assert browser.find_elements(By.CSS_SELECTOR, ".alert-danger")
    login_as("staffer", "correct horse battery")
    assert browser.current_url.rstrip("/") == live_server.url
    assert "staffer" in browser.find_element(By.CSS_SELECTOR, "nav").text
