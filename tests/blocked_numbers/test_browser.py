"""The import journey in headless Chromium: a manager uploads an office's GBK file with a bad row, reads the error by
row and column, uploads the corrected file, and finds the numbers on the list with their expiry."""
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from notifications.models import BlockedNumber
from tests.browser.conftest import browser, login_as  # noqa: F401  (fixtures shared with the browser tests)

from .conftest import csv_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_manager_imports_a_file_fixes_a_bad_row_and_sees_the_list(browser, live_server, login_as, manager, tmp_path):  # noqa: F811
    manager.set_password("manager-password")
    manager.save()
    login_as("manager", "manager-password")
    browser.add_cookie({"name": "django_language", "value": "en"})
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    header, first = ["手机号", "原因", "有效期至"], ["13900001230", "投诉", "2099-01-31"]
    bad.write_bytes(csv_bytes([header, first, ["1.39E+10", "", ""]], encoding="gbk"))
    good.write_bytes(csv_bytes([header, first, ["13900001231", "", ""]], encoding="gbk"))

    browser.get(live_server.url + "/blocked-numbers/")
    browser.find_element(By.LINK_TEXT, "Import a file").click()
    browser.find_element(By.NAME, "file").send_keys(str(bad))
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    errors = WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "va-import-errors"))
    assert "Nothing was imported" in errors.text
    assert "3 A (手机号)" in errors.text and "shortened by Excel" in errors.text
    assert not BlockedNumber.objects.exists()

    browser.find_element(By.NAME, "file").send_keys(str(good))
    browser.find_element(By.CSS_SELECTOR, "main form button[type=submit]").click()
    result = WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "va-import-result"))
    assert "Numbers added\n2" in result.text
    result.find_element(By.LINK_TEXT, "Back to the list").click()
    WebDriverWait(browser, 10).until(lambda b: b.current_url.endswith("/blocked-numbers/"))
    table = browser.find_element(By.CSS_SELECTOR, "main table").text
    assert "139****1230" in table and "2099-01-31" in table and "No expiry" in table and "13900001230" not in table
