"""Every legal and illegal transition of the task state machine."""

import pytest

from work_dispatch.domain.enums import CLOSED_TASK_STATUSES, OPEN_TASK_STATUSES, TaskEventKind, TaskStatus
from work_dispatch.domain.errors import IllegalTransitionError
from work_dispatch.domain.task_machine import (
    TRANSITION_EVENTS,
    TRANSITIONS,
    TaskAction,
    allowed_from,
    next_status,
    target_of,
)

LEGAL = [(action, source, target) for action, (sources, target) in TRANSITIONS.items() for source in sources]
ILLEGAL = [
    (action, status)
    for action, (sources, _) in TRANSITIONS.items()
    for status in TaskStatus
    if status not in sources
]


@pytest.mark.parametrize(("action", "source", "target"), LEGAL)
def test_legal_transitions_reach_their_target(action, source, target):
    assert next_status(action, source.value) is target


@pytest.mark.parametrize(("action", "status"), ILLEGAL)
def test_illegal_transitions_are_rejected(action, status):
    with pytest.raises(IllegalTransitionError):
        next_status(action, status.value)


def test_closed_tasks_accept_no_action():
    for status in (TaskStatus.COMPLETED, TaskStatus.CANCELLED):
        for action in TaskAction:
            with pytest.raises(IllegalTransitionError):
                next_status(action, status.value)


def test_completing_a_paused_task_says_to_resume_first():
    with pytest.raises(IllegalTransitionError, match="Resume it first"):
        next_status(TaskAction.COMPLETE, TaskStatus.PAUSED.value)


def test_the_main_path_runs_from_draft_to_completed():
    status = TaskStatus.DRAFT
    for action in (
        TaskAction.PUBLISH,
        TaskAction.QUEUE,
        TaskAction.CLAIM,
        TaskAction.START,
        TaskAction.PAUSE,
        TaskAction.RESUME,
        TaskAction.COMPLETE,
    ):
        status = next_status(action, status)
    assert status is TaskStatus.COMPLETED


def test_target_of_is_the_status_every_legal_source_reaches():
    for action in TaskAction:
        assert {next_status(action, source.value) for source in allowed_from(action)} == {target_of(action)}


def test_every_action_writes_an_event_kind():
    assert set(TRANSITION_EVENTS) == set(TaskAction)
    assert all(isinstance(kind, TaskEventKind) for kind in TRANSITION_EVENTS.values())


def test_closed_statuses_are_exactly_those_no_action_leaves():
    left = {source for sources, _ in TRANSITIONS.values() for source in sources}
    assert set(TaskStatus) - left == CLOSED_TASK_STATUSES


def test_open_statuses_are_those_a_task_can_be_cancelled_from():
    assert set(allowed_from(TaskAction.CANCEL)) == OPEN_TASK_STATUSES
    assert not OPEN_TASK_STATUSES & CLOSED_TASK_STATUSES


def test_only_a_draft_can_be_discarded():
    assert next_status(TaskAction.DISCARD, TaskStatus.DRAFT.value) is TaskStatus.CANCELLED
    with pytest.raises(IllegalTransitionError, match="Cannot discard a task that is waiting for dispatch"):
        next_status(TaskAction.DISCARD, TaskStatus.PENDING.value)
