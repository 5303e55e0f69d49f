"""Every member of every enum people see has a label in every locale."""

from enum import StrEnum

import pytest

from work_dispatch.domain import enums
from work_dispatch.domain.dispatching import STRATEGIES
from work_dispatch.domain.task_machine import TaskAction
from work_dispatch.i18n import LOCALES, catalog, enum_key, enum_label
from work_dispatch.services.login_throttle import ThrottleScope
from work_dispatch.services.task_flow import (
    PAUSE_REASONS,
    pause_category,
    pause_reason_choices,
    pause_reason_text,
)

SHOWN = [
    enums.Role,
    enums.Priority,
    enums.WorkOrderStatus,
    enums.ProcessStatus,
    enums.TaskStatus,
    enums.Strategy,
    enums.PauseReason,
    enums.NotificationKind,
    enums.TaskEventKind,
    enums.AuthEventKind,
    ThrottleScope,
]


def test_every_enum_of_the_domain_is_covered():
    declared = {v for v in vars(enums).values() if isinstance(v, type) and issubclass(v, StrEnum)} - {StrEnum}
    assert declared <= set(SHOWN), f"label these enums too: {declared - set(SHOWN)}"


@pytest.mark.parametrize("enum", SHOWN, ids=lambda e: e.__name__)
@pytest.mark.parametrize("locale", LOCALES)
def test_every_member_has_a_label_in_every_locale(enum, locale):
    for member in enum:
        assert enum_key(member) in catalog(locale), f"{locale}: no {enum_key(member)}"
        assert enum_label(member, locale) and enum_label(member, locale) != enum_key(member)


def test_label_keys_follow_the_documented_naming():
    assert enum_key(enums.TaskStatus.IN_PROGRESS) == "enum.task_status.in_progress"
    assert enum_key(enums.WorkOrderStatus.DRAFT) == "enum.work_order_status.draft"
    assert enum_label(enums.TaskStatus.IN_PROGRESS, "zh-CN") == "进行中"
    assert enum_label(enums.Priority.URGENT, "en") == "Urgent"


def test_strategy_labels_come_from_the_catalog():
    for strategy, spec in STRATEGIES.items():
        assert spec.label_key == enum_key(strategy)
        assert spec.label("zh-CN") == enum_label(strategy, "zh-CN")


def test_every_task_action_and_status_has_words_for_refusals():
    english = catalog("en")
    for action in TaskAction:
        assert f"task_action.{action.value}" in english
    for status in enums.TaskStatus:
        assert f"task_status_phrase.{status.value}" in english


def test_pause_reasons_are_downtime_categories_stored_as_values_and_read_in_each_locale():
    offered = tuple(r.value for r in enums.PauseReason if r is not enums.PauseReason.SHIFT_END)
    assert offered == PAUSE_REASONS
    assert set(PAUSE_REASONS) == {
        "breakdown",
        "waiting_for_material",
        "setup",
        "break",
        "quality_hold",
        "other",
    }
    assert pause_reason_text("shift_end", "zh-CN") == "班次结束"
    assert pause_reason_choices("zh-CN")[0] == ("breakdown", "设备故障")
    assert pause_reason_text("waiting_for_material", "zh-CN") == "等待物料"
    assert pause_reason_text("material_shortage", "zh-CN") == "等待物料"  # a reason before categories
    assert pause_reason_text("Machine breakdown", "zh-CN") == "设备故障"  # stored before values were
    assert pause_reason_text("Waiting for approval", "en") == "Other"
    assert pause_reason_text("纸张受潮", "en") == "纸张受潮"  # typed by an operator long ago: as typed
    assert pause_reason_text("", "en") == ""
    assert {pause_category(label) for _, label in pause_reason_choices("en")} == set(PAUSE_REASONS)
    assert pause_category("纸张受潮") is None
