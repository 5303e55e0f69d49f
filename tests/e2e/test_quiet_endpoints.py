"""The served production app: security headers on everything, ``/health`` details only for the monitor."""

import json
import re
import urllib.error
import urllib.request

import pytest

from tests.e2e.conftest import MONITOR_TOKEN

pytestmark = pytest.mark.e2e

SECURITY_HEADERS = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, list[str]], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, message, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, message, body = error.code, error.headers, error.read()
    names = {name.lower() for name in message}
    return status, {name: message.get_all(name) for name in names}, body


def test_every_response_carries_the_security_headers(served_app):
    _, _, login_html = _get(f"{served_app.base_url}/login")
    scripts = re.findall(rb'(?:src|href)="(/[^"]+\.js)"', login_html)
    assert scripts, login_html[:2000]
    paths = ["/", "/login", scripts[0].decode(), "/favicon.svg", "/health", "/ping", "/no-such-page"]
    for path in paths:
        status, headers, _ = _get(served_app.base_url + path)
        assert status in (200, 404), (path, status)
        for name, value in SECURITY_HEADERS.items():
            assert headers.get(name.lower()) == [value], (path, name, headers.get(name.lower()))


def test_no_other_site_can_frame_the_app(served_app, browser):
    page = browser.new_context().new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))
    page.set_content(f'<iframe name="framed" src="{served_app.base_url}/login"></iframe>', wait_until="load")
    framed = page.frame(name="framed")
    # Chromium replaces a refused frame with its error page; an allowed one would be at /login.
    assert framed.url.startswith("chrome-error://"), framed.url
    assert any("frame-ancestors 'none'" in text for text in console), console
    # The same page loads fine on its own: only framing is refused.
    page.goto(f"{served_app.base_url}/login")
    page.wait_for_selector("#login-submit")


def test_health_says_only_up_or_down_without_the_monitoring_token(served_app):
    for headers in ({}, {"Authorization": "Bearer not-the-monitor-token-000"}):
        status, response_headers, body = _get(f"{served_app.base_url}/health", headers)
        assert status == 200
        assert json.loads(body) == {"status": "ok"}
        assert response_headers["cache-control"] == ["no-store"]
        for secret in (b"pid", b"identity", b"dispatcher", b"live_sessions", b"postgresql", b"sqlite"):
            assert secret not in body

    status, _, body = _get(f"{served_app.base_url}/health", {"Authorization": f"Bearer {MONITOR_TOKEN}"})
    details = json.loads(body)
    assert status == 200 and details["status"] == "ok"
    assert details["database"]["backend"] == "sqlite"
    worker = details["worker"]
    assert worker["pid"] > 0 and worker["identity"]
    assert worker["dispatcher"] is True
    assert {"live_sessions", "pushes", "last_flush_ms", "dispatch_cycles"} <= set(worker)
