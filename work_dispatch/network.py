"""The network addresses of this machine and the browser origins they make.

The embedded default (``WD_ALLOWED_ORIGINS`` unset) accepts a browser page only when it was
loaded from this machine itself on the served port: ``http://<one of our addresses>:<port>``.
Discovery reads the kernel's own tables (Linux) and never sends a packet.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

HTTP_PORT = 80
SIOCGIFADDR = 0x8915
# Bridges to containers and VMs on this machine: no tablet is on their networks.
VIRTUAL_INTERFACES = ("docker", "br-", "veth", "virbr", "cni", "podman", "lxcbr", "lxdbr")
FIB_TRIE = Path("/proc/net/fib_trie")


@dataclass(frozen=True)
class LocalAddress:
    """One IPv4 address of this machine."""

    address: str
    interface: str = ""

    @property
    def is_loopback(self) -> bool:
        """Whether only this machine can use the address (127.0.0.0/8)."""
        return ipaddress.ip_address(self.address).is_loopback

    @property
    def is_link_local(self) -> bool:
        """Whether the address is a self-assigned 169.254.x.x one (no DHCP answered)."""
        return ipaddress.ip_address(self.address).is_link_local

    @property
    def reaches_tablets(self) -> bool:
        """Whether another device on the shop network can use the address."""
        virtual = self.interface.startswith(VIRTUAL_INTERFACES)
        return not (self.is_loopback or self.is_link_local or virtual)


def origin(host: str, port: int) -> str:
    """The ``http`` origin of a host on a port; IPv6 literals get their brackets.

    Args:
        host: A host name or an IP address.
        port: TCP port.

    Returns:
        For example ``http://192.168.1.20:3000`` or ``http://[fd00::2]:3000``; browsers leave
        the default port 80 out, and so does this.
    """
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}" if port == HTTP_PORT else f"http://{host}:{port}"


def host_names(hostname: str) -> list[str]:
    """The names this machine answers to on the shop network: its hostname, and ``<name>.local`` (mDNS).

    Args:
        hostname: ``socket.gethostname()``.

    Returns:
        Lower-case names, without duplicates; empty for an empty hostname.
    """
    name = hostname.strip().lower().rstrip(".")
    if not name or name == "localhost":
        return []
    return [name] if "." in name else [name, f"{name}.local"]


def origins_for(addresses: Iterable[str], hostname: str, port: int) -> list[str]:
    """The origins of this machine's own addresses and names on a port.

    Args:
        addresses: This machine's IP addresses (IPv4 or IPv6).
        hostname: This machine's hostname.
        port: The port the app is served on.

    Returns:
        ``localhost`` and ``127.0.0.1`` first, then each address, then the host names; no duplicates.
    """
    hosts = ["localhost", "127.0.0.1", *addresses, *host_names(hostname)]
    return list(dict.fromkeys(origin(host, port) for host in hosts))


@dataclass(frozen=True)
class TabletAddress:
    """An address a tablet can open, and the interface it belongs to ("" when unknown)."""

    url: str
    interface: str = ""


def is_loopback_origin(candidate: str) -> bool:
    """Whether an origin names this machine only (``localhost`` or a 127.x.y.z / ``::1`` literal).

    Args:
        candidate: An origin such as ``http://127.0.0.1:3000``.

    Returns:
        True when no other device can open it.
    """
    host = urlsplit(candidate).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def tablet_addresses(
    port: int, configured: Iterable[str] = (), addresses: Iterable[LocalAddress] | None = None
) -> list[TabletAddress]:
    """The addresses to open on a tablet: the configured origins, else this machine's LAN addresses.

    Args:
        port: The port the app is served on.
        configured: The explicit ``WD_ALLOWED_ORIGINS`` (empty for the automatic default).
        addresses: This machine's addresses; discovered now when None.

    Returns:
        Addresses other devices can use (loopback, self-assigned and container-bridge ones
        left out), in order.
    """
    configured = [o for o in configured if not is_loopback_origin(o)]
    if configured:
        return [TabletAddress(o) for o in dict.fromkeys(configured)]
    found = local_addresses() if addresses is None else list(addresses)
    usable = [a for a in found if a.reaches_tablets]
    interfaces: dict[str, str] = {}
    for address in usable:
        url = origin(address.address, port)
        interfaces[url] = interfaces.get(url) or address.interface
    return [TabletAddress(url, interface) for url, interface in interfaces.items()]


def name_urls(hostname: str, port: int) -> list[str]:
    """The addresses by host name, which work where the network resolves names (DNS or mDNS).

    Args:
        hostname: ``socket.gethostname()``.
        port: The port the app is served on.

    Returns:
        One URL per name of :func:`host_names`.
    """
    return [origin(name, port) for name in host_names(hostname)]


def is_allowed_origin(candidate: str | None, port: int, known: Collection[str]) -> bool:
    """Whether a browser origin is this machine's own on the served port.

    Every 127.x.y.z address is this machine (the whole 127.0.0.0/8 block is loopback), so a
    loopback origin on the port is accepted without being listed.

    Args:
        candidate: The ``Origin`` header, as sent.
        port: The port the app is served on.
        known: The origins of this machine's discovered addresses and names.

    Returns:
        True to accept the origin.
    """
    if not candidate:
        return False
    if candidate in known:
        return True
    try:
        parts = urlsplit(candidate)
        host = ipaddress.ip_address(parts.hostname or "")
        same_port = (parts.port or HTTP_PORT) == port
        return parts.scheme == "http" and same_port and host.is_loopback and not parts.path
    except ValueError:
        return False


def _interface_addresses() -> list[LocalAddress]:
    """The primary IPv4 address of each interface, with its name (Linux ``SIOCGIFADDR``)."""
    import fcntl

    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _index, name in socket.if_nameindex():
            try:
                reply = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue  # the interface has no IPv4 address
            found.append(LocalAddress(socket.inet_ntoa(reply[20:24]), name))
    return found


def parse_fib_trie(text: str) -> list[str]:
    """The IPv4 addresses of this machine in ``/proc/net/fib_trie`` (the ``/32 host LOCAL`` entries).

    Args:
        text: The file's content.

    Returns:
        Addresses in file order, without duplicates (secondary addresses included).
    """
    found: list[str] = []
    last = ""
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("|--"):
            last = stripped[3:].strip()
        elif stripped.startswith("/32 host LOCAL") and last and last not in found:
            found.append(last)
    return found


def _resolver_addresses() -> list[LocalAddress]:
    """Elsewhere than Linux: the hostname's IPv4 addresses and the address of the default route.

    ``connect()`` on a UDP socket only looks the route up; no packet leaves the machine.
    """
    found = []
    try:
        for *_ignored, sockaddr in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(LocalAddress(str(sockaddr[0])))
    except OSError:
        pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("10.255.255.255", 9))
            found.append(LocalAddress(sock.getsockname()[0]))
    except OSError:
        pass
    return found


def local_addresses() -> list[LocalAddress]:
    """The IPv4 addresses of this machine (the server listens on IPv4 ``0.0.0.0``).

    Returns:
        Named interface addresses first, then any further ones; no duplicates.
    """
    found: list[LocalAddress] = []
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError):
            found += _interface_addresses()
        with contextlib.suppress(OSError):
            found += [LocalAddress(a) for a in parse_fib_trie(FIB_TRIE.read_text())]
    if not any(not a.is_loopback for a in found):
        found += _resolver_addresses()
    unique: dict[str, LocalAddress] = {}
    for address in found:
        unique.setdefault(address.address, address)
    return list(unique.values())


def local_origins(port: int) -> list[str]:
    """The origins of this machine's own addresses and host names on a port, discovered now.

    Args:
        port: The port the app is served on.

    Returns:
        See :func:`origins_for`.
    """
    return origins_for([a.address for a in local_addresses()], socket.gethostname(), port)


class LocalOriginCheck:
    """The socket server's origin check for the embedded default: this machine's own origins.

    An origin it does not know makes it look the addresses up again (at most every
    ``refresh_s`` seconds), so an address that DHCP hands out after the start is accepted too.
    """

    def __init__(
        self,
        port: int,
        discover: Callable[[int], list[str]] = local_origins,
        refresh_s: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        """Discover the origins once.

        Args:
            port: The port the app is served on.
            discover: Returns the origins of this machine on a port.
            refresh_s: Least time between two discoveries.
            clock: Monotonic clock in seconds.
        """
        self.port, self._discover, self._refresh_s, self._clock = port, discover, refresh_s, clock
        self._lock = threading.Lock()
        self._known = frozenset(discover(port))
        self._discovered_at = clock()

    def __call__(self, candidate: str | None, environ: dict | None = None) -> bool:
        """Whether the socket server accepts a connection from ``candidate`` (engine.io's callable form)."""
        if is_allowed_origin(candidate, self.port, self._known):
            return True
        with self._lock:
            if self._clock() - self._discovered_at >= self._refresh_s:
                self._known = frozenset(self._discover(self.port))
                self._discovered_at = self._clock()
        return is_allowed_origin(candidate, self.port, self._known)
