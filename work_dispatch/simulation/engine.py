"""The discrete-event run of one scenario under one policy, through the real domain code.

Every status change goes through :func:`~work_dispatch.domain.task_machine.next_status`;
every dispatch decision through :func:`~work_dispatch.domain.policies.rank_tasks`,
:func:`~work_dispatch.domain.policies.plan_department` and the policy's chooser (which
checks eligibility with :func:`~work_dispatch.domain.scheduling.exclusion_of` and, for
count-based strategies, picks with :func:`~work_dispatch.domain.dispatching.select_operator`).

The shop floor, as simulated:

- A work order's tasks are generated and published when it is released; a task becomes
  *ready* when the previous route step is complete, and only ready tasks are dispatched.
- After every change (release, completion, shift start or end) a dispatch cycle runs;
  then every idle operator at work starts the first task of their tablet list (paused,
  then priority, then due time), or, under the pool strategy, claims the first task of
  their department's pool they are qualified for, in the same tablet order.
- At the end of an operator's working time their running task is paused ("shift end")
  and, with their unstarted tasks, handed back to dispatch, so the next shift carries on.
- Real durations differ from planned ones; what policies see is the planned remaining
  minutes computed from the good quantity reported so far.

Handover (when the scenario's steps carry transfer batches): a task works at an even pace
after its setup and reports its good units each time it completes one transfer batch of
the next step, at a shift-end pause and at completion. The next step's task becomes ready,
and dispatchable, once :func:`~work_dispatch.domain.flow.startable` says the material
covers one batch; it never works beyond the units handed over: when it runs out, its
operator pauses it (waiting for material) and keeps it, resuming when the next batch
arrives. Reports are checked with :func:`~work_dispatch.domain.flow.validate_report`
against the material available, and "material available" notices follow
:func:`~work_dispatch.domain.flow.first_handover`. Without transfer batches none of this
runs and a run is exactly what it was before handover existed.

With ``order_bias`` (one offset per work order; index-ranked policies only), every task's
rank index is multiplied by e^offset of its order before the department plans: the knob
:mod:`~work_dispatch.simulation.hindsight` turns, knowing the future, to see how far
re-weighting orders could take a policy.

With ``eta=True`` each order's completion is estimated at its release with
:func:`~work_dispatch.domain.flow.estimate`, from the open tasks of the whole shop ranked
as the policy ranks them, on each department's workstations
(:func:`~work_dispatch.simulation.shop.lanes`).

The run checks, independently of the code under test, that nobody ever holds more tasks
than their WIP limit, works on a process they are not qualified for, or gets or does
work outside their shift or during an absence; those are the *violations* (and, with
handover, work done on material not yet handed over: ``material_violations``).
"""

from __future__ import annotations

import bisect
import heapq
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from work_dispatch.domain.enums import PRIORITY_RANK, Strategy, TaskStatus
from work_dispatch.domain.errors import ValidationError
from work_dispatch.domain.flow import (
    EtaTask,
    available,
    estimate,
    first_handover,
    handover_threshold,
    startable,
    validate_report,
)
from work_dispatch.domain.policies import (
    DUE_DATE_PARAMS,
    STRATEGY_POLICIES,
    Chooser,
    DueDateParams,
    TaskOrder,
    TaskView,
    count_based,
    least_work,
    plan_department,
    rank_tasks,
)
from work_dispatch.domain.scheduling import Candidate, Requirement, exclusion_of, remaining_minutes
from work_dispatch.domain.task_machine import TaskAction, next_status
from work_dispatch.simulation.policies import SimPolicy
from work_dispatch.simulation.shop import DEPARTMENT, PROCESS, START, Scenario, at_minute, lanes, minute_of

HORIZON_DAYS = 28
"""A run stops after this many days even if work is left (reported as unfinished)."""

_DONE, _WORK_END, _WORK_START, _ARRIVE, _TICK, _MILESTONE = 0, 1, 2, 3, 4, 5
EPSILON = 1e-6
"""Minutes within which two instants of work are the same (float arithmetic of report points)."""
TICK_MINUTES = 5.0
"""How often dispatch runs between events when a policy waits for operators to be nearly free."""
_WAITING = frozenset({TaskStatus.PENDING, TaskStatus.QUEUED, TaskStatus.ASSIGNED, TaskStatus.PAUSED})
INDEX_ORDERS = frozenset({TaskOrder.ATC, TaskOrder.DUE_DATE})
"""Task orders that rank by an index (highest first), so an order's offset can scale it."""


@dataclass
class SimTask:
    """A task of the run."""

    task_id: int
    order_index: int
    step_index: int
    process_id: int
    department_id: int
    quantity: int
    planned: float
    actual: float
    downstream: float
    due: float
    priority: str
    status: TaskStatus = TaskStatus.DRAFT
    operator_id: int | None = None
    ready_at: float | None = None
    worked: float = 0.0
    completed_at: float | None = None
    view_due: Any = None
    transfer_batch: int | None = None
    reported: int = 0
    next_event_at: float | None = None
    first_started_at: float | None = None
    starved: int = 0


@dataclass
class OperatorState:
    """An operator during the run."""

    operator_id: int
    department_id: int
    name: str
    levels: dict[int, int]
    calendar: Any
    work_starts: list[float]
    work_ends: list[float]
    shift_starts: list[float]
    shift_ends: list[float]
    absence_spans: list[tuple[float, float]]
    working: bool = False
    running: int | None = None
    run_started: float = 0.0
    run_token: int = 0
    open_tasks: list[int] = field(default_factory=list)
    busy: float = 0.0
    intervals: list[tuple[float, float, int]] = field(default_factory=list)
    idle_with_backlog: float = 0.0


@dataclass
class RunResult:
    """What one run produced: per-order completions, per-operator time, violations."""

    policy: str
    completed_at: list[float | None]
    operators: list[OperatorState]
    tasks: list[SimTask]
    violations: dict[str, int]
    end: float
    decisions: int
    sample_explanation: dict[str, Any] | None = None
    eta_at_release: list[float | None] = field(default_factory=list)
    handover_notices: int = 0
    material_violations: int = 0
    starved: int = 0


class _Run:
    def __init__(
        self,
        scenario: Scenario,
        policy: SimPolicy,
        params: DueDateParams,
        eta: bool = False,
        order_bias: Sequence[float] | None = None,
    ) -> None:
        if order_bias is not None and (
            policy.order not in INDEX_ORDERS or len(order_bias) != len(scenario.orders)
        ):
            raise ValueError("order_bias needs an index-ranked policy and one offset per order")
        self.order_bias = order_bias
        self.scenario = scenario
        self.handover = any(s.transfer_batch is not None for o in scenario.orders for s in o.steps)
        self.eta = eta
        self.lanes = lanes() if eta else {}
        self.eta_at_release: list[float | None] = [None] * len(scenario.orders) if eta else []
        self.handover_notices = 0
        self.material_violations = 0
        self.paces: dict[int, tuple[float, float]] = {}
        self.starved = 0
        self.policy = policy
        self.params = params
        self.wip_limit = scenario.settings.wip_limit
        self.rng = random.Random(scenario.seed)
        self.cursors: dict[Any, int | None] = {}
        self.shop = scenario.shop_calendar
        self.clock = self.shop.working_minutes_between
        self.events: list[tuple[float, int, int, int]] = []
        self.sequence = 0
        self.tasks: list[SimTask] = []
        self.order_tasks: list[list[int]] = []
        self.completed_at: list[float | None] = [None] * len(scenario.orders)
        self.violations = {"wip": 0, "skill": 0, "shift": 0, "absence": 0, "overrun": 0}
        self.decisions = 0
        self.sample_explanation: dict[str, Any] | None = None
        self.end_limit = HORIZON_DAYS * 1440.0
        self.operators: dict[int, OperatorState] = {}
        self.by_department: dict[int, list[OperatorState]] = {}
        self.requirements = {
            p.process_id: Requirement(
                p.process_id, p.min_level, DEPARTMENT[p.department_id].requires_check_in
            )
            for p in PROCESS.values()
        }
        self.ready_open: set[int] = set()
        self.unfinished = 0
        self.choosers: dict[int, Chooser] = {}
        self.commit = params.commit_minutes if policy.order is TaskOrder.DUE_DATE else policy.commit_minutes
        for operator in scenario.operators:
            state = self._operator_state(operator)
            self.operators[operator.operator_id] = state
            self.by_department.setdefault(operator.department_id, []).append(state)
        for department_id in self.by_department:
            self.choosers[department_id] = self._chooser(department_id)

    # -- setup -------------------------------------------------------------------------------
    def _chooser(self, department_id: int) -> Chooser:
        name = self.policy.chooser
        if name == "least_work":
            return least_work
        if name in STRATEGY_POLICIES:
            return STRATEGY_POLICIES[name][1]
        if name == "pool":
            return least_work  # never used: pool tasks are claimed
        return count_based(Strategy(name), self.rng, self.cursors, department_id)

    def _operator_state(self, operator) -> OperatorState:
        horizon = at_minute(self.end_limit)
        spans = operator.calendar.working_intervals(START, horizon)
        work = [((a - START).total_seconds() / 60, (b - START).total_seconds() / 60) for a, b in spans]
        # The independent check: shift occurrences straight from the template (UTC shop).
        shift = operator.shift
        shift_spans = []
        for day in range(HORIZON_DAYS + 1):
            if (START.weekday() + day) % 7 in shift.weekdays:
                begin = day * 1440 + shift.start.hour * 60 + shift.start.minute
                shift_spans.append((begin, begin + shift.minutes))
        absences = [
            ((a.start - START).total_seconds() / 60, (a.end - START).total_seconds() / 60)
            for a in operator.absences
        ]
        state = OperatorState(
            operator.operator_id,
            operator.department_id,
            operator.name,
            dict(operator.levels),
            operator.calendar,
            [a for a, _ in work],
            [b for _, b in work],
            [a for a, _ in shift_spans],
            [b for _, b in shift_spans],
            absences,
        )
        for a, b in work:
            self._push(a, _WORK_START, operator.operator_id)
            self._push(b, _WORK_END, operator.operator_id)
        return state

    def _push(self, when: float, kind: int, subject: int) -> None:
        self.sequence += 1
        heapq.heappush(self.events, (when, kind, self.sequence, subject))

    # -- the loop ------------------------------------------------------------------------------
    def run(self) -> RunResult:
        for index, order in enumerate(self.scenario.orders):
            self._push(order.release, _ARRIVE, index)
        if self.commit:  # an operator becomes "nearly free" between events: look every few minutes
            self._push(self.scenario.orders[0].release if self.scenario.orders else 0.0, _TICK, 0)
        now = 0.0
        while self.events:
            now = self.events[0][0]
            if now > self.end_limit or (self.unfinished == 0 and self._all_released()):
                break
            while self.events and self.events[0][0] == now:
                _, kind, _, subject = heapq.heappop(self.events)
                if kind == _DONE:
                    self._done(subject, now)
                elif kind == _WORK_END:
                    self._work_end(subject, now)
                elif kind == _WORK_START:
                    self.operators[subject].working = True
                elif kind == _ARRIVE:
                    self._arrive(subject, now)
                elif kind == _MILESTONE:
                    self._milestone(subject, now)
                elif self.unfinished or not self._all_released():
                    self._push(now + TICK_MINUTES, _TICK, 0)
            self._dispatch(now)
            self._operators_act(now)
            upcoming = self.events[0][0] if self.events else now
            self._account_idle(now, min(upcoming, self.end_limit))
        end = max((c for c in self.completed_at if c is not None), default=0.0)
        return RunResult(
            self.policy.name,
            self.completed_at,
            list(self.operators.values()),
            self.tasks,
            self.violations,
            end,
            self.decisions,
            self.sample_explanation,
            self.eta_at_release,
            self.handover_notices,
            self.material_violations,
            self.starved,
        )

    def _all_released(self) -> bool:
        return len(self.order_tasks) == len(self.scenario.orders)

    # -- events ----------------------------------------------------------------------------------
    def _arrive(self, index: int, now: float) -> None:
        order = self.scenario.orders[index]
        ids = []
        remaining_after = [sum(s.planned for s in order.steps[i + 1 :]) for i in range(len(order.steps))]
        due_at = at_minute(order.due)
        for step_index, step in enumerate(order.steps):
            task = SimTask(
                len(self.tasks) + 1,
                index,
                step_index,
                step.process_id,
                PROCESS[step.process_id].department_id,
                step.quantity,
                step.planned,
                step.actual,
                remaining_after[step_index],
                order.due,
                order.priority,
                view_due=due_at,
                transfer_batch=step.transfer_batch,
            )
            task.status = next_status(TaskAction.PUBLISH, task.status)
            self.tasks.append(task)
            ids.append(task.task_id)
        self.order_tasks.append(ids)
        self.unfinished += 1
        self._make_ready(ids[0], now)
        if self.eta:
            self._estimate(index, now)

    def _make_ready(self, task_id: int, now: float) -> None:
        task = self.tasks[task_id - 1]
        task.ready_at = now
        self.ready_open.add(task_id)

    def _done(self, task_id: int, now: float) -> None:
        task = self.tasks[task_id - 1]
        operator = self.operators[task.operator_id]
        if operator.running != task_id:
            return
        self._stop_running(operator, now)
        if self._work_index(operator, now - 1e-6) is None:
            self.violations["overrun"] += 1
        task.status = next_status(TaskAction.COMPLETE, task.status)
        task.completed_at = now
        operator.open_tasks.remove(task_id)
        self.ready_open.discard(task_id)
        ids = self.order_tasks[task.order_index]
        if self.handover:
            self._report(task, task.quantity, now)
        if task.step_index + 1 < len(ids):
            following = self.tasks[ids[task.step_index + 1] - 1]
            if following.ready_at is None:
                self._make_ready(following.task_id, now)
            elif self.handover:
                self._reschedule(following, now)
        else:
            self.completed_at[task.order_index] = now
            self.unfinished -= 1

    def _work_end(self, operator_id: int, now: float) -> None:
        operator = self.operators[operator_id]
        operator.working = False
        if operator.running is not None:
            task = self.tasks[operator.running - 1]
            self._stop_running(operator, now)
            task.status = next_status(TaskAction.PAUSE, task.status)  # reason: shift end
            if self.handover:  # the operator reports what they made before leaving
                task.next_event_at = None
                self._check_material(task, task.worked)
                self._report(task, self._units(task, task.worked), now)
        for task_id in list(operator.open_tasks):
            task = self.tasks[task_id - 1]
            task.status = next_status(TaskAction.UNASSIGN, task.status)
            task.operator_id = None
            operator.open_tasks.remove(task_id)

    def _stop_running(self, operator: OperatorState, now: float) -> None:
        task = self.tasks[operator.running - 1]
        task.worked += now - operator.run_started
        operator.busy += now - operator.run_started
        if now > operator.run_started:
            operator.intervals.append((operator.run_started, now, task.task_id))
        operator.running = None
        operator.run_token += 1

    # -- decisions -------------------------------------------------------------------------------
    def _remaining_planned(self, task: SimTask, now: float) -> float:
        worked = task.worked
        operator = self.operators.get(task.operator_id) if task.operator_id else None
        if operator is not None and operator.running == task.task_id:
            worked += now - operator.run_started
        process = PROCESS[task.process_id]
        noise = task.actual / task.planned
        setup = process.rate.setup_minutes * noise
        run = task.actual - setup
        good = (
            0
            if worked <= setup or run <= 0
            else min(task.quantity, int(task.quantity * (worked - setup) / run))
        )
        return remaining_minutes(process.rate, task.quantity, good)

    def _candidates(self, team: list[OperatorState], now: float) -> list[Candidate]:
        return [
            Candidate(
                op.operator_id,
                op.name,
                self.wip_limit,
                len(op.open_tasks),
                sum(self._remaining_planned(self.tasks[t - 1], now) for t in op.open_tasks),
                op.calendar,
                checked_in=op.working,
                levels=op.levels,
            )
            for op in team
        ]

    def _view(self, task: SimTask, now: float) -> TaskView:
        return TaskView(
            task.task_id,
            task.process_id,
            task.priority,
            self._remaining_planned(task, now),
            task.view_due,
            at_minute(task.ready_at),
            task.downstream,
        )

    def _dispatch(self, now: float) -> None:
        waiting: dict[int, list[SimTask]] = {}
        pool = self.policy.chooser == "pool"
        for task_id in self.ready_open:
            task = self.tasks[task_id - 1]
            if task.status is TaskStatus.PENDING or (task.status is TaskStatus.QUEUED and not pool):
                if self.handover and not self._workable(task):
                    continue  # waiting for the next transfer batch
                waiting.setdefault(task.department_id, []).append(task)
        if not waiting:
            return
        at = at_minute(now)
        for department_id in sorted(waiting):
            tasks = sorted(waiting[department_id], key=lambda t: t.task_id)
            if pool:
                for task in tasks:
                    if task.status is TaskStatus.PENDING:
                        task.status = next_status(TaskAction.QUEUE, task.status)
                continue
            team = self.by_department[department_id]
            if not any(op.working and len(op.open_tasks) < self.wip_limit for op in team):
                continue
            candidates = self._candidates(team, now)
            if self.commit is not None and not any(
                op.working and c.load_minutes <= self.commit and c.open_tasks < c.wip_limit
                for op, c in zip(team, candidates, strict=True)
            ):
                continue
            ranked = rank_tasks(
                self.policy.order,
                [self._view(t, now) for t in tasks],
                at,
                params=self.params,
                clock=self.clock,
            )
            if self.order_bias is not None:
                ranked = self._biased(ranked)
            assignments = plan_department(
                ranked,
                candidates,
                self.requirements,
                self.choosers[department_id],
                at,
                commit_minutes=self.commit,
            )
            for assignment in assignments:
                task = self.tasks[assignment.task_id - 1]
                operator = self.operators[assignment.operator_id]
                self._check_assignment(operator, task, now)
                task.status = next_status(TaskAction.ASSIGN, task.status)
                task.operator_id = operator.operator_id
                operator.open_tasks.append(task.task_id)
                self.decisions += 1
                if self.sample_explanation is None and len(assignment.explanation.get("excluded", [])) > 0:
                    self.sample_explanation = assignment.explanation

    def _biased(self, ranked: list) -> list:
        """``ranked`` re-ranked by index × e^(the offset of the task's order)."""
        bias = self.order_bias

        def key(item) -> tuple[float, int]:
            order_index = self.tasks[item.task.task_id - 1].order_index
            return (-item.parts["index"] * math.exp(bias[order_index]), item.task.task_id)

        return sorted(ranked, key=key)

    def _tablet_key(self, task: SimTask):
        return (
            0 if task.status is TaskStatus.PAUSED else 1,
            -PRIORITY_RANK[task.priority],
            task.due,
            task.task_id,
        )

    def _operators_act(self, now: float) -> None:
        pool = self.policy.chooser == "pool"
        at = None
        for operator in self.operators.values():
            if not operator.working or operator.running is not None:
                continue
            mine = [self.tasks[t - 1] for t in operator.open_tasks]
            if self.handover:
                mine = [task for task in mine if self._workable(task)]
            if not mine and pool:
                at = at or at_minute(now)
                claimed = self._claim(operator, now, at)
                if claimed is not None:
                    mine = [claimed]
            if not mine:
                continue
            task = min(mine, key=self._tablet_key)
            self._start(operator, task, now)

    def _claim(self, operator: OperatorState, now: float, at) -> SimTask | None:
        queued = [
            self.tasks[t - 1]
            for t in self.ready_open
            if self.tasks[t - 1].status is TaskStatus.QUEUED
            and self.tasks[t - 1].department_id == operator.department_id
            and (not self.handover or self._workable(self.tasks[t - 1]))
        ]
        if not queued or len(operator.open_tasks) >= self.wip_limit:
            return None
        candidate = self._candidates([operator], now)[0]
        for task in sorted(queued, key=self._tablet_key):
            if exclusion_of(candidate, self.requirements[task.process_id], at) is None:
                self._check_assignment(operator, task, now)
                task.status = next_status(TaskAction.CLAIM, task.status)
                task.operator_id = operator.operator_id
                operator.open_tasks.append(task.task_id)
                self.decisions += 1
                return task
        return None

    def _start(self, operator: OperatorState, task: SimTask, now: float) -> None:
        action = TaskAction.RESUME if task.status is TaskStatus.PAUSED else TaskAction.START
        self._check_work(operator, task, now)
        task.status = next_status(action, task.status)
        operator.running = task.task_id
        operator.run_started = now
        operator.run_token += 1
        if task.first_started_at is None:
            task.first_started_at = now
        if self.handover:
            self._schedule(task, operator, now)
            return
        finish = now + (task.actual - task.worked)
        index = self._work_index(operator, now)
        if index is not None and finish <= operator.work_ends[index]:
            self._push(finish, _DONE, task.task_id)

    # -- handover (transfer batches) -------------------------------------------------------------
    def _neighbour(self, task: SimTask, offset: int) -> SimTask | None:
        ids = self.order_tasks[task.order_index]
        index = task.step_index + offset
        return self.tasks[ids[index] - 1] if 0 <= index < len(ids) else None

    def _pace(self, task: SimTask) -> tuple[float, float]:
        """Real setup minutes and real minutes per unit."""
        pace = self.paces.get(task.task_id)
        if pace is None:
            setup = PROCESS[task.process_id].rate.setup_minutes * task.actual / task.planned
            pace = self.paces[task.task_id] = (setup, (task.actual - setup) / task.quantity)
        return pace

    def _units(self, task: SimTask, worked: float) -> int:
        """Units done after ``worked`` minutes of work (setup first, then at an even pace)."""
        if worked >= task.actual - EPSILON:
            return task.quantity
        setup, unit = self._pace(task)
        if worked <= setup or unit <= 0:
            return 0
        return min(task.quantity, int((worked - setup + EPSILON) / unit))

    def _worked_for(self, task: SimTask, units: int) -> float:
        """Minutes of work after which ``units`` are done."""
        if units >= task.quantity:
            return task.actual
        setup, unit = self._pace(task)
        return setup + unit * units

    def _worked_now(self, task: SimTask, now: float) -> float:
        operator = self.operators.get(task.operator_id) if task.operator_id else None
        if operator is not None and operator.running == task.task_id:
            return task.worked + now - operator.run_started
        return task.worked

    def _material_limit(self, task: SimTask) -> float | None:
        """The most minutes of work the material handed over allows (None: no limit)."""
        upstream = self._neighbour(task, -1)
        if upstream is None or upstream.status is TaskStatus.COMPLETED:
            return None
        return self._worked_for(task, upstream.reported)

    def _workable(self, task: SimTask) -> bool:
        """Whether a task that is not running has the material to start (the domain's rule)."""
        upstream = self._neighbour(task, -1)
        if upstream is None or upstream.status is TaskStatus.COMPLETED:
            return True
        done = self._units(task, task.worked)
        return startable(
            upstream_complete=upstream.status is TaskStatus.COMPLETED,
            available=available(upstream.reported, done),
            transfer_batch=task.transfer_batch,
            remaining=task.quantity - done,
        )

    def _check_material(self, task: SimTask, worked: float) -> None:
        """Count work done beyond the material handed over (must never happen)."""
        upstream = self._neighbour(task, -1)
        if upstream is not None and self._units(task, worked) > upstream.reported:
            self.material_violations += 1

    def _schedule(self, task: SimTask, operator: OperatorState, now: float) -> None:
        """Push the running task's next milestone: done, its next report, or out of material."""
        worked = self._worked_now(task, now)
        points = [task.actual]
        limit = self._material_limit(task)
        if limit is not None:
            points.append(max(limit, worked))
        following = self._neighbour(task, 1)
        if following is not None and following.transfer_batch:
            step = following.transfer_batch
            due = (task.reported // step + 1) * step
            if due < task.quantity:
                points.append(max(self._worked_for(task, due), worked))
        when = now + (min(points) - worked)
        index = self._work_index(operator, now)
        task.next_event_at = None
        if index is not None and when <= operator.work_ends[index]:
            task.next_event_at = when
            self._push(when, _MILESTONE, task.task_id)

    def _reschedule(self, task: SimTask, now: float) -> None:
        operator = self.operators.get(task.operator_id) if task.operator_id else None
        if operator is not None and operator.running == task.task_id:
            self._schedule(task, operator, now)

    def _milestone(self, task_id: int, now: float) -> None:
        task = self.tasks[task_id - 1]
        operator = self.operators.get(task.operator_id) if task.operator_id else None
        if task.next_event_at != now or operator is None or operator.running != task_id:
            return  # superseded by a later schedule
        task.next_event_at = None
        worked = self._worked_now(task, now)
        self._check_material(task, worked)
        if worked >= task.actual - EPSILON:
            self._done(task_id, now)
            return
        self._report(task, self._units(task, worked), now)
        limit = self._material_limit(task)
        if limit is not None and worked >= limit - EPSILON:
            # Out of material: the operator pauses it (waiting for material) and keeps it;
            # it resumes when the next batch is handed over. No job switching, so no
            # second setup goes unpaid: the gain measured is a conservative one.
            self._stop_running(operator, now)
            task.status = next_status(TaskAction.PAUSE, task.status)
            task.starved += 1
            self.starved += 1
        else:
            self._schedule(task, operator, now)

    def _report(self, task: SimTask, units: int, now: float) -> None:
        """Report the good units made so far; hand material over to the next step."""
        if units <= task.reported:
            return
        before = task.reported
        upstream = self._neighbour(task, -1)
        if upstream is not None:
            cap = upstream.quantity if upstream.status is TaskStatus.COMPLETED else upstream.reported
            try:
                validate_report(units - before, cap=available(cap, before))
            except ValidationError:
                self.material_violations += 1
        task.reported = units
        following = self._neighbour(task, 1)
        if following is None or following.transfer_batch is None:
            return
        done = self._units(following, self._worked_now(following, now))
        threshold = handover_threshold(
            following.transfer_batch, following.quantity, [following.quantity - done]
        )
        if first_handover(before, units, threshold):
            self.handover_notices += 1
        if following.ready_at is None:
            if self._workable(following):
                self._make_ready(following.task_id, now)
        else:
            self._reschedule(following, now)

    # -- ETA -------------------------------------------------------------------------------------
    def _estimate(self, index: int, now: float) -> None:
        """The domain's ETA of order ``index`` at its release, from the whole shop's open work."""
        at = at_minute(now)
        groups: dict[int, list[SimTask]] = {}
        for order_index, ids in enumerate(self.order_tasks):
            if self.completed_at[order_index] is not None:
                continue
            for task_id in ids:
                task = self.tasks[task_id - 1]
                if task.status is not TaskStatus.COMPLETED:
                    groups.setdefault(task.department_id, []).append(task)
        tasks: list[EtaTask] = []
        for department_id, group in groups.items():
            running = {t.task_id for t in group if self._is_running(t)}
            views = [
                TaskView(
                    t.task_id,
                    t.process_id,
                    t.priority,
                    self._remaining_planned(t, now),
                    t.view_due,
                    at_minute(now if t.ready_at is None else t.ready_at),
                    t.downstream,
                )
                for t in group
                if t.task_id not in running
            ]
            ranked = rank_tasks(self.policy.order, views, at, params=self.params, clock=self.clock)
            rank = {r.task.task_id: position for position, r in enumerate(ranked)}
            for task in group:
                worked = self._worked_now(task, now)
                done = self._units(task, worked)
                upstream = self._neighbour(task, -1)
                handed = upstream.reported if upstream is not None and self.handover else 0
                tasks.append(
                    EtaTask(
                        task.task_id,
                        task.order_index,
                        task.step_index,
                        department_id,
                        self._remaining_planned(task, now),
                        units=task.quantity - done,
                        setup_minutes=PROCESS[task.process_id].rate.setup_minutes if done == 0 else 0.0,
                        rank=rank.get(task.task_id, -1),
                        in_progress=task.task_id in running,
                        transfer_batch=task.transfer_batch,
                        available_units=max(handed - done, 0),
                    )
                )
        finish = estimate(tasks, self.lanes, at).orders[index].finish
        self.eta_at_release[index] = None if finish is None else minute_of(finish)

    def _is_running(self, task: SimTask) -> bool:
        operator = self.operators.get(task.operator_id) if task.operator_id else None
        return operator is not None and operator.running == task.task_id

    # -- bookkeeping -----------------------------------------------------------------------------
    def _work_index(self, operator: OperatorState, now: float) -> int | None:
        index = bisect.bisect_right(operator.work_starts, now) - 1
        if index >= 0 and now < operator.work_ends[index]:
            return index
        return None

    def _presence_violation(self, operator: OperatorState, now: float) -> str | None:
        if any(a <= now < b for a, b in operator.absence_spans):
            return "absence"
        index = bisect.bisect_right(operator.shift_starts, now) - 1
        if index < 0 or now >= operator.shift_ends[index]:
            return "shift"
        return None

    def _check_assignment(self, operator: OperatorState, task: SimTask, now: float) -> None:
        problem = self._presence_violation(operator, now)
        if problem:
            self.violations[problem] += 1
        if operator.levels.get(task.process_id, 0) < PROCESS[task.process_id].min_level:
            self.violations["skill"] += 1
        if len(operator.open_tasks) + 1 > self.wip_limit:
            self.violations["wip"] += 1

    def _check_work(self, operator: OperatorState, task: SimTask, now: float) -> None:
        problem = self._presence_violation(operator, now)
        if problem:
            self.violations[problem] += 1
        if operator.levels.get(task.process_id, 0) < PROCESS[task.process_id].min_level:
            self.violations["skill"] += 1

    def _account_idle(self, now: float, upcoming: float) -> None:
        span = upcoming - now
        if span <= 0:
            return
        waiting: dict[int, set[int]] = {}
        for task_id in self.ready_open:
            task = self.tasks[task_id - 1]
            if task.status in _WAITING and (not self.handover or self._workable(task)):
                waiting.setdefault(task.department_id, set()).add(task.process_id)
        if not waiting:
            return
        for operator in self.operators.values():
            if not operator.working or operator.running is not None:
                continue
            for process_id in waiting.get(operator.department_id, ()):
                if operator.levels.get(process_id, 0) >= PROCESS[process_id].min_level:
                    operator.idle_with_backlog += span
                    break


def simulate(
    scenario: Scenario,
    policy: SimPolicy,
    params: DueDateParams = DUE_DATE_PARAMS,
    *,
    eta: bool = False,
    order_bias: Sequence[float] | None = None,
) -> RunResult:
    """Run one scenario under one policy.

    Args:
        scenario: The seeded shop week (with transfer batches on its steps, the run
            models handover; see :func:`~work_dispatch.simulation.shop.with_transfer_batches`).
        policy: The policy.
        params: ``due_date``'s parameters.
        eta: Estimate each order's completion at its release with the domain's
            :func:`~work_dispatch.domain.flow.estimate` (read-only: the run is the same).
        order_bias: One offset per work order (scenario order) scaling its tasks' rank
            index by e^offset; for :data:`INDEX_ORDERS` policies only (see
            :mod:`~work_dispatch.simulation.hindsight`).

    Returns:
        The run's raw results (see :mod:`work_dispatch.simulation.metrics`).

    Raises:
        ValueError: For an ``order_bias`` on a policy without an index, or of the wrong length.
    """
    return _Run(scenario, policy, params, eta, order_bias).run()
