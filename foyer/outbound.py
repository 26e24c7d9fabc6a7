"""Where Foyer may send a request on a URL someone configured (custom extension and API connector
targetUrls): only to hosts that RESOLVE to public addresses, checked when the URL is saved and
again, on the address actually connected to, at every call.

Why by resolution, not by the text of the URL: `127.1`, `2130706433`, `0x7f000001`, `0177.0.0.1`,
`[::ffff:7f00:1]`, `localhost.` or any name an attacker points at 10.0.0.1 all reach internal
services, and the resolver (inet_aton, DNS) is what decides where a connection goes. And why again
at call time, on the connection itself: DNS can change between the check and the call (rebinding),
so `client()` resolves once, checks every address, and connects to the checked address itself —
the name is kept only for the Host header and TLS (SNI and certificate verification).

The rule (`refusal`): loopback, link-local (169.254.0.0/16 with the cloud metadata services,
fe80::/10), private (RFC 1918, fc00::/7), shared/CGNAT (100.64.0.0/10), unspecified, multicast,
broadcast, site-local, reserved and every other non-global address are refused, also when
embedded in IPv6 (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, 6to4 `2002::/16`,
NAT64 `64:ff9b::/96`). FOYER_OUTBOUND_ALLOWED_NETWORKS (comma-separated CIDRs) lets an operator
allow internal networks explicitly; never the unspecified address, multicast or broadcast.
"""

import asyncio
import ipaddress
import socket
import ssl
from functools import lru_cache
from urllib.parse import urlsplit

import httpcore
import httpx

from foyer.settings import get_settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# Checking a URL when it is saved waits at most this long for the resolver.
RESOLVE_TIMEOUT_SECONDS = 5.0
SHARED = ipaddress.ip_network("100.64.0.0/10")
PRIVATE = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")]
BROADCAST = ipaddress.ip_address("255.255.255.255")
IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# IANA's special-purpose blocks that are not globally reachable, spelled out because Python's
# `is_global` differs between versions (3.11 calls 192.0.0.8 global, 3.13 fixed it).
NOT_GLOBAL = [ipaddress.ip_network(n) for n in (
    "0.0.0.0/8", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15", "198.51.100.0/24",
    "203.0.113.0/24", "240.0.0.0/4",
    "::/8", "100::/64", "2001::/23", "2001:db8::/32", "3fff::/20", "5f00::/16")]
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class DestinationRefused(Exception):
    """The host is, or resolves to, an address Foyer does not call. str() is the full reason, for
    logs and the audit; `public_reason` leaves out a resolved address (a member who saves a URL
    learns whether the name is internal, not where it points)."""

    def __init__(self, host: str, address: Address, why: str):
        self.host, self.address, self.why = host, address, why
        literal = _literal(host) == address
        self.public_reason = f"{host} is {why}" if literal else f"{host} resolves to {why}"
        super().__init__(f"{address} is {why}" if literal else f"{host} resolves to {address}, {why}")


class Unresolvable(Exception):
    """The name does not resolve (now), so where it points cannot be checked."""


# --- the rule --------------------------------------------------------------------------------------

def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, NAT64), if any."""
    if address.version != 6:
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in NAT64 or (address in IPV4_COMPATIBLE and int(address) > 1):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _kind(address: Address) -> str | None:
    """What makes one address non-public, or None for a public one."""
    if address.is_unspecified:
        return "the unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address == BROADCAST:
        return "the broadcast address"
    if address.version == 6 and address.is_site_local:
        return "a site-local address"
    if address in SHARED:
        return "a shared (carrier-grade NAT) address"
    if any(address in network for network in PRIVATE):
        return "a private address"
    if address.is_reserved or address.is_private or not address.is_global or \
            any(address.version == n.version and address in n for n in NOT_GLOBAL):
        return "a non-public address"
    return None


@lru_cache(maxsize=8)
def _networks(setting: str) -> tuple:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip())


def allowed_networks() -> tuple:
    """FOYER_OUTBOUND_ALLOWED_NETWORKS, read at every check (a test may change it)."""
    return _networks(get_settings().outbound_allowed_networks)


def refusal(address: Address) -> str | None:
    """Why Foyer does not call this address (e.g. "a loopback address"), or None if it may."""
    inner = embedded_ipv4(address)
    # An IPv6 form around an IPv4 address goes where the IPv4 address goes: judge that one.
    judged = inner if inner is not None else address
    why = _kind(judged)
    if why is None:
        return None
    never = any(a.is_unspecified or a.is_multicast or a == BROADCAST for a in (address, judged))
    if not never and any(a.version == n.version and a in n
                         for a in (address, judged) for n in allowed_networks()):
        return None
    return why if inner is None else f"{why} ({inner} inside IPv6)"


def destination_allowed(address: str | Address) -> bool:
    if isinstance(address, str):
        address = ipaddress.ip_address(address)
    return refusal(address) is None


# --- resolving ---------------------------------------------------------------------------------

async def resolve(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for `host` (what a connection would use)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _is_localhost(host: str) -> bool:
    name = host.rstrip(".").lower()
    return name == "localhost" or name.endswith(".localhost")


async def resolve_allowed(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to, if Foyer may call all of them. Raises DestinationRefused
    if any is refused (the resolver may hand out any of them), Unresolvable if there is none."""
    try:
        found = await resolve(host, port)
    except (socket.gaierror, UnicodeError) as error:
        if not _is_localhost(host):
            raise Unresolvable(f"{host} does not resolve ({error})") from None
        found = []
    if not found and _is_localhost(host):
        found = ["127.0.0.1"]  # RFC 6761: localhost names are loopback, whatever the resolver says
    if not found:
        raise Unresolvable(f"{host} does not resolve")
    addresses = [ipaddress.ip_address(a) for a in found]
    for address in addresses:
        why = refusal(address)
        if why is not None:
            raise DestinationRefused(host, address, why)
    return addresses


def refusal_in(error: BaseException | None) -> DestinationRefused | None:
    """The DestinationRefused behind an httpx error, if that is why the call failed."""
    seen = 0
    while error is not None and seen < 10:
        if isinstance(error, DestinationRefused):
            return error
        error = error.__cause__ or error.__context__
        seen += 1
    return None


async def check_url(url: str) -> None:
    """For a URL being saved: its host must resolve, and only to addresses Foyer may call.
    Raises ValueError with a message for the caller. The host is taken as both urllib and httpx
    read it (they differ on odd spellings), and each must pass."""
    hosts: dict[str, int] = {}
    try:
        parts = urlsplit(url)
        if parts.hostname:
            hosts[parts.hostname] = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        pass
    try:
        parsed = httpx.URL(url)
        if parsed.host:
            hosts.setdefault(parsed.host, parsed.port or (443 if parsed.scheme == "https" else 80))
    except httpx.InvalidURL:
        pass
    if not hosts:
        raise ValueError("targetUrl has no host Foyer can call")
    for host, port in hosts.items():
        try:
            await asyncio.wait_for(resolve_allowed(host, port), RESOLVE_TIMEOUT_SECONDS)
        except DestinationRefused as refused:
            raise ValueError(f"targetUrl is refused: {refused.public_reason}; Foyer calls only public "
                             "addresses (an operator can allow a network with "
                             "FOYER_OUTBOUND_ALLOWED_NETWORKS)") from None
        except Unresolvable:
            raise ValueError(f"targetUrl is refused: its host {host} does not resolve, so Foyer cannot "
                             "check that it points to a public address") from None
        except TimeoutError:
            raise ValueError(f"targetUrl is refused: its host {host} did not resolve within "
                             f"{RESOLVE_TIMEOUT_SECONDS:g} s") from None


# --- the transport -----------------------------------------------------------------------------

class RefusedConnection(httpcore.ConnectError):
    """httpx turns this into an httpx.ConnectError; its cause is the DestinationRefused."""


class CheckedNetworkBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host once, checks every address, and connects to a checked address (never to
    the name, which would be resolved again). TLS still gets the name: httpcore passes the
    origin's host as server_hostname to start_tls, for SNI and certificate verification."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None, socket_options=None) -> httpcore.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                addresses = await resolve_allowed(host, port)
        except DestinationRefused as refused:
            raise RefusedConnection(f"destination refused: {refused}") from refused
        except Unresolvable as error:
            raise httpcore.ConnectError(str(error)) from error
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"{host} did not resolve in time") from None
        failure: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(str(address), port, timeout=timeout,
                                                     local_address=local_address,
                                                     socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                failure = error
        raise failure

    async def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options=None):
        raise httpcore.ConnectError("Foyer does not call unix sockets on configured URLs")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class CheckedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the pool's network backend replaced by CheckedNetworkBackend
    (httpx does not take a backend as an argument)."""

    def __init__(self, verify: ssl.SSLContext) -> None:
        super().__init__(verify=verify, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(ssl_context=verify, http1=True, http2=False,
                                                  network_backend=CheckedNetworkBackend())


def client(*, timeout: float, verify: ssl.SSLContext | None = None,
           auth: httpx.Auth | None = None) -> httpx.AsyncClient:
    """The only client for configured URLs: checked destinations, no redirects, no proxies from
    the environment (a proxy would hide the destination from the check)."""
    return httpx.AsyncClient(transport=CheckedTransport(verify or ssl.create_default_context()),
                             timeout=timeout, auth=auth, follow_redirects=False, trust_env=False)
