"""Refuse outbound URLs that lead into private networks (SSRF), redirects included.

Users hand aipaint URLs that RunningHub, and sometimes aipaint itself, will fetch. A URL naming
a loopback, private, link-local or metadata address, or one that redirects there, could make
either side read internal services, so such URLs are refused before anything fetches them.

Known limitation (DNS rebinding): the check resolves a name, but the later fetch (ours, or
RunningHub's) resolves it again and may get another answer. Closing that needs the fetcher to
connect to the checked address itself; this guard makes the attack harder, not impossible.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Final
from urllib.parse import SplitResult, unquote, urldefrag, urljoin, urlsplit

import anyio
import httpx

__all__ = ["Resolver", "UnsafeUrl", "UrlGuard", "is_public_address", "system_resolver"]


class UnsafeUrl(Exception):
    """A URL the guard refuses.

    `reason` is one of: "scheme", "no_host", "malformed", "private_address", "unresolvable",
    "redirect_loop", "too_many_redirects". `url` is the URL refused, which for a redirect is the
    hop that failed, not the URL first given.
    """

    def __init__(self, reason: str, url: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {url}" + (f" ({detail})" if detail else ""))
        self.reason = reason
        self.url = url
        self.detail = detail


Resolver = Callable[[str, int], Awaitable[list[str]]]


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system resolves `host` to (the loop's getaddrinfo)."""
    infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))  # unique, in order


# --------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------

# Spelled out rather than left to `ipaddress.is_global`, whose answers changed between Python
# releases and which calls multicast global. From IANA's special-purpose registries.
_V4_NOT_PUBLIC: Final = tuple(
    IPv4Network(network)
    for network in (
        "0.0.0.0/8",  # "this network"; 0.0.0.0 reaches the local host on Linux
        "10.0.0.0/8",  # private
        "100.64.0.0/10",  # carrier-grade NAT, the provider's internal network
        "127.0.0.0/8",  # loopback
        "169.254.0.0/16",  # link-local, incl. the cloud metadata service 169.254.169.254
        "172.16.0.0/12",  # private
        "192.0.0.0/24",  # IETF protocol assignments
        "192.0.2.0/24",  # documentation (TEST-NET-1)
        "192.88.99.0/24",  # 6to4 relay anycast, deprecated
        "192.168.0.0/16",  # private
        "198.18.0.0/15",  # benchmarking
        "198.51.100.0/24",  # documentation (TEST-NET-2)
        "203.0.113.0/24",  # documentation (TEST-NET-3)
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, incl. broadcast 255.255.255.255
    )
)

# Only 2000::/3 holds global unicast addresses today; everything outside it (::, ::1, the
# deprecated IPv4-compatible ::/96, fc00::/7 ULA, fe80::/10 link-local, fec0::/10 site-local,
# ff00::/8 multicast, 100::/64 discard, 64:ff9b:1::/48 local NAT64, ...) is refused by that
# one rule, after the forms that embed an IPv4 address are unwrapped.
_V6_GLOBAL_UNICAST: Final = IPv6Network("2000::/3")
_V6_NOT_PUBLIC: Final = tuple(
    IPv6Network(network)
    for network in (
        "2001::/23",  # IETF protocol assignments (Teredo, 2001::/32, is unwrapped first)
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation
    )
)
_V6_NAT64: Final = IPv6Network("64:ff9b::/96")  # well-known NAT64 prefix: the last 32 bits


def _v4_is_public(address: IPv4Address) -> bool:
    return not any(address in network for network in _V4_NOT_PUBLIC)


def _v6_is_public(address: IPv6Address) -> bool:
    # Forms that carry an IPv4 address reach that address: judge the address they carry.
    if address.ipv4_mapped is not None:
        return _v4_is_public(address.ipv4_mapped)
    if address in _V6_NAT64:
        return _v4_is_public(IPv4Address(int(address) & 0xFFFFFFFF))
    if address.sixtofour is not None:
        return _v4_is_public(address.sixtofour)
    if address.teredo is not None:
        server, client = address.teredo
        return _v4_is_public(server) and _v4_is_public(client)
    if address not in _V6_GLOBAL_UNICAST:
        return False
    return not any(address in network for network in _V6_NOT_PUBLIC)


def is_public_address(ip: str) -> bool:
    """Whether `ip` is a globally routable unicast address; anything unparsable is not."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, IPv4Address):
        return _v4_is_public(address)
    return _v6_is_public(address)


# --------------------------------------------------------------------------------------------
# URLs
# --------------------------------------------------------------------------------------------

_SCHEMES: Final = {"http": 80, "https": 443}
# Characters on which URL parsers disagree: browsers (WHATWG) treat "\" as "/" and drop tabs and
# newlines, Python's urlsplit keeps them, so "http://127.0.0.1\@example.com/" names a different
# host to each. A well-formed URL percent-encodes all of them, so refusing them costs nothing.
_AMBIGUOUS: Final = re.compile(r"[\x00-\x20\x7f\\]")
_HOSTNAME: Final = re.compile(r"[a-z0-9_.-]+")
_HEX: Final = frozenset("0123456789abcdef")
_OCTAL: Final = frozenset("01234567")


@dataclass(frozen=True)
class _Target:
    host: str  # lower case, no trailing dot; an IP address in its canonical form
    port: int
    ip: str | None  # set when the URL names an address rather than a name


def _ipv4_number(label: str) -> int | None:
    """One part of a WHATWG IPv4 host: decimal, 0-prefixed octal or 0x-prefixed hex."""
    if label.startswith("0x"):
        digits, base, allowed = label[2:], 16, _HEX
        if not digits:
            return 0  # "0x" alone is zero to browsers
    elif len(label) > 1 and label.startswith("0"):
        digits, base, allowed = label[1:], 8, _OCTAL
    else:
        digits, base, allowed = label, 10, frozenset("0123456789")
    # int() alone would also take "+", "_" and spaces, which no URL parser does.
    if not digits or not set(digits) <= allowed:
        return None
    return int(digits, base)


def _numeric_labels(host: str) -> list[str] | None:
    """The labels of `host` if browsers would parse it as an IPv4 address ("ends in a number")."""
    labels = host.split(".")
    if len(labels) > 1 and labels[-1] == "":
        labels.pop()  # one trailing dot is allowed: "127.0.0.1."
    last = labels[-1]
    if last.isdigit() or (last.startswith("0x") and set(last[2:]) <= _HEX):
        return labels
    return None


def _parse_ipv4(url: str, labels: list[str]) -> IPv4Address:
    """WHATWG's IPv4 parser: "2130706433", "0x7f.1", "017700000001" all mean 127.0.0.1.

    Resolvers accept these forms too (inet_aton), so they are normalised before any check.
    """
    numbers = [_ipv4_number(label) for label in labels]
    if len(labels) > 4 or any(number is None for number in numbers):
        raise UnsafeUrl("malformed", url, "not a valid IPv4 address")
    values = [number for number in numbers if number is not None]
    *leading, last = values
    if any(value > 255 for value in leading) or last >= 256 ** (5 - len(values)):
        raise UnsafeUrl("malformed", url, "IPv4 address out of range")
    value = last
    for index, part in enumerate(leading):
        value += part << (8 * (3 - index))
    return IPv4Address(value)


def _parse(url: str) -> _Target:
    if _AMBIGUOUS.search(url):
        raise UnsafeUrl("malformed", url, "whitespace, control character or backslash")
    try:
        parts: SplitResult = urlsplit(url)
        port = parts.port
    except ValueError as error:  # a bad port, a bad bracketed host
        raise UnsafeUrl("malformed", url, str(error)) from None
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES:
        raise UnsafeUrl("scheme", url, f"{parts.scheme or 'no'} scheme")
    raw_host = parts.hostname  # lower-cased, brackets removed
    if not raw_host:
        raise UnsafeUrl("no_host", url)
    if port is None:
        port = _SCHEMES[scheme]

    if "[" in parts.netloc:  # a bracketed literal is IPv6 and nothing else
        try:
            v6 = IPv6Address(unquote(raw_host))  # the zone id arrives as "%25eth0"
        except ValueError:
            raise UnsafeUrl("malformed", url, "invalid IPv6 address") from None
        return _Target(str(v6), port, str(v6))

    # Browsers percent-decode the host and map it through IDNA, so "%31%32%37.0.0.1" and
    # full-width digits both name 127.0.0.1 to them; do the same before judging it.
    host = unquote(raw_host)
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise UnsafeUrl("malformed", url, "invalid international host name") from None
    host = host.lower()
    if not _HOSTNAME.fullmatch(host):
        raise UnsafeUrl("malformed", url, "invalid host name")
    labels = _numeric_labels(host)
    if labels is not None:
        v4 = str(_parse_ipv4(url, labels))
        return _Target(v4, port, v4)
    host = host.removesuffix(".")  # "example.com." is example.com, for trust as for DNS
    if not host:
        raise UnsafeUrl("no_host", url)
    return _Target(host, port, None)


def _trusted_entry(entry: str) -> tuple[str, int | None]:
    """("host", port or None) from "host", "host:port", "[v6]" or "[v6]:port"."""
    text = entry.strip().lower()
    host, port = text, None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = int(rest[1:]) if rest.startswith(":") else None
    elif text.count(":") == 1:
        host, _, digits = text.partition(":")
        port = int(digits)
    try:
        host = str(ipaddress.ip_address(host))  # the canonical form URLs are compared in
    except ValueError:
        host = host.removesuffix(".")
    if not host:
        raise ValueError(f"empty trusted host entry {entry!r}")
    return host, port


_PROBE_HEADERS: Final = {"user-agent": "aipaint-urlguard/1"}
_HEAD_UNSUPPORTED: Final = frozenset({405, 501})


class UrlGuard:
    """Checks an outbound URL and, by probing it, every URL it redirects to.

    `trusted` holds "host" or "host:port" entries whose addresses are not checked: aipaint's own
    upload host, or RunningHub's base URL (in demo mode the simulator on 127.0.0.1). Redirects
    from a trusted host are still followed and checked.
    """

    def __init__(
        self,
        *,
        resolver: Resolver = system_resolver,
        trusted: Iterable[str] = (),
        http: httpx.AsyncClient | None = None,
        max_redirects: int = 5,
        timeout: float = 5.0,
    ) -> None:
        if max_redirects < 0:
            raise ValueError("max_redirects must not be negative")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._resolver = resolver
        self._trusted = frozenset(_trusted_entry(entry) for entry in trusted)
        self._http = http
        self.max_redirects = max_redirects
        self.timeout = timeout

    async def check(self, url: str, *, follow_redirects: bool = True) -> None:
        """Raise UnsafeUrl unless `url`, and each URL it redirects to, is safe to fetch."""
        await self._check_address(url)
        if not follow_redirects:
            return
        if self._http is not None:
            await self._follow(self._http, url)
            return
        # A client per check keeps the guard free of a lifecycle to manage; callers on a hot
        # path pass a shared one. trust_env=False: a proxy from the environment would make the
        # probe go elsewhere than the address just checked.
        async with httpx.AsyncClient(trust_env=False, timeout=self.timeout) as http:
            await self._follow(http, url)

    def _is_trusted(self, target: _Target) -> bool:
        return (target.host, target.port) in self._trusted or (target.host, None) in self._trusted

    async def _check_address(self, url: str) -> None:
        target = _parse(url)
        if self._is_trusted(target):
            return
        if target.ip is not None:
            addresses = [target.ip]
        else:
            try:
                with anyio.fail_after(self.timeout):
                    addresses = await self._resolver(target.host, target.port)
            except (OSError, TimeoutError) as error:  # socket.gaierror is an OSError
                raise UnsafeUrl("unresolvable", url, str(error)) from None
            if not addresses:
                raise UnsafeUrl("unresolvable", url, "no addresses")
        # Every address must be public: a client may connect to any of them.
        private = [address for address in addresses if not is_public_address(address)]
        if private:
            raise UnsafeUrl("private_address", url, ", ".join(private))

    async def _follow(self, http: httpx.AsyncClient, url: str) -> None:
        current = url
        seen = {urldefrag(url).url}
        for redirects in range(self.max_redirects + 1):
            location = await self._probe(http, current)
            if location is None:
                return
            following = urljoin(current, location)
            # The next hop's address is judged first: it is the finding that matters most.
            await self._check_address(following)
            if urldefrag(following).url in seen:  # fragments are never sent
                raise UnsafeUrl("redirect_loop", following)
            if redirects == self.max_redirects:
                raise UnsafeUrl("too_many_redirects", following)
            seen.add(urldefrag(following).url)
            current = following

    async def _probe(self, http: httpx.AsyncClient, url: str) -> str | None:
        """The Location `url` redirects to, or None when it does not (or cannot be asked).

        A network error or timeout is not a refusal: the address was already found public,
        and an unreachable file is for the fetcher to report.
        """
        # The deadline covers the whole probe; httpx's timeout applies per network operation,
        # which a server sending one byte at a time could stretch indefinitely.
        with anyio.move_on_after(self.timeout * 2):
            try:
                response = await http.head(
                    url, headers=_PROBE_HEADERS, follow_redirects=False, timeout=self.timeout
                )
                if response.status_code in _HEAD_UNSUPPORTED:
                    # Headers only: leaving the block closes the response without its body.
                    async with http.stream(
                        "GET",
                        url,
                        headers=_PROBE_HEADERS,
                        follow_redirects=False,
                        timeout=self.timeout,
                    ) as response:
                        pass
            except (httpx.HTTPError, httpx.InvalidURL):
                return None
            if response.has_redirect_location:
                return response.headers["location"]
        return None
