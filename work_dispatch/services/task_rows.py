"""New task rows, built from the task table itself.

Every writer of new tasks (generation's ``COPY`` and its ``INSERT`` fallback, split, the
test seeders and the benchmarks) starts from ``TASK_ROWS``, so a column added to ``Task``
with a default reaches all of them without another change.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from sqlalchemy import Table

from work_dispatch.models import Task


class RowBuilder:
    """New rows of one table: every column's default, with the caller's values over them.

    Attributes:
        table: The table the rows are for.
        columns: The columns a new row carries, in table order.
        assigned_by_database: Columns left to the database unless given: the autoincrement
            key, server defaults and computed columns.
        required: Columns without any default; every row must give them.
    """

    def __init__(self, table: Table):
        """Derive the columns and their defaults from ``table``.

        Args:
            table: A SQLAlchemy table.

        Raises:
            TypeError: If a column's default needs the statement (a SQL expression or a
                function of the execution context), which a ``COPY`` cannot evaluate.
        """
        self.table = table
        columns: list[str] = []
        assigned_by_database: list[str] = []
        required: set[str] = set()
        self._scalars: dict[str, Any] = {}
        self._callables: list[tuple[str, Callable[[], Any]]] = []
        for column in table.columns:
            default = column.default
            if default is None and (
                column is table.autoincrement_column
                or column.server_default is not None
                or column.computed is not None
                or column.identity is not None
            ):
                assigned_by_database.append(column.name)
                continue
            columns.append(column.name)
            if default is None:
                if column.nullable:
                    self._scalars[column.name] = None
                else:
                    required.add(column.name)
            elif default.is_scalar:
                self._scalars[column.name] = default.arg
            elif default.is_callable and hasattr(default.arg, "__wrapped__"):
                # SQLAlchemy wraps a function taking no arguments; call the function itself.
                self._callables.append((column.name, default.arg.__wrapped__))
            else:
                raise TypeError(
                    f"{table.name}.{column.name}: only constant or argument-free defaults fit a COPY."
                )
        self.columns: tuple[str, ...] = tuple(columns)
        self.assigned_by_database: tuple[str, ...] = tuple(assigned_by_database)
        self.required: frozenset[str] = frozenset(required)
        self._accepted = frozenset(columns) | frozenset(assigned_by_database)

    def defaults(self) -> dict[str, Any]:
        """Every column's default for a new row.

        Each default function is called once, so columns sharing one (``created_at`` and
        ``updated_at``) get the same value.

        Returns:
            Column name → default value, for every column in ``columns``.
        """
        values = dict(self._scalars)
        results: dict[Callable[[], Any], Any] = {}
        for name, function in self._callables:
            if function not in results:
                results[function] = function()
            values[name] = results[function]
        return values

    def row(self, **values: Any) -> dict[str, Any]:
        """One new row: the defaults with ``values`` over them.

        Args:
            **values: Column values; ``assigned_by_database`` columns may be given too.

        Returns:
            Column name → value, every column in ``columns`` present.

        Raises:
            TypeError: If a value names no column, or a required column is missing.
        """
        return self.batch().row(**values)

    def batch(self, **shared: Any) -> RowBatch:
        """Rows that share one evaluation of the defaults and the ``shared`` values.

        Args:
            **shared: Values every row of the batch takes (unless a row gives its own).

        Returns:
            A batch whose ``row`` builds each row.

        Raises:
            TypeError: If a shared value names no column.
        """
        self.check_names(shared)
        return RowBatch(self, {**self.defaults(), **shared}, self.required - shared.keys())

    def check_names(self, names: Iterable[str]) -> None:
        """Raise unless every name is a column a new row may be given.

        Args:
            names: Column names.

        Raises:
            TypeError: Naming the first unknown column.
        """
        unknown = sorted(set(names) - self._accepted)
        if unknown:
            raise TypeError(f"{self.table.name} has no column {unknown[0]!r}.")


class RowLayout(NamedTuple):
    """A column order for ``COPY``: chosen leading columns, then the rest with fixed values.

    A row is then ``(*leading_values, *layout.rest)``, as cheap as a hand-written tuple.
    """

    columns: tuple[str, ...]
    rest: tuple[Any, ...]


class RowBatch:
    """Rows built from one set of defaults and shared values (see ``RowBuilder.batch``)."""

    def __init__(self, builder: RowBuilder, base: dict[str, Any], still_required: frozenset[str]):
        """Keep the evaluated defaults and shared values.

        Args:
            builder: The table's builder.
            base: Defaults with the shared values over them.
            still_required: Required columns the shared values did not give.
        """
        self._builder = builder
        self._base = base
        self._still_required = still_required
        self._accepted = builder._accepted

    def row(self, **values: Any) -> dict[str, Any]:
        """One row of the batch: the batch's values with ``values`` over them.

        Args:
            **values: This row's column values.

        Returns:
            Column name → value, every column of the builder present.

        Raises:
            TypeError: If a value names no column, or a required column is missing.
        """
        if not self._accepted.issuperset(values):
            self._builder.check_names(values)
        if not values.keys() >= self._still_required:
            self._refuse_missing(values.keys())
        return {**self._base, **values}

    def layout(self, leading: Iterable[str]) -> RowLayout:
        """Put ``leading`` columns first and fix every other column at the batch's value.

        Args:
            leading: The columns each row gives, in the order it gives them.

        Returns:
            The ``COPY`` column order and the values of the columns after ``leading``.

        Raises:
            TypeError: If a name is no column, is repeated, or a required column is left out.
        """
        leading = tuple(leading)
        self._builder.check_names(leading)
        if len(set(leading)) != len(leading):
            raise TypeError(f"Repeated column among {leading}.")
        if not self._still_required.issubset(leading):
            self._refuse_missing(leading)
        rest = tuple(name for name in self._builder.columns if name not in leading)
        return RowLayout((*leading, *rest), tuple(self._base[name] for name in rest))

    def _refuse_missing(self, given: Iterable[str]) -> None:
        missing = sorted(self._still_required.difference(given))
        raise TypeError(f"A new {self._builder.table.name} row needs {missing[0]!r}.")


TASK_ROWS = RowBuilder(Task.__table__)
"""The builder of new task rows. Writers look it up when they run, so a test can swap in
the builder of a task table with an extra column and watch every writer fill it."""


def new_task_row(**values: Any) -> dict[str, Any]:
    """One new task row: every column's default with ``values`` over them.

    Args:
        **values: Column values (``work_order_process_id``, ``production_quantity``, ...).

    Returns:
        Column name → value for every column of ``TASK_ROWS.columns`` (plus ``id`` if given).

    Raises:
        TypeError: If a value names no task column, or a column without default is missing.
    """
    return TASK_ROWS.row(**values)
