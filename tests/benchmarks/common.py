"""Shared benchmark plumbing: scale, throwaway databases, bulk fixtures, timing and the table."""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlmodel import Session

from work_dispatch.__main__ import migrate
from work_dispatch.db import make_engine
from work_dispatch.models import Customer, Department, Process, Product, User, UserDepartment, WorkOrder

SCALE = os.environ.get("SCALE", "full")
SMALL = SCALE == "small"
PG_ADMIN_URL = os.environ.get("WD_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def scaled(full: int, small: int) -> int:
    """The full-scale figure, or the small one when ``SCALE=small``."""
    return small if SMALL else full


@dataclass
class Metric:
    """One printed figure."""

    name: str
    value: float
    unit: str
    baseline: str = ""
    target: str = ""


@dataclass
class Results:
    """Everything measured in one run."""

    metrics: list[Metric] = field(default_factory=list)

    def add(self, name: str, value: float, unit: str, baseline: str = "", target: str = "") -> None:
        """Record and echo a figure."""
        self.metrics.append(Metric(name, value, unit, baseline, target))
        print(f"  {name} = {value:,.2f} {unit} {baseline}", flush=True)

    def table(self) -> str:
        """A Markdown table of the figures."""
        lines = ["| metric | value | baseline / note | target |", "|---|---:|---|---|"]
        for m in self.metrics:
            lines.append(f"| `{m.name}` | {m.value:,.2f} {m.unit} | {m.baseline} | {m.target} |")
        return "\n".join(lines)


@contextmanager
def pg_database(prefix: str = "wd_bench") -> Iterator[str]:
    """A fresh, migrated PostgreSQL database, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def sqlite_database(tmp: Path) -> Iterator[str]:
    """A fresh, migrated SQLite database file."""
    path = tmp / f"bench-{uuid.uuid4().hex[:8]}.db"
    url = f"sqlite:///{path}"
    migrate(url)
    try:
        yield url
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank)."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def median(values: list[float]) -> float:
    """The median."""
    return statistics.median(values)


class Timer:
    """``with Timer() as t: ...; t.seconds``."""

    def __enter__(self) -> Timer:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.started


def shop(url: str, departments: int, operators_per_department: int, processes: int) -> dict:
    """A synthetic shop: departments, operators, processes (one rule each), a customer and a product."""
    from work_dispatch.models import AssignmentRule
    from work_dispatch.services.auth import hash_password

    engine = make_engine(url)
    password = hash_password("bench")
    with Session(engine, expire_on_commit=False) as db:
        dept_rows = [Department(code=f"D{i}", name=f"Dept {i}", sort_order=i) for i in range(departments)]
        db.add_all(dept_rows)
        proc_rows = [
            Process(code=f"P{i}", name=f"Process {i}", standard_minutes=30) for i in range(processes)
        ]
        db.add_all(proc_rows)
        customer = Customer(name="Bench Co")
        product = Product(code="BENCH", name="Bench product")
        db.add_all([customer, product])
        db.flush()
        supervisor = User(
            username="bench_sup", display_name="Bench Supervisor", password_hash=password, role="supervisor"
        )
        db.add(supervisor)
        operator_ids: list[int] = []
        for dept in dept_rows:
            for j in range(operators_per_department):
                user = User(
                    username=f"op_{dept.code}_{j}",
                    display_name=f"Operator {dept.code}-{j}",
                    password_hash=password,
                    role="operator",
                    wip_limit=1_000_000,
                )
                db.add(user)
                db.flush()
                db.add(UserDepartment(user_id=user.id, department_id=dept.id))
                operator_ids.append(user.id)
        strategies = ["least_tasks", "round_robin", "first_available", "random", "pool"]
        for index, process in enumerate(proc_rows):
            db.add(
                AssignmentRule(
                    process_id=process.id,
                    department_id=dept_rows[index % departments].id,
                    priority=50,
                    strategy=strategies[index % 4],
                )
            )
        db.commit()
        ids = {
            "departments": [d.id for d in dept_rows],
            "processes": [p.id for p in proc_rows],
            "customer": customer.id,
            "product": product.id,
            "supervisor": supervisor.id,
            "operators": operator_ids,
        }
    engine.dispose()
    return ids


def bulk_work_orders(url: str, ids: dict, count: int, route: list[int]) -> list[int]:
    """Approved work orders with the given route, inserted in bulk (setup, not measured)."""
    from work_dispatch.models import WorkOrderProcess

    engine = make_engine(url)
    now = datetime.now(UTC)
    with Session(engine) as db:
        rows = [
            {
                "order_number": f"B{i:09d}",
                "customer_id": ids["customer"],
                "product_id": ids["product"],
                "quantity": 1000 + i % 50,
                "unit": "pcs",
                "priority": ["low", "normal", "high", "urgent"][i % 4],
                "delivery_date": (now + timedelta(days=1 + i % 30)).date(),
                "status": "approved",
                "notes": "",
                "created_by_id": ids["supervisor"],
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for i in range(count)
        ]
        order_ids = list(db.execute(insert(WorkOrder).returning(WorkOrder.id), rows).scalars())
        db.execute(
            insert(WorkOrderProcess),
            [
                {
                    "work_order_id": wo,
                    "process_id": pid,
                    "sequence": (k + 1) * 10,
                    "status": "pending",
                    "quantity_completed": 0,
                    "quantity_defective": 0,
                }
                for wo in order_ids
                for k, pid in enumerate(route)
            ],
        )
        db.commit()
    engine.dispose()
    return order_ids
