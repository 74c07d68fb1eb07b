"""The browser fixtures of tests/browser, shared with this directory's CSP test."""
from tests.browser.conftest import browser, login_as  # noqa: F401
