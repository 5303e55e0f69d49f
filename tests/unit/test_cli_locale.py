"""``python -m work_dispatch`` speaks the operator's language: ``--locale``, else the environment."""

import contextlib
import io

import pytest

from work_dispatch import __main__ as cli
from work_dispatch.network import TabletAddress


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"LANG": "zh_CN.UTF-8"}, "zh-CN"),
        ({"LC_ALL": "zh_CN.UTF-8", "LANG": "en_US.UTF-8"}, "zh-CN"),
        ({"LC_ALL": "", "LC_MESSAGES": "en_GB.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANG": "C.UTF-8"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "en"),
        ({}, "en"),
    ],
)
def test_the_language_comes_from_the_environment(monkeypatch, environment, expected):
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    assert cli.cli_locale() == expected
    assert cli.cli_locale("zh-CN") == "zh-CN" and cli.cli_locale("en") == "en"


def test_addresses_are_announced_in_the_chosen_language(monkeypatch, capsys):
    from work_dispatch.services import connect

    monkeypatch.setenv("LANG", "en_US.UTF-8")
    addresses = [TabletAddress("http://192.168.1.20:3000", "wlan0")]
    monkeypatch.setattr(connect, "pairing_urls", lambda config: (addresses, []))
    assert cli.main(["addresses", "--locale", "zh-CN"]) == 0
    chinese = capsys.readouterr().out
    assert "在车间网络中的平板上打开" in chinese and "http://192.168.1.20:3000  (wlan0)" in chinese
    assert cli.main(["addresses"]) == 0
    assert "Open one of these on a tablet" in capsys.readouterr().out
    monkeypatch.setattr(connect, "pairing_urls", lambda config: ([], []))
    out = io.StringIO()
    cli.print_addresses(out, locale="zh-CN")
    assert out.getvalue().startswith("没有找到网络地址")


def test_help_is_translated(capsys):
    with pytest.raises(SystemExit):
        cli.main(["--locale", "zh-CN", "--help"])
    assert "迁移后载入演示印刷车间" in capsys.readouterr().out


def test_demo_locale_picks_the_chinese_shop_and_its_message(monkeypatch, capsys):
    from work_dispatch import db as database
    from work_dispatch.services import demo

    loaded = []
    monkeypatch.setattr(cli, "migrate", lambda *args: None)
    monkeypatch.setattr(database, "session_scope", lambda: contextlib.nullcontext(None))

    def fake_load_demo(session, locale):
        loaded.append(locale)
        return {"departments": 6, "processes": 8, "products": 5, "users": 15, "work_orders_created": 7}

    monkeypatch.setattr(demo, "load_demo", fake_load_demo)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert cli.main(["demo", "--locale", "zh-CN"]) == 0
    assert cli.main(["demo"]) == 0  # Chinese messages, but the shop only from --locale
    assert loaded == ["zh-CN", "en"]
    out = capsys.readouterr().out
    assert out.count("演示车间已就绪：部门 6 个") == 2
