"""Which connected sessions of this worker watch what, and who an event concerns."""

from __future__ import annotations

import hashlib
import pickle
import threading
from dataclasses import dataclass, field
from typing import Any

from work_dispatch.realtime.bus import RESYNC, BusEvent

OPERATOR_VIEW = "operator"
BOARD_VIEW = "board"
DASHBOARD_VIEW = "dashboard"
FLOOR_VIEW = "floor"
WORK_ORDERS_VIEW = "work_orders"
VIEWS = (OPERATOR_VIEW, BOARD_VIEW, DASHBOARD_VIEW, FLOOR_VIEW, WORK_ORDERS_VIEW)
"""Every view a session can watch, in push order: the shop floor first."""
ROWS_PART = "rows"
"""The part of a board's page that it also loads itself (paging, filters): see ``update_visible``."""


def digest(value: Any) -> bytes:
    """A short digest of loaded data (dataclasses, lists, numbers, strings): equal data, equal digest.

    Pickling is about twice as fast as ``repr`` on a tablet's cards. A rare different encoding of
    equal data (a set's iteration order) only costs one push that was not needed.
    """
    try:
        encoded = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError):
        encoded = repr(value).encode()
    return hashlib.blake2b(encoded, digest_size=16).digest()


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
    locale: str = "en"
    """The locale the session reads in: pushed rows are rendered in it."""
    session_hash: str = ""
    """The stored hash of the browser's session token (``auth.hash_token``): every push re-checks
    that session, and "" never passes."""


class SessionRegistry:
    """Registered on page load, dropped on disconnect; indexed by user and department.

    Audience lookup costs O(matching sessions), not O(all sessions): an event about one
    operator touches only that operator's sessions. The registry also remembers a digest of
    what was last pushed to each session, forgotten whenever the session (re)loads its page.
    """

    def __init__(self) -> None:
        self._by_token: dict[str, Watcher] = {}
        self._by_user: dict[int, set[str]] = {}
        self._by_department: dict[int, set[str]] = {}
        self._supervisors: set[str] = set()
        self._pushed: dict[str, dict[str, bytes]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._by_token)

    def tokens(self) -> list[str]:
        """Every registered session's client token."""
        with self._lock:
            return list(self._by_token)

    def get(self, token: str) -> Watcher | None:
        """The session's current watch, if it is registered."""
        with self._lock:
            return self._by_token.get(token)

    def register(self, watcher: Watcher, shown: dict[str, Any] | None = None) -> None:
        """Add or replace the session's watch.

        Args:
            watcher: What the session watches.
            shown: Part of the page → the data the page has just loaded for it, so that a push
                of the very same data can be skipped.
        """
        with self._lock:
            self._remove(watcher.token)
            self._add(watcher)
            if shown:
                self._pushed[watcher.token] = {part: digest(value) for part, value in shown.items()}

    def _add(self, watcher: Watcher) -> None:
        self._by_token[watcher.token] = watcher
        self._by_user.setdefault(watcher.user_id, set()).add(watcher.token)
        if watcher.view == OPERATOR_VIEW:
            for department_id in watcher.department_ids:
                self._by_department.setdefault(department_id, set()).add(watcher.token)
        else:
            self._supervisors.add(watcher.token)

    def update_departments(self, token: str, department_ids: frozenset[int]) -> None:
        """An operator's departments changed: watch the new pools from now on (digests kept)."""
        with self._lock:
            watcher = self._by_token.get(token)
            if watcher is None or watcher.department_ids == department_ids:
                return
            for department_id in watcher.department_ids:
                self._discard(self._by_department, department_id, token)
            watcher.department_ids = department_ids
            for department_id in department_ids:
                self._by_department.setdefault(department_id, set()).add(token)

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
                # The rows are what the session loaded itself now: their next push is never skipped.
                self._pushed.get(token, {}).pop(ROWS_PART, None)

    def swap_pushed(self, token: str, part: str, digest: bytes) -> bytes | None:
        """Remember the digest of what a push sends to one part of a session's page.

        Args:
            token: The session.
            part: Which part of the page (one digest per part).
            digest: The digest of the data about to be pushed.

        Returns:
            The digest remembered before, None when there was none or the session is not registered.
        """
        with self._lock:
            if token not in self._by_token:
                return None
            parts = self._pushed.setdefault(token, {})
            previous = parts.get(part)
            parts[part] = digest
            return previous

    def forget_pushed(self, token: str) -> None:
        """Forget the digests of a session, so that its next push is sent whatever it holds."""
        with self._lock:
            self._forget_pushed(token)

    def _forget_pushed(self, token: str) -> None:
        self._pushed.pop(token, None)

    def drop(self, token: str) -> None:
        """Forget a session (disconnected, logged out or deactivated)."""
        with self._lock:
            self._remove(token)

    def drop_user(self, user_id: int) -> list[str]:
        """Forget every session of a user; returns their tokens."""
        with self._lock:
            tokens = list(self._by_user.get(user_id, ()))
            for token in tokens:
                self._remove(token)
            return tokens

    def _remove(self, token: str) -> None:
        watcher = self._by_token.pop(token, None)
        if watcher is None:
            return
        self._discard(self._by_user, watcher.user_id, token)
        for department_id in watcher.department_ids:
            self._discard(self._by_department, department_id, token)
        self._supervisors.discard(token)
        self._forget_pushed(token)

    @staticmethod
    def _discard(index: dict[int, set[str]], key: int, token: str) -> None:
        tokens = index.get(key)
        if tokens is not None:
            tokens.discard(token)
            if not tokens:
                del index[key]

    def audience(self, event: BusEvent) -> list[Watcher]:
        """Sessions an event concerns.

        Operators: their own tasks changed, or their department's pool changed.
        Supervisors: the dashboard and the floor page always; a board when its department
        filter matches or one of the changed tasks is on its page; the work-order list when the
        event names work orders. Every session of a user the event names
        (a person change: role, departments, sessions ended), whatever it watches.

        Args:
            event: The (possibly merged) event.

        Returns:
            The concerned sessions, each once.
        """
        with self._lock:
            if event.kind == RESYNC:
                return list(self._by_token.values())
            tokens: set[str] = set()
            for user_id in event.operator_ids:
                tokens |= self._by_user.get(user_id, set())
            for department_id in event.department_ids:
                tokens |= self._by_department.get(department_id, set())
            changed = set(event.task_ids)
            departments = set(event.department_ids)
            for token in self._supervisors:
                watcher = self._by_token[token]
                if watcher.view == WORK_ORDERS_VIEW:
                    if event.work_order_ids:
                        tokens.add(token)
                elif (
                    watcher.view in (DASHBOARD_VIEW, FLOOR_VIEW)
                    or not watcher.board_departments
                    or watcher.board_departments & departments
                    or watcher.visible_task_ids & changed
                ):
                    tokens.add(token)
            return [self._by_token[t] for t in tokens]


REGISTRY = SessionRegistry()
"""Sessions connected to this worker and what they watch."""
