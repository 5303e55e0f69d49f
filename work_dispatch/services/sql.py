"""Small SQL helpers shared by services (dialect-aware bulk operations)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Integer, any_, bindparam, func, or_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session


def lock_for_write(db: Session) -> None:
    """Make the rest of this transaction a serialized check-and-write on SQLite.

    PostgreSQL code locks the rows it checks (``FOR UPDATE``). SQLite has no row locks, and its
    driver runs reads outside any transaction until the first write, so a count read before an
    UPDATE can be stale by the time the UPDATE runs. ``BEGIN IMMEDIATE`` takes the database's
    write lock first (waiting up to the busy timeout), so the checks that follow see every
    committed change and no other writer can slip in before the commit. Call it before the
    transaction's first statement.

    Args:
        db: Open session with no transaction started on SQLite.
    """
    if db.get_bind().dialect.name != "sqlite":
        return
    connection = db.connection()
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres(db: Session) -> bool:
    """Whether the session talks to PostgreSQL."""
    return db.get_bind().dialect.name == "postgresql"


@contextmanager
def _raw_cursor(db: Session) -> Iterator[psycopg.Cursor]:
    """A driver cursor on the session's own connection (for COPY), inside its transaction.

    Driver errors come out as SQLAlchemy's, like those of any other statement, and a lost
    connection is invalidated so the pool does not hand it out again.
    """
    connection = db.connection()
    raw = connection.connection.dbapi_connection
    try:
        with raw.cursor() as cursor:
            yield cursor
    except psycopg.Error as error:
        if raw.broken:
            connection.invalidate(error)
        raise DBAPIError.instance(
            None, None, error, psycopg.Error, connection_invalidated=raw.broken, dialect=connection.dialect
        ) from error


def id_in(db: Session, column, ids: Sequence[int]):
    """``column IN ids`` that stays one bind parameter on PostgreSQL (``= ANY(:array)``).

    Thousands of ids would otherwise become thousands of placeholders to parse.

    Args:
        db: The session (to pick the dialect).
        column: An integer column.
        ids: The ids.

    Returns:
        A SQL condition.
    """
    if is_postgres(db):
        return column == any_(bindparam(None, list(ids), type_=ARRAY(Integer)))
    return column.in_(list(ids))


def copy_insert_returning(
    db: Session,
    table: str,
    columns: Sequence[str],
    rows: Iterable[Sequence[Any]],
    conflict_column: str,
    returning: Sequence[str],
    then: str = "",
    then_params: dict[str, Any] | None = None,
) -> list[tuple]:
    """PostgreSQL bulk insert: COPY into a temporary table, then one INSERT ... SELECT.

    The INSERT skips rows whose ``conflict_column`` already exists (so a concurrent
    duplicate is skipped, not an error) and returns the inserted rows. ``then`` may add
    a data-modifying CTE reading from ``ins`` (the inserted rows), e.g. their events.

    Args:
        db: An open PostgreSQL session (the caller commits).
        table: Target table.
        columns: Columns given for every row (in order).
        rows: Row tuples.
        conflict_column: Unique column for ``ON CONFLICT DO NOTHING``.
        returning: Columns to return from the inserted rows.
        then: Extra CTE SQL after ``ins`` (``, name AS (...)``).
        then_params: Parameters of ``then`` (psycopg ``%(name)s`` style).

    Returns:
        The returned column values of the inserted rows.
    """
    column_list = ", ".join(columns)
    with _raw_cursor(db) as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS _bulk_{table} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        cursor.execute(f"TRUNCATE _bulk_{table}")
        with cursor.copy(f"COPY _bulk_{table} ({column_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(
            f"WITH ins AS (INSERT INTO {table} ({column_list}) SELECT {column_list} FROM _bulk_{table} "
            f"ON CONFLICT ({conflict_column}) DO NOTHING RETURNING {', '.join(returning)}){then} "
            f"SELECT {', '.join(returning)} FROM ins",
            then_params or {},
        )
        return [tuple(r) for r in cursor.fetchall()]


def next_ids(db: Session, table: str, count: int) -> list[int]:
    """Draw ``count`` ids from the serial sequence of ``table.id`` (PostgreSQL).

    Ids drawn this way are never handed out again, even if the transaction rolls back,
    so rows can be written with their ids by ``COPY`` and their children in the same go.

    Args:
        db: An open PostgreSQL session.
        table: Table whose ``id`` column is serial.
        count: How many ids.

    Returns:
        The ids, ascending.
    """
    with _raw_cursor(db) as cursor:
        sequence = cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,)).fetchone()[0]
        # A literal regclass is resolved once; a parameter would be looked up for every row.
        cursor.execute(
            sql.SQL("SELECT nextval({}::regclass) FROM generate_series(1, %s)").format(sql.Literal(sequence)),
            (count,),
        )
        return [row[0] for row in cursor.fetchall()]


def copy_unless_duplicate(
    db: Session, copies: Sequence[tuple[str, Sequence[str], Iterable[Sequence[Any]]]]
) -> bool:
    """Run several ``COPY`` loads as one unit that a unique violation undoes.

    The loads run inside a savepoint: if any row breaks a unique constraint (a concurrent
    transaction got there first), everything they wrote is rolled back and the caller's
    transaction carries on, so it can retry with ``INSERT ... ON CONFLICT``. Any other
    error also undoes the loads before it propagates.

    Args:
        db: An open PostgreSQL session (the caller commits).
        copies: (table, columns, rows) for each load, in order.

    Returns:
        True if every row was written, False if the loads were undone.
    """
    with _raw_cursor(db) as cursor:
        cursor.execute("SAVEPOINT copy_unless_duplicate")
        try:
            for table, columns, rows in copies:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        except psycopg.errors.UniqueViolation:
            cursor.execute("ROLLBACK TO SAVEPOINT copy_unless_duplicate")
            return False
        except Exception:
            # Leave the caller's transaction usable, as if the loads had never started.
            if not cursor.connection.broken:
                cursor.execute("ROLLBACK TO SAVEPOINT copy_unless_duplicate")
            raise
        cursor.execute("RELEASE SAVEPOINT copy_unless_duplicate")
    return True


def contains_text(search: str, *columns):
    """Case-insensitive "any of these columns contains ``search``", wildcards taken literally.

    Args:
        search: What the user typed (already bounded in length).
        *columns: String columns to look in.

    Returns:
        A SQL condition.
    """
    escaped = search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"%{escaped}%"
    return or_(*(func.lower(column).like(pattern, escape="\\") for column in columns))


def json_text(value: Any) -> str:
    """JSON for a ``json`` column written by raw SQL."""
    return json.dumps(value, separators=(",", ":"))


def copy_rows(db: Session, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """PostgreSQL ``COPY`` of many rows into ``table`` inside the session's transaction.

    Args:
        db: An open PostgreSQL session (the caller commits).
        table: Target table.
        columns: Column names, in row order.
        rows: Row tuples (JSON columns as already-serialized text).
    """
    with _raw_cursor(db) as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
