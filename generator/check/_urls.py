"""URL helpers: absolute or not, local or not, same domain or not."""

from __future__ import annotations

from urllib.parse import urlsplit

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_absolute_http(url: object) -> bool:
    """True for a string URL with an http(s) scheme and a host."""
    if not isinstance(url, str) or any(ch.isspace() for ch in url):
        return False
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def host_of(url: str) -> str:
    """The lowercase host name of an absolute URL ('' when it has none)."""
    return (urlsplit(url).hostname or "").lower()


def origin_of(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) with the scheme's default port filled in."""
    parts = urlsplit(url)
    return (
        parts.scheme,
        (parts.hostname or "").lower(),
        parts.port or _DEFAULT_PORTS.get(parts.scheme, 0),
    )


def is_local(url_or_host: str) -> bool:
    """True when the URL's (or the bare host's) host is localhost or a loopback address."""
    host = host_of(url_or_host) if "://" in url_or_host else url_or_host.split(":")[0].lower()
    return host in LOCAL_HOSTS


def on_domain(url: str, domain_url: str) -> bool:
    """True when `url` is served by the plugin's domain (the same host, or a subdomain of it).

    On the same host an explicit port must match too: localhost:5003 and localhost:8000 are two
    servers. The scheme is not compared here: http on a public host has a rule of its own.
    """
    host, domain_host = host_of(url), host_of(domain_url)
    if host == domain_host:
        return urlsplit(url).port == urlsplit(domain_url).port
    return host.endswith("." + domain_host)


def same_origin(url: str, base_url: str) -> bool:
    """True when `url` has the scheme, host and port of `base_url`."""
    return origin_of(url) == origin_of(base_url)
