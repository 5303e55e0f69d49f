"""The tablet card carries the job, and the task center installs as an app.

The operator's card shows customer, product, quantity with its unit and the order's notes; a long
spec is clamped to two lines until tapped. Screenshots at 768×1024 and 1024×768 in both languages
land in artifacts/screenshots/ (``tablet-card-*``). The manifest, icons and service worker are served
by the shop's server with the right types, and the worker caches nothing but the static shell.
"""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from tests.conftest import actor_for
from tests.e2e.conftest import TABLET, login, screenshot
from tests.e2e.seed import approved_order, engine_for, one_person_department
from work_dispatch.i18n import format_datetime
from work_dispatch.models import Customer, Product, Task, WorkOrder
from work_dispatch.services import drafts
from work_dispatch.settings import settings

pytestmark = pytest.mark.e2e

LANDSCAPE = {"width": 1024, "height": 768}
LONG_SPEC = " ".join(
    f"Step {n}: check the register marks on sheet {n}, trim 3 mm bleed, keep the grain long."
    for n in range(1, 9)
)
NOTES = "Deliver to dock 3. Call Mr Wang before cutting."


def _job_on_the_tablet(url: str, ids: dict) -> dict:
    order_id, _ = approved_order(url, [ids["process"]], quantity=30000)
    engine = engine_for(url)
    with Session(engine, expire_on_commit=False) as db:
        order = db.get(WorkOrder, order_id)
        order.unit, order.notes = "sheets", NOTES
        task = db.exec(select(Task).where(Task.work_order_id == order_id)).one()
        task.work_content, task.requirements = LONG_SPEC, "Proof signed by customer"
        task.due_at = datetime.now(UTC) + timedelta(days=1)
        db.add_all([order, task])
        db.commit()
        drafts.publish_drafts(db, actor_for(db, "super1"), work_order_id=order_id)
        job = {
            "task": task.id,
            "customer": db.get(Customer, order.customer_id).name,
            "product": db.get(Product, order.product_id).name,
            "due": format_datetime(task.due_at, "en", settings.timezone, short=True),
        }
    engine.dispose()
    return job


def _spec_height(page, card: str) -> dict:
    return page.evaluate(
        """(card) => {
            const line = document.querySelector(card + ' .spec-work');
            return {client: line.clientHeight, scroll: line.scrollHeight,
                    open: document.querySelector(card + ' details.card-spec').open};
        }""",
        card,
    )


def test_the_card_carries_the_job_and_expands_a_long_spec(served_app, browser):
    url = served_app.database_url
    ids = one_person_department(url, "TC")
    job = _job_on_the_tablet(url, ids)

    context = browser.new_context(viewport=TABLET, has_touch=True, locale="en-US")
    tablet = context.new_page()
    login(tablet, served_app.base_url, ids["username"])
    tablet.wait_for_url("**/operator")
    card = f'.my-task[data-task-id="{job["task"]}"]'
    tablet.wait_for_selector(card, timeout=30_000)
    text = tablet.inner_text(card)
    for part in (job["customer"], job["product"], "0 / 30,000 sheets", NOTES, "Proof signed by customer"):
        assert part in text, part
    assert job["due"] in text

    collapsed = _spec_height(tablet, card)
    assert not collapsed["open"] and collapsed["scroll"] > collapsed["client"] > 0  # clamped
    screenshot(tablet, "tablet-card-en-portrait")
    tablet.tap(f"{card} summary")
    tablet.wait_for_function(f"() => document.querySelector('{card} details.card-spec').open")
    expanded = _spec_height(tablet, card)
    assert expanded["client"] >= expanded["scroll"] and expanded["client"] > collapsed["client"] * 2
    assert "Tap to collapse" in tablet.inner_text(card)
    screenshot(tablet, "tablet-card-en-portrait-expanded")
    tablet.tap(f"{card} summary")
    tablet.wait_for_function(f"() => !document.querySelector('{card} details.card-spec').open")

    tablet.set_viewport_size(LANDSCAPE)
    screenshot(tablet, "tablet-card-en-landscape")
    tablet.click("#locale-switcher .locale-zh-CN")
    tablet.wait_for_function(f"() => document.querySelector('{card}').innerText.includes('工单备注')")
    assert "点按查看完整说明" in tablet.inner_text(card)
    screenshot(tablet, "tablet-card-zh-landscape")
    tablet.set_viewport_size(TABLET)
    screenshot(tablet, "tablet-card-zh-portrait")
    tablet.click("#locale-switcher .locale-en")
    context.close()


def _get(url: str) -> tuple[str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.headers.get("content-type", ""), response.read()


def test_the_task_center_installs_and_caches_only_the_static_shell(served_app, browser):
    base = served_app.base_url
    kind, body = _get(f"{base}/manifest.webmanifest")
    manifest = json.loads(body)
    assert kind.startswith("application/manifest+json")
    assert manifest["start_url"] == "/operator" and manifest["display"] == "standalone"
    purposes = {(icon["sizes"], icon.get("purpose", "any")) for icon in manifest["icons"]}
    wanted = {("192x192", "any"), ("512x512", "any"), ("192x192", "maskable"), ("512x512", "maskable")}
    assert wanted <= purposes
    for icon in manifest["icons"]:
        kind, body = _get(base + icon["src"])
        assert kind == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n", icon["src"]
    kind, body = _get(f"{base}/sw.js")
    assert "javascript" in kind and b"wd-shell-" in body

    context = browser.new_context(viewport=TABLET, has_touch=True)
    page = context.new_page()
    login(page, base, "print1")
    page.wait_for_url("**/operator")
    assert page.evaluate("() => document.querySelector('link[rel=manifest]').href").endswith(
        "/manifest.webmanifest"
    )
    scope = page.evaluate("() => navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == f"{base}/"
    page.reload()
    page.wait_for_selector("#page-title")
    assert page.evaluate("() => navigator.serviceWorker.controller !== null")
    cached = page.evaluate(
        "() => caches.keys().then((names) => Promise.all(names.map((n) => caches.open(n)"
        ".then((c) => c.keys()).then((rs) => rs.map((r) => [n, new URL(r.url).pathname])))))"
        ".then((lists) => lists.flat())"
    )
    assert cached, "the shell was not cached"
    assert {name for name, _ in cached} == {"wd-shell-v1"}
    assert any(path.startswith("/assets/") and path.endswith(".js") for _, path in cached)
    for _, path in cached:
        assert path.startswith(("/assets/", "/icons/")) or path == "/favicon.svg", path
    context.close()
