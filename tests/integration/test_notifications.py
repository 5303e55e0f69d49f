"""The bell: due-soon reminders once per task, read marks, and nobody else's notifications."""

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlmodel import select

from tests.conftest import actor_for
from work_dispatch.domain.enums import NotificationKind
from work_dispatch.domain.errors import PermissionDeniedError
from work_dispatch.i18n import Message, literal, msg
from work_dispatch.models import Notification, Process, Task, TaskEvent, User, utc_now
from work_dispatch.services import dispatch, drafts, notifications, task_flow
from work_dispatch.services.audit import COPY_THRESHOLD


def test_due_soon_reminders_are_created_once_per_task(db, make_order, supervisor):
    order = make_order("POSTER")
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db, seed=2)
    tasks = db.exec(select(Task).where(Task.work_order_id == order.id, Task.status == "assigned")).all()
    now = utc_now()
    soon, later = tasks[0], tasks[1]
    soon.due_at = now + timedelta(minutes=30)
    later.due_at = now + timedelta(hours=5)
    db.add_all([soon, later])
    db.commit()
    created = notifications.create_due_soon(db, now, window_minutes=60)
    assert created == [(soon.id, soon.assigned_operator_id)]
    assert notifications.create_due_soon(db, now, window_minutes=60) == []
    assert notifications.create_due_soon(db, now + timedelta(hours=5), window_minutes=60) == [
        (later.id, later.assigned_operator_id)
    ]


def test_mark_read_only_touches_ones_own_notifications(db, make_order, supervisor):
    order = make_order("POSTER")
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db, seed=2)
    notice = db.exec(select(Notification)).first()
    owner = actor_for(db, db.get(User, notice.recipient_id).username)
    stranger = actor_for(db, "pack2" if owner.username != "pack2" else "pack1")
    assert notifications.mark_read(db, stranger, notice.id) == 0
    assert notifications.unread_count(db, owner) >= 1
    assert notifications.mark_read(db, owner, notice.id) == 1
    assert notifications.mark_all_read(db, owner) >= 0
    assert notifications.unread_count(db, owner) == 0
    assert notice.id in [r.id for r in notifications.recent(db, owner)]
    with pytest.raises(PermissionDeniedError):
        notifications.recent(db, None)


@pytest.mark.parametrize("count", [3, COPY_THRESHOLD])
def test_the_writer_stores_every_field_alike_in_small_and_bulk_batches(db, shop, count):
    users = db.exec(select(User.id).order_by(User.id)).all()
    when = utc_now() - timedelta(minutes=5)
    written = notifications.send_notices(
        db,
        (
            notifications.Notice(
                users[i % len(users)],
                NotificationKind.TASK_DUE_SOON,
                msg("notification.due_now.title", task_id=i),
                literal(f"Body {i}") if i % 2 else None,
                None,
                None,
            )
            for i in range(count)
        ),
        when,
    )
    db.commit()
    rows = db.exec(select(Notification).order_by(Notification.id)).all()
    assert written == len(rows) == count
    assert [(n.recipient_id, n.kind, n.message) for n in rows] == [
        (
            users[i % len(users)],
            "task_due_soon",
            {
                "title": {"key": "notification.due_now.title", "params": {"task_id": i}},
                "body": {"key": "text.literal", "params": {"text": f"Body {i}"}} if i % 2 else None,
            },
        )
        for i in range(count)
    ]
    assert all(not n.is_read and n.read_at is None and n.created_at == when for n in rows)


def test_notify_tells_each_recipient_once_and_skips_nobody(db, shop):
    user_id = db.exec(select(User.id)).first()
    title = msg("notification.task_cancelled.title", task_id=1)
    assert notifications.notify(db, [user_id, None, user_id], NotificationKind.TASK_CANCELLED, title) == 1
    db.commit()
    assert db.exec(select(Notification.recipient_id, Notification.kind)).all() == [
        (user_id, "task_cancelled")
    ]


def test_each_reader_sees_a_notification_in_their_own_locale(db, make_order, supervisor):
    order = make_order("POSTER")
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db, seed=2)
    notice = db.exec(select(Notification).where(Notification.kind == "task_assigned")).first()
    assert notice.message["title"]["key"] == "notification.new_task.title"
    reader = actor_for(db, db.get(User, notice.recipient_id).username)
    english = next(r for r in notifications.recent(db, reader) if r.id == notice.id)
    chinese = next(r for r in notifications.recent(db, replace(reader, locale="zh-CN")) if r.id == notice.id)
    assert english.title == f"New task #{notice.task_id} · {order.order_number}"
    assert chinese.title == f"新任务 #{notice.task_id} · {order.order_number}"
    assert (
        "had the fewest open tasks" in english.body
        or "is next in" in english.body
        or "first operator" in english.body
    )
    assert english.body != chinese.body and chinese.body
    assert chinese.created_at.endswith(english.created_at[-5:])  # same time, the date in each locale's words


def test_process_names_in_notifications_follow_the_reader(db, make_order, supervisor, shop):
    poster = db.get(Process, shop["process"]["PREFLIGHT"])
    poster.names = {"zh-CN": "印前检查与拼版"}
    db.add(poster)
    db.commit()
    order = make_order("POSTER", quantity=10)
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db, seed=5)
    task = db.exec(select(Task).where(Task.work_order_id == order.id, Task.process_id == poster.id)).one()
    operator = actor_for(db, db.get(User, task.assigned_operator_id).username)
    task_flow.start(db, operator, task.id)
    task_flow.report_quantity(db, operator, task.id, 10)
    task_flow.complete(db, operator, task.id)
    english = notifications.recent(db, supervisor)[0]
    chinese = notifications.recent(db, replace(supervisor, locale="zh-CN"))[0]
    assert english.title == f"{poster.name} done · {order.order_number}"
    assert chinese.title == f"印前检查与拼版完成 · {order.order_number}"
    assert (english.body, chinese.body) == ("10 good, 0 defective.", "合格 10，废品 0。")


def test_free_text_reasons_are_shown_as_typed_in_every_locale(db, make_order, supervisor):
    order = make_order("POSTER")
    drafts.publish_drafts(db, supervisor, work_order_id=order.id)
    dispatch.run_cycle(db, seed=2)
    task = db.exec(select(Task).where(Task.work_order_id == order.id, Task.status == "assigned")).first()
    operator = actor_for(db, db.get(User, task.assigned_operator_id).username)
    task_flow.cancel(db, supervisor, task.id, "客户改稿 / artwork changed")
    for locale, title in (("en", f"Task #{task.id} cancelled"), ("zh-CN", f"任务 #{task.id} 已取消")):
        row = notifications.recent(db, replace(operator, locale=locale))[0]
        assert (row.title, row.body) == (title, "客户改稿 / artwork changed")


def dispatch_reason(db, task_id):
    """The reason the dispatch event of a task stored (a message as JSON)."""
    event = db.exec(
        select(TaskEvent).where(TaskEvent.task_id == task_id, TaskEvent.kind == "dispatched")
    ).one()
    return Message.from_json(event.data["reason"])
