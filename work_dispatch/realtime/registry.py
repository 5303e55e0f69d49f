"""Which connected sessions of this worker watch what, and who an event concerns."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from work_dispatch.realtime.bus import BusEvent

OPERATOR_VIEW = "operator"
BOARD_VIEW = "board"
DASHBOARD_VIEW = "dashboard"
VIEWS = (OPERATOR_VIEW, BOARD_VIEW, DASHBOARD_VIEW)
"""Every view a session can watch, in push order: the shop floor first."""


@dataclass
class Watcher:
    """One browser session on one page."""

    token: str
    view: str
    user_id: int
    department_ids: frozenset[int] = field(default_factory=frozenset)
    board_departments: frozenset[int] = field(default_factory=frozenset)
    visible_task_ids: frozenset[int] = field(default_factory=frozenset)
    params: dict = field(default_factory=dict)


class SessionRegistry:
    """Registered on page load, dropped on disconnect; indexed by operator and department.

    Audience lookup costs O(matching sessions), not O(all sessions): an event about one
    operator touches only that operator's sessions.
    """

    def __init__(self) -> None:
        self._by_token: dict[str, Watcher] = {}
        self._by_operator: dict[int, set[str]] = {}
        self._by_department: dict[int, set[str]] = {}
        self._supervisors: set[str] = set()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._by_token)

    def register(self, watcher: Watcher) -> None:
        """Add or replace the session's watch.

        Args:
            watcher: What the session watches.
        """
        with self._lock:
            self._remove(watcher.token)
            self._by_token[watcher.token] = watcher
            if watcher.view == OPERATOR_VIEW:
                self._by_operator.setdefault(watcher.user_id, set()).add(watcher.token)
                for department_id in watcher.department_ids:
                    self._by_department.setdefault(department_id, set()).add(watcher.token)
            else:
                self._supervisors.add(watcher.token)

    def update_visible(
        self, token: str, task_ids: frozenset[int], departments: frozenset[int], params: dict | None = None
    ) -> None:
        """Remember which rows a board session shows, its department filter and query parameters."""
        with self._lock:
            watcher = self._by_token.get(token)
            if watcher is not None:
                watcher.visible_task_ids = task_ids
                watcher.board_departments = departments
                if params is not None:
                    watcher.params = params

    def drop(self, token: str) -> None:
        """Forget a session (disconnected, logged out or deactivated)."""
        with self._lock:
            self._remove(token)

    def drop_user(self, user_id: int) -> list[str]:
        """Forget every session of a user; returns their tokens."""
        with self._lock:
            tokens = [t for t, w in self._by_token.items() if w.user_id == user_id]
            for token in tokens:
                self._remove(token)
            return tokens

    def _remove(self, token: str) -> None:
        watcher = self._by_token.pop(token, None)
        if watcher is None:
            return
        for index in (self._by_operator, self._by_department):
            for key in list(index):
                index[key].discard(token)
                if not index[key]:
                    del index[key]
        self._supervisors.discard(token)

    def audience(self, event: BusEvent) -> list[Watcher]:
        """Sessions an event concerns.

        Operators: their own tasks changed, or their department's pool changed.
        Supervisors: the dashboard always; a board when its department filter matches or
        one of the changed tasks is on its page.

        Args:
            event: The (possibly merged) event.

        Returns:
            The concerned sessions, each once.
        """
        with self._lock:
            tokens: set[str] = set()
            for operator_id in event.operator_ids:
                tokens |= self._by_operator.get(operator_id, set())
            for department_id in event.department_ids:
                tokens |= self._by_department.get(department_id, set())
            changed = set(event.task_ids)
            departments = set(event.department_ids)
            for token in self._supervisors:
                watcher = self._by_token[token]
                if (
                    watcher.view == DASHBOARD_VIEW
                    or not watcher.board_departments
                    or watcher.board_departments & departments
                    or watcher.visible_task_ids & changed
                ):
                    tokens.add(token)
            return [self._by_token[t] for t in tokens]


REGISTRY = SessionRegistry()
"""Sessions connected to this worker and what they watch."""
