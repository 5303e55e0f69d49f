"""The bell: due-soon reminders once per task, read marks, and nobody else's notifications."""

from datetime import timedelta

import pytest
from sqlmodel import select

from tests.conftest import actor_for
from work_dispatch.domain.enums import NotificationKind
from work_dispatch.domain.errors import PermissionDeniedError
from work_dispatch.models import Notification, Task, User, utc_now
from work_dispatch.services import dispatch, drafts, notifications
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
                users[i % len(users)], NotificationKind.TASK_DUE_SOON, f"Title {i}", f"Body {i}", None, None
            )
            for i in range(count)
        ),
        when,
    )
    db.commit()
    rows = db.exec(select(Notification).order_by(Notification.id)).all()
    assert written == len(rows) == count
    assert [(n.recipient_id, n.kind, n.title, n.body) for n in rows] == [
        (users[i % len(users)], "task_due_soon", f"Title {i}", f"Body {i}") for i in range(count)
    ]
    assert all(not n.is_read and n.read_at is None and n.created_at == when for n in rows)


def test_notify_tells_each_recipient_once_and_skips_nobody(db, shop):
    user_id = db.exec(select(User.id)).first()
    assert notifications.notify(db, [user_id, None, user_id], NotificationKind.TASK_CANCELLED, "Gone") == 1
    db.commit()
    assert db.exec(select(Notification.recipient_id, Notification.kind)).all() == [
        (user_id, "task_cancelled")
    ]
