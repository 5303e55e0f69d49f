"""The demo print shop: departments, processes, products, people, rules and orders.

Loading is idempotent: reference data is matched by code or username and left alone
when present; demo work orders are created only when the shop has none yet.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, time, timedelta
from functools import cache

from sqlmodel import Session, func, select

from work_dispatch.domain.enums import Role, Strategy
from work_dispatch.i18n import DEFAULT_LOCALE, normalize_locale, translate
from work_dispatch.models import (
    Absence,
    AppSetting,
    AssignmentRule,
    Closure,
    Customer,
    DefectReason,
    Department,
    Process,
    Product,
    ProductRouteStep,
    ShiftTemplate,
    User,
    UserDepartment,
    WorkOrder,
    utc_now,
)
from work_dispatch.services import auth
from work_dispatch.services.actor import Actor
from work_dispatch.services.shifts import shop_timezone

logger = logging.getLogger(__name__)

DEMO_PASSWORD = "demo1234"

# Names in both languages: a demo in one locale carries the other as the record's name in that
# locale, so an English reader of the Chinese shop (and the reverse) still reads their own.
# code, English name, Chinese name, board order
DEPARTMENTS = [
    ("PREPRESS", "Prepress", "印前", 10),
    ("CTP", "CTP plate-making", "CTP制版", 20),
    ("PRINT", "Printing", "印刷", 30),
    ("DIECUT", "Die-cutting", "模切", 40),
    ("GLUE", "Gluing & box-making", "糊盒", 50),
    ("PACK", "Packing", "包装", 60),
]

# code, English name, Chinese name, standard minutes, department code
PROCESSES = [
    ("PREFLIGHT", "Preflight & imposition", "印前检查与拼版", 30, "PREPRESS"),
    ("PROOF", "Proofing", "打样", 20, "PREPRESS"),
    ("PLATE", "Plate making", "CTP出版", 15, "CTP"),
    ("OFFSET", "Offset printing", "胶印", 90, "PRINT"),
    ("VARNISH", "Varnishing", "上光", 40, "PRINT"),
    ("DIECUT", "Die-cutting", "模切", 60, "DIECUT"),
    ("GLUE", "Folding & gluing", "折盒糊盒", 75, "GLUE"),
    ("PACK", "Packing & labelling", "包装贴标", 25, "PACK"),
]

# Why units of each process are scrapped or sent to rework (supervisors keep these in the catalog).
# process code → (kind, code, English name, Chinese name), in the order the report dialog offers them
DEFECT_REASONS = {
    "PREFLIGHT": [
        ("scrap", "WRONG_FILE", "Wrong file version", "文件版本错误"),
        ("rework", "MISSING_BLEED", "Missing bleed", "缺少出血"),
        ("rework", "FONTS", "Missing or substituted fonts", "字体缺失或被替换"),
    ],
    "PROOF": [
        ("scrap", "COLOUR_OFF", "Colour off", "颜色偏差"),
        ("rework", "CUSTOMER_CHANGES", "Customer changes", "客户修改"),
    ],
    "PLATE": [
        ("scrap", "SCRATCHED", "Scratched plate", "版材划伤"),
        ("scrap", "EXPOSURE", "Exposure fault", "曝光不良"),
        ("rework", "TOUCH_UP", "Plate needs touch-up", "需修版"),
    ],
    "OFFSET": [
        ("scrap", "COLOUR_OFF", "Colour off", "色差"),
        ("scrap", "SMUDGE", "Smudge / set-off", "蹭脏 / 背面粘脏"),
        ("scrap", "REGISTRATION", "Out of register", "套印不准"),
        ("scrap", "TORN_SHEET", "Torn or jammed sheet", "卡纸 / 撕纸"),
        ("rework", "SORTING", "Mixed sheets, sort out", "好坏混杂，需挑拣"),
        ("rework", "HICKEYS", "Hickeys, touch up", "墨皮脏点，需修整"),
    ],
    "VARNISH": [
        ("scrap", "UNEVEN", "Uneven coating", "上光不均"),
        ("rework", "MISSED_AREA", "Missed area, recoat", "漏上光，需补涂"),
    ],
    "DIECUT": [
        ("scrap", "MISALIGNED", "Misaligned cut", "模切偏位"),
        ("scrap", "CRACKED_CREASE", "Cracked crease", "压痕爆线"),
        ("rework", "BURRS", "Burrs or uncut ties, trim", "毛边 / 未切透，需修整"),
    ],
    "GLUE": [
        ("scrap", "GLUE_SMEAR", "Glue smear", "溢胶"),
        ("scrap", "CRUSHED", "Crushed box", "压坏"),
        ("rework", "OPEN_SEAM", "Open glue seam", "开胶"),
        ("rework", "SKEWED_FOLD", "Skewed fold", "折歪"),
    ],
    "PACK": [
        ("scrap", "DAMAGED", "Damaged in handling", "搬运损坏"),
        ("rework", "WRONG_LABEL", "Wrong label", "标签错误"),
        ("rework", "WRONG_COUNT", "Wrong count", "数量不符"),
    ],
}

# code, English name, Chinese name, unit in English, unit in Chinese, route
PRODUCTS = [
    (
        "BOX-FOLD",
        "Folding carton box",
        "折叠彩盒",
        "pcs",
        "个",
        ["PREFLIGHT", "PLATE", "OFFSET", "DIECUT", "GLUE", "PACK"],
    ),
    (
        "BROCHURE",
        "A4 brochure, 16 pages",
        "A4宣传册（16页）",
        "pcs",
        "本",
        ["PREFLIGHT", "PROOF", "PLATE", "OFFSET", "PACK"],
    ),
    (
        "LABEL",
        "Wine label, varnished",
        "上光酒标",
        "sheets",
        "张",
        ["PREFLIGHT", "PLATE", "OFFSET", "VARNISH", "DIECUT", "PACK"],
    ),
    ("POSTER", "B1 poster", "B1海报", "sheets", "张", ["PREFLIGHT", "PLATE", "OFFSET", "PACK"]),
    (
        "GIFTBOX",
        "Rigid gift box",
        "精装礼盒",
        "pcs",
        "个",
        ["PREFLIGHT", "PROOF", "PLATE", "OFFSET", "VARNISH", "DIECUT", "GLUE", "PACK"],
    ),
]

# Customers are proper nouns: each demo has its own, in its language.
CUSTOMERS = {
    "en": [
        ("Northwind Foods", "orders@northwind.example"),
        ("Blue Harbor Winery", "print@blueharbor.example"),
        ("Atlas Publishing", "production@atlas.example"),
        ("Greenleaf Cosmetics", "packaging@greenleaf.example"),
    ],
    "zh-CN": [
        ("华南食品有限公司", "采购部 李经理"),
        ("青港酒业", "包装部 陈主管"),
        ("文华出版社", "出版部 王老师"),
        ("绿叶化妆品有限公司", "包材采购 赵女士"),
    ],
}

# username, English display name, Chinese display name, role, departments, wip limit
USERS = [
    ("admin", "Alex Admin", "管理员 王强", Role.ADMIN, [], 3),
    ("super1", "Sam Supervisor", "张主管", Role.SUPERVISOR, [], 3),
    ("super2", "Sofia Supervisor", "刘主管", Role.SUPERVISOR, [], 3),
    ("prepress1", "Priya Patel", "周敏", Role.OPERATOR, ["PREPRESS"], 3),
    ("prepress2", "Peter Novak", "吴涛", Role.OPERATOR, ["PREPRESS", "CTP"], 3),
    ("ctp1", "Chen Wei", "陈伟", Role.OPERATOR, ["CTP"], 4),
    ("print1", "Omar Haddad", "孙立军", Role.OPERATOR, ["PRINT"], 2),
    ("print2", "Olga Ivanova", "马丽", Role.OPERATOR, ["PRINT"], 2),
    ("print3", "Oscar Silva", "郭海", Role.OPERATOR, ["PRINT"], 2),
    ("diecut1", "Dana Kim", "何静", Role.OPERATOR, ["DIECUT"], 3),
    ("diecut2", "Diego Lopez", "罗斌", Role.OPERATOR, ["DIECUT", "GLUE"], 3),
    ("glue1", "Grace Okafor", "高红", Role.OPERATOR, ["GLUE"], 3),
    ("glue2", "Gustav Berg", "梁勇", Role.OPERATOR, ["GLUE"], 3),
    ("pack1", "Paula Costa", "宋佳", Role.OPERATOR, ["PACK"], 5),
    ("pack2", "Pavel Horak", "唐鹏", Role.OPERATOR, ["PACK"], 5),
]

# Printing and die-cutting dispatch by due date, the policy the shop simulator recommends (README,
# "Dispatch quality"); the others show the count-based strategies and the pool.
STRATEGY_BY_DEPARTMENT = {
    "PREPRESS": Strategy.LEAST_TASKS,
    "CTP": Strategy.FIRST_AVAILABLE,
    "PRINT": Strategy.DUE_DATE,
    "DIECUT": Strategy.DUE_DATE,
    "GLUE": Strategy.POOL,
    "PACK": Strategy.POOL,
}


def _pick(locale: str, english: str, chinese: str) -> tuple[str, dict[str, str]]:
    """The main name in the demo's locale, and the other language's name for ``names``."""
    return (chinese, {"en": english}) if locale == "zh-CN" else (english, {"zh-CN": chinese})


@cache
def _demo_password_hash(username: str) -> str:
    """Each demo user's own hash of the demo password (own salt), computed once per process."""
    return auth.hash_password(DEMO_PASSWORD)


def load_reference_data(db: Session, locale: str = DEFAULT_LOCALE) -> dict[str, dict[str, int]]:
    """Upsert departments, processes, products, customers, users and rules.

    Args:
        db: Open session; committed here.
        locale: The demo shop's language: names, customers, units and the users' preferred
            locale (``zh-CN`` loads the Chinese shop). Records already present are left alone.

    Returns:
        Ids by kind and code (usernames for users, names for customers).
    """
    locale = normalize_locale(locale)
    ids: dict[str, dict[str, int]] = {
        "department": {},
        "process": {},
        "product": {},
        "customer": {},
        "user": {},
    }
    for code, english, chinese, order in DEPARTMENTS:
        row = db.exec(select(Department).where(Department.code == code)).first()
        if row is None:
            name, names = _pick(locale, english, chinese)
            row = Department(code=code, name=name, names=names, sort_order=order)
            db.add(row)
            db.flush()
        ids["department"][code] = row.id
    for code, english, chinese, minutes, _ in PROCESSES:
        row = db.exec(select(Process).where(Process.code == code)).first()
        if row is None:
            name, names = _pick(locale, english, chinese)
            row = Process(code=code, name=name, names=names, standard_minutes=minutes)
            db.add(row)
            db.flush()
        ids["process"][code] = row.id
    _load_defect_reasons(db, ids["process"], locale)
    for code, english, chinese, unit_en, unit_zh, route in PRODUCTS:
        row = db.exec(select(Product).where(Product.code == code)).first()
        if row is None:
            name, names = _pick(locale, english, chinese)
            row = Product(code=code, name=name, names=names, unit=unit_zh if locale == "zh-CN" else unit_en)
            db.add(row)
            db.flush()
            for index, process_code in enumerate(route, start=1):
                db.add(
                    ProductRouteStep(
                        product_id=row.id, sequence=index * 10, process_id=ids["process"][process_code]
                    )
                )
        ids["product"][code] = row.id
    for name, contact in CUSTOMERS[locale]:
        row = db.exec(select(Customer).where(Customer.name == name)).first()
        if row is None:
            row = Customer(name=name, contact=contact)
            db.add(row)
            db.flush()
        ids["customer"][name] = row.id
    for username, english, chinese, role, departments, wip in USERS:
        row = db.exec(select(User).where(User.username == username)).first()
        if row is None:
            row = User(
                username=username,
                display_name=chinese if locale == "zh-CN" else english,
                password_hash=_demo_password_hash(username),
                role=role,
                wip_limit=wip,
                locale=locale,
            )
            db.add(row)
            db.flush()
            for code in departments:
                db.add(UserDepartment(user_id=row.id, department_id=ids["department"][code]))
        ids["user"][username] = row.id
    for process_code, _, _, _, department_code in PROCESSES:
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
                    notes=translate("demo.rule_notes", locale),
                )
            )
    if db.get(AppSetting, "auto_dispatch") is None:
        db.add(AppSetting(key="auto_dispatch", value=True))
    db.commit()
    return ids


def _load_defect_reasons(db: Session, process_ids: dict[str, int], locale: str) -> None:
    """The demo's scrap and rework reasons, each added unless its process already has its code."""
    present = set(
        db.exec(
            select(DefectReason.process_id, DefectReason.kind, DefectReason.code).where(
                DefectReason.process_id.in_(list(process_ids.values()))
            )
        ).all()
    )
    for process_code, reasons in DEFECT_REASONS.items():
        process_id = process_ids[process_code]
        for order, (kind, code, english, chinese) in enumerate(reasons, start=1):
            if (process_id, kind, code) in present:
                continue
            name, names = _pick(locale, english, chinese)
            db.add(
                DefectReason(
                    process_id=process_id, kind=kind, code=code, name=name, names=names, sort_order=order * 10
                )
            )
    db.flush()


# The shift calendar of the demo. Only Packing has shifts, and they cover the clock every day (early,
# late, night), so that its operators get work at any hour like everyone else's: the demo (and the
# tests driving it at any time of day) never finds a department off shift, while the floor page and
# the tablets still show real shifts, their names and ends. Every other department has no shift
# templates, which means no shift limits. No department requires check-in.
# department code, name key, start, end, overnight
DEMO_SHIFTS = [
    ("PACK", "demo.shift.early", time(6), time(14), False),
    ("PACK", "demo.shift.late", time(14), time(22), False),
    ("PACK", "demo.shift.night", time(22), time(6), True),
]
EVERY_DAY = 0b1111111
# username, reason key, days from today (shop clock), start hour, length in hours: always in the future
DEMO_ABSENCES = [
    ("glue2", "demo.absence.vacation", 3, 0, 48),
    ("print3", "demo.absence.training", 10, 8, 9),
]
# department code, reason key, days from today: one day, three weeks ahead
DEMO_CLOSURES = [("PRINT", "demo.closure.maintenance", 21)]


def _load_calendar(db: Session, ids: dict[str, dict[str, int]], locale: str) -> None:
    """Shifts, a closure and absences of the demo, in a shop that has none of them yet.

    Absences and the closure lie days ahead of the load, so a freshly loaded demo has everyone at work.
    """
    if any(db.exec(select(model.id).limit(1)).first() for model in (ShiftTemplate, Closure, Absence)):
        return
    for code, name_key, start, end, overnight in DEMO_SHIFTS:
        db.add(
            ShiftTemplate(
                department_id=ids["department"][code],
                name=translate(name_key, locale),
                start_time=start,
                end_time=end,
                weekdays=EVERY_DAY,
                overnight=overnight,
            )
        )
    zone = shop_timezone()
    today = utc_now().astimezone(zone).date()
    for code, reason_key, days in DEMO_CLOSURES:
        day = today + timedelta(days=days)
        db.add(
            Closure(
                department_id=ids["department"][code],
                first_day=day,
                last_day=day,
                reason=translate(reason_key, locale),
            )
        )
    supervisor_id = ids["user"]["super1"]
    for username, reason_key, days, hour, hours in DEMO_ABSENCES:
        start = datetime.combine(today + timedelta(days=days), time(hour), tzinfo=zone)
        db.add(
            Absence(
                operator_id=ids["user"][username],
                start_at=start,
                end_at=start + timedelta(hours=hours),
                reason=translate(reason_key, locale),
                created_by_id=supervisor_id,
            )
        )
    db.commit()


def _supervisor_actor(db: Session, username: str, locale: str) -> Actor:
    user = db.exec(select(User).where(User.username == username)).one()
    return replace(auth.actor_for_user(db, user), locale=locale)


def _create_demo_orders(db: Session, ids: dict[str, dict[str, int]], locale: str) -> int:
    from work_dispatch.services import dispatch, drafts, work_orders

    supervisor = _supervisor_actor(db, "super1", locale)
    today = utc_now().date()
    customers = [name for name, _ in CUSTOMERS[locale]]
    northwind, blue_harbor, atlas, greenleaf = customers
    specs = [
        # customer, product, quantity, priority, days to delivery, printing batch size, target state
        (atlas, "POSTER", 200, "normal", 1, None, "completed"),
        (northwind, "BOX-FOLD", 12000, "high", 5, 4000, "in_progress"),
        (blue_harbor, "LABEL", 30000, "urgent", 2, None, "published"),
        (atlas, "BROCHURE", 5000, "normal", 9, None, "approved"),
        (greenleaf, "GIFTBOX", 800, "normal", 14, None, "draft"),
        (atlas, "POSTER", 1500, "low", 20, None, "draft"),
        (northwind, "BOX-FOLD", 2000, "normal", 7, None, "cancelled"),
    ]
    units = {
        code: (unit_zh if locale == "zh-CN" else unit_en) for code, _, _, unit_en, unit_zh, _ in PRODUCTS
    }
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
                "unit": units[product],
                "priority": priority,
                "delivery_date": (today + timedelta(days=days)).isoformat(),
                "notes": translate("demo.order_notes", locale, customer=customer),
                "route": route,
            },
        )
        if target == "draft":
            continue
        work_orders.approve_work_order(db, supervisor, order.id)
        if target == "cancelled":
            work_orders.cancel_work_order(db, supervisor, order.id, translate("demo.cancel_reason", locale))
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


def load_demo(db: Session, locale: str = DEFAULT_LOCALE) -> dict[str, int]:
    """Load the demo shop; safe to run any number of times.

    Args:
        db: Open session; committed here.
        locale: ``en`` for the English shop, ``zh-CN`` for the Chinese one (names, customers,
            units, notes, and operators who read Chinese). A shop already loaded stays as it is.

    Returns:
        Counts of what exists afterwards and how many work orders were created.
    """
    locale = normalize_locale(locale)
    ids = load_reference_data(db, locale)
    _load_calendar(db, ids, locale)
    created_orders = 0
    if db.exec(select(func.count()).select_from(WorkOrder)).one() == 0:
        created_orders = _create_demo_orders(db, ids, locale)
    return {
        "departments": len(ids["department"]),
        "processes": len(ids["process"]),
        "products": len(ids["product"]),
        "users": len(ids["user"]),
        "work_orders_created": created_orders,
    }
