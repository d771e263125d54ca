"""The one network policy for every outbound call a user's input can aim.

Video fetches, job callbacks (what we hand QStash and what we POST ourselves), image URLs
passed to models, and any future fetch go through here, so SSRF is refused in one place:
- https only (plain http and loopback only under the local stack's explicit setting,
  COURIER_ALLOW_LOOPBACK_TARGETS, which CDK never sets);
- no host that is, or resolves to, a loopback, private, link-local, CGNAT, multicast,
  reserved, unspecified or unique-local address, however it is spelled (`0x7f000001`,
  `2130706433`, `127.1`, `[::ffff:127.0.0.1]`, `[::127.0.0.1]`, NAT64 and 6to4 forms of
  them), nor names that only mean something inside a network (`localhost`, `*.internal`);
- the connection goes to the address that was checked (no DNS-rebinding window: TLS
  still checks the certificate against the name), and every redirect hop is checked again.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

from courier.errors import InvalidInput

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Iterable[str]]
AddressRule = Callable[[IPAddress], bool]

LOOPBACK_SETTING = "COURIER_ALLOW_LOOPBACK_TARGETS"
MAX_REDIRECTS = 5
#: Names that resolve only inside a network (RFC 6761, RFC 6762, cloud metadata names).
INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa", ".intranet", ".lan")
INTERNAL_NAMES = frozenset({"localhost", "localhost.localdomain", "metadata", "instance-data"})
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
#: Never public, whatever the running Python's `is_global` says (3.11 and 3.13 differ on
#: 192.0.0.0/24; fec0::/10 is deprecated site-local space that 3.11 calls global).
_NEVER_PUBLIC = tuple(ipaddress.ip_network(n) for n in ("192.0.0.0/24", "fec0::/10", "5f00::/16"))


class ForbiddenTarget(InvalidInput):
    """An outbound call the policy refuses: never retried, the input must change."""

    code = "forbidden_address"


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, compatible, NAT64, 6to4, Teredo)."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _IPV4_COMPATIBLE or any(address in net for net in _NAT64):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    return None


def is_public(address: IPAddress) -> bool:
    """Globally reachable unicast, and so is any IPv4 address it embeds."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None:
            return is_public(inner)
    if any(address.version == net.version and address in net for net in _NEVER_PUBLIC):
        return False
    return address.is_global and not address.is_multicast and not address.is_reserved


def literal_address(host: str) -> IPAddress | None:
    """The address a host names literally, in any spelling the C resolver accepts."""
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        pass
    if host and all(c in "0123456789abcdefxABCDEFX." for c in host) and host[0].isdigit():
        try:  # inet_aton's forms: 127.1, 0x7f000001, 2130706433, 0177.0.0.1
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def system_resolver(host: str, port: int) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)})
    except (socket.gaierror, UnicodeError) as error:
        raise InvalidInput(f"cannot resolve {host}: {getattr(error, 'strerror', None) or error}", code="unresolvable_host") from None


@dataclass(frozen=True)
class Target:
    """A checked destination: connect to `address`, speak to `host`."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    @property
    def pinned_url(self) -> str:
        """The URL with the vetted address in place of the name."""
        parts = urlsplit(self.url)
        netloc = f"[{self.address}]" if ":" in self.address else self.address
        return urlunsplit((self.scheme, f"{netloc}:{self.port}", parts.path or "/", parts.query, ""))

    @property
    def host_header(self) -> str:
        return urlsplit(self.url).netloc.rsplit("@", 1)[-1]


@dataclass(frozen=True)
class NetworkPolicy:
    schemes: tuple[str, ...] = ("https",)
    address_allowed: AddressRule = is_public
    resolver: Resolver = field(default=system_resolver, compare=False)

    @classmethod
    def local(cls, resolver: Resolver = system_resolver) -> NetworkPolicy:
        """The local stack's: loopback over plain http too, nothing else private."""
        return cls(("https", "http"), lambda a: a.is_loopback or is_public(a), resolver)

    @classmethod
    def from_env(cls) -> NetworkPolicy:
        return cls.local() if os.environ.get(LOOPBACK_SETTING, "").lower() == "true" else cls()

    @property
    def allows_loopback(self) -> bool:
        return self.address_allowed(ipaddress.IPv4Address("127.0.0.1"))

    # --- checks -----------------------------------------------------------------------
    def check_static(self, url: str, what: str = "URL") -> tuple[str, str, int]:
        """Scheme, host and port, refused without a DNS query when they can never pass."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise InvalidInput(f"the {what} is not a valid URL", code="invalid_url") from None
        if parts.scheme not in self.schemes or not parts.hostname:
            raise InvalidInput(f"the {what} must be an {' or '.join(self.schemes)} URL", code="unsupported_scheme")
        if parts.username or parts.password:
            raise InvalidInput(f"the {what} must not carry credentials", code="invalid_url")
        host = _normalised_host(parts.hostname, what)
        literal = literal_address(host)
        if literal is not None:
            if not self.address_allowed(literal):
                raise ForbiddenTarget(f"the {what} points at a non-public address; refused")
        elif not self.allows_loopback and (host in INTERNAL_NAMES or host.endswith(INTERNAL_SUFFIXES) or "." not in host):
            raise ForbiddenTarget(f"the {what} names an internal host; refused")
        return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)

    def check(self, url: str, what: str = "URL") -> Target:
        """Everything in check_static, and every address the name resolves to is allowed."""
        scheme, host, port = self.check_static(url, what)
        literal = literal_address(host)
        candidates = [str(literal)] if literal is not None else list(self.resolver(host, port))
        if not candidates:
            raise InvalidInput(f"cannot resolve {host}", code="unresolvable_host")
        for candidate in candidates:  # every answer must pass: DNS may rotate between them
            if not self.address_allowed(ipaddress.ip_address(candidate.split("%", 1)[0])):
                raise ForbiddenTarget(f"the {what}'s host {host} resolves to a non-public address; refused")
        return Target(url, scheme, host, port, candidates[0])

    # --- requests ---------------------------------------------------------------------
    @contextmanager
    def stream(
        self, method: str, url: str, *, timeout: float, headers: dict[str, str] | None = None,
        content: bytes | None = None, follow_redirects: bool = True, what: str = "URL",
    ) -> Iterator[Any]:
        """An httpx streaming response from a checked address; redirects checked hop by hop.
        `timeout` is the total for every hop and the whole body, not a per-read limit."""
        from courier.http_deadline import deadline_client

        with deadline_client(timeout, connect=5.0) as client:
            for _ in range(MAX_REDIRECTS + 1):
                target = self.check(url, what)
                request_headers = {"User-Agent": "Courier/1", **(headers or {}), "Host": target.host_header}
                extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
                with client.stream(method, target.pinned_url, headers=request_headers, content=content, extensions=extensions) as response:
                    if follow_redirects and response.is_redirect:
                        url = urljoin(url, response.headers.get("location", ""))
                        if response.status_code in (301, 302, 303):
                            method, content = "GET", None
                        continue
                    yield response
                    return
        raise InvalidInput(f"more than {MAX_REDIRECTS} redirects", code="too_many_redirects")

    def send(
        self, method: str, url: str, *, timeout: float, headers: dict[str, str] | None = None,
        content: bytes | None = None, max_bytes: int = 64 * 1024, what: str = "URL",
    ) -> tuple[int, dict[str, str], bytes]:
        """One request, no redirects followed; the status, headers and at most max_bytes of body."""
        with self.stream(method, url, timeout=timeout, headers=headers, content=content, follow_redirects=False, what=what) as response:
            body = b""
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) >= max_bytes:
                    body = body[:max_bytes]
                    break
            return response.status_code, dict(response.headers), body


def _normalised_host(hostname: str, what: str) -> str:
    host = hostname.strip("[]").rstrip(".").lower()
    if not host.isascii():
        try:  # the resolver maps full-width digits and other look-alikes: compare what it would use
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            raise InvalidInput(f"the {what}'s host is not a valid name", code="invalid_url") from None
    return host
