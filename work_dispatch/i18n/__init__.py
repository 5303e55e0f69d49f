"""Messages in the reader's language: catalogs, locale choice and formatting.

Text shown to people is never a literal in pages, components or services: it is a message
key plus parameters, rendered in the reader's locale. Catalogs are flat JSON files, one per
area and locale, under ``i18n/locales/<locale>/<area>.json`` (``ui`` for screen labels,
``messages`` for refusals and confirmations, ``enums`` for statuses, priorities and the like,
``notifications`` and ``cli``). Placeholders are ``{name}``, as in :meth:`str.format`; every
locale must have the same keys with the same placeholders (a test checks it).

Lookups fall back to English, then to the key itself, and a bad placeholder never raises:
a catalog slip shows as a visible key or a raw placeholder, never as a crash on screen.
"""

from __future__ import annotations

import json
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date as _babel_date
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_decimal as _babel_decimal

LOCALES: tuple[str, ...] = ("en", "zh-CN")
"""Supported locales, the default first."""
DEFAULT_LOCALE = LOCALES[0]
CATALOG_DIR = Path(__file__).resolve().parent / "locales"

_BABEL_LOCALE = {"en": "en", "zh-CN": "zh_CN"}
_DATETIME_PATTERN = {"en": "MMM d, yyyy HH:mm", "zh-CN": "yyyy年M月d日 HH:mm"}
_SHORT_DATETIME_PATTERN = {"en": "MMM d, HH:mm", "zh-CN": "M月d日 HH:mm"}
_ALIASES = {"zh": "zh-CN", "zh-cn": "zh-CN", "zh-hans": "zh-CN", "zh-hans-cn": "zh-CN", "zh-sg": "zh-CN"}


def normalize_locale(value: Any) -> str:
    """A supported locale for any input: a profile value, a URL parameter, a header part.

    Args:
        value: What the client or the database said (may be anything).

    Returns:
        ``en`` or ``zh-CN``; unknown or malformed values give the default.
    """
    if not isinstance(value, str):
        return DEFAULT_LOCALE
    tag = value.strip().replace("_", "-").lower()[:20]
    if tag in _ALIASES:
        return _ALIASES[tag]
    if tag.startswith("zh-hans") or tag.startswith("zh-cn"):
        return "zh-CN"
    for locale in LOCALES:
        if tag == locale.lower() or tag.split("-")[0] == locale.lower():
            return locale
    return DEFAULT_LOCALE


def supported_locale(value: Any) -> str | None:
    """The supported locale ``value`` names, or None when it names none (unlike :func:`normalize_locale`).

    Args:
        value: A stored preference, a tablet setting or a URL parameter (may be anything).

    Returns:
        ``en`` or ``zh-CN`` for a value naming one of them (``zh_cn``, ``en-US``...), else None,
        so that the caller can fall back to its next source.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    tag = value.strip().lower()
    locale = normalize_locale(value)
    if locale == DEFAULT_LOCALE and tag.replace("_", "-").split("-")[0] != DEFAULT_LOCALE.lower():
        return None
    return locale


def negotiate(accept_language: Any) -> str:
    """The best supported locale for an ``Accept-Language`` header.

    Args:
        accept_language: The header's value, e.g. ``"zh-CN,zh;q=0.9,en;q=0.8"``.

    Returns:
        The supported locale with the highest quality; the default when none matches.
    """
    if not isinstance(accept_language, str):
        return DEFAULT_LOCALE
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language[:500].split(",")):
        tag, _, rest = part.strip().partition(";")
        quality = 1.0
        if rest.strip().startswith("q="):
            try:
                quality = float(rest.strip()[2:])
            except ValueError:
                continue
        tag = tag.strip()
        if not tag or tag == "*" or quality <= 0:
            continue
        supported = normalize_locale(tag)
        if supported != DEFAULT_LOCALE or tag.lower().startswith("en"):
            ranked.append((-quality, position, supported))
    return min(ranked)[2] if ranked else DEFAULT_LOCALE


@cache
def catalog(locale: str) -> dict[str, str]:
    """Every message of a locale, all areas merged (read once per process).

    Args:
        locale: A supported locale.

    Returns:
        Key → text with ``{placeholders}``.

    Raises:
        ValueError: If two areas of the locale define the same key.
    """
    merged: dict[str, str] = {}
    folder = CATALOG_DIR / locale
    for path in sorted(folder.glob("*.json")):
        for key, text in json.loads(path.read_text(encoding="utf-8")).items():
            if key in merged:
                raise ValueError(f"{path}: key {key!r} is defined twice in {locale}")
            merged[key] = text
    return merged


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a catalog text expects."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class _Lenient(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def translate(key: str, locale: str = DEFAULT_LOCALE, /, **params: Any) -> str:
    """The text of ``key`` in ``locale``, with its parameters filled in.

    Parameters that are message dicts (see :class:`Message`) are rendered in the same locale
    first, so an enum label or a nested message reads in the reader's language too.

    Args:
        key: The message key.
        locale: The reader's locale (normalized here).
        **params: Values for the placeholders.

    Returns:
        The text; English when the locale lacks the key; the key itself when English does too.
    """
    locale = normalize_locale(locale)
    if key == NAME_KEY:
        return localized_name(params.get("text"), params.get("names"), locale)
    if key == WHEN_KEY:
        return _render_when(params, locale)
    text = catalog(locale).get(key) or catalog(DEFAULT_LOCALE).get(key)
    if text is None:
        return key
    values = _Lenient({name: _render_param(value, locale) for name, value in params.items()})
    try:
        return string.Formatter().vformat(text, (), values)
    except (ValueError, IndexError, AttributeError, KeyError):
        return text


def _render_param(value: Any, locale: str) -> Any:
    if isinstance(value, Message):
        return value.render(locale)
    if isinstance(value, Mapping) and "key" in value and set(value) <= {"key", "params"}:
        return Message.from_json(value).render(locale)
    return value


@dataclass(frozen=True)
class Message:
    """A message key plus its parameters: what is stored and passed instead of a sentence.

    Parameters must be JSON values (or nested messages), so a message can be stored in a
    JSON column and rendered later for each reader.
    """

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, locale: str = DEFAULT_LOCALE) -> str:
        """The message in ``locale``."""
        return translate(self.key, locale, **dict(self.params))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict ``{"key": ..., "params": {...}}``."""
        return {
            "key": self.key,
            "params": {
                name: value.to_json() if isinstance(value, Message) else value
                for name, value in self.params.items()
            },
        }

    @classmethod
    def from_json(cls, data: Any) -> Message:
        """Read a stored message back; anything malformed becomes a visible key, never an error."""
        if not isinstance(data, Mapping) or not isinstance(data.get("key"), str):
            return cls("message.unreadable")
        params = data.get("params")
        return cls(data["key"], dict(params) if isinstance(params, Mapping) else {})


def msg(key: str, /, **params: Any) -> Message:
    """Shorthand for ``Message(key, params)``."""
    return Message(key, params)


LITERAL_KEY = "text.literal"
"""Key of a message that is a piece of text shown as it is (typed by a person, or old data)."""
NAME_KEY = "text.name"
"""Key of a message that is a catalog name with optional names per locale (see :func:`named`)."""


WHEN_KEY = "text.when"
"""Key of a message that is an instant, shown in the reader's locale and the shop's timezone."""


def when(moment: datetime, timezone: Any = "UTC") -> Message:
    """A message parameter naming an instant, rendered by :func:`format_datetime` (short form).

    Args:
        moment: A timezone-aware datetime.
        timezone: The IANA timezone (name or ``ZoneInfo``) to show it in.
    """
    return Message(WHEN_KEY, {"at": moment.isoformat(), "tz": str(getattr(timezone, "key", timezone))})


def _render_when(params: Mapping[str, Any], locale: str) -> str:
    try:
        moment = datetime.fromisoformat(str(params.get("at")))
        return format_datetime(moment, locale, str(params.get("tz") or "UTC"), short=True)
    except (ValueError, TypeError, ZoneInfoNotFoundError):
        return str(params.get("at") or "")


def literal(text: Any) -> Message:
    """A message showing ``text`` as it is, in every locale (free text a person typed)."""
    return Message(LITERAL_KEY, {"text": "" if text is None else str(text)})


def as_message(value: Any) -> Message:
    """A stored value as a message: a message (or its JSON) as it is, any other text as a literal.

    Data written before texts were stored as messages (English sentences) still shows, as written.
    """
    if isinstance(value, Message):
        return value
    if isinstance(value, Mapping) and isinstance(value.get("key"), str):
        return Message.from_json(value)
    return literal("" if value is None else value)


def localized_name(name: Any, names: Any, locale: str = DEFAULT_LOCALE) -> str:
    """The name of a catalog record (department, process, product) for a locale.

    Args:
        name: The record's main name.
        names: Optional names per locale, e.g. ``{"zh-CN": "印刷"}`` (anything else is ignored).
        locale: The reader's locale.

    Returns:
        The name in ``locale`` when there is one, else the main name.
    """
    if isinstance(names, Mapping):
        text = names.get(normalize_locale(locale))
        if isinstance(text, str) and text.strip():
            return text
    return name if isinstance(name, str) else ""


def named(name: str, names: Mapping[str, str] | None = None) -> Message:
    """A message parameter naming a catalog record, rendered by :func:`localized_name`."""
    return Message(NAME_KEY, {"text": name, "names": dict(names or {})})


def enum_label(member: Any, locale: str = DEFAULT_LOCALE) -> str:
    """The label of an enum member (status, priority, strategy, role...) in ``locale``.

    Keys are ``enum.<snake_case enum class name>.<value>``, e.g. ``enum.task_status.in_progress``.

    Args:
        member: A member of a :class:`~enum.StrEnum`.
        locale: The reader's locale.

    Returns:
        The label (the key itself when the catalogs lack it).
    """
    return translate(enum_key(member), locale)


def enum_key(member: Any) -> str:
    """The catalog key of an enum member's label: ``enum.<snake_case class name>.<value>``."""
    name = type(member).__name__
    snake = "".join("_" + c.lower() if c.isupper() and i else c.lower() for i, c in enumerate(name))
    return f"enum.{snake}.{member.value}"


def format_number(value: int | float, locale: str = DEFAULT_LOCALE) -> str:
    """A number with the locale's grouping (30,000)."""
    return _babel_decimal(value, locale=_BABEL_LOCALE[normalize_locale(locale)])


def format_datetime(
    moment: datetime | None, locale: str = DEFAULT_LOCALE, timezone: str = "UTC", *, short: bool = False
) -> str:
    """A date and time for people: ``Dec 3, 2026 17:00`` / ``2026年12月3日 17:00``.

    Args:
        moment: A timezone-aware datetime (None gives "").
        locale: The reader's locale.
        timezone: The shop's IANA timezone the time is shown in.
        short: Leave out the year.

    Returns:
        The formatted text.
    """
    if moment is None:
        return ""
    locale = normalize_locale(locale)
    pattern = (_SHORT_DATETIME_PATTERN if short else _DATETIME_PATTERN)[locale]
    return _babel_datetime(moment, pattern, tzinfo=ZoneInfo(timezone), locale=_BABEL_LOCALE[locale])


def format_day(day: date | None, locale: str = DEFAULT_LOCALE) -> str:
    """A calendar date for people: ``Dec 3, 2026`` / ``2026年12月3日``."""
    if day is None:
        return ""
    return _babel_date(day, "medium", locale=_BABEL_LOCALE[normalize_locale(locale)])
