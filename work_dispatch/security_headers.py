"""Security headers on every HTTP response: pages, static assets, ``/ping``, ``/health`` and the API.

``reflex run --env prod`` serves the built frontend (a static mount), Reflex's own routes and ours from
one ASGI app; :func:`with_security_headers`, given to ``rx.App(api_transformer=...)`` after the other
transformers, wraps all of it. Only CORS preflight answers, sent by Reflex's outermost middleware, pass
around it (they carry no content).

- ``Content-Security-Policy: frame-ancestors 'none'`` and ``X-Frame-Options: DENY``: no other site
  may show the app in a frame (click-jacking); the second is for browsers without CSP level 2.
- ``X-Content-Type-Options: nosniff``: a file is only ever what its ``Content-Type`` says.
- ``Referrer-Policy: same-origin``: the app's URLs (work order ids, board filters) never reach another
  site, while the app's own requests keep their ``Referer`` and, unlike ``no-referrer``, their ``Origin``
  on same-origin POSTs, which origin checks rely on.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


def _with_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The response's headers plus each security header it lacks.

    A policy the response sets itself is kept. A ``Content-Security-Policy`` without
    ``frame-ancestors`` gets ours beside it: browsers enforce every policy they receive.
    """
    present = {name.lower() for name, _ in headers}
    framing_policy = any(
        name.lower() == b"content-security-policy" and b"frame-ancestors" in value.lower()
        for name, value in headers
    )
    added = [
        (name, value)
        for name, value in SECURITY_HEADERS
        if (not framing_policy if name == b"content-security-policy" else name not in present)
    ]
    return [*headers, *added]


class SecurityHeadersMiddleware:
    """Pure ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP response it passes on.

    Pure ASGI (not Starlette's ``BaseHTTPMiddleware``): streamed and static responses pass through
    untouched apart from their first message, and websockets are left alone.
    """

    def __init__(self, app: ASGIApp) -> None:
        """Wrap an ASGI app.

        Args:
            app: The application whose responses get the headers.
        """
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, adding the headers to the response start.

        Args:
            scope: The ASGI connection scope.
            receive: The ASGI receive channel.
            send: The ASGI send channel.
        """
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": _with_headers(list(message.get("headers", [])))}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def with_security_headers(app: ASGIApp) -> ASGIApp:
    """An ``api_transformer`` for ``rx.App``: the whole backend wrapped in :class:`SecurityHeadersMiddleware`.

    Args:
        app: The backend ASGI app Reflex built (frontend mount, routes, websocket).

    Returns:
        The wrapped app.
    """
    return SecurityHeadersMiddleware(app)
