"""The one network policy: which targets an outbound call a user can aim may reach."""

from __future__ import annotations

import ipaddress

import pytest

from courier.errors import InvalidInput
from courier.network import LOOPBACK_SETTING, NetworkPolicy, is_public, literal_address

PUBLIC = lambda host, port: ["93.184.216.34"]  # noqa: E731 - a resolver that answers one public address


@pytest.mark.parametrize(
    "address, public",
    [
        ("8.8.8.8", True), ("2606:4700:4700::1111", True), ("::ffff:8.8.8.8", True), ("64:ff9b::808:808", True),
        ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
        ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False),
        ("240.0.0.1", False), ("255.255.255.255", False),
        ("::", False), ("::1", False), ("fe80::1", False), ("fd00:ec2::254", False), ("fc00::1", False),
        ("::ffff:127.0.0.1", False), ("::ffff:169.254.169.254", False), ("ff02::1", False),
        ("::127.0.0.1", False), ("64:ff9b::7f00:1", False), ("64:ff9b:1::a00:1", False),
        ("2002:7f00:1::1", False), ("2002:a9fe:a9fe::1", False),
        # The same verdict on every Python: 3.11 calls these global, 3.13 some of them.
        ("fec0::1", False), ("192.0.0.8", False), ("192.0.0.9", False), ("::ffff:192.0.0.8", False), ("5f00::1", False),
    ],
)
def test_address_rule(address: str, public: bool) -> None:
    assert is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    "host, address",
    [("0x7f000001", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("127.1", "127.0.0.1"), ("0177.0.0.1", "127.0.0.1"),
     ("[::ffff:127.0.0.1]", "::ffff:7f00:1"), ("169.254.169.254.", "169.254.169.254"), ("example.com", None), ("1e100.net", None)],
)
def test_literal_spellings(host: str, address: str | None) -> None:
    # Compared as addresses: Python 3.13 prints IPv4-mapped IPv6 addresses differently.
    found = literal_address(host)
    assert found == (ipaddress.ip_address(address) if address else None)


@pytest.mark.parametrize(
    "url",
    [
        "https://0x7f000001/", "https://2130706433/", "https://127.1/", "https://0177.0.0.1/", "https://[::ffff:127.0.0.1]/",
        "https://[::127.0.0.1]/", "https://[64:ff9b::a9fe:a9fe]/", "https://[fd00::1]/", "https://[fe80::1%25eth0]/",
        "https://169.254.169.254/latest/meta-data/", "https://100.100.100.200/", "https://0.0.0.0/",
        "https://localhost/", "https://LOCALHOST./", "https://api.localhost/", "https://metadata.google.internal/",
        "https://printer.local/", "https://intranet/", "https://\uff11\uff12\uff17.0.0.1/",
    ],
)
def test_private_targets_are_refused_without_a_lookup(url: str) -> None:
    def resolver(host: str, port: int) -> list[str]:
        raise AssertionError(f"{url} should be refused before any DNS query")

    with pytest.raises(InvalidInput) as caught:
        NetworkPolicy(resolver=resolver).check(url)
    assert caught.value.code == "forbidden_address" and caught.value.status < 500 and not caught.value.retryable


@pytest.mark.parametrize("url", ["http://example.com/", "ftp://example.com/", "file:///etc/passwd", "gopher://x/", "https:///nohost", "https://user:pw@example.com/"])
def test_only_plain_https_urls(url: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        NetworkPolicy(resolver=PUBLIC).check(url)
    assert caught.value.code in ("unsupported_scheme", "invalid_url")


def test_names_are_checked_on_every_address_they_resolve_to() -> None:
    target = NetworkPolicy(resolver=PUBLIC).check("https://hooks.example.com/courier?x=1")
    assert (target.address, target.port, target.host_header) == ("93.184.216.34", 443, "hooks.example.com")
    assert target.pinned_url == "https://93.184.216.34:443/courier?x=1"
    for answers in (["93.184.216.34", "10.0.0.5"], ["::ffff:192.168.0.1"], ["127.0.0.1"]):
        with pytest.raises(InvalidInput) as caught:
            NetworkPolicy(resolver=lambda h, p, a=answers: a).check("https://rebind.example.com/")
        assert caught.value.code == "forbidden_address"


def test_loopback_only_under_the_explicit_local_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOOPBACK_SETTING, raising=False)
    assert not NetworkPolicy.from_env().allows_loopback
    monkeypatch.setenv(LOOPBACK_SETTING, "true")
    local = NetworkPolicy.from_env()
    assert local.allows_loopback and local.check("http://127.0.0.1:8080/cb").address == "127.0.0.1"
    with pytest.raises(InvalidInput):
        local.check("http://10.0.0.1/")  # loopback is the only exception
    with pytest.raises(InvalidInput):
        local.check("http://169.254.169.254/")
