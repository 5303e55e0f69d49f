"""Pairing tablets: the addresses a tablet on the shop network opens, with a QR code for each."""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import segno

from work_dispatch.domain.errors import PermissionDeniedError
from work_dispatch.network import TabletAddress, name_urls, tablet_addresses
from work_dispatch.services.actor import Actor, require_actor
from work_dispatch.settings import Settings, settings


@dataclass
class PairingCode:
    """One address to open on a tablet, its network interface and its QR code."""

    url: str
    interface: str
    qr_svg: str


@dataclass
class TabletPairing:
    """What the connect page shows."""

    codes: list[PairingCode] = field(default_factory=list)
    name_urls: list[str] = field(default_factory=list)
    automatic: bool = True
    port: int = 0


def qr_svg_data_uri(url: str) -> str:
    """A QR code of a URL as an SVG ``data:`` URI that scales to any size.

    Args:
        url: What the code encodes.

    Returns:
        The data URI (about 2 KB).
    """
    return segno.make(url, error="m").svg_data_uri(border=4, omitsize=True)


def pairing_urls(config: Settings) -> tuple[list[TabletAddress], list[str]]:
    """The addresses tablets should open, and the name-based ones that work where names resolve.

    Args:
        config: The settings: the port, and the explicit origins when they are not automatic.

    Returns:
        ``(tablet addresses, name URLs)``. With an explicit ``WD_ALLOWED_ORIGINS`` those origins
        are the addresses, and there are no name URLs.
    """
    if not config.automatic_origins:
        return tablet_addresses(config.port, config.allowed_origins), []
    return tablet_addresses(config.port), name_urls(socket.gethostname(), config.port)


def tablet_pairing(actor: Actor | None, config: Settings = settings) -> TabletPairing:
    """The connect page for an admin: each address a tablet can open, with its QR code.

    Args:
        actor: The acting user.
        config: The settings (the served port and the allowed origins).

    Returns:
        The addresses, discovered now (an address DHCP handed out since the start is included).

    Raises:
        PermissionDeniedError: Unless the actor is an admin.
    """
    if not require_actor(actor).is_admin:
        raise PermissionDeniedError("error.admins_only_pairing")
    addresses, names = pairing_urls(config)
    codes = [PairingCode(a.url, a.interface, qr_svg_data_uri(a.url)) for a in addresses]
    return TabletPairing(codes, names, config.automatic_origins, config.port)
