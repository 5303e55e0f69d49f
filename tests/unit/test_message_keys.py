"""Every message a service or the domain builds names a key the catalogs have.

Refusals, notifications and explanations are key + parameters; a key with a typo would show
as the bare key on screen. This walks the source of ``services/``, ``domain/`` and the
command line and checks every key literal against the English catalog (the parity test in
``test_i18n.py`` then holds the other locales to the same keys and placeholders).
"""

import ast
import re
from pathlib import Path

import pytest

from work_dispatch.i18n import catalog, placeholders, translate

PACKAGE = Path(__file__).resolve().parents[2] / "work_dispatch"
SOURCES = sorted([*PACKAGE.glob("services/*.py"), *PACKAGE.glob("domain/*.py"), PACKAGE / "__main__.py"])
NAMESPACES = (
    "board",
    "calendar",
    "cli",
    "demo",
    "dispatch",
    "duration",
    "enum",
    "error",
    "export",
    "field",
    "floor",
    "flow",
    "generation",
    "handover",
    "kpi",
    "notification",
    "presence",
    "publish",
    "quality",
    "scan",
    "scheduling",
    "shift",
    "simulation",
    "skills",
    "task",
    "task_action",
    "task_status_phrase",
    "text",
    "traveler",
    "work_order_status_word",
)
KEY = re.compile(rf"^(?:{'|'.join(NAMESPACES)})(?:\.[a-z0-9_]+)+$")
"""A key of the catalogs this check covers (other areas bring their own)."""
KEY_SHAPE = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+$")
ERRORS = {
    "DomainError",
    "ValidationError",
    "NotFoundError",
    "PermissionDeniedError",
    "ConflictError",
    "IllegalTransitionError",
}


def _literals(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and KEY.match(node.value):
            yield node.lineno, node.value
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            prefix = node.values[0].value
            if KEY.match(prefix.rstrip(".") + ".x") and prefix.endswith("."):
                yield node.lineno, prefix + "*"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_key_in_the_source_is_in_the_catalog(path):
    english = catalog("en")
    missing = []
    for line, key in _literals(ast.parse(path.read_text(encoding="utf-8"))):
        if key.endswith("*"):
            if not any(k.startswith(key[:-1]) for k in english):
                missing.append((line, key))
        elif key not in english:
            missing.append((line, key))
    assert not missing, f"{path.name}: keys missing from the catalogs: {missing}"


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_errors_carry_keys_not_sentences(path):
    sentences = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ERRORS):
            continue
        first = node.args[0] if node.args else None
        if (
            isinstance(first, ast.Constant)
            and isinstance(first.value, str)
            and not KEY_SHAPE.match(first.value)
        ):
            sentences.append((node.lineno, first.value))
        if isinstance(first, ast.JoinedStr) and any(
            isinstance(part, ast.Constant) and " " in part.value for part in first.values
        ):
            sentences.append((node.lineno, ast.unparse(first)))
    assert not sentences, f"{path.name}: errors built from sentences, not message keys: {sentences}"


def test_error_keys_render_with_the_parameters_their_raisers_pass():
    # Spot check the placeholders of the busiest refusals against what the services pass.
    for key, params in {
        "error.at_least": {"label", "minimum"},
        "error.transition": {"action", "status"},
        "error.task_blocked": {"task_id", "reason"},
        "error.wip_limit_reached": {"count"},
        "notification.new_task.title": {"task_id", "order_number"},
    }.items():
        assert placeholders(catalog("en")[key]) == params
        assert "{" not in translate(key, "zh-CN", **dict.fromkeys(params, "x"))
