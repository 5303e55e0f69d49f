"""Log in as a supervisor (desktop) and an operator (tablet) in a real browser."""

import pytest

from tests.e2e.conftest import DESKTOP, TABLET, screenshot

pytestmark = pytest.mark.e2e


def _login(page, base_url, username, password="demo1234"):
    page.goto(f"{base_url}/login")
    page.wait_for_selector("#login-submit")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")


def test_supervisor_and_operator_land_on_their_pages(served_app, browser):
    supervisor = browser.new_context(viewport=DESKTOP).new_page()
    supervisor.goto(f"{served_app.base_url}/supervisor")
    supervisor.wait_for_url("**/login**")
    _login(supervisor, served_app.base_url, "super1", "wrong-password")
    error = supervisor.wait_for_selector("#login-error")
    assert "Wrong username or password" in error.inner_text()
    screenshot(supervisor, "login-error-desktop")
    _login(supervisor, served_app.base_url, "super1")
    supervisor.wait_for_url("**/supervisor")
    supervisor.wait_for_selector("#dashboard")
    assert supervisor.inner_text("#page-title") == "Dashboard"
    assert "Sam Supervisor" in supervisor.inner_text("body")
    screenshot(supervisor, "supervisor-dashboard-desktop")

    tablet = browser.new_context(viewport=TABLET, has_touch=True).new_page()
    _login(tablet, served_app.base_url, "print1")
    tablet.wait_for_url("**/operator")
    tablet.wait_for_selector("text=My tasks")
    assert "Omar Haddad" in tablet.inner_text("#page-title")
    assert "Printing" in tablet.inner_text("body")
    screenshot(tablet, "operator-task-center-tablet")

    tablet.goto(f"{served_app.base_url}/supervisor")
    tablet.wait_for_url("**/operator")
    tablet.click("#logout-button")
    tablet.wait_for_url("**/login**")
    tablet.goto(f"{served_app.base_url}/operator")
    tablet.wait_for_url("**/login**")
    screenshot(tablet, "login-tablet")
