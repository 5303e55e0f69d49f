"""Ticketed HTTP downloads: exports (CSV, XLSX) and job travelers, mounted beside ``/health``.

Sessions live in the browser's ``localStorage``, not in a cookie, so these routes never see a session:
they take a short-lived ticket minted by an event handler after the service layer authorized the
request (``services/download_tickets.py``), and check it, its session and the user's right again here.

- ``GET /api/export/<name>.<csv|xlsx>?ticket=...``: a report (``board``, ``work_orders`` or any
  source registered in ``services/exports.py``). CSV streams row by row as keyset pages are read;
  XLSX is written by openpyxl's write-only mode to a temporary file in a worker thread, then streamed.
  Neither blocks the event loop nor holds the rows in memory, and neither touches the websocket.
- ``GET /api/traveler?ticket=...``: a work order's job traveler, an A4 HTML page with print CSS.

Anything wrong with the ticket (malformed, forged, expired, for another file), a session that ended,
or a user who is no longer a supervisor gets the same ``403`` page, which says nothing more.
Responses are never cached (``Cache-Control: no-store``) and send no referrer.
"""

from __future__ import annotations

import asyncio
import html
import os
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response, StreamingResponse
from starlette.routing import Route

from work_dispatch.db import get_engine, session_scope
from work_dispatch.domain.errors import DomainError, NotFoundError
from work_dispatch.i18n import negotiate, translate
from work_dispatch.models import utc_now
from work_dispatch.services import download_tickets, exports, travelers
from work_dispatch.services.actor import Actor

PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


def _refusal(request: Request, status_code: int = 403, key: str = download_tickets.FORBIDDEN) -> HTMLResponse:
    """The one page of every refused download, in the browser's language; it names no reason."""
    locale = negotiate(request.headers.get("accept-language"))
    title = html.escape(translate("export.error.forbidden_title", locale))
    body = (
        f'<!DOCTYPE html><html lang="{locale}"><head><meta charset="utf-8"><title>{title}</title></head>'
        f'<body style="font-family: system-ui, sans-serif; margin: 3em auto; max-width: 36em">'
        f"<h1>{title}</h1><p>{html.escape(translate(key, locale))}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status_code, headers=PRIVATE_HEADERS)


def _disposition(filename: str) -> dict[str, str]:
    return {**PRIVATE_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'}


async def _chunks_of(spool: BinaryIO) -> AsyncIterator[bytes]:
    """A spooled file's content in chunks, read in a worker thread; the file is closed at the end."""
    try:
        while chunk := await asyncio.to_thread(spool.read, 256 * 1024):
            yield chunk
    finally:
        spool.close()


def make_app(engine: Callable[[], Engine] = get_engine, clock: Callable[[], datetime] = utc_now) -> Starlette:
    """The download routes, on the configured database (tests pass their own engine and clock).

    Args:
        engine: Returns the engine to read from (called per request).
        clock: The current time: ticket expiry is judged against it.

    Returns:
        A Starlette app for ``rx.App(api_transformer=[...])``.
    """

    def redeem(ticket: str | None, purpose: str, authorize) -> download_tickets.Ticket:
        with session_scope(engine()) as db:
            return download_tickets.redeem(db, ticket, purpose, clock=clock, authorize=authorize)

    def csv_body(source: exports.ExportSource, actor: Actor, args: dict, now: datetime) -> Iterator[bytes]:
        # A sync generator: Starlette runs each step in a worker thread, so the loop never waits.
        with Session(engine()) as db:
            yield from exports.csv_chunks(source.columns, source.rows(db, actor, args, now), actor.locale)

    def xlsx_spool(source: exports.ExportSource, actor: Actor, args: dict, now: datetime) -> BinaryIO:
        with Session(engine()) as db:
            return exports.xlsx_spool(
                source.columns, source.rows(db, actor, args, now), actor.locale, title=source.title
            )

    async def export_file(request: Request) -> Response:
        name, fmt = request.path_params["name"], request.path_params["fmt"]
        source = exports.SOURCES.get(name)
        if source is None or fmt not in exports.FORMATS:
            return _refusal(request)
        try:
            granted = await asyncio.to_thread(
                redeem, request.query_params.get("ticket"), exports.purpose(name, fmt), source.authorize
            )
        except DomainError:
            return _refusal(request)
        now = clock()
        filename = exports.filename(name, fmt, now)
        if fmt == "csv":
            return StreamingResponse(
                csv_body(source, granted.actor, granted.args, now),
                media_type=exports.MEDIA_TYPES["csv"],
                headers=_disposition(filename),
            )
        # Written in a worker thread to an anonymous temporary file, then streamed from it: the rows
        # never sit in memory, and no file is left on disk whatever happens to the connection.
        spool = await asyncio.to_thread(xlsx_spool, source, granted.actor, granted.args, now)
        size = os.fstat(spool.fileno()).st_size
        return StreamingResponse(
            _chunks_of(spool),
            media_type=exports.MEDIA_TYPES["xlsx"],
            headers={**_disposition(filename), "Content-Length": str(size)},
        )

    def traveler_html(ticket: str | None, nonce: str) -> str:
        with session_scope(engine()) as db:
            granted = download_tickets.redeem(db, ticket, travelers.TICKET_PURPOSE, clock=clock)
            # The work order may have been deleted since the ticket: NotFoundError, a 404.
            traveler = travelers.build(db, granted.actor, granted.args.get("work_order_id"))
            return travelers.render_html(traveler, granted.actor.locale, nonce=nonce)

    async def traveler(request: Request) -> Response:
        nonce = secrets.token_urlsafe(16)
        try:
            page = await asyncio.to_thread(traveler_html, request.query_params.get("ticket"), nonce)
        except NotFoundError:
            return _refusal(request, 404, "traveler.error.not_found")
        except DomainError:
            return _refusal(request)
        policy = (
            f"default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; "
            "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
        )
        return HTMLResponse(page, headers={**PRIVATE_HEADERS, "Content-Security-Policy": policy})

    return Starlette(
        routes=[
            Route("/api/export/{name}.{fmt}", export_file, methods=["GET"]),
            Route("/api/traveler", traveler, methods=["GET"]),
        ]
    )


downloads_app = make_app()
"""The routes on the configured database, for ``rx.App(api_transformer=[...])``."""
