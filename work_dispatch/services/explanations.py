"""Dispatch explanations as lines for people: the rule, the task order, each candidate, each exclusion.

A dispatch decision stores its explanation as plain data (see
:func:`work_dispatch.domain.policies.plan_cycle`); the task drawer and the dispatch preview
both show it through :func:`explanation_lines`, in the reader's locale.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from work_dispatch.domain.dispatching import STRATEGIES
from work_dispatch.domain.enums import Strategy
from work_dispatch.i18n import as_message, format_number, literal, msg, translate, when

_STRATEGY_VALUES = frozenset(strategy.value for strategy in Strategy)


def _candidate(candidate: Mapping[str, Any], locale: str, timezone: str) -> str:
    name = candidate.get("name", "?")
    if "finish_at" in candidate:
        finish = candidate.get("finish_at")
        shift = candidate.get("shift_remaining_minutes")
        return translate(
            "board.event.candidate_finish_no_shift" if shift is None else "board.event.candidate_finish",
            locale,
            name=name,
            minutes=_minutes(candidate.get("load_minutes"), locale),
            shift=_minutes(shift, locale),
            finish=when_text(finish, timezone) if finish else "—",
        )
    if "load_minutes" in candidate:
        return translate(
            "board.event.candidate_minutes",
            locale,
            name=name,
            minutes=_minutes(candidate.get("load_minutes"), locale),
            tasks=candidate.get("open_tasks", 0),
        )
    if "open_tasks" in candidate:
        return translate("board.event.candidate_tasks", locale, name=name, tasks=candidate.get("open_tasks"))
    return translate(
        "board.event.candidate",
        locale,
        name=name,
        load=candidate.get("load"),
        wip_limit=candidate.get("wip_limit"),
    )


def _minutes(value: Any, locale: str) -> str:
    try:
        return format_number(round(float(value or 0)), locale)
    except (TypeError, ValueError):
        return "?"


def when_text(iso: str, timezone: str) -> dict[str, Any]:
    """An ISO instant as a message parameter shown in the reader's locale and the shop's timezone."""
    try:
        return when(datetime.fromisoformat(iso), timezone).to_json()
    except (TypeError, ValueError):
        return literal(iso).to_json()


def explanation_lines(data: Mapping[str, Any], locale: str, timezone: str = "UTC") -> list[str]:
    """The detail lines of a dispatch explanation in ``locale``.

    Args:
        data: The stored explanation (a ``dispatched`` event's data or a decision's explanation).
        locale: The reader's locale.
        timezone: The shop's timezone for times.

    Returns:
        Lines: the rule, the task order (time-aware strategies), the candidates, the
        operators left out and why, and rules skipped for lack of operators.
    """
    lines: list[str] = []
    if data.get("rule_id"):
        strategy = str(data.get("strategy"))
        lines.append(
            translate(
                "board.event.rule",
                locale,
                rule_id=data["rule_id"],
                priority=data.get("rule_priority"),
                strategy=msg(f"enum.strategy.{strategy}") if strategy in _STRATEGY_VALUES else strategy,
            )
        )
    order = data.get("task_order") or {}
    if order.get("rule") and strategy_is_planned(data):
        lines.append(
            translate(
                "board.event.task_order",
                locale,
                rank=order.get("rank", "?"),
                rule=as_message(order["rule"]),
                minutes=round(float(order.get("minutes") or 0)),
            )
        )
    if data.get("min_level"):
        lines.append(translate("board.event.min_level", locale, level=data["min_level"]))
    if data.get("candidates"):
        candidates = ", ".join(_candidate(c, locale, timezone) for c in data["candidates"])
        lines.append(translate("board.event.candidates", locale, candidates=candidates))
    excluded = data.get("excluded") or []
    if excluded:
        reasons = "; ".join(as_message(e.get("message")).render(locale) for e in excluded)
        lines.append(translate("board.event.excluded", locale, reasons=reasons))
    deferred = data.get("deferred") or []
    if deferred:
        names = ", ".join(
            translate(
                "board.event.candidate_busy",
                locale,
                name=d.get("name", "?"),
                minutes=_minutes(d.get("load_minutes"), locale),
            )
            for d in deferred
        )
        lines.append(translate("board.event.deferred", locale, names=names))
    if data.get("skipped_rules"):
        lines.append(translate("board.event.skipped_rules", locale, rules=str(data["skipped_rules"])))
    return lines


def strategy_is_planned(data: Mapping[str, Any]) -> bool:
    """Whether the explanation comes from a time-aware strategy (it ranks the department's tasks)."""
    strategy = str(data.get("strategy"))
    return strategy in _STRATEGY_VALUES and STRATEGIES[Strategy(strategy)].planned
