"""A guarded GET of a URL someone else chose (a client ID metadata document): no SSRF.

- https only, port 443 unless the URL names another;
- every address the name resolves to must be public: private, loopback, link-local, shared,
  reserved, multicast and unspecified addresses are refused (loopback alone can be allowed, for
  tests, by the caller);
- the connection goes to the address that was checked, never to a second lookup of the name, so
  DNS rebinding cannot swap in another address; TLS still verifies the certificate of the name;
- no redirects, a size limit and an overall deadline.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import ssl
import time
from typing import Any
from urllib.parse import urlsplit

MAX_DOCUMENT_BYTES = 5 * 1024
TIMEOUT_SECONDS = 5.0


class FetchError(Exception):
    """The document could not be fetched safely; the message is one sentence."""


def _address_allowed(address: str, allow_loopback: bool) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return allow_loopback
    return ip.is_global and not ip.is_multicast


def resolve_public(host: str, port: int, allow_loopback: bool = False) -> str:
    """Resolve `host` and return an address to connect to; refuse if any is not public."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise FetchError(f"The host {host} could not be resolved.") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    for address in addresses:
        # One bad address is enough: the name's owner chooses which one a client would get.
        if not _address_allowed(address, allow_loopback):
            raise FetchError(
                f"The host {host} resolves to {address}, which is not a public address."
            )
    if not addresses:
        raise FetchError(f"The host {host} has no address.")
    return addresses[0]


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection to one checked address that verifies the certificate of the name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def fetch_json(
    url: str,
    *,
    allow_loopback: bool = False,
    max_bytes: int = MAX_DOCUMENT_BYTES,
    timeout: float = TIMEOUT_SECONDS,
) -> tuple[dict[str, Any], int | None]:
    """GET a JSON object from an https URL; return it and the response's max-age, if any."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise FetchError("Only https URLs are fetched.")
    port = parts.port or 443
    address = resolve_public(parts.hostname, port, allow_loopback)
    deadline = time.monotonic() + timeout
    connection = _PinnedHTTPSConnection(parts.hostname, port, address, timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", path, headers={"Accept": "application/json"})
        response = connection.getresponse()
        if response.status != 200:
            # Redirects are not followed: the document must be at the client_id itself.
            raise FetchError(f"The document answered HTTP {response.status}, not 200.")
        body = b""
        while len(body) <= max_bytes:
            if time.monotonic() > deadline:
                raise FetchError(f"The document took longer than {timeout:g} s to arrive.")
            chunk = response.read(1024)
            if not chunk:
                break
            body += chunk
        if len(body) > max_bytes:
            raise FetchError(f"The document is larger than {max_bytes} bytes.")
        cache_control = response.getheader("Cache-Control", "")
    except (OSError, http.client.HTTPException) as error:
        raise FetchError(f"The document could not be fetched: {error}.") from None
    finally:
        connection.close()
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise FetchError("The document is not valid JSON.") from None
    if not isinstance(document, dict):
        raise FetchError("The document is not a JSON object.")
    return document, _max_age(cache_control)


def _max_age(cache_control: str) -> int | None:
    for directive in cache_control.lower().split(","):
        name, _, value = directive.strip().partition("=")
        if name in ("no-store", "no-cache"):
            return 0
        if name == "max-age" and value.strip().isdigit():
            return int(value.strip())
    return None
