"""PostgreSQL bulk helpers: ids drawn up front, COPY loads undone as a unit."""

import pytest
from sqlalchemy import text
from sqlmodel import Session

from work_dispatch.services.sql import copy_unless_duplicate, next_ids

COLUMNS = ("code", "name", "sort_order", "is_active")


def _add_department(db: Session, code: str) -> None:
    db.exec(
        text("INSERT INTO department (code, name, sort_order, is_active) VALUES (:code, :code, 1, true)"),
        params={"code": code},
    )


def _departments(db: Session) -> list[str]:
    return list(db.exec(text("SELECT code FROM department ORDER BY code")).scalars())


def test_next_ids_are_distinct_ascending_and_never_handed_out_again(pg_engine):
    with Session(pg_engine) as db:
        first = next_ids(db, "department", 500)
        db.rollback()
        second = next_ids(db, "department", 3)
    assert first == sorted(set(first)) and len(first) == 500
    assert min(second) > max(first)


def test_a_duplicate_undoes_every_load_and_leaves_the_transaction_usable(pg_engine):
    with Session(pg_engine) as db:
        _add_department(db, "TAKEN")
        written = copy_unless_duplicate(
            db,
            [
                ("department", COLUMNS, [("NEW1", "New 1", 2, True)]),
                ("department", COLUMNS, [("NEW2", "New 2", 3, True), ("TAKEN", "Again", 4, True)]),
            ],
        )
        assert written is False
        assert _departments(db) == ["TAKEN"]
        db.commit()
    with Session(pg_engine) as db:
        assert _departments(db) == ["TAKEN"]


def test_any_other_error_undoes_the_loads_and_propagates(pg_engine):
    def rows_that_break():
        yield ("FIRST", "First", 1, True)
        raise ValueError("planning failed half-way")

    with Session(pg_engine) as db:
        _add_department(db, "KEPT")
        with pytest.raises(ValueError, match="half-way"):
            copy_unless_duplicate(db, [("department", COLUMNS, rows_that_break())])
        assert _departments(db) == ["KEPT"]
        db.commit()
    with Session(pg_engine) as db:
        assert _departments(db) == ["KEPT"]


def test_clean_loads_are_all_written(pg_engine):
    with Session(pg_engine) as db:
        assert copy_unless_duplicate(
            db, [("department", COLUMNS, [("A", "A", 1, True), ("B", "B", 2, True)])]
        )
        db.commit()
    with Session(pg_engine) as db:
        assert _departments(db) == ["A", "B"]
