"""This machine's origins: the embedded default's allowed origins and the addresses tablets open."""

import io

import pytest
import segno

from work_dispatch import network
from work_dispatch.__main__ import print_addresses, terminal_qr
from work_dispatch.network import (
    LocalAddress,
    LocalOriginCheck,
    TabletAddress,
    is_allowed_origin,
    is_loopback_origin,
    origins_for,
    parse_fib_trie,
    tablet_addresses,
)

FIB_TRIE = """Main:
  +-- 0.0.0.0/0 3 0 5
     |-- 0.0.0.0
        /0 universe UNICAST
     +-- 127.0.0.0/8 2 0 2
        +-- 127.0.0.0/31 1 0 0
           |-- 127.0.0.0
              /8 host LOCAL
           |-- 127.0.0.1
              /32 host LOCAL
        |-- 127.255.255.255
           /32 link BROADCAST
     +-- 192.168.1.0/24 2 0 2
           |-- 192.168.1.0
              /24 link UNICAST
           |-- 192.168.1.20
              /32 host LOCAL
           |-- 192.168.1.21
              /32 host LOCAL
        |-- 192.168.1.255
           /32 link BROADCAST
Local:
  +-- 0.0.0.0/0 3 0 5
           |-- 127.0.0.1
              /32 host LOCAL
           |-- 192.168.1.20
              /32 host LOCAL
"""


def test_origins_cover_localhost_every_address_and_the_host_names():
    assert origins_for(["127.0.0.1", "192.168.1.20", "fd00::2"], "ShopPC", 3000) == [
        "http://localhost:3000",
        "http://127.0.0.1:3000",
        "http://192.168.1.20:3000",
        "http://[fd00::2]:3000",
        "http://shoppc:3000",
        "http://shoppc.local:3000",
    ]


def test_a_qualified_host_name_is_used_as_is_and_port_80_is_left_out_like_browsers_do():
    assert origins_for([], "pc.shop.lan", 80) == [
        "http://localhost",
        "http://127.0.0.1",
        "http://pc.shop.lan",
    ]
    assert origins_for([], "localhost", 3000) == ["http://localhost:3000", "http://127.0.0.1:3000"]
    assert origins_for([], "", 3000) == ["http://localhost:3000", "http://127.0.0.1:3000"]


KNOWN = frozenset(origins_for(["192.168.1.20"], "shoppc", 3000))


@pytest.mark.parametrize(
    ("candidate", "allowed"),
    [
        ("http://192.168.1.20:3000", True),
        ("http://shoppc.local:3000", True),
        ("http://localhost:3000", True),
        ("http://127.0.0.2:3000", True),  # every 127.x.y.z is this machine
        ("http://127.200.1.9:3000", True),
        ("http://[::1]:3000", True),
        ("http://192.168.1.21:3000", False),  # not one of ours
        ("http://192.168.1.20:3001", False),  # another port: another program
        ("http://127.0.0.2:3001", False),
        ("http://127.0.0.2", False),
        ("https://127.0.0.2:3000", False),
        ("http://evil.example:3000", False),
        ("http://127.0.0.2.evil.example:3000", False),
        ("http://127.0.0.2:3000.evil.example", False),
        ("http://127.0.0.2:99999", False),
        ("null", False),
        ("", False),
        (None, False),
    ],
)
def test_only_our_own_origins_on_the_port_are_allowed(candidate, allowed):
    assert is_allowed_origin(candidate, 3000, KNOWN) is allowed


def test_a_loopback_origin_on_port_80_has_no_port_in_it():
    assert is_allowed_origin("http://127.0.0.2", 80, frozenset())


def test_fib_trie_gives_every_local_address_once_and_no_networks_or_broadcasts():
    assert parse_fib_trie(FIB_TRIE) == ["127.0.0.1", "192.168.1.20", "192.168.1.21"]


def test_local_addresses_on_this_machine_include_loopback():
    addresses = network.local_addresses()
    assert "127.0.0.1" in [a.address for a in addresses]
    assert len({a.address for a in addresses}) == len(addresses)


def test_tablets_get_the_lan_addresses_only():
    found = [
        LocalAddress("127.0.0.1", "lo"),
        LocalAddress("192.168.1.20", "wlan0"),
        LocalAddress("169.254.3.4", "eth1"),
        LocalAddress("172.17.0.1", "docker0"),
        LocalAddress("10.0.0.5"),
        LocalAddress("192.168.1.20"),
    ]
    assert tablet_addresses(3000, addresses=found) == [
        TabletAddress("http://192.168.1.20:3000", "wlan0"),
        TabletAddress("http://10.0.0.5:3000", ""),
    ]


def test_an_explicit_list_is_what_tablets_open(monkeypatch):
    monkeypatch.setattr(network, "local_addresses", lambda: pytest.fail("no discovery with an explicit list"))
    configured = ["http://localhost:3000", "https://dispatch.example.com", "http://127.0.0.1:3000"]
    assert tablet_addresses(3000, configured) == [TabletAddress("https://dispatch.example.com")]


def test_loopback_origins():
    assert is_loopback_origin("http://localhost:3000")
    assert is_loopback_origin("http://127.0.0.9:3000")
    assert not is_loopback_origin("http://192.168.1.20:3000")
    assert not is_loopback_origin("https://dispatch.example.com")


def test_the_check_looks_again_for_an_unknown_origin_at_most_every_refresh_period():
    now = [0.0]
    addresses = [["192.168.1.20"]]
    calls = []

    def discover(port):
        calls.append(port)
        return origins_for(addresses[0], "shoppc", port)

    check = LocalOriginCheck(3000, discover=discover, refresh_s=10, clock=lambda: now[0])
    assert check("http://192.168.1.20:3000", {}) and len(calls) == 1
    addresses[0] = ["192.168.1.20", "10.0.0.5"]  # DHCP gave a second address after the start
    now[0] = 5
    assert not check("http://10.0.0.5:3000") and len(calls) == 1
    now[0] = 11
    assert check("http://10.0.0.5:3000") and len(calls) == 2
    assert not check("http://evil.example:3000") and len(calls) == 2
    assert check("http://127.0.0.2:3000") and len(calls) == 2


def _decode_ansi(text: str) -> list[list[bool]]:
    rows: list[list[bool]] = []
    for line in text.splitlines():
        top, bottom = [], []
        for cell in line.split("\033[")[1:]:
            if cell.startswith("0m"):
                continue
            foreground, background = cell[: cell.index("m")].split(";")
            top.append(foreground == "30")
            bottom.append(background == "40")
        rows += [top, bottom]
    return rows


def test_the_terminal_qr_code_is_the_code_in_black_on_white():
    url = "http://192.168.1.20:3000"
    matrix = [[bool(bit) for bit in row] for row in segno.make(url, error="m").matrix_iter(border=2)]
    decoded = _decode_ansi(terminal_qr(url, colours=True))
    assert decoded[: len(matrix)] == matrix
    assert not any(any(row) for row in decoded[len(matrix) :])  # the padding row is white
    plain = io.StringIO()
    segno.make(url, error="m").terminal(out=plain, compact=True, border=2)
    assert terminal_qr(url, colours=False) == plain.getvalue().rstrip("\n")


def test_the_addresses_command_prints_each_address_with_its_code(monkeypatch):
    from work_dispatch.services import connect

    addresses = [TabletAddress("http://192.168.1.20:3000", "wlan0")]
    monkeypatch.setattr(connect, "pairing_urls", lambda config: (addresses, ["http://shoppc.local:3000"]))
    out = io.StringIO()
    print_addresses(out)
    text = out.getvalue()
    assert "http://192.168.1.20:3000  (wlan0)" in text
    assert terminal_qr("http://192.168.1.20:3000", colours=False) in text
    assert "http://shoppc.local:3000" in text

    monkeypatch.setattr(connect, "pairing_urls", lambda config: ([], []))
    out = io.StringIO()
    print_addresses(out)
    assert "No network address found" in out.getvalue()
