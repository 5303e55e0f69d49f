"""Job travelers: the printed page, its opaque QR references and resolving a scan, on both databases."""

from __future__ import annotations

import re
import warnings
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import delete, update
from sqlmodel import select
from starlette.exceptions import StarletteDeprecationWarning

with warnings.catch_warnings():
    # Starlette would rather have httpx2; the installed httpx drives its TestClient just as well.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

from work_dispatch.domain.errors import DomainError, NotFoundError, PermissionDeniedError, ValidationError
from work_dispatch.downloads import make_app
from work_dispatch.models import AppSetting, Task, User, WorkOrder, WorkOrderProcess, utc_now
from work_dispatch.services import auth, download_tickets, drafts, travelers
from work_dispatch.services.demo import DEMO_PASSWORD

NOTES = 'Varnish <b>matte</b> & "soft-touch"\n<script>alert(1)</script>'


def _login(db, username: str):
    token, actor = auth.login(db, username, DEMO_PASSWORD, "10.0.0.8")
    db.commit()
    return token, actor


@pytest.fixture
def order(db, shop, supervisor, make_order):
    """An approved poster order in two batches, with notes, half of it published."""
    made = make_order("POSTER", 2000, batch=1000)
    db.execute(update(WorkOrder).where(WorkOrder.id == made.id).values(notes=NOTES))
    db.commit()
    tasks = _tasks(db, made.id)
    first_step = [task.id for task in tasks if task.sequence == min(t.sequence for t in tasks)]
    drafts.publish_drafts(db, supervisor, first_step)
    return db.get(WorkOrder, made.id)


def _tasks(db, work_order_id) -> list[Task]:
    return list(db.exec(select(Task).where(Task.work_order_id == work_order_id).order_by(Task.id)).all())


def test_the_traveler_carries_the_order_the_route_a_code_per_task_and_signature_boxes(db, order, supervisor):
    traveler = travelers.build(db, supervisor, order.id)
    db.commit()
    route = db.exec(select(WorkOrderProcess).where(WorkOrderProcess.work_order_id == order.id)).all()
    assert [step.sequence for step in traveler.steps] == sorted(step.sequence for step in route)
    tasks = _tasks(db, order.id)
    printed = [task for step in traveler.steps for task in step.tasks]
    assert sorted(task.id for task in printed) == [task.id for task in tasks] and len(printed) == 8

    page = travelers.render_html(traveler, "en", nonce="n0nce")
    assert f'id="order-number">{order.order_number}<' in page
    assert 'id="customer">' in page and "B1 poster" in page
    assert 'id="quantity">2,000 pcs<' in page
    assert 'id="due">Jan 15, 2030<' in page
    # Notes are shown as typed, never as markup.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "Varnish &lt;b&gt;matte&lt;/b&gt; &amp; &quot;soft-touch&quot;" in page
    assert page.count('class="box"') == 3 and "Quality check" in page
    assert page.count("<svg") == 8 and "@page { size: A4 portrait" in page
    assert '<script nonce="n0nce">' in page
    for task in printed:
        # The QR code in the page is exactly the code of the reference printed under it
        # (segno is deterministic: the same text gives the same symbol).
        assert travelers.qr_svg(task.reference) in page
        assert f'data-reference="{task.reference}"' in page
        assert re.fullmatch(r"WD1:\d+:[A-Z2-7]{16}", task.reference)


def test_a_traveler_before_approval_lists_the_route_without_codes_in_chinese(
    db, shop, supervisor, make_order
):
    made = make_order("POSTER", 500, approve=False)
    reader = replace(supervisor, locale="zh-CN")
    page = travelers.render_html(travelers.build(db, reader, made.id), "zh-CN")
    assert "<svg" not in page and page.count("尚无任务") == 4
    assert "工单流转卡" in page and 'lang="zh-CN"' in page and "2030年1月15日" in page


def test_every_printed_code_scans_back_to_its_task(db, order, supervisor):
    traveler = travelers.build(db, supervisor, order.id)
    db.commit()
    for step in traveler.steps:
        for task in step.tasks:
            assert travelers.resolve_scan(db, task.reference) == task.id
            # A keyboard-wedge scanner may add blanks or type in lower case.
            assert travelers.resolve_scan(db, f"  {task.reference.lower()}\n") == task.id
            assert travelers.task_reference(db, task.id) == task.reference


def _refused(db, text, key="scan.error.unknown_code"):
    with pytest.raises(DomainError) as refused:
        travelers.resolve_scan(db, text)
    assert refused.value.detail.key == key and refused.value.field == "scan"
    return refused.value


def test_malformed_forged_and_foreign_codes_are_refused_with_a_clear_message(db, order, supervisor):
    tasks = _tasks(db, order.id)
    reference = travelers.task_reference(db, tasks[0].id)
    db.commit()
    task_id, mac = reference.split(":")[1:]
    for text in (
        "",
        "   ",
        None,
        12345,
        ["WD1"],
        "hello",
        "WD1",
        f"WD1:{task_id}",
        f"WD1:{task_id}:",
        f"WD2:{task_id}:{mac}",
        f"WD1:0:{mac}",
        f"WD1:-{task_id}:{mac}",
        f"WD1:{task_id}:{mac}X",
        f"WD1:{task_id}:{mac[:-1]}",
        reference + " " + reference,
        "x" * 10_000,
        str(task_id),  # the bare id: never accepted
    ):
        error = _refused(db, text)
    assert "not a task code of this shop" in error.message
    # Someone else's mac on another id, or a guessed neighbour: refused.
    other = tasks[1].id
    _refused(db, f"WD1:{other}:{mac}")
    _refused(db, f"WD1:{tasks[0].id + 1}:{mac}")
    # A code printed by another installation (another secret) is foreign here.
    db.execute(
        update(AppSetting)
        .where(AppSetting.key == download_tickets.SECRET_SETTING)
        .values(value={"hex": "cd" * 32})
    )
    db.commit()
    _refused(db, reference)
    # Nothing changed: the task is as it was.
    assert db.get(Task, tasks[0].id).status == tasks[0].status


def test_scanning_a_deleted_task_says_so(db, order, supervisor):
    task = _tasks(db, order.id)[-1]
    reference = travelers.task_reference(db, task.id)
    db.execute(delete(Task).where(Task.id == task.id))
    db.commit()
    error = _refused(db, reference, "scan.error.task_gone")
    assert isinstance(error, NotFoundError) and str(task.id) in error.message


def test_codes_without_any_printed_traveler_are_unknown(db, order):
    assert db.get(AppSetting, download_tickets.SECRET_SETTING) is None
    error = _refused(db, "WD1:1:AAAAAAAAAAAAAAAA")
    assert isinstance(error, ValidationError)
    assert db.get(AppSetting, download_tickets.SECRET_SETTING) is None  # resolving creates nothing


def test_references_are_opaque(db, order, supervisor):
    token, _ = _login(db, "super1")
    tasks = _tasks(db, order.id)
    references = [travelers.task_reference(db, task.id) for task in tasks]
    macs = [reference.rsplit(":", 1)[1] for reference in references]
    assert len(set(macs)) == len(macs)
    assert all(token not in reference and auth.hash_token(token) not in reference for reference in references)


# --- the HTTP page ----------------------------------------------------------------------------------


def test_a_supervisor_opens_the_printed_page_through_a_ticket(db, engine, order):
    token, actor = _login(db, "super1")
    url = travelers.traveler_link(db, actor, token, order.id)
    db.commit()
    assert url.startswith("/api/traveler?ticket=") and token not in url
    client = TestClient(make_app(lambda: engine))
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["referrer-policy"] == "no-referrer"
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy and "script-src 'nonce-" in policy
    nonce = re.search(r"'nonce-([^']+)'", policy).group(1)
    assert f'<script nonce="{nonce}">' in response.text
    assert order.order_number in response.text and response.text.count("<svg") == 8


def test_travelers_are_refused_to_others_and_to_stale_tickets(db, engine, order, shop, supervisor):
    token, operator = _login(db, "print1")
    with pytest.raises(PermissionDeniedError):
        travelers.traveler_link(db, operator, token, order.id)
    with pytest.raises(PermissionDeniedError):
        travelers.build(db, operator, order.id)
    sup_token, actor = _login(db, "super2")
    with pytest.raises(NotFoundError):
        travelers.traveler_link(db, actor, sup_token, 999_999)
    with pytest.raises(ValidationError):
        travelers.traveler_link(db, actor, sup_token, "1; drop table")
    base = utc_now()
    url = travelers.traveler_link(db, actor, sup_token, order.id, clock=lambda: base)
    db.commit()
    late = TestClient(make_app(lambda: engine, clock=lambda: base + timedelta(seconds=61)))
    response = late.get(url)
    assert response.status_code == 403 and order.order_number not in response.text
    assert "<svg" not in response.text
    assert TestClient(make_app(lambda: engine)).get("/api/traveler?ticket=nope").status_code == 403
    # The user lost the right between the click and the page.
    db.execute(update(User).where(User.id == actor.user_id).values(role="operator"))
    db.commit()
    response = TestClient(make_app(lambda: engine)).get(url)
    assert response.status_code == 403 and order.order_number not in response.text


def test_a_work_order_deleted_after_the_click_is_a_404(db, engine, order):
    token, actor = _login(db, "super1")
    url = travelers.traveler_link(db, actor, token, order.id)
    db.commit()
    db.execute(delete(WorkOrder).where(WorkOrder.id == order.id))
    db.commit()
    response = TestClient(make_app(lambda: engine)).get(url)
    assert response.status_code == 404 and "does not exist" in response.text


def test_cancelled_tasks_are_left_off(db, order, supervisor):
    tasks = _tasks(db, order.id)
    draft = next(task for task in tasks if task.is_draft)
    db.execute(update(Task).where(Task.id == draft.id).values(status="cancelled"))
    db.commit()
    printed = [task.id for step in travelers.build(db, supervisor, order.id).steps for task in step.tasks]
    assert draft.id not in printed and len(printed) == len(tasks) - 1
