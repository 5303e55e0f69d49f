"""Task events and notifications are written with enum kinds only, by their one writer each."""

import ast
import re
from pathlib import Path

import pytest

import work_dispatch
from work_dispatch.domain.enums import NotificationKind, TaskEventKind
from work_dispatch.models import Notification, TaskEvent
from work_dispatch.services.audit import event_kind, events_from, record_events
from work_dispatch.services.notifications import Notice, notify, send_notices

SOURCES = sorted(Path(work_dispatch.__file__).parent.rglob("*.py"))
KIND_ARGUMENT = {"record_events": 2, "events_from": 2, "notify": 2, "Notice": 1, "TaskEvent": None}
"""Writers of events and notifications → position of their ``kind`` argument (None: keyword only)."""
RAW_EVENT_INSERT = re.compile(r"INSERT INTO task_event\b.*?SELECT\b(?P<select>.*?)\bFROM\b", re.S | re.I)


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in KIND_ARGUMENT:
                yield name, node


def _kind_argument(name: str, call: ast.Call) -> ast.expr | None:
    position = KIND_ARGUMENT[name]
    if position is not None and len(call.args) > position:
        return call.args[position]
    return next((keyword.value for keyword in call.keywords if keyword.arg == "kind"), None)


def test_no_code_writes_an_event_or_notification_kind_as_a_string():
    offenders = []
    for path in SOURCES:
        tree = ast.parse(path.read_text(), str(path))
        for name, call in _calls(tree):
            kind = _kind_argument(name, call)
            if isinstance(kind, ast.Constant):
                offenders.append(f"{path.name}:{call.lineno} {name}(kind={kind.value!r})")
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for match in RAW_EVENT_INSERT.finditer(node.value):
                    if re.search(r"'[a-z_]+'", match["select"]):
                        offenders.append(f"{path.name}:{node.lineno} hand-typed kind in SQL")
    assert not offenders, "use TaskEventKind / NotificationKind members:\n" + "\n".join(offenders)


def test_the_scan_finds_the_writers():
    found = {name for path in SOURCES for name, _ in _calls(ast.parse(path.read_text()))}
    assert {"record_events", "events_from", "notify", "Notice"} <= found


def test_the_event_writers_refuse_unknown_kinds_before_writing():
    with pytest.raises(ValueError, match="TaskEventKind"):
        record_events(None, 1, "claimd", [1])
    with pytest.raises(ValueError, match="TaskEventKind"):
        events_from(TaskEvent.task_id, None, "claimd", None)
    assert event_kind("claimed") is TaskEventKind.CLAIMED


def test_the_notification_writer_refuses_unknown_kinds_before_writing():
    with pytest.raises(ValueError, match="NotificationKind"):
        send_notices(None, [Notice(1, "task_asigned", "title")])
    with pytest.raises(ValueError, match="NotificationKind"):
        notify(None, [1], "task_asigned", "title")


def test_every_kind_fits_its_column():
    assert max(len(kind) for kind in TaskEventKind) <= TaskEvent.__table__.c.kind.type.length
    assert max(len(kind) for kind in NotificationKind) <= Notification.__table__.c.kind.type.length
