"""The connect page's service: admins only, one QR code per address a tablet can open."""

import urllib.parse
from dataclasses import replace

import pytest

from work_dispatch import network
from work_dispatch.domain.errors import PermissionDeniedError
from work_dispatch.network import LocalAddress
from work_dispatch.services.actor import Actor
from work_dispatch.services.connect import tablet_pairing
from work_dispatch.settings import Settings

ADMIN = Actor(1, "admin", "Alex Admin", "admin")
AUTOMATIC = Settings(database_url="sqlite://", redis_url=None, port=3000, automatic_origins=True)


@pytest.fixture
def shop_network(monkeypatch):
    found = [LocalAddress("127.0.0.1", "lo"), LocalAddress("192.168.1.20", "wlan0")]
    monkeypatch.setattr(network, "local_addresses", lambda: found)
    monkeypatch.setattr("work_dispatch.services.connect.socket.gethostname", lambda: "shoppc")


def test_an_admin_gets_each_lan_address_with_its_qr_code(shop_network):
    pairing = tablet_pairing(ADMIN, AUTOMATIC)
    assert [(c.url, c.interface) for c in pairing.codes] == [("http://192.168.1.20:3000", "wlan0")]
    svg = urllib.parse.unquote(pairing.codes[0].qr_svg)
    assert svg.startswith("data:image/svg+xml") and "viewBox" in svg
    assert pairing.name_urls == ["http://shoppc:3000", "http://shoppc.local:3000"]
    assert pairing.automatic and pairing.port == 3000


def test_with_an_explicit_list_the_codes_are_its_origins(shop_network):
    explicit = replace(
        AUTOMATIC,
        automatic_origins=False,
        allowed_origins=["http://localhost:3000", "https://dispatch.example.com"],
    )
    pairing = tablet_pairing(ADMIN, explicit)
    assert [c.url for c in pairing.codes] == ["https://dispatch.example.com"]
    assert pairing.name_urls == [] and not pairing.automatic


@pytest.mark.parametrize(
    "actor",
    [None, Actor(2, "super1", "Sam", "supervisor"), Actor(3, "print1", "Omar", "operator")],
)
def test_only_admins_see_the_addresses(shop_network, actor):
    with pytest.raises(PermissionDeniedError):
        tablet_pairing(actor, AUTOMATIC)
