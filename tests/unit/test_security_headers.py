"""Security headers on every HTTP response, and a ``/health`` that tells details only to the monitor."""

import dataclasses
import warnings

import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles

with warnings.catch_warnings():
    # Starlette would rather have httpx2; the installed httpx drives its TestClient just as well.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from work_dispatch import health
from work_dispatch.security_headers import SECURITY_HEADERS, with_security_headers

TOKEN = "monitor-token-0123456789"
EXPECTED = {name.decode(): value.decode() for name, value in SECURITY_HEADERS}


def _app(tmp_path) -> TestClient:
    (tmp_path / "app.js").write_text("console.log('hi')")

    async def text(_request):
        return PlainTextResponse("hello")

    async def framed_elsewhere(_request):
        return PlainTextResponse(
            "own policy",
            headers={"Content-Security-Policy": "default-src 'self'", "Referrer-Policy": "no-referrer"},
        )

    async def own_framing(_request):
        return PlainTextResponse("own framing", headers={"Content-Security-Policy": "frame-ancestors 'self'"})

    async def streamed(_request):
        async def chunks():
            yield b"one,"
            yield b"two"

        return StreamingResponse(chunks(), media_type="text/csv")

    async def boom(_request):
        raise RuntimeError("unexpected")

    async def echo(websocket):
        await websocket.accept()
        await websocket.send_text(await websocket.receive_text())
        await websocket.close()

    inner = Starlette(
        routes=[
            Route("/text", text),
            Route("/own-policy", framed_elsewhere),
            Route("/own-framing", own_framing),
            Route("/streamed", streamed),
            Route("/boom", boom),
            WebSocketRoute("/ws", echo),
            Mount("/", StaticFiles(directory=tmp_path, html=True)),
        ]
    )
    return TestClient(with_security_headers(inner), raise_server_exceptions=False)


def _security(response) -> dict[str, list[str]]:
    return {name: response.headers.get_list(name) for name in EXPECTED}


@pytest.mark.parametrize("path", ["/text", "/streamed", "/app.js", "/missing.js", "/boom"])
def test_every_http_response_carries_the_headers(tmp_path, path):
    response = _app(tmp_path).get(path)
    assert _security(response) == {name: [value] for name, value in EXPECTED.items()}, path


def test_a_response_keeps_its_own_policies_and_still_gets_anti_framing(tmp_path):
    client = _app(tmp_path)
    response = client.get("/own-policy")
    assert response.headers.get_list("content-security-policy") == [
        "default-src 'self'",
        "frame-ancestors 'none'",
    ]
    assert response.headers.get_list("referrer-policy") == ["no-referrer"]
    assert response.headers["x-frame-options"] == "DENY"

    own = client.get("/own-framing")
    assert own.headers.get_list("content-security-policy") == ["frame-ancestors 'self'"]
    assert response.text == "own policy" and own.text == "own framing"


def test_streamed_and_static_bodies_and_websockets_pass_through_unchanged(tmp_path):
    client = _app(tmp_path)
    assert client.get("/streamed").text == "one,two"
    assert client.get("/app.js").text == "console.log('hi')"
    with client.websocket_connect("/ws") as socket:
        socket.send_text("ping")
        assert socket.receive_text() == "ping"


@pytest.fixture
def health_client(monkeypatch):
    """``/health`` behind the security headers, with stubbed checks; ``set(token=..., up=...)``."""
    state = {"up": True}
    monkeypatch.setattr(health, "_checked", None)
    monkeypatch.setattr(health, "_database", lambda: {"ok": state["up"], "ms": 0.5, "backend": "sqlite"})

    async def redis_status():
        return {"ok": True, "configured": False}

    monkeypatch.setattr(health, "_redis", redis_status)

    def configure(token: str | None, up: bool = True) -> TestClient:
        state["up"] = up
        monkeypatch.setattr(health, "_checked", None)
        monkeypatch.setattr(health, "settings", dataclasses.replace(health.settings, monitor_token=token))
        return TestClient(with_security_headers(health.health_app))

    return configure


def test_health_tells_anonymous_callers_only_up_or_down(health_client):
    client = health_client(TOKEN)
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": TOKEN}):
        response = client.get("/health", headers=headers)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}, headers
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["x-frame-options"] == "DENY"

    down = health_client(TOKEN, up=False).get("/health")
    assert down.status_code == 503
    assert down.json() == {"status": "degraded"}


def test_health_details_need_the_monitoring_token(health_client):
    response = health_client(TOKEN).get("/health", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert {"pid", "identity", "dispatcher", "live_sessions", "pushes"} <= set(body["worker"])

    down = health_client(TOKEN, up=False).get("/health", headers={"Authorization": f"bearer {TOKEN}"})
    assert down.status_code == 503
    assert down.json()["database"]["ok"] is False


def test_health_without_a_configured_token_never_shows_details(health_client):
    client = health_client(None)
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
        assert client.get("/health", headers=headers).json() == {"status": "ok"}


def test_health_checks_are_shared_for_a_second(health_client, monkeypatch):
    calls = []
    client = health_client(TOKEN)
    monkeypatch.setattr(health, "_database", lambda: calls.append(1) or {"ok": True, "ms": 0.1})
    for _ in range(5):
        client.get("/health")
    assert len(calls) == 1
    monkeypatch.setattr(health, "_checked", None)
    client.get("/health")
    assert len(calls) == 2


def test_a_short_monitor_token_is_refused(monkeypatch):
    from work_dispatch.settings import load_settings

    monkeypatch.setenv("WD_MONITOR_TOKEN", "short")
    with pytest.raises(ValueError, match="WD_MONITOR_TOKEN must be at least 16"):
        load_settings()
    monkeypatch.setenv("WD_MONITOR_TOKEN", f"  {TOKEN} ")
    settings = load_settings()
    assert settings.monitor_token == TOKEN
    assert TOKEN not in repr(settings)
