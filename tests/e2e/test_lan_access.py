"""Tablets on the LAN with the default configuration: no WD_ALLOWED_ORIGINS at all.

127.0.0.2 is a loopback alias that stands in for the PC's LAN address: the page comes from
a host other than localhost, so the browser's websocket carries ``Origin: http://127.0.0.2:<port>``.
"""

import urllib.error
import urllib.request

import pytest

from tests.e2e.conftest import DESKTOP, TABLET, login, screenshot, serve_app

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def default_app(tmp_path_factory):
    """The app served with the embedded default configuration (allowed origins left automatic)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("WD_ALLOWED_ORIGINS", raising=False)
        tmp_dir = tmp_path_factory.mktemp("lan")
        app = serve_app(tmp_dir, f"sqlite:///{tmp_dir / 'lan.db'}")
    yield app
    app.stop()


def _handshake_refusal(base_url: str, origin: str) -> str:
    """What the socket endpoint says about a handshake from ``origin`` ('' when the origin passes)."""
    request = urllib.request.Request(
        f"{base_url}/_event/?EIO=4&transport=websocket", headers={"Origin": origin}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.read().decode()
    except urllib.error.HTTPError as error:
        body = error.read().decode()
        return body if "accepted origin" in body else ""


def test_a_tablet_on_another_address_logs_in(default_app, browser):
    lan_url = default_app.base_url.replace("127.0.0.1", "127.0.0.2")
    tablet = browser.new_context(viewport=TABLET, has_touch=True).new_page()
    login(tablet, lan_url, "prepress1")
    tablet.wait_for_url("**/operator", timeout=30_000)
    tablet.wait_for_selector("text=My tasks")
    assert "Priya Patel" in tablet.inner_text("#page-title")
    screenshot(tablet, "lan-operator-task-center-tablet")

    # The automatic list is this machine's own addresses, not "*": a foreign page is refused.
    assert "not an accepted origin" in _handshake_refusal(default_app.base_url, "http://evil.example:80")
    assert _handshake_refusal(default_app.base_url, lan_url) == ""


def test_an_admin_pairs_tablets_from_the_connect_page(default_app, browser):
    lan_url = default_app.base_url.replace("127.0.0.1", "127.0.0.2")
    port = default_app.base_url.rsplit(":", 1)[1]
    desktop = browser.new_context(viewport=DESKTOP)
    admin = desktop.new_page()
    login(admin, lan_url, "admin")
    admin.wait_for_url("**/supervisor")
    admin.click('a[href="/supervisor/connect"]')
    admin.wait_for_selector("#connect")
    assert admin.inner_text("#page-title") == "Connect tablets"
    urls = admin.locator(".pairing-url").all_inner_texts()
    assert urls, "this machine has a network address besides loopback"
    assert all(url.startswith("http://") and url.endswith(f":{port}") for url in urls)
    assert not any("127." in url or "localhost" in url for url in urls)
    qr = admin.locator(".pairing-qr").first
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")
    assert f":{port}" in admin.inner_text("#name-urls")
    screenshot(admin, "connect-tablets-desktop")

    narrow = browser.new_context(viewport=TABLET, has_touch=True, storage_state=desktop.storage_state())
    page = narrow.new_page()
    page.goto(f"{lan_url}/supervisor/connect")
    page.wait_for_selector(".pairing-qr")
    page.click("#refresh-addresses")
    page.wait_for_selector(".pairing-qr")
    screenshot(page, "connect-tablets-tablet")

    supervisor = browser.new_context(viewport=DESKTOP).new_page()
    login(supervisor, lan_url, "super1")
    supervisor.wait_for_url("**/supervisor")
    assert supervisor.locator('a[href="/supervisor/connect"]').count() == 0
    supervisor.goto(f"{lan_url}/supervisor/connect")
    supervisor.wait_for_url("**/supervisor")
    assert supervisor.locator(".pairing-qr").count() == 0
