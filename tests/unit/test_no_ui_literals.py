"""No user-visible string literal in pages or components, no sentence literal in states' toasts and vars.

Visible text comes from the catalogs (``t("ui.key")``, ``tf``, ``enum_text``). The check walks the
syntax tree of every module and decides for each string literal whether it can reach a screen:

- **visible**: a positional argument of a Reflex component (``rx.text("Hi")``, ``rx.button("Save")``),
  a keyword argument naming text (``placeholder=``, ``title=``, ``aria_label=``, ``label=``...), and
  everything inside those (``rx.cond`` branches, f-strings, ``+``, tuples). Any letter fails here.
- **loose**: arguments of the project's own helpers, assignments and returns. A literal fails when it
  reads like words (a capital letter, a space, non-ASCII letters); ids, routes, icon names, CSS values
  and catalog keys (``"my-tasks"``, ``"/supervisor"``, ``"var(--gray-4)"``, ``"ui.nav.board"``) pass.
- **hidden**: other keyword arguments (``id=``, ``class_name=``, ``color_scheme=``, CSS props), the key
  argument of ``t``/``tf``, ``rx.icon`` names, ``rx.match`` case values, subscripts, comparisons,
  dict keys, event-handler arguments and docstrings.

Strings without letters (``"#"``, ``" / "``, ``"·"``) are never text to translate.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "work_dispatch"

VISIBLE_KEYWORDS = frozenset(
    {
        "children",
        "text",
        "label",
        "placeholder",
        "title",
        "aria_label",
        "alt",
        "description",
        "content",
        "subtitle",
        "hint",
        "none_label",
        "new_label",
        "save_label",
        "on_text",
        "off_text",
        "message",
        "tooltip",
        "default_value",
    }
)
"""Keyword arguments whose value is shown to people."""

HIDDEN_CALLS = frozenset(
    {
        "rx.icon",
        "rx.breakpoints",
        "rx.redirect",
        "rx.scroll_to",
        "rx.script",
        "rx.call_script",
        "rx.Var",
        "rx.Var.create",
        "rx.color",
        "t",
        "tf",
        "enum_text",
        "enum_key",
        "texts_of",
        "getattr",
        "isinstance",
        "logging.getLogger",
    }
)
"""Calls whose positional string arguments are names, not text."""

HIDDEN_METHODS = frozenset(
    {
        "get",
        "contains",
        "startswith",
        "endswith",
        "replace",
        "split",
        "join",
        "to",
        "pop",
        "setdefault",
        "format",
        "strip",
        "removeprefix",
        "removesuffix",
        "get_state",
        "getLogger",
        "debug",
        "info",
        "warning",
        "exception",
        "error_log",
    }
)
"""Methods whose positional string arguments are keys, separators or log lines."""

TRANSPARENT_CALLS = frozenset({"rx.cond", "rx.match", "rx.foreach", "rx.fragment"})
"""Reflex calls that only route their arguments: their branches are as visible as the call itself."""

TOKEN = re.compile(r"^[a-z0-9_\-./:?=&#%@+*\[\](),'\"]*$")
WORDS = re.compile(r"[A-Z]|\S\s+\S|[^\x00-\x7f]")
LETTER = re.compile(r"[^\W\d_]")

STRICT, LOOSE, HIDDEN = "strict", "loose", "hidden"


def _dotted(node: ast.AST) -> str:
    """``rx.table.cell`` for an attribute chain, ``name`` for a name, "" otherwise."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else ""
    return ""


def _is_state_handler(name: str) -> bool:
    """``S.set_filter``, ``BoardState.open_task``, ``self.x``: event handlers and state methods."""
    root = name.split(".")[0]
    return root in {"S", "T", "self", "cls"} or root.endswith("State")


class _Finder(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []
        self.context = LOOSE

    def _within(self, node: ast.AST | None, context: str) -> None:
        if node is None:
            return
        saved, self.context = self.context, context
        self.visit(node)
        self.context = saved

    def visit_Constant(self, node: ast.Constant) -> None:
        if not isinstance(node.value, str) or not LETTER.search(node.value) or self.context == HIDDEN:
            return
        if self.context == STRICT or WORDS.search(node.value) or not TOKEN.match(node.value):
            self.found.append((node.lineno, node.value))

    def visit_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # a docstring
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        self.visit(node.value)
        self._within(node.slice, HIDDEN)

    def visit_Compare(self, node: ast.Compare) -> None:
        for operand in (node.left, *node.comparators):
            self._within(operand, HIDDEN)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            self._within(key, HIDDEN)
            self.visit(value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._within(node.value, self.context)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for default in (*node.args.defaults, *node.args.kw_defaults):
            self._within(default, LOOSE)
        for statement in node.body:
            self.visit(statement)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        name = _dotted(node.func)
        method = name.rsplit(".", 1)[-1]
        self.visit(node.func) if not name else None
        if name in TRANSPARENT_CALLS:
            self._transparent(name, node)
            return
        if name in HIDDEN_CALLS or (name != method and method in HIDDEN_METHODS) or _is_state_handler(name):
            positional = HIDDEN
        elif name.startswith("rx."):
            positional = STRICT
        else:
            positional = LOOSE
        for argument in node.args:
            self._within(argument, positional)
        for keyword in node.keywords:
            if keyword.arg in VISIBLE_KEYWORDS:
                self._within(keyword.value, STRICT)
            elif keyword.arg is None or keyword.arg in {"then", "on_error"}:
                self._within(keyword.value, self.context)
            else:
                self._within(keyword.value, HIDDEN)

    def _transparent(self, name: str, node: ast.Call) -> None:
        arguments = list(node.args)
        if name in {"rx.cond", "rx.match"} and arguments:
            self._within(arguments.pop(0), HIDDEN)
        for argument in arguments:
            if name == "rx.match" and isinstance(argument, ast.Tuple) and len(argument.elts) == 2:
                self._within(argument.elts[0], HIDDEN)
                self.visit(argument.elts[1])
            else:
                self.visit(argument)
        for keyword in node.keywords:
            self._within(keyword.value, HIDDEN)


def literals_in(source: str) -> list[tuple[int, str]]:
    """The user-visible string literals of a page or component module: (line, text)."""
    finder = _Finder()
    finder.visit(ast.parse(source))
    return finder.found


def _ui_modules() -> list[Path]:
    return sorted(
        path
        for folder in ("pages", "components")
        for path in (PACKAGE / folder).glob("*.py")
        if path.name != "__init__.py"
    )


@pytest.mark.parametrize("path", _ui_modules(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_pages_and_components_hold_no_user_visible_literal(path):
    found = literals_in(path.read_text(encoding="utf-8"))
    assert not found, "visible literals (use t('ui.key')):\n" + "\n".join(
        f"  {path.name}:{line}: {text!r}" for line, text in found
    )


class _StateTexts(ast.NodeVisitor):
    """Sentences in states: toast arguments and text assigned to state vars."""

    def __init__(self) -> None:
        self.found: list[tuple[int, str]] = []

    def _sentences(self, node: ast.AST) -> None:
        for inner in ast.walk(node):
            text = inner.value if isinstance(inner, ast.Constant) else None
            if isinstance(text, str) and WORDS.search(text) and LETTER.search(text):
                self.found.append((inner.lineno, text))

    def visit_Call(self, node: ast.Call) -> None:
        if _dotted(node.func).startswith("rx.toast."):
            for argument in node.args:
                self._sentences(argument)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if any(
            isinstance(target, ast.Attribute) and _dotted(target.value) == "self" for target in node.targets
        ):
            self._sentences(node.value)
        self.generic_visit(node)


@pytest.mark.parametrize("path", sorted((PACKAGE / "states").glob("*.py")), ids=lambda p: f"states/{p.name}")
def test_states_build_toasts_and_messages_from_the_catalogs(path):
    finder = _StateTexts()
    finder.visit(ast.parse(path.read_text(encoding="utf-8")))
    assert not finder.found, "sentences in a state (use i18n.translate):\n" + "\n".join(
        f"  {path.name}:{line}: {text!r}" for line, text in finder.found
    )


PLANTED = '''
import reflex as rx
from work_dispatch.components.text import t

ROUTE = "/supervisor/x"
CHOICES = [("all", "All statuses")]


def page():
    """A docstring is fine."""
    return rx.vstack(
        rx.heading(t("ui.nav.board"), id="page-title", size="6"),
        rx.text("Hello"),
        rx.button(rx.icon("save"), rx.cond(S.busy, "Saving", t("ui.common.save")), class_name="save"),
        rx.input(placeholder="Order number"),
        rx.icon_button(rx.icon("x"), aria_label="Close"),
        rx.badge(S.count, " open"),
        rx.text(f"Paused: {S.reason}"),
        rx.match(S.status, ("in_progress", rx.text(t("ui.x"))), rx.text("unknown")),
        rx.box(color=rx.cond(S.late, "var(--red-11)", "inherit"), style={"outline": "1px solid red"}),
        helper("Shown anyway", "element-id"),
        rx.text(S.a.get("status", "all") == "draft", "#", " / "),
        rx.link(t("ui.x"), href="/supervisor/work-orders/edit?id=" + S.id),
        S.set_filter("status", "in_progress"),
    )
'''


def test_the_check_finds_every_planted_literal_and_nothing_else():
    found = [text for _, text in literals_in(PLANTED)]
    assert found == [
        "All statuses",
        "Hello",
        "Saving",
        "Order number",
        "Close",
        " open",
        "Paused: ",
        "unknown",
        "Shown anyway",
    ]


def test_the_check_fails_on_a_literal_planted_in_a_real_page():
    page = (PACKAGE / "pages" / "task_center.py").read_text(encoding="utf-8")
    planted = page.replace('id="my-tasks"', 'id="my-tasks", title="My tasks"', 1)
    assert planted != page
    assert literals_in(planted) == [(_line_of(planted, 'title="My tasks"'), "My tasks")]


def _line_of(source: str, text: str) -> int:
    return next(number for number, line in enumerate(source.splitlines(), 1) if text in line)
