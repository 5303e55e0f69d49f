"""The demo shop loads completely and idempotently."""

from sqlmodel import func, select

from work_dispatch.models import AssignmentRule, Department, Process, User, WorkOrder
from work_dispatch.services.demo import load_demo


def _count(db, model):
    return db.exec(select(func.count()).select_from(model)).one()


def test_demo_loads_once(db):
    first = load_demo(db)
    snapshot = [_count(db, m) for m in (Department, Process, User, AssignmentRule, WorkOrder)]
    second = load_demo(db)
    assert first["work_orders_created"] > 0 and second["work_orders_created"] == 0
    assert [_count(db, m) for m in (Department, Process, User, AssignmentRule, WorkOrder)] == snapshot
    assert snapshot[0] == 6
    roles = dict(db.exec(select(User.role, func.count()).group_by(User.role)).all())
    assert roles == {"admin": 1, "supervisor": 2, "operator": 12}
    process_ids = set(db.exec(select(Process.id)).all())
    assert set(db.exec(select(AssignmentRule.process_id)).all()) == process_ids
    statuses = set(db.exec(select(WorkOrder.status)).all())
    assert len(statuses) >= 3
