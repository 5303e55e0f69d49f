"""Catalogs, locale choice and formatting."""

from datetime import UTC, date, datetime

import pytest

from work_dispatch import i18n
from work_dispatch.i18n import (
    LOCALES,
    Message,
    catalog,
    msg,
    negotiate,
    normalize_locale,
    placeholders,
    translate,
)


def test_every_locale_has_the_same_keys_and_placeholders():
    english = catalog("en")
    for locale in LOCALES[1:]:
        other = catalog(locale)
        assert set(other) == set(english), f"{locale}: keys differ from en"
        wrong = {k for k in english if placeholders(english[k]) != placeholders(other[k])}
        assert not wrong, f"{locale}: placeholders differ for {sorted(wrong)}"


def test_every_catalog_text_formats_with_its_own_placeholders():
    for locale in LOCALES:
        for key, text in catalog(locale).items():
            assert isinstance(text, str) and text, f"{locale}:{key} is empty"
            text.format(**{name: "x" for name in placeholders(text)})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("zh-CN", "zh-CN"),
        ("zh_cn", "zh-CN"),
        ("zh", "zh-CN"),
        ("zh-Hans-CN", "zh-CN"),
        ("en-US", "en"),
        ("fr", "en"),
        ("", "en"),
        (None, "en"),
        (42, "en"),
        ("x" * 10_000, "en"),
    ],
)
def test_unknown_or_malformed_locales_fall_back_to_the_default(raw, expected):
    assert normalize_locale(raw) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        ("en-GB,en;q=0.9,zh;q=0.5", "en"),
        ("fr-FR,fr;q=0.9,zh;q=0.8,en;q=0.7", "zh-CN"),
        ("fr, de", "en"),
        ("zh;q=0", "en"),
        ("zh;q=abc, en", "en"),
        ("", "en"),
        (None, "en"),
    ],
)
def test_accept_language_picks_the_best_supported_locale(header, expected):
    assert negotiate(header) == expected


def test_lookup_falls_back_to_english_then_to_the_key(monkeypatch):
    monkeypatch.setattr(i18n, "catalog", lambda locale: {"en": {"only.en": "Hello {name}"}}.get(locale, {}))
    assert translate("only.en", "zh-CN", name="Li") == "Hello Li"
    assert translate("nowhere", "zh-CN") == "nowhere"
    assert translate("only.en", "en") == "Hello {name}"  # a missing parameter shows, never raises


def test_messages_round_trip_through_json_and_render_nested_messages(monkeypatch):
    texts = {
        "en": {"outer": "Task {task} is {status}", "status.paused": "paused"},
        "zh-CN": {"outer": "任务 {task} {status}", "status.paused": "已暂停"},
    }
    monkeypatch.setattr(i18n, "catalog", lambda locale: texts.get(locale, {}))
    stored = msg("outer", task=7, status=msg("status.paused")).to_json()
    assert stored == {"key": "outer", "params": {"task": 7, "status": {"key": "status.paused", "params": {}}}}
    again = Message.from_json(stored)
    assert again.render("en") == "Task 7 is paused"
    assert again.render("zh-CN") == "任务 7 已暂停"
    assert Message.from_json("garbage").key == "message.unreadable"


def test_dates_and_numbers_follow_the_locale():
    moment = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    assert i18n.format_datetime(moment, "zh-CN", "Asia/Shanghai") == "2026年12月3日 17:00"
    assert i18n.format_datetime(moment, "en", "Asia/Shanghai") == "Dec 3, 2026 17:00"
    assert i18n.format_datetime(moment, "en", "UTC", short=True) == "Dec 3, 09:00"
    assert i18n.format_datetime(None, "en") == ""
    assert i18n.format_number(30000, "zh-CN") == "30,000"
    assert i18n.format_day(date(2026, 12, 3), "zh-CN") == "2026年12月3日"
