"""The template form's live preview, in a real browser."""
import pytest

from tests.browser.conftest import browser, login_as  # noqa: F401 (fixtures shared with the browser tests)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_the_preview_follows_the_content_as_the_operator_types(browser, login_as, live_server, operator):  # noqa: F811
    from selenium.webdriver.common.by import By

    login_as("operator", "not-used-in-tests")
    browser.get(live_server.url + "/register/tts-templates/new/")
    browser.find_element(By.ID, "id_content").send_keys("您好${name}，您的订单${order}已发货。")
    assert browser.find_element(By.ID, "va-preview").text == "您好张三，您的订单A10086已发货。"
    assert browser.find_element(By.ID, "va-vars").text == "name, order"
    browser.get("about:blank")  # nothing may still be loading once the live server goes away
