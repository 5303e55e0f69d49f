"""Every action of the task state machine from every status, through the services, on both databases.

For each action, one task is put in each status and the service performing the action is
called on it. The outcome must be what ``domain/task_machine.py`` says: from a legal status
the task reaches ``target_of(action)`` (version + 1, the action's event written); from any
other status the service refuses with a DomainError and the row stays exactly as it was.
Publishing is idempotent, so its refusal is a report that leaves the task out of
``published`` instead of an error.
"""

from collections.abc import Callable

from sqlalchemy import func, update
from sqlmodel import select

from tests.conftest import actor_for
from work_dispatch.domain.dispatching import Decision
from work_dispatch.domain.enums import TaskEventKind, TaskStatus
from work_dispatch.domain.errors import DomainError
from work_dispatch.domain.task_machine import TRANSITION_EVENTS, TaskAction, allowed_from, target_of
from work_dispatch.models import Task, TaskEvent, User, WorkOrderProcess
from work_dispatch.services import dispatch, drafts, task_flow

_task = Task.__table__


class NotPublished(Exception):
    """The publish report left the task out."""


def _publish(db, ctx, task_id):
    if task_id not in drafts.publish_drafts(db, ctx["supervisor"], [task_id]).published:
        raise NotPublished


def _dispatch(outcome: str):
    def run(db, ctx, task_id):
        operator = ctx["operator"].user_id if outcome == "assigned" else None
        decision = Decision(task_id, outcome, ctx["department_id"], operator, {"reason": "matrix"})
        dispatch._apply(db, [decision], {}, {}, ctx["supervisor"].user_id)
        db.commit()

    return run


PERFORM: dict[TaskAction, Callable] = {
    TaskAction.PUBLISH: _publish,
    TaskAction.PUBLISH_ASSIGNED: _publish,
    TaskAction.QUEUE: _dispatch("queued"),
    TaskAction.ASSIGN: _dispatch("assigned"),
    TaskAction.CLAIM: lambda db, ctx, task_id: task_flow.claim(db, ctx["operator"], task_id),
    TaskAction.START: lambda db, ctx, task_id: task_flow.start(db, ctx["operator"], task_id),
    TaskAction.PAUSE: lambda db, ctx, task_id: task_flow.pause(db, ctx["operator"], task_id, "Break"),
    TaskAction.RESUME: lambda db, ctx, task_id: task_flow.resume(db, ctx["operator"], task_id),
    TaskAction.COMPLETE: lambda db, ctx, task_id: task_flow.complete(db, ctx["operator"], task_id),
    TaskAction.CANCEL: lambda db, ctx, task_id: task_flow.cancel(db, ctx["supervisor"], task_id, "matrix"),
    TaskAction.UNASSIGN: lambda db, ctx, task_id: task_flow.unassign(
        db, ctx["supervisor"], task_id, "matrix"
    ),
    TaskAction.REASSIGN: lambda db, ctx, task_id: task_flow.reassign(
        db, ctx["supervisor"], task_id, ctx["other_operator"].user_id, "matrix"
    ),
    TaskAction.RETURN: lambda db, ctx, task_id: task_flow.return_to_dispatch(db, ctx["supervisor"], task_id),
    TaskAction.DISCARD: lambda db, ctx, task_id: drafts.delete_drafts(db, ctx["supervisor"], [task_id]),
}


def test_every_action_has_a_service():
    assert set(PERFORM) == set(TaskAction)


def _a_task_per_action_and_status(db, make_order, shop) -> tuple[dict, dict[tuple, int]]:
    """One task per (action, status) on the first process of a work order, so nothing blocks them."""
    order = make_order("POSTER", approve=False)
    step = db.exec(
        select(WorkOrderProcess)
        .where(WorkOrderProcess.work_order_id == order.id)
        .order_by(WorkOrderProcess.sequence)
    ).first()
    db.execute(update(User).where(User.username.in_(["prepress1", "prepress2"])).values(wip_limit=10_000))
    operator = actor_for(db, "prepress1")
    department_id = shop["department"]["PREPRESS"]
    tasks = {
        (action, status): Task(
            work_order_process_id=step.id,
            work_order_id=order.id,
            process_id=step.process_id,
            sequence=step.sequence,
            generation_key=f"matrix|{action}|{status}",
            is_draft=status is TaskStatus.DRAFT,
            status=status,
            assigned_department_id=department_id,
            # Publishing without a preset operator is ``publish``; with one, ``publish_assigned``.
            assigned_operator_id=None if action is TaskAction.PUBLISH else operator.user_id,
            production_quantity=10,
        )
        for action in TaskAction
        for status in TaskStatus
    }
    db.add_all(tasks.values())
    db.commit()
    ctx = {
        "operator": operator,
        "other_operator": actor_for(db, "prepress2"),
        "supervisor": actor_for(db, "super1"),
        "department_id": department_id,
    }
    return ctx, {pair: task.id for pair, task in tasks.items()}


def _row(db, task_id: int) -> dict:
    db.expire_all()
    return dict(db.execute(select(_task).where(_task.c.id == task_id)).one()._mapping)


def _last_event(db, task_id: int) -> str | None:
    return db.exec(
        select(TaskEvent.kind).where(TaskEvent.task_id == task_id).order_by(TaskEvent.id.desc()).limit(1)
    ).first()


def _check(db, ctx, action: TaskAction, status: TaskStatus, task_id: int) -> str | None:
    """What is wrong with doing ``action`` to a task in ``status``, or None."""
    before = _row(db, task_id)
    try:
        PERFORM[action](db, ctx, task_id)
        refused = None
    except (DomainError, NotPublished) as error:
        db.rollback()
        refused = error
    after = _row(db, task_id)
    if status in allowed_from(action):
        if refused is not None:
            return f"legal, refused with {refused!r}"
        if after["status"] != target_of(action) or after["version"] != before["version"] + 1:
            return f"legal, ended {after['status']} v{after['version']}"
        if _last_event(db, task_id) != TRANSITION_EVENTS[action]:
            return f"legal, last event {_last_event(db, task_id)}"
    elif refused is None:
        return f"illegal, accepted (now {after['status']})"
    elif after != before:
        return f"illegal, refused but changed {sorted(k for k in before if before[k] != after[k])}"
    return None


def test_services_follow_the_machine_for_every_action_and_status(db, make_order, shop):
    ctx, task_ids = _a_task_per_action_and_status(db, make_order, shop)
    mismatches = [
        f"{action} from {status}: {problem}"
        for (action, status), task_id in task_ids.items()
        if (problem := _check(db, ctx, action, status, task_id))
    ]
    assert not mismatches, "services disagree with the state machine:\n" + "\n".join(mismatches)
    kinds = set(db.exec(select(TaskEvent.kind).group_by(TaskEvent.kind)).all())
    assert kinds <= set(TaskEventKind), kinds - set(TaskEventKind)
    legal_pairs = sum(len(allowed_from(action)) for action in TaskAction)
    assert db.exec(select(func.count()).select_from(TaskEvent)).one() == legal_pairs
