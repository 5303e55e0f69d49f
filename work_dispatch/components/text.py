"""Screen text in the reader's language.

Pages and components never hold a sentence: they hold a catalog key. :func:`t` compiles the
key's text in every locale into the page as a small literal, ``{"en": "...", "zh-CN": "..."}``,
indexed in the browser by the session's locale (``LocaleState.locale``), so switching language
re-renders at once without a round trip per text. :func:`tf` fills ``{placeholders}`` in the
browser from vars; :func:`enum_text` labels a status, priority or role var; :func:`number`
groups digits for the locale.

The locale is ambient, like the colour theme: this module (and the header's switcher) are the
only components that know ``LocaleState``. Until the server has decided the locale (the first
moments after a full page load, before the websocket answers) pages render in English, exactly
as prerendered: guessing in the browser would make the first render differ from the prerendered
HTML, and React then discards it together with Emotion's styles.

A key missing from the English catalog fails when the page is built, never on screen.
"""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.vars.base import var_operation, var_operation_return

from work_dispatch.i18n import DEFAULT_LOCALE, LOCALES, catalog
from work_dispatch.states.locale import LocaleState


@var_operation
def _reading(decided: rx.Var):
    # Until the server has decided, the default: the first render must match the prerendered page
    # (a mismatch makes React drop the server HTML, and with it Emotion's styles).
    # Kept in globalThis too: toasts built outside any state (handle_backend_exception) read it.
    return var_operation_return(
        js_expression=f"(globalThis.__wdLocale = ({decided} || {DEFAULT_LOCALE!r}))", var_type=str
    )


CURRENT_LOCALE: rx.Var = _reading(LocaleState.locale)
"""The locale the page renders in, as a browser-side var."""


@var_operation
def _pick(texts: rx.Var, locale: rx.Var):
    return var_operation_return(js_expression=f"({texts}[{locale}])", var_type=str)


@var_operation
def _label(labels: rx.Var, locale: rx.Var, value: rx.Var):
    return var_operation_return(
        js_expression=f"({labels}[{locale}][{value}] ?? {value})",
        var_type=str,
    )


@var_operation
def _fill(template: rx.Var, values: rx.Var):
    return var_operation_return(
        js_expression=(
            f"({template}).replace(/\\{{(\\w+)\\}}/g, "
            f"(whole, name) => (name in {values} ? String({values}[name]) : whole))"
        ),
        var_type=str,
    )


@var_operation
def _grouped(value: rx.Var, locale: rx.Var):
    return var_operation_return(js_expression=f"(Number({value}).toLocaleString({locale}))", var_type=str)


def _capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


def texts_of(key: str) -> dict[str, str]:
    """The text of ``key`` in every locale (English where a locale lacks it).

    Args:
        key: A catalog key.

    Returns:
        Locale → text.

    Raises:
        KeyError: If the English catalog has no such key (a slip caught when the page is built).
    """
    english = catalog(DEFAULT_LOCALE)
    return {locale: catalog(locale).get(key) or english[key] for locale in LOCALES}


def t(key: str, capital: bool = False) -> rx.Var:
    """The text of a catalog key, in the page's locale.

    Args:
        key: A catalog key, e.g. ``"ui.login.submit"``.
        capital: Start with a capital letter (a lower-case enum label used as a menu item).

    Returns:
        A string var.
    """
    texts = texts_of(key)
    if capital:
        texts = {locale: _capitalized(text) for locale, text in texts.items()}
    return _pick(rx.Var.create(texts), CURRENT_LOCALE).to(str)


def tf(key: str, **values: Any) -> rx.Var:
    """The text of a catalog key with its ``{placeholders}`` filled in the browser.

    Args:
        key: A catalog key whose text has placeholders, e.g. ``"{count} rows on this page"``.
        **values: A var or a value per placeholder.

    Returns:
        A string var.
    """
    return _fill(t(key), rx.Var.create(values)).to(str)


def enum_text(enum: str, value: rx.Var, capital: bool = False) -> rx.Var:
    """The label of an enum value var (a status, a priority, a role...) in the page's locale.

    Args:
        enum: The enum's catalog name, e.g. ``"task_status"`` for keys ``enum.task_status.*``.
        value: The var holding the stored value, e.g. ``"in_progress"``.
        capital: Start with a capital letter (a label heading a tile or a menu item).

    Returns:
        A string var: the label, or the raw value when the catalog has none.
    """
    prefix = f"enum.{enum}."
    labels = {
        locale: {
            key.removeprefix(prefix): _capitalized(text) if capital else text
            for key, text in {**catalog(DEFAULT_LOCALE), **catalog(locale)}.items()
            if key.startswith(prefix)
        }
        for locale in LOCALES
    }
    return _label(rx.Var.create(labels), CURRENT_LOCALE, value).to(str)


def enum_key(enum: str, value: str) -> str:
    """The catalog key of one enum value's label (for a fixed value known when the page is built)."""
    return f"enum.{enum}.{value}"


def outside_state_text(texts: dict[str, str]) -> rx.Var:
    """Text for an event built where no state is at hand (the app's exception handler).

    Args:
        texts: The text in every locale.

    Returns:
        A var picking the text by the locale the page last rendered in.
    """
    return rx.Var(
        f"({rx.Var.create(texts)}[globalThis.__wdLocale] ?? {rx.Var.create(texts[DEFAULT_LOCALE])})"
    )


def number(value: rx.Var) -> rx.Var:
    """A number var with the locale's digit grouping (30,000)."""
    return _grouped(value, CURRENT_LOCALE).to(str)
