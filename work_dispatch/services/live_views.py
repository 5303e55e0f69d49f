"""What the fan-out reads for open pages, each recipient authorized as itself.

Every recipient arrives re-validated (:mod:`work_dispatch.services.live_auth`) with its own
actor reading in its session's locale. Data every supervisor sees alike (counters, the
dashboard) is read once per locale, as one of that locale's recipients, and shared; a
recipient's own query (its board page) runs with its own rights, and one that fails is
reported for that recipient alone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from sqlmodel import Session, func, select

from work_dispatch.domain.enums import TaskStatus
from work_dispatch.domain.errors import DomainError
from work_dispatch.models import Task
from work_dispatch.realtime.registry import digest
from work_dispatch.services import board, dashboard
from work_dispatch.services.actor import Actor, require_supervisor
from work_dispatch.services.board import BoardCounts, BoardPage, BoardRow
from work_dispatch.services.dashboard import DashboardSummary
from work_dispatch.services.task_center import LIST_LIMIT
from work_dispatch.services.task_rules import handover_of, waiting_for

logger = logging.getLogger(__name__)

POOL_ORDER = (Task.priority_rank.desc(), Task.due_at.asc().nulls_last(), Task.id)
"""The order of a pool on the tablet (``task_center``): what decides which cards are shown."""


def pool_fingerprints(db: Session, department_ids: Iterable[int]) -> dict[int, bytes]:
    """A fingerprint of each department's pool as tablets show it: equal fingerprints, equal cards.

    The shown cards (first ``LIST_LIMIT`` queued tasks in pool order) with their version, last
    change and the process they wait for, and the pool's size.

    Args:
        db: Open session (read only).
        department_ids: The departments.

    Returns:
        Department id → fingerprint.
    """
    department_ids = sorted(set(department_ids))
    if not department_ids:
        return {}
    sizes = dict(
        db.exec(
            select(Task.assigned_department_id, func.count())
            .where(Task.assigned_department_id.in_(department_ids), Task.status == TaskStatus.QUEUED)
            .group_by(Task.assigned_department_id)
        ).all()
    )
    waiting = waiting_for(Task.work_order_id, Task.sequence, handover_of()).scalar_subquery()
    fingerprints = {}
    for department_id in department_ids:
        cards = db.exec(
            select(Task.id, Task.version, Task.updated_at, waiting)
            .where(Task.assigned_department_id == department_id, Task.status == TaskStatus.QUEUED)
            .order_by(*POOL_ORDER)
            .limit(LIST_LIMIT)
        ).all()
        fingerprints[department_id] = digest((sizes.get(department_id, 0), [tuple(card) for card in cards]))
    return fingerprints


class BoardWatch(Protocol):
    """What a board session shows: the rows on its page and its query."""

    visible_task_ids: frozenset[int]
    params: dict


class BoardReader(Protocol):
    """A board session about to be pushed: its token, its own re-validated actor and its watch."""

    @property
    def token(self) -> str: ...  # noqa: D102

    actor: Actor
    watcher: BoardWatch


@dataclass
class LiveBoard:
    """Fresh data for the board sessions of one push."""

    counts: dict[str, BoardCounts] = field(default_factory=dict)
    """Token → the counters, labelled in its locale."""
    pages: dict[str, BoardPage] = field(default_factory=dict)
    """Token → its first page reloaded (a first page that new tasks may enter)."""
    rows: dict[str, dict[int, BoardRow]] = field(default_factory=dict)
    """Token → fresh rows of the changed tasks it shows (updated in place)."""
    failed: set[str] = field(default_factory=set)
    """Tokens whose data could not be read (each logged); the others are unaffected."""


def board_refresh(db: Session, readers: list[BoardReader], changed_task_ids: list[int]) -> LiveBoard:
    """What the open boards need after tasks changed: counters, and rows or first pages.

    A board on its first page reloads that page when a changed task is not on it yet (it may
    belong there now); any other board gets its visible changed rows in place.

    Args:
        db: Open session (read only).
        readers: The board sessions concerned, each with its re-validated actor.
        changed_task_ids: Tasks the event names.

    Returns:
        The data per token.
    """
    refresh = LiveBoard()
    shared: dict[str, tuple[BoardCounts, dict[int, BoardRow]]] = {}
    changed = [int(i) for i in changed_task_ids][:200]
    for reader in readers:
        try:
            actor = require_supervisor(reader.actor)
            if actor.locale not in shared:
                fresh = {row.id: row for row in board.rows_by_ids(db, actor, changed)}
                shared[actor.locale] = (board.counts(db, actor), fresh)
            counts, fresh = shared[actor.locale]
            refresh.counts[reader.token] = counts
            visible, params = reader.watcher.visible_task_ids, reader.watcher.params or {}
            if not params.get("cursor") and set(changed) - visible:
                refresh.pages[reader.token] = board.query_page(
                    db, actor, params.get("filters"), None, params.get("page_size", 50)
                )
            else:
                refresh.rows[reader.token] = {i: fresh[i] for i in visible & fresh.keys()}
        except DomainError as error:
            # Its own filters (or rights) were refused: that board keeps what it shows.
            logger.warning("Board session %s… not refreshed: %s", reader.token[:8], error)
            refresh.failed.add(reader.token)
            refresh.counts.pop(reader.token, None)
    return refresh


def dashboard_summaries(db: Session, readers: list[Actor]) -> dict[str, DashboardSummary]:
    """The dashboard figures once per locale the readers read in, read as one of that locale's readers.

    Args:
        db: Open session (read only).
        readers: The re-validated actors of the dashboard sessions.

    Returns:
        Locale → the summary labelled in it (a locale whose reader is refused has none).
    """
    summaries: dict[str, DashboardSummary] = {}
    for actor in readers:
        if actor.locale in summaries:
            continue
        try:
            summaries[actor.locale] = dashboard.summary(db, require_supervisor(actor))
        except DomainError as error:
            logger.warning("Dashboard summary not read as user %s: %s", actor.user_id, error)
    return summaries
