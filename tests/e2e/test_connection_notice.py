"""When the server goes away, every page says so in the reader's language (not Reflex's English toast)."""

import pytest

from tests.e2e.conftest import DESKTOP, screenshot, serve_app

pytestmark = pytest.mark.e2e


def test_a_lost_connection_is_announced_in_the_readers_language(tmp_path, browser):
    app = serve_app(tmp_path, f"sqlite:///{tmp_path / 'notice.db'}")
    try:
        page = browser.new_context(viewport=DESKTOP).new_page()
        page.goto(f"{app.base_url}/login?lang=zh-CN")
        page.wait_for_selector("#login-submit")
        page.wait_for_function("() => document.body.innerText.includes('登录')")
        assert page.locator("#connection-notice").count() == 0
        app.kill()
        notice = page.wait_for_selector("#connection-notice", timeout=60_000)
        assert "与服务器的连接已断开" in notice.inner_text()
        assert "Cannot connect to server" not in page.inner_text("body")
        screenshot(page, "connection-lost-zh-desktop")
    finally:
        app.stop()
