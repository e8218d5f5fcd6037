"""Refuse webhook URLs that reach inside our network (server-side request forgery).

A URL is checked twice: when it is registered and at every delivery, since
DNS can change in between. At delivery the host is resolved once, every
address checked, and the connection made to a checked address
(`PinnedTransport`), keeping the Host header and TLS server name, so a
second lookup cannot swap in a private address (DNS rebinding).
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Any

import httpx

from answerdesk.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_URL_LENGTH = 2000


class UnsafeURL(ValidationFailed):
    """The URL may not be called: wrong form, or it reaches a private address."""

    def __init__(self, reason: str) -> None:
        super().__init__({"url": reason})
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def resolve_host(host: str, port: int) -> list[str]:
    """Return every address `host` resolves to (tests replace this function)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_forbidden(address: IPAddress) -> bool:
    """Tell whether an address is anything but a public unicast one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def check_url_form(url: str) -> httpx.URL:
    """Parse a webhook URL: absolute http(s), a host, no credentials or fragment."""
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeURL(f"must be at most {MAX_URL_LENGTH} characters")
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError) as error:
        raise UnsafeURL(f"is not a valid URL ({error})") from None
    if parsed.scheme not in ("http", "https"):
        raise UnsafeURL("must start with http:// or https://")
    if not parsed.host:
        raise UnsafeURL("must name a host")
    if parsed.userinfo:
        raise UnsafeURL("must not carry a user name or password")
    if parsed.fragment:
        raise UnsafeURL("must not have a #fragment")
    return parsed


def safe_addresses(url: httpx.URL, *, allow_private: bool) -> list[str]:
    """Resolve the URL's host and check every address; return them (all safe)."""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        literal: IPAddress | None = ipaddress.ip_address(url.host)
    except ValueError:
        literal = None
    if literal is not None:
        found = [str(literal)]
    else:
        try:
            found = resolve_host(url.host, port)
        except (OSError, UnicodeError) as error:
            raise UnsafeURL(f"host {url.host} cannot be resolved ({error})") from None
    if not found:
        raise UnsafeURL(f"host {url.host} has no address")
    if not allow_private:
        for text in found:
            if is_forbidden(ipaddress.ip_address(text.split("%", 1)[0])):
                raise UnsafeURL(
                    f"resolves to {text}, a private, loopback or reserved address "
                    "(an admin can allow it)"
                )
    return found


def check_url(url: str, *, allow_private: bool) -> str:
    """Check a URL at registration; return it normalised."""
    parsed = check_url_form(url)
    safe_addresses(parsed, allow_private=allow_private)
    return str(parsed)


class PinnedTransport(httpx.BaseTransport):
    """Connect to a checked address of the request's host; never to an unchecked one.

    One inner transport per host name, so a TLS connection made for one
    name is never reused for another that shares its address.
    """

    def __init__(self, *, allow_private: bool, **transport_options: Any) -> None:
        self.allow_private = allow_private
        self._options = transport_options
        self._inner: dict[str, httpx.HTTPTransport] = {}
        self._lock = threading.Lock()  # the deliverer posts from several threads

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        address = safe_addresses(url, allow_private=self.allow_private)[0]
        host = url.host
        with self._lock:
            inner = self._inner.get(host)
            if inner is None:
                inner = self._inner[host] = httpx.HTTPTransport(**self._options)
        request.url = url.copy_with(host=address)
        request.headers["Host"] = url.netloc.decode("ascii")
        if url.scheme == "https":
            request.extensions = {**request.extensions, "sni_hostname": host}
        return inner.handle_request(request)

    def close(self) -> None:
        for inner in self._inner.values():
            inner.close()
        self._inner.clear()
