"""The demo shop loads completely and idempotently."""

from sqlmodel import func, select

from work_dispatch.models import (
    AssignmentRule,
    Customer,
    Department,
    Notification,
    Process,
    Product,
    User,
    WorkOrder,
)
from work_dispatch.services.auth import verify_password
from work_dispatch.services.demo import DEMO_PASSWORD, load_demo


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


def test_the_chinese_demo_shop_loads_once_with_chinese_names_and_readers(db):
    first = load_demo(db, "zh-CN")
    snapshot = [_count(db, m) for m in (Department, Process, User, AssignmentRule, WorkOrder, Customer)]
    assert load_demo(db, "zh-CN")["work_orders_created"] == 0 < first["work_orders_created"]
    assert [
        _count(db, m) for m in (Department, Process, User, AssignmentRule, WorkOrder, Customer)
    ] == snapshot
    departments = db.exec(select(Department).order_by(Department.sort_order)).all()
    assert [d.name for d in departments] == ["印前", "CTP制版", "印刷", "模切", "糊盒", "包装"]
    assert departments[2].names == {"en": "Printing"}
    assert all(_is_chinese(c.name) for c in db.exec(select(Customer)).all())
    assert all(_is_chinese(p.name) for p in db.exec(select(Product)).all())
    operators = db.exec(select(User).where(User.role == "operator")).all()
    assert len(operators) == 12 and {u.locale for u in operators} == {"zh-CN"}
    assert all(_is_chinese(u.display_name) for u in operators)
    orders = db.exec(select(WorkOrder)).all()
    assert {o.unit for o in orders} <= {"个", "本", "张"} and all(_is_chinese(o.notes) for o in orders)
    titles = [n.message["title"]["key"] for n in db.exec(select(Notification)).all()]
    assert titles and all(key.startswith("notification.") for key in titles)


def test_demo_users_have_distinct_password_hashes_that_all_verify(db):
    load_demo(db)
    hashes = db.exec(select(User.password_hash)).all()
    assert len(hashes) == len(set(hashes)) == 15
    assert all(verify_password(h, DEMO_PASSWORD) for h in hashes)


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= character <= "\u9fff" for character in text)
