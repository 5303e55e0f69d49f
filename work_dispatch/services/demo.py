"""The demo print shop: departments, processes, products, people, rules and orders.

Loading is idempotent: reference data is matched by code or username and left alone
when present; demo work orders are created only when the shop has none yet.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlmodel import Session, func, select

from work_dispatch.domain.enums import Role, Strategy
from work_dispatch.models import (
    AppSetting,
    AssignmentRule,
    Customer,
    Department,
    Process,
    Product,
    ProductRouteStep,
    User,
    UserDepartment,
    WorkOrder,
    utc_now,
)
from work_dispatch.services import auth
from work_dispatch.services.actor import Actor

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "demo1234"

DEPARTMENTS = [
    ("PREPRESS", "Prepress", 10),
    ("CTP", "CTP plate-making", 20),
    ("PRINT", "Printing", 30),
    ("DIECUT", "Die-cutting", 40),
    ("GLUE", "Gluing & box-making", 50),
    ("PACK", "Packing", 60),
]

# code, name, standard minutes, department code
PROCESSES = [
    ("PREFLIGHT", "Preflight & imposition", 30, "PREPRESS"),
    ("PROOF", "Proofing", 20, "PREPRESS"),
    ("PLATE", "Plate making", 15, "CTP"),
    ("OFFSET", "Offset printing", 90, "PRINT"),
    ("VARNISH", "Varnishing", 40, "PRINT"),
    ("DIECUT", "Die-cutting", 60, "DIECUT"),
    ("GLUE", "Folding & gluing", 75, "GLUE"),
    ("PACK", "Packing & labelling", 25, "PACK"),
]

PRODUCTS = [
    ("BOX-FOLD", "Folding carton box", "pcs", ["PREFLIGHT", "PLATE", "OFFSET", "DIECUT", "GLUE", "PACK"]),
    ("BROCHURE", "A4 brochure, 16 pages", "pcs", ["PREFLIGHT", "PROOF", "PLATE", "OFFSET", "PACK"]),
    (
        "LABEL",
        "Wine label, varnished",
        "sheets",
        ["PREFLIGHT", "PLATE", "OFFSET", "VARNISH", "DIECUT", "PACK"],
    ),
    ("POSTER", "B1 poster", "sheets", ["PREFLIGHT", "PLATE", "OFFSET", "PACK"]),
    (
        "GIFTBOX",
        "Rigid gift box",
        "pcs",
        ["PREFLIGHT", "PROOF", "PLATE", "OFFSET", "VARNISH", "DIECUT", "GLUE", "PACK"],
    ),
]

CUSTOMERS = [
    ("Northwind Foods", "orders@northwind.example"),
    ("Blue Harbor Winery", "print@blueharbor.example"),
    ("Atlas Publishing", "production@atlas.example"),
    ("Greenleaf Cosmetics", "packaging@greenleaf.example"),
]

# username, display name, role, departments, wip limit
USERS = [
    ("admin", "Alex Admin", Role.ADMIN, [], 3),
    ("super1", "Sam Supervisor", Role.SUPERVISOR, [], 3),
    ("super2", "Sofia Supervisor", Role.SUPERVISOR, [], 3),
    ("prepress1", "Priya Patel", Role.OPERATOR, ["PREPRESS"], 3),
    ("prepress2", "Peter Novak", Role.OPERATOR, ["PREPRESS", "CTP"], 3),
    ("ctp1", "Chen Wei", Role.OPERATOR, ["CTP"], 4),
    ("print1", "Omar Haddad", Role.OPERATOR, ["PRINT"], 2),
    ("print2", "Olga Ivanova", Role.OPERATOR, ["PRINT"], 2),
    ("print3", "Oscar Silva", Role.OPERATOR, ["PRINT"], 2),
    ("diecut1", "Dana Kim", Role.OPERATOR, ["DIECUT"], 3),
    ("diecut2", "Diego Lopez", Role.OPERATOR, ["DIECUT", "GLUE"], 3),
    ("glue1", "Grace Okafor", Role.OPERATOR, ["GLUE"], 3),
    ("glue2", "Gustav Berg", Role.OPERATOR, ["GLUE"], 3),
    ("pack1", "Paula Costa", Role.OPERATOR, ["PACK"], 5),
    ("pack2", "Pavel Horak", Role.OPERATOR, ["PACK"], 5),
]

STRATEGY_BY_DEPARTMENT = {
    "PREPRESS": Strategy.LEAST_TASKS,
    "CTP": Strategy.FIRST_AVAILABLE,
    "PRINT": Strategy.ROUND_ROBIN,
    "DIECUT": Strategy.LEAST_TASKS,
    "GLUE": Strategy.POOL,
    "PACK": Strategy.POOL,
}


def load_reference_data(db: Session) -> dict[str, dict[str, int]]:
    """Upsert departments, processes, products, customers, users and rules.

    Args:
        db: Open session; committed here.

    Returns:
        Ids by kind and code (usernames for users, names for customers).
    """
    ids: dict[str, dict[str, int]] = {
        "department": {},
        "process": {},
        "product": {},
        "customer": {},
        "user": {},
    }
    for code, name, order in DEPARTMENTS:
        row = db.exec(select(Department).where(Department.code == code)).first()
        if row is None:
            row = Department(code=code, name=name, sort_order=order)
            db.add(row)
            db.flush()
        ids["department"][code] = row.id
    for code, name, minutes, _ in PROCESSES:
        row = db.exec(select(Process).where(Process.code == code)).first()
        if row is None:
            row = Process(code=code, name=name, standard_minutes=minutes)
            db.add(row)
            db.flush()
        ids["process"][code] = row.id
    for code, name, unit, route in PRODUCTS:
        row = db.exec(select(Product).where(Product.code == code)).first()
        if row is None:
            row = Product(code=code, name=name, unit=unit)
            db.add(row)
            db.flush()
            for index, process_code in enumerate(route, start=1):
                db.add(
                    ProductRouteStep(
                        product_id=row.id, sequence=index * 10, process_id=ids["process"][process_code]
                    )
                )
        ids["product"][code] = row.id
    for name, contact in CUSTOMERS:
        row = db.exec(select(Customer).where(Customer.name == name)).first()
        if row is None:
            row = Customer(name=name, contact=contact)
            db.add(row)
            db.flush()
        ids["customer"][name] = row.id
    password_hash = None
    for username, display, role, departments, wip in USERS:
        row = db.exec(select(User).where(User.username == username)).first()
        if row is None:
            password_hash = password_hash or auth.hash_password(DEMO_PASSWORD)
            row = User(
                username=username, display_name=display, password_hash=password_hash, role=role, wip_limit=wip
            )
            db.add(row)
            db.flush()
            for code in departments:
                db.add(UserDepartment(user_id=row.id, department_id=ids["department"][code]))
        ids["user"][username] = row.id
    for process_code, _, _, department_code in PROCESSES:
        process_id = ids["process"][process_code]
        department_id = ids["department"][department_code]
        exists = db.exec(
            select(AssignmentRule).where(
                AssignmentRule.process_id == process_id, AssignmentRule.department_id == department_id
            )
        ).first()
        if exists is None:
            db.add(
                AssignmentRule(
                    process_id=process_id,
                    department_id=department_id,
                    priority=50,
                    strategy=STRATEGY_BY_DEPARTMENT[department_code],
                    notes="Demo default rule",
                )
            )
    if db.get(AppSetting, "auto_dispatch") is None:
        db.add(AppSetting(key="auto_dispatch", value=True))
    db.commit()
    return ids


def _supervisor_actor(db: Session, username: str) -> Actor:
    user = db.exec(select(User).where(User.username == username)).one()
    return Actor(user_id=user.id, username=user.username, display_name=user.display_name, role=user.role)


def _create_demo_orders(db: Session, ids: dict[str, dict[str, int]]) -> int:
    from work_dispatch.services import dispatch, drafts, work_orders

    supervisor = _supervisor_actor(db, "super1")
    today = utc_now().date()
    specs = [
        # customer, product, quantity, priority, days to delivery, printing batch size, target state
        ("Atlas Publishing", "POSTER", 200, "normal", 1, None, "completed"),
        ("Northwind Foods", "BOX-FOLD", 12000, "high", 5, 4000, "in_progress"),
        ("Blue Harbor Winery", "LABEL", 30000, "urgent", 2, None, "published"),
        ("Atlas Publishing", "BROCHURE", 5000, "normal", 9, None, "approved"),
        ("Greenleaf Cosmetics", "GIFTBOX", 800, "normal", 14, None, "draft"),
        ("Atlas Publishing", "POSTER", 1500, "low", 20, None, "draft"),
        ("Northwind Foods", "BOX-FOLD", 2000, "normal", 7, None, "cancelled"),
    ]
    for customer, product, quantity, priority, days, batch, target in specs:
        route = work_orders.default_route(db, ids["product"][product])
        if batch:
            for step in route:
                if step["process_id"] == ids["process"]["OFFSET"]:
                    step["batch_size"] = batch
        order = work_orders.create_work_order(
            db,
            supervisor,
            {
                "customer_id": ids["customer"][customer],
                "product_id": ids["product"][product],
                "quantity": quantity,
                "unit": "pcs",
                "priority": priority,
                "delivery_date": (today + timedelta(days=days)).isoformat(),
                "notes": f"Demo order for {customer}.",
                "route": route,
            },
        )
        if target == "draft":
            continue
        work_orders.approve_work_order(db, supervisor, order.id)
        if target == "cancelled":
            work_orders.cancel_work_order(db, supervisor, order.id, "Customer withdrew the order.")
        elif target in ("published", "in_progress", "completed"):
            drafts.publish_drafts(db, supervisor, work_order_id=order.id)
            dispatch.run_cycle(db, seed=7, respect_switch=False)
            _work_through(
                db, order.id, steps=99 if target == "completed" else 1 if target == "in_progress" else 0
            )
    return len(specs)


def _work_through(db: Session, work_order_id: int, steps: int) -> None:
    """Let operators do the first ``steps`` processes of a work order (and start the next)."""
    from work_dispatch.models import Task
    from work_dispatch.services import dispatch, task_flow
    from work_dispatch.services.auth import actor_for_user

    for _ in range(steps + 1):
        dispatch.run_cycle(db, seed=7, respect_switch=False)
        task = db.exec(
            select(Task)
            .where(Task.work_order_id == work_order_id, Task.status.in_(["assigned", "queued"]))
            .order_by(Task.sequence, Task.id)
        ).first()
        if task is None:
            return
        if task.status == "queued":
            member = db.exec(
                select(User)
                .join(UserDepartment, UserDepartment.user_id == User.id)
                .where(UserDepartment.department_id == task.assigned_department_id)
                .order_by(User.id)
            ).first()
            task_flow.claim(db, actor_for_user(db, member), task.id)
            db.refresh(task)
        operator = actor_for_user(db, db.get(User, task.assigned_operator_id))
        task_flow.start(db, operator, task.id)
        if steps == 0:
            return
        steps -= 1
        task_flow.report_quantity(db, operator, task.id, task.production_quantity, 0)
        task_flow.complete(db, operator, task.id)


def load_demo(db: Session) -> dict[str, int]:
    """Load the demo shop; safe to run any number of times.

    Args:
        db: Open session; committed here.

    Returns:
        Counts of what exists afterwards and how many work orders were created.
    """
    ids = load_reference_data(db)
    created_orders = 0
    if db.exec(select(func.count()).select_from(WorkOrder)).one() == 0:
        created_orders = _create_demo_orders(db, ids)
    return {
        "departments": len(ids["department"]),
        "processes": len(ids["process"]),
        "products": len(ids["product"]),
        "users": len(ids["user"]),
        "work_orders_created": created_orders,
    }
