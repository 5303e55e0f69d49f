"""Each reader's language, on both databases: refusals, names, rows and the preferred locale."""

from dataclasses import replace

import pytest
from sqlmodel import select

from tests.conftest import actor_for
from work_dispatch.domain.errors import DomainError, IllegalTransitionError, ValidationError
from work_dispatch.models import Department, Process, Task, TaskEvent, User
from work_dispatch.services import (
    board,
    catalog,
    dispatch,
    drafts,
    people,
    reference,
    task_center,
    task_flow,
    work_orders,
)
from work_dispatch.services.auth import actor_for_user


def _refusal(call, *args) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args)
    return caught.value


def test_a_refusal_reads_in_the_actors_locale_and_stays_english_in_the_log(db, supervisor, shop):
    form = {
        "customer_id": next(iter(shop["customer"].values())),
        "product_id": shop["product"]["POSTER"],
        "quantity": 0,
        "route": work_orders.default_route(db, shop["product"]["POSTER"]),
    }
    error = _refusal(work_orders.create_work_order, db, replace(supervisor, locale="zh-CN"), form)
    assert isinstance(error, ValidationError) and error.field == "quantity"
    assert error.message == "Quantity must be at least 1." == str(error)
    assert error.render("zh-CN") == "数量不能小于 1。"
    assert error.render("fr") == error.message  # an unknown locale falls back to English
    operator = actor_for(db, "print1")
    assert _refusal(work_orders.list_work_orders, db, operator).render("zh-CN") == "只有主管可以执行此操作。"


def test_a_blocked_start_names_the_waiting_process_in_the_readers_language(db, make_order, supervisor, shop):
    order = make_order("POSTER", quantity=10)
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db, seed=3)
    tasks = db.exec(select(Task).where(Task.work_order_id == order.id).order_by(Task.sequence)).all()
    second = next(t for t in tasks[1:] if t.assigned_operator_id)
    operator = actor_for(db, db.get(User, second.assigned_operator_id).username)
    error = _refusal(task_flow.start, db, operator, second.id)
    assert isinstance(error, IllegalTransitionError)
    assert error.message == f"Task #{second.id} is blocked. Waiting for Preflight & imposition to finish."
    assert error.render("zh-CN") == f"任务 #{second.id} 还不能开始。等待印前检查与拼版完成。"
    card = next(
        c for c in task_center.overview(db, replace(operator, locale="zh-CN")).my_tasks if c.id == second.id
    )
    assert card.blocked_reason == "等待印前检查与拼版完成。"
    assert card.status_label == "已派工" and card.priority_label == "普通"
    wrong = _refusal(task_flow.complete, db, operator, second.id)
    assert wrong.message == "Cannot complete a task that is assigned."
    assert wrong.render("zh-CN") == "无法完成：任务已派工。"


def test_everyone_sets_their_own_preferred_locale(db, shop):
    operator = actor_for(db, "print1")
    assert operator.locale == "en"
    assert people.set_my_locale(db, operator, "zh_cn") == "zh-CN"
    user = db.get(User, operator.user_id)
    db.refresh(user)
    assert user.locale == "zh-CN" and actor_for_user(db, user).locale == "zh-CN"
    for bad in ("fr", "", None, 42, "x" * 500):
        error = _refusal(people.set_my_locale, db, operator, bad)
        assert isinstance(error, ValidationError) and error.field == "locale"
        assert "en, zh-CN" in error.message
    db.refresh(user)
    assert user.locale == "zh-CN"
    assert people.set_my_locale(db, operator, "en-US") == "en"
    with pytest.raises(DomainError):
        people.set_my_locale(db, None, "en")


def test_admins_give_accounts_a_preferred_locale(db, shop):
    admin = actor_for(db, "admin")
    form = {
        "username": "li.ming",
        "display_name": "李明",
        "role": "operator",
        "wip_limit": 3,
        "department_ids": [shop["department"]["PRINT"]],
        "password": "secret123",
        "locale": "zh-CN",
    }
    user_id = people.create_person(db, admin, form)
    assert db.get(User, user_id).locale == "zh-CN"
    row = next(r for r in people.list_people(db, replace(admin, locale="zh-CN"), search="li.ming").rows)
    assert (row.locale, row.departments) == ("zh-CN", ["印刷"])
    update = {k: v for k, v in form.items() if k not in ("username", "password", "locale")}
    people.update_person(db, admin, user_id, update)  # no locale sent: kept
    assert db.get(User, user_id).locale == "zh-CN"
    error = _refusal(people.update_person, db, admin, user_id, {**update, "locale": "klingon"})
    assert error.field == "locale" and db.get(User, user_id).locale == "zh-CN"


def test_catalog_names_in_each_locale_are_edited_and_shown_to_each_reader(db, supervisor, shop):
    admin = actor_for(db, "admin")
    process_id = catalog.save_process(
        db,
        supervisor,
        {"code": "HOTFOIL", "name": "Hot foil stamping", "standard_minutes": 30, "name_zh": "烫金"},
    )
    department_id = catalog.save_department(
        db, admin, {"code": "FINISH", "name": "Finishing", "sort_order": 70, "name_zh": "后道"}
    )
    chinese = replace(supervisor, locale="zh-CN")
    row = next(r for r in catalog.list_processes(db, chinese) if r.id == process_id)
    assert (row.name, row.name_zh, row.name_en, row.display_name) == ("Hot foil stamping", "烫金", "", "烫金")
    row = next(r for r in catalog.list_processes(db, supervisor) if r.id == process_id)
    assert row.display_name == "Hot foil stamping"
    assert "后道" in [o.label for o in reference.lists(db, chinese).departments]
    assert "烫金" in [o.label for o in reference.lists(db, chinese).processes]
    assert (
        next(r for r in catalog.list_departments(db, chinese) if r.id == department_id).display_name == "后道"
    )
    # A save without the field keeps the name; a blank one removes it.
    catalog.save_process(db, supervisor, {"name": "Hot foil", "standard_minutes": 30}, process_id)
    assert db.get(Process, process_id).names == {"zh-CN": "烫金"}
    catalog.save_process(
        db, supervisor, {"name": "Hot foil", "standard_minutes": 30, "name_zh": " "}, process_id
    )
    assert db.get(Process, process_id).names == {}
    error = _refusal(
        catalog.save_department,
        db,
        admin,
        {"name": "x", "sort_order": 1, "name_zh": "长" * 121},
        department_id,
    )
    assert error.field == "name_zh" and error.render("zh-CN") == "中文名称最多 120 个字符。"
    assert db.get(Department, department_id).names == {"zh-CN": "后道"}


def test_board_rows_counts_and_history_follow_the_reader(db, make_order, supervisor, shop):
    order = make_order("POSTER", quantity=30000)
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db, seed=1)
    chinese = replace(supervisor, locale="zh-CN")
    rows = {r.id: r for r in board.query_page(db, chinese, {"order_number": order.order_number}).rows}
    english = {r.id: r for r in board.query_page(db, supervisor, {"order_number": order.order_number}).rows}
    task = db.exec(
        select(Task).where(Task.work_order_id == order.id, Task.process_id == shop["process"]["PREFLIGHT"])
    ).one()
    assert (english[task.id].process, rows[task.id].process) == ("Preflight & imposition", "印前检查与拼版")
    assert (english[task.id].status_label, rows[task.id].status_label) == ("Assigned", "已派工")
    assert rows[task.id].due_at.startswith("1月15日") and english[task.id].due_at.startswith("Jan 15")
    counts = board.counts(db, chinese)
    assert counts.by_status[0].label == "草稿" and counts.by_department[0].label == "印前"
    detail = board.task_detail(db, chinese, task.id)
    dispatched = next(e for e in detail.events if e.kind == "dispatched")
    assert dispatched.summary.startswith("派给 ") and "未完成任务最少" in dispatched.summary
    assert any(d.startswith("规则 #") and "未完成任务最少" in d for d in dispatched.details)
    assert board.task_detail(db, supervisor, task.id).events[-1].actor in ("System", "Sam Supervisor")
    # An explanation stored as an English sentence before messages still shows, as written.
    event = db.exec(
        select(TaskEvent).where(TaskEvent.task_id == task.id, TaskEvent.kind == "dispatched")
    ).one()
    event.data = {**event.data, "reason": "Priya Patel had the fewest open tasks (0)"}
    db.add(event)
    db.commit()
    old = next(e for e in board.task_detail(db, chinese, task.id).events if e.kind == "dispatched")
    assert old.summary.endswith("：Priya Patel had the fewest open tasks (0)")


def test_work_order_rows_and_drafts_follow_the_reader(db, make_order, supervisor):
    order = make_order("POSTER", quantity=30000, priority="urgent")
    chinese = replace(supervisor, locale="zh-CN")
    row = next(r for r in work_orders.list_work_orders(db, chinese).rows if r.id == order.id)
    assert (row.product, row.status_label, row.priority_label) == ("B1海报", "已审核", "加急")
    assert (row.quantity_text, row.delivery_day, row.delivery_date) == (
        "30,000",
        "2030年1月15日",
        "2030-01-15",
    )
    group = next(g for g in drafts.list_drafts(db, chinese).groups if g.work_order_id == order.id)
    assert group.priority_label == "加急" and group.drafts[0].process == "印前检查与拼版"


def test_batches_are_noted_in_the_language_of_who_generates(db, make_order, supervisor, shop):
    chinese = replace(supervisor, locale="zh-CN")
    order = make_order("POSTER", quantity=10, batch=4, approve=False)
    work_orders.approve_work_order(db, chinese, order.id)
    contents = db.exec(select(Task.work_content).where(Task.work_order_id == order.id)).all()
    assert "第 1/3 批" in contents and "Batch 1/3" not in contents
