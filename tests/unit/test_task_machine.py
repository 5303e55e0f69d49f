"""Every legal and illegal transition of the task state machine."""

import pytest

from work_dispatch.domain.enums import TaskStatus
from work_dispatch.domain.errors import IllegalTransitionError
from work_dispatch.domain.task_machine import TRANSITIONS, TaskAction, next_status

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
