"""The client address behind trusted reverse proxies (X-Forwarded-For)."""

import dataclasses

import pytest

from work_dispatch.services import login_throttle
from work_dispatch.services.login_throttle import client_address, delay, wait_text
from work_dispatch.settings import settings

PEER = "10.1.1.1"


@pytest.mark.parametrize(
    ("forwarded_for", "hops", "expected"),
    [
        # No trusted proxy: the header is whatever the client wrote, so it is ignored.
        ("203.0.113.7", 0, PEER),
        ("203.0.113.7", -1, PEER),
        # One proxy appends the address it saw; anything further left came from the client.
        ("203.0.113.7", 1, "203.0.113.7"),
        ("6.6.6.6, 203.0.113.7", 1, "203.0.113.7"),
        ("6.6.6.6,203.0.113.7", 1, "203.0.113.7"),
        # Two proxies: the client is the second entry from the right.
        ("6.6.6.6, 203.0.113.7, 10.0.0.2", 2, "203.0.113.7"),
        ("203.0.113.7, 10.0.0.2", 2, "203.0.113.7"),
        # Ports, brackets and IPv6.
        ("203.0.113.7:51234", 1, "203.0.113.7"),
        ("[2001:db8::1]:443", 1, "2001:db8::1"),
        ("2001:DB8:0:0::1", 1, "2001:db8::1"),
        ("::ffff:203.0.113.7", 1, "203.0.113.7"),
        # Missing, too short or malformed where the client should be: the peer.
        (None, 1, PEER),
        ("", 1, PEER),
        ("   ", 1, PEER),
        ("203.0.113.7", 2, PEER),
        ("unknown", 1, PEER),
        ("203.0.113.7, ", 1, PEER),
        ("evil<script>", 1, PEER),
        ("1.2.3.4.5", 1, PEER),
        ("x" * 10_000 + ", 203.0.113.7", 1, "203.0.113.7"),
        ("203.0.113.7, not-an-ip, 10.0.0.2", 2, PEER),
    ],
)
def test_client_address(forwarded_for, hops, expected):
    assert client_address(PEER, forwarded_for, hops) == expected


def test_the_peer_is_kept_as_given_and_bounded():
    assert client_address("", None, 0) == ""
    assert client_address(None, "203.0.113.7", 0) == ""
    assert client_address(" 10.0.0.9 ", None, 3) == "10.0.0.9"
    assert len(client_address("p" * 500, None, 0)) == 64


def test_delays_double_from_the_free_count_and_stop_at_the_cap(monkeypatch):
    policy = dataclasses.replace(settings, login_delay_s=30, login_max_delay_s=900)
    monkeypatch.setattr(login_throttle, "settings", policy)
    assert [delay(f, 5).total_seconds() for f in range(3, 13)] == [0, 0, 30, 60, 120, 240, 480, 900, 900, 900]
    assert delay(10**6, 1).total_seconds() == 900


def test_wait_text():
    from datetime import UTC, datetime, timedelta

    now = datetime(2030, 1, 1, tzinfo=UTC)

    def wait(seconds: float, locale: str = "en") -> str:
        return wait_text(now + timedelta(seconds=seconds), now).render(locale)

    assert wait(1) == "1 second"
    assert wait(29.2) == "30 seconds"
    assert wait(89) == "89 seconds"
    assert wait(241) == "5 minutes"
    assert wait(-5) == "1 second"
    assert wait(241, "zh-CN") == "5 分钟"
