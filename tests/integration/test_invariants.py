"""Random operation sequences by several supervisors and operators keep the shop consistent.

A Hypothesis state machine drives the services; after every step it checks the invariants
the product promises: one operator per task, sane quantities, an event for every change,
drafts never dispatched, published tasks never lost, board counts equal to the database.
"""

import os
from collections import Counter

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import func
from sqlmodel import Session, select

from tests.conftest import actor_for
from work_dispatch.domain.errors import DomainError
from work_dispatch.models import DefectReason, Task, TaskEvent
from work_dispatch.services import board, dispatch, drafts, task_flow, work_orders
from work_dispatch.services.demo import load_reference_data

OPERATORS = ["prepress1", "prepress2", "ctp1", "print1", "print2", "diecut1", "glue1", "pack1", "pack2"]
SUPERVISORS = ["super1", "super2"]
OUTCOMES: Counter = Counter()
OPEN_WITH_OPERATOR = {"assigned", "in_progress", "paused"}


def build_machine(engine):
    class ShopFloor(RuleBasedStateMachine):
        @initialize()
        def setup(self):
            from tests.conftest import _clean

            _clean(engine)
            self.db = Session(engine, expire_on_commit=False)
            self.shop = load_reference_data(self.db)
            self.actors = {name: actor_for(self.db, name) for name in OPERATORS + SUPERVISORS}
            self.published: set[int] = set()
            supervisor = self.actors["super1"]
            for product in ("POSTER", "LABEL", "BOX-FOLD"):
                order = work_orders.create_work_order(
                    self.db,
                    supervisor,
                    {
                        "customer_id": next(iter(self.shop["customer"].values())),
                        "product_id": self.shop["product"][product],
                        "quantity": 500,
                        "route": work_orders.default_route(self.db, self.shop["product"][product]),
                    },
                )
                work_orders.approve_work_order(self.db, supervisor, order.id)
                self.published |= set(
                    drafts.publish_drafts(self.db, supervisor, work_order_id=order.id).published
                )
            dispatch.run_cycle(self.db, seed=0)

        def teardown(self):
            if os.environ.get("WD_DEBUG_INVARIANTS"):
                statuses = self.db.exec(select(Task.status, func.count()).group_by(Task.status)).all()
                kinds = dict(
                    self.db.exec(select(TaskEvent.kind, func.count()).group_by(TaskEvent.kind)).all()
                )
                print("end state:", dict(statuses), "published:", len(self.published), kinds)
            self.db.close()

        def _try(self, action, *args, **kwargs):
            try:
                result = action(self.db, *args, **kwargs)
                OUTCOMES[f"{action.__name__}:ok"] += 1
                return result
            except DomainError as error:
                OUTCOMES[f"{action.__name__}:{type(error).__name__}"] += 1
                self.db.rollback()
                return None

        def _scrap_reason(self, task_id: int) -> str | None:
            """A scrap reason of the task's process (reports with scrap must say why)."""
            return self.db.exec(
                select(DefectReason.code)
                .join(Task, Task.process_id == DefectReason.process_id)
                .where(Task.id == task_id, DefectReason.kind == "scrap", DefectReason.is_active)
                .order_by(DefectReason.id)
            ).first()

        def _ids(self, condition):
            self.db.expire_all()
            return list(self.db.exec(select(Task.id).where(condition).order_by(Task.id)).all())

        @rule(
            supervisor=st.sampled_from(SUPERVISORS),
            product=st.sampled_from(["POSTER", "LABEL", "BOX-FOLD"]),
            quantity=st.integers(1, 5000),
            batch=st.one_of(st.none(), st.integers(1, 3000)),
        )
        def create_and_approve(self, supervisor, product, quantity, batch):
            route = work_orders.default_route(self.db, self.shop["product"][product])
            route[0]["batch_size"] = batch
            order = self._try(
                work_orders.create_work_order,
                self.actors[supervisor],
                {
                    "customer_id": next(iter(self.shop["customer"].values())),
                    "product_id": self.shop["product"][product],
                    "quantity": quantity,
                    "route": route,
                },
            )
            if order is not None:
                self._try(work_orders.approve_work_order, self.actors[supervisor], order.id)

        @rule(supervisor=st.sampled_from(SUPERVISORS), data=st.data())
        def publish_some(self, supervisor, data):
            ids = self._ids(Task.status == "draft")
            if ids:
                chosen = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=6, unique=True))
                report = self._try(drafts.publish_drafts, self.actors[supervisor], chosen)
                if report:
                    self.published |= set(report.published)

        @rule(data=st.data(), action=st.sampled_from(["split", "merge", "delete", "edit"]))
        def edit_drafts(self, data, action):
            ids = self._ids(Task.status == "draft")
            if not ids:
                return
            actor = self.actors["super1"]
            task_id = data.draw(st.sampled_from(ids))
            if action == "split":
                self._try(drafts.split_draft, actor, task_id, data.draw(st.integers(-5, 3000)))
            elif action == "merge":
                self._try(drafts.merge_drafts, actor, data.draw(st.lists(st.sampled_from(ids), max_size=3)))
            elif action == "delete":
                self._try(drafts.delete_drafts, actor, [task_id])
            else:
                self._try(
                    drafts.edit_draft,
                    actor,
                    task_id,
                    {"production_quantity": data.draw(st.integers(-3, 9000))},
                )

        @rule(seed=st.integers(0, 1000), limit=st.integers(1, 50))
        def dispatch_cycle(self, seed, limit):
            dispatch.run_cycle(self.db, seed=seed, limit=limit)

        @rule(
            operator=st.sampled_from(OPERATORS),
            data=st.data(),
            action=st.sampled_from(["claim", "start", "pause", "resume", "report", "complete"]),
        )
        def operator_acts(self, operator, data, action):
            actor = self.actors[operator]
            relevant = self._ids(
                (Task.assigned_operator_id == actor.user_id)
                | ((Task.status == "queued") & Task.assigned_department_id.in_(actor.department_ids))
            )
            ids = relevant or self._ids(Task.is_draft.is_(False))
            if not ids:
                return
            task_id = data.draw(st.sampled_from(ids))
            if action == "report":
                self._try(
                    task_flow.report_quantity,
                    actor,
                    task_id,
                    data.draw(st.integers(-10, 4000)),
                    data.draw(st.integers(0, 20)),
                    data.draw(st.booleans()),
                    scrap_reason=self._scrap_reason(task_id),
                )
            elif action == "pause":
                self._try(task_flow.pause, actor, task_id, "Break")
            else:
                self._try(getattr(task_flow, action), actor, task_id)

        @rule(operator=st.sampled_from(OPERATORS), data=st.data())
        def operator_progresses(self, operator, data):
            actor = self.actors[operator]
            mine = self.db.exec(
                select(Task).where(
                    Task.assigned_operator_id == actor.user_id, Task.status.in_(OPEN_WITH_OPERATOR)
                )
            ).all()
            if not mine:
                pool = self._ids(
                    (Task.status == "queued") & Task.assigned_department_id.in_(actor.department_ids)
                )
                if pool:
                    self._try(task_flow.claim, actor, data.draw(st.sampled_from(pool)))
                return
            task = data.draw(st.sampled_from(mine))
            if task.status == "assigned":
                self._try(task_flow.start, actor, task.id)
            elif task.status == "paused":
                self._try(task_flow.resume, actor, task.id)
            elif data.draw(st.booleans()):
                remaining = task.production_quantity - task.quantity_completed
                self._try(
                    task_flow.report_quantity,
                    actor,
                    task.id,
                    remaining,
                    data.draw(st.integers(0, 5)),
                    scrap_reason=self._scrap_reason(task.id),
                )
                self._try(task_flow.complete, actor, task.id)
            else:
                self._try(task_flow.pause, actor, task.id, "Machine breakdown")

        @rule(
            data=st.data(),
            action=st.sampled_from(["reassign", "unassign", "reassign", "cancel", "cancel_order"]),
        )
        def supervisor_intervenes(self, data, action):
            ids = self._ids(Task.is_draft.is_(False))
            if not ids:
                return
            actor, task_id = self.actors["super2"], data.draw(st.sampled_from(ids))
            if action == "reassign":
                self._try(
                    task_flow.reassign,
                    actor,
                    task_id,
                    self.actors[data.draw(st.sampled_from(OPERATORS))].user_id,
                    "rebalance",
                )
            elif action == "unassign":
                self._try(task_flow.unassign, actor, task_id, "back to pool")
            elif action == "cancel":
                self._try(task_flow.cancel, actor, task_id, "not needed")
            else:
                task = self.db.get(Task, task_id)
                self._try(work_orders.cancel_work_order, actor, task.work_order_id, "customer cancelled")

        @invariant()
        def shop_is_consistent(self):
            if not hasattr(self, "db"):
                return
            self.db.expire_all()
            tasks = self.db.exec(select(Task)).all()
            events = dict(
                self.db.exec(select(TaskEvent.task_id, func.count()).group_by(TaskEvent.task_id)).all()
            )
            for task in tasks:
                assert task.quantity_completed >= 0 and task.quantity_defective >= 0
                assert task.production_quantity > 0
                assert task.quantity_completed <= task.production_quantity or task.allow_over_production
                if task.status in OPEN_WITH_OPERATOR:
                    assert task.assigned_operator_id is not None, task
                if task.status in ("pending", "queued"):
                    assert task.assigned_operator_id is None, task
                if task.is_draft:
                    assert task.status in ("draft", "cancelled"), task
                assert events.get(task.id, 0) == task.version, (
                    task.id,
                    task.status,
                    task.version,
                    events.get(task.id),
                )
            published_now = {t.id for t in tasks if not t.is_draft}
            assert self.published <= published_now
            counts = board.counts(self.db, self.actors["super1"])
            direct = dict(
                self.db.exec(
                    select(Task.status, func.count()).where(Task.is_draft.is_(False)).group_by(Task.status)
                ).all()
            )
            drafts_open = sum(1 for t in tasks if t.is_draft and t.status == "draft")
            for row in counts.by_status:
                expected = drafts_open if row.key == "draft" else direct.get(row.key, 0)
                assert row.count == expected, (row.key, row.count, expected)

    return ShopFloor


@pytest.mark.slow
def test_random_operations_keep_the_invariants(engine):
    machine = build_machine(engine)
    machine.TestCase.settings = settings(
        max_examples=15, stateful_step_count=60, deadline=None, suppress_health_check=list(HealthCheck)
    )
    machine.TestCase().runTest()
    if os.environ.get("WD_DEBUG_INVARIANTS"):
        print(dict(OUTCOMES))
