"""Job travelers: the printed sheet that follows a work order from press to packing, and its QR codes.

A traveler carries the work order (number, customer, product, quantity and unit, due date, priority,
notes), its route with one QR code per task, and boxes for signatures. It is an A4 HTML document with
print CSS, served by the ticketed HTTP route ``/api/traveler?ticket=...`` (``work_dispatch/downloads.py``)
and opened in a new tab from the work-order page and the draft review; the browser prints it or saves
it as PDF.

**The QR reference is opaque.** Each code holds ``WD1:<task id>:<mac>``: the mac is 80 bits of
HMAC-SHA256 over ``WD1:<task id>`` with a key derived from the installation's secret
(:func:`download_tickets.signing_key`, purpose ``traveler``), in base32. It is never a session token and
never a bare, guessable id: a code typed by hand or printed by another installation is refused. Only
digits, capital letters and ``:`` are used, so the QR code uses its compact alphanumeric mode and a
keyboard-wedge scanner types it on any layout that has those keys.

**Scanning it** (the tablet's scan box): :func:`resolve_scan` turns what the scanner typed into a task
id, or raises a :class:`ValidationError` with a message key of the ``scan.`` namespace.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import segno
from sqlmodel import Session, select

from work_dispatch.domain.enums import TaskStatus
from work_dispatch.domain.errors import NotFoundError, ValidationError
from work_dispatch.i18n import format_datetime, format_day, format_number, localized_name, translate
from work_dispatch.models import (
    Customer,
    Department,
    Process,
    Product,
    Task,
    User,
    WorkOrder,
    WorkOrderProcess,
    utc_now,
)
from work_dispatch.services import download_tickets
from work_dispatch.services.actor import Actor, require_supervisor
from work_dispatch.services.validation import as_int
from work_dispatch.settings import settings

REFERENCE_PREFIX = "WD1"
"""First part of every task code; a later format would be ``WD2``."""
SCAN_MAX = 64
"""Longest scanner input looked at (ours are at most 33 characters)."""
TICKET_PURPOSE = "traveler"
_MAC_BYTES = 10
_REFERENCE = re.compile(r"^WD1:([1-9][0-9]{0,11}):([A-Z2-7]{16})$")
_KEY_PURPOSE = "traveler"


def _mac(key: bytes, task_id: int) -> str:
    digest = hmac.new(key, f"{REFERENCE_PREFIX}:{task_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest[:_MAC_BYTES]).decode("ascii")


def task_reference(db: Session, task_id: int) -> str:
    """The opaque reference a task's QR code carries: ``WD1:<task id>:<mac>``.

    Args:
        db: Open session (creates the installation's secret on first use; the caller commits).
        task_id: The task.

    Returns:
        The reference (33 characters at most).
    """
    key = download_tickets.signing_key(db, _KEY_PURPOSE)
    return f"{REFERENCE_PREFIX}:{task_id}:{_mac(key, task_id)}"


def resolve_scan(db: Session, text: Any) -> int:
    """The task a scanned traveler code names: what the tablet's scan box calls with the scanner's input.

    The input is whatever a keyboard-wedge scanner (or a person) typed: surrounding blanks and the
    letter case are ignored. Authorization is the caller's: this only says which task the code
    names (the operator's rights to claim, start or report it are checked by the task services).

    Example::

        try:
            task_id = travelers.resolve_scan(db, scanned)
        except DomainError as error:  # ValidationError or NotFoundError, keys "scan.error.*"
            show(error.render(actor.locale))

    Args:
        db: Open session (read only).
        text: The scanned text (anything; hostile input is fine).

    Returns:
        The task id.

    Raises:
        ValidationError: ``scan.error.unknown_code`` (field ``scan``) for empty, malformed or
            over-long input and for codes printed by another installation or forged.
        NotFoundError: ``scan.error.task_gone`` (field ``scan``) when the code is genuine but its
            task no longer exists (a draft merged or deleted after printing).
    """
    unknown = ValidationError("scan.error.unknown_code", "scan")
    if not isinstance(text, str) or len(text) > SCAN_MAX:
        raise unknown
    match = _REFERENCE.match(text.strip().upper())
    if match is None:
        raise unknown
    task_id = int(match.group(1))
    key = download_tickets.signing_key(db, _KEY_PURPOSE, create=False)
    if key is None or not hmac.compare_digest(_mac(key, task_id), match.group(2)):
        raise unknown
    if db.get(Task, task_id) is None:
        raise NotFoundError("scan.error.task_gone", "scan", task_id=task_id)
    return task_id


def qr_svg(reference: str) -> str:
    """The QR code of a reference as inline SVG (segno), sized by CSS, the reference as its title.

    Args:
        reference: The text to encode.

    Returns:
        An ``<svg>`` element.
    """
    return segno.make(reference, error="m").svg_inline(
        border=4, omitsize=True, title=reference, svgclass="qr", lineclass=None
    )


@dataclass
class TravelerTask:
    """One task on the traveler: its code and what the operator fills in."""

    id: int
    reference: str
    quantity: int
    status: str
    operator: str
    department: str
    is_draft: bool
    qr: str


@dataclass
class TravelerStep:
    """One process of the route and its tasks (none yet before approval)."""

    sequence: int
    process: str
    department: str
    tasks: list[TravelerTask] = field(default_factory=list)


@dataclass
class Traveler:
    """Everything printed on a work order's traveler."""

    work_order_id: int
    order_number: str
    customer: str
    product: str
    quantity: int
    unit: str
    priority: str
    status: str
    delivery_date: Any
    notes: str
    steps: list[TravelerStep]
    printed_at: datetime
    printed_by: str


def _work_order_id(value: Any) -> int:
    return as_int(value, "work_order_id", "field.work_order", minimum=1)


def build(db: Session, actor: Actor | None, work_order_id: Any) -> Traveler:
    """A work order's traveler: the order, its route, and a code per task (cancelled ones left out).

    Args:
        db: Open session (creates the signing secret on first use; the unit of work commits).
        actor: The acting supervisor.
        work_order_id: The work order.

    Returns:
        The traveler, names in ``actor.locale``.

    Raises:
        NotFoundError: ``traveler.error.not_found`` for an unknown work order.
    """
    actor = require_supervisor(actor)
    work_order = db.get(WorkOrder, _work_order_id(work_order_id))
    if work_order is None:
        raise NotFoundError("traveler.error.not_found", "work_order_id")
    customer = db.get(Customer, work_order.customer_id)
    product = db.get(Product, work_order.product_id)
    processes = {
        row_id: localized_name(name, names, actor.locale)
        for row_id, name, names in db.exec(select(Process.id, Process.name, Process.names)).all()
    }
    departments = {
        row_id: localized_name(name, names, actor.locale)
        for row_id, name, names in db.exec(select(Department.id, Department.name, Department.names)).all()
    }
    route = db.exec(
        select(WorkOrderProcess)
        .where(WorkOrderProcess.work_order_id == work_order.id)
        .order_by(WorkOrderProcess.sequence)
    ).all()
    tasks = db.exec(
        select(Task)
        .where(Task.work_order_id == work_order.id, Task.status != TaskStatus.CANCELLED)
        .order_by(Task.sequence, Task.id)
    ).all()
    operator_ids = {task.assigned_operator_id for task in tasks if task.assigned_operator_id}
    operators = (
        dict(db.exec(select(User.id, User.display_name).where(User.id.in_(operator_ids))).all())
        if operator_ids
        else {}
    )
    key = download_tickets.signing_key(db, _KEY_PURPOSE)
    steps = {
        step.id: TravelerStep(
            step.sequence, processes.get(step.process_id, ""), departments.get(step.department_id, "")
        )
        for step in route
    }
    for task in tasks:
        step = steps.get(task.work_order_process_id)
        if step is None:
            continue
        reference = f"{REFERENCE_PREFIX}:{task.id}:{_mac(key, task.id)}"
        step.tasks.append(
            TravelerTask(
                id=task.id,
                reference=reference,
                quantity=task.production_quantity,
                status=task.status,
                operator=operators.get(task.assigned_operator_id, ""),
                department=departments.get(task.assigned_department_id, ""),
                is_draft=task.is_draft,
                qr=qr_svg(reference),
            )
        )
    return Traveler(
        work_order_id=work_order.id,
        order_number=work_order.order_number,
        customer=customer.name if customer else "",
        product=localized_name(product.name, product.names, actor.locale) if product else "",
        quantity=work_order.quantity,
        unit=work_order.unit,
        priority=work_order.priority,
        status=work_order.status,
        delivery_date=work_order.delivery_date,
        notes=work_order.notes,
        steps=list(steps.values()),
        printed_at=utc_now(),
        printed_by=actor.display_name,
    )


def traveler_link(
    db: Session,
    actor: Actor | None,
    session_token: Any,
    work_order_id: Any,
    *,
    clock: Callable[[], datetime] = utc_now,
) -> str:
    """Authorize printing a work order's traveler; the ticketed URL the browser opens in a new tab.

    Args:
        db: Open session (may create the signing secret; the unit of work commits).
        actor: The acting user (supervisors and admins).
        session_token: The browser's session token (the ticket is bound to that session).
        work_order_id: The work order.
        clock: The current time (injected by tests).

    Returns:
        ``/api/traveler?ticket=...``, valid for a minute.

    Raises:
        PermissionDeniedError: If the actor may not print travelers.
        NotFoundError: For an unknown work order.
    """
    require_supervisor(actor)
    order_id = _work_order_id(work_order_id)
    if db.get(WorkOrder, order_id) is None:
        raise NotFoundError("traveler.error.not_found", "work_order_id")
    ticket = download_tickets.mint(
        db, actor, session_token, TICKET_PURPOSE, {"work_order_id": order_id}, clock=clock
    )
    return f"/api/traveler?ticket={ticket}"


# --- the printed page ---------------------------------------------------------------------------------

_CSS = """
@page { size: A4 portrait; margin: 12mm 12mm 14mm 12mm; }
* { box-sizing: border-box; }
html { background: #e9ecef; }
body { margin: 0; font: 10.5pt/1.35 system-ui, "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC",
  sans-serif; color: #111; }
.toolbar { display: flex; gap: 12px; align-items: center; justify-content: center; padding: 12px; }
.toolbar button { font: inherit; font-size: 12pt; padding: 8px 20px; border: 0; border-radius: 6px;
  background: #3e63dd; color: #fff; cursor: pointer; }
.toolbar span { color: #555; }
.sheet { width: 210mm; min-height: 297mm; margin: 0 auto 24px; padding: 12mm; background: #fff;
  box-shadow: 0 2px 10px rgba(0,0,0,.15); }
header { display: flex; justify-content: space-between; align-items: flex-end; border-bottom: 2px solid #111;
  padding-bottom: 4mm; margin-bottom: 4mm; }
header h1 { font-size: 18pt; margin: 0; }
header .number { font-size: 20pt; font-weight: 700; letter-spacing: .5px; }
header .printed { font-size: 8.5pt; color: #444; text-align: right; }
table { width: 100%; border-collapse: collapse; }
.facts td { border: 1px solid #999; padding: 2mm 3mm; vertical-align: top; width: 33.3%; }
.facts .label, .notes .label, th, .box .label { font-size: 8pt; color: #444; text-transform: uppercase;
  letter-spacing: .3px; }
.facts .value { font-size: 11.5pt; font-weight: 600; }
.notes { border: 1px solid #999; border-top: 0; padding: 2mm 3mm; min-height: 12mm; white-space: pre-wrap; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; }
.route th { text-align: left; border-bottom: 1.5px solid #111; padding: 1.5mm 2mm; }
.route td { border-bottom: 1px solid #bbb; padding: 2mm; vertical-align: middle; }
.route tr { break-inside: avoid; page-break-inside: avoid; }
.route .step { font-weight: 700; font-size: 11pt; }
.route .seq { display: inline-block; min-width: 8mm; color: #555; font-weight: 600; }
.route .sub { font-size: 8.5pt; color: #444; }
.route .code { width: 27mm; text-align: center; }
.route .ref { font: 6.5pt ui-monospace, monospace; color: #333; word-break: break-all; }
svg.qr { width: 24mm; height: 24mm; display: block; margin: 0 auto; }
.route .sign { width: 34mm; }
.line { border-bottom: 1px solid #777; height: 8mm; }
.empty { color: #666; font-style: italic; }
.signoff { display: flex; gap: 4mm; margin-top: 8mm; break-inside: avoid; page-break-inside: avoid; }
.box { flex: 1; display: flex; flex-direction: column; border: 1px solid #999; padding: 2mm 3mm;
  min-height: 26mm; }
.box .line { margin-top: auto; margin-bottom: 1mm; }
@media print {
  html, body { background: #fff; }
  .toolbar { display: none; }
  .sheet { width: auto; min-height: 0; margin: 0; padding: 0 0.6mm; box-shadow: none; }
}
"""


_MARGIN_FONT = "font: 8pt sans-serif; color: #555;"


def _page_boxes(order_number: str) -> str:
    """Every printed page names its work order (top right) and counts pages (bottom right)."""
    safe = "".join(ch for ch in order_number if ch.isalnum() or ch == "-")
    return (
        f'@page {{ @top-right {{ content: "{safe}"; {_MARGIN_FONT} }}\n'
        f'  @bottom-right {{ content: counter(page) " / " counter(pages); {_MARGIN_FONT} }}\n}}'
    )


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _fact(label: str, value: str, element_id: str) -> str:
    return (
        f'<td><div class="label">{_e(label)}</div>'
        f'<div class="value" id="{element_id}">{_e(value) or "&nbsp;"}</div></td>'
    )


def _task_row(step: TravelerStep, task: TravelerTask | None, first: bool, locale: str) -> str:
    say = lambda key, **params: _e(translate(key, locale, **params))  # noqa: E731
    process = (
        f'<div class="step"><span class="seq">{step.sequence}</span>{_e(step.process)}</div>'
        f'<div class="sub">{_e(step.department)}</div>'
        if first
        else ""
    )
    if task is None:
        return (
            f'<tr class="route-step"><td>{process}</td>'
            f'<td colspan="5" class="empty">{say("traveler.no_tasks")}</td></tr>'
        )
    assignee = " · ".join(part for part in (task.department, task.operator) if part)
    draft = f' <span class="sub">({say("traveler.draft")})</span>' if task.is_draft else ""
    return (
        f'<tr class="traveler-task" data-task-id="{task.id}" data-reference="{_e(task.reference)}">'
        f"<td>{process}</td>"
        f"<td><div>{say('traveler.task_number', task_id=task.id)}{draft}</div>"
        f'<div class="sub">{_e(assignee)}</div></td>'
        f"<td>{_e(format_number(task.quantity, locale))}</td>"
        f'<td class="code">{task.qr}<div class="ref">{_e(task.reference)}</div></td>'
        f'<td class="sign"><div class="line"></div></td>'
        f'<td class="sign"><div class="line"></div></td></tr>'
    )


def render_html(traveler: Traveler, locale: str, *, nonce: str | None = None) -> str:
    """The traveler as a standalone A4 HTML page: a Print button on screen, clean pages on paper.

    Args:
        traveler: What to print.
        locale: The reader's locale (every label comes from the catalogs).
        nonce: The Content-Security-Policy nonce of the page's one script (the Print button).

    Returns:
        The HTML document.
    """
    nonce = nonce or secrets.token_urlsafe(16)
    say = lambda key, **params: _e(translate(key, locale, **params))  # noqa: E731
    rows = []
    for step in traveler.steps:
        if not step.tasks:
            rows.append(_task_row(step, None, True, locale))
        for index, task in enumerate(step.tasks):
            rows.append(_task_row(step, task, index == 0, locale))
    quantity = f"{format_number(traveler.quantity, locale)} {traveler.unit}"
    printed = translate(
        "traveler.printed",
        locale,
        when=format_datetime(traveler.printed_at, locale, settings.timezone),
        name=traveler.printed_by,
    )
    boxes = "".join(
        f'<div class="box"><div class="label">{say(key)}</div><div class="line"></div>'
        f'<div class="label">{say("traveler.sign_date")}</div></div>'
        for key in ("traveler.signoff.released", "traveler.signoff.quality", "traveler.signoff.received")
    )
    title = translate("traveler.title", locale)
    return f"""<!DOCTYPE html>
<html lang="{_e(locale)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{_e(title)} · {_e(traveler.order_number)}</title>
<style>{_CSS}{_page_boxes(traveler.order_number)}</style></head>
<body>
<div class="toolbar"><button type="button" id="print">{say("traveler.print")}</button>
<span>{say("traveler.print_hint")}</span></div>
<main class="sheet" id="traveler" data-work-order-id="{traveler.work_order_id}">
<header><div><h1>{_e(title)}</h1><div class="number" id="order-number">{_e(traveler.order_number)}</div></div>
<div class="printed">{_e(printed)}</div></header>
<table class="facts"><tr>
{_fact(translate("traveler.customer", locale), traveler.customer, "customer")}
{_fact(translate("traveler.product", locale), traveler.product, "product")}
{_fact(translate("traveler.quantity", locale), quantity, "quantity")}
</tr><tr>
{_fact(translate("traveler.due", locale), format_day(traveler.delivery_date, locale), "due")}
{
        _fact(
            translate("traveler.priority", locale),
            translate(f"enum.priority.{traveler.priority}", locale),
            "priority",
        )
    }
{
        _fact(
            translate("traveler.status", locale),
            translate(f"enum.work_order_status.{traveler.status}", locale),
            "status",
        )
    }
</tr></table>
<div class="notes"><div class="label">{say("traveler.notes")}</div><div id="notes">{
        _e(traveler.notes)
    }</div></div>
<h2>{say("traveler.route")}</h2>
<table class="route"><thead><tr>
<th>{say("traveler.column.process")}</th><th>{say("traveler.column.task")}</th>
<th>{say("traveler.column.quantity")}</th><th class="code">{say("traveler.column.code")}</th>
<th>{say("traveler.column.operator")}</th><th>{say("traveler.column.good_scrap")}</th>
</tr></thead><tbody>
{"".join(rows)}
</tbody></table>
<section class="signoff">{boxes}</section>
</main>
<script nonce="{
        _e(nonce)
    }">document.getElementById("print").addEventListener("click", () => window.print());</script>
</body></html>
"""
