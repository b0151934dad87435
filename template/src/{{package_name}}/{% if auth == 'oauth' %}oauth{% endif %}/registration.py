"""Who the clients are: the pre-registered one, registered ones (RFC 7591), metadata documents.

- The pre-registered client (OAUTH_CLIENT_ID / OAUTH_CLIENT_SECRET) is what GPT Actions and the
  2023 plugin manifest use: confidential, its redirect URIs in OAUTH_REDIRECT_URIS, PKCE optional.
- Dynamic Client Registration (RFC 7591, POST /oauth/register): a client registers its redirect
  URIs and gets a client_id (and a secret unless it is public). Registrations never expire and
  are rate-limited per address.
- Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): the
  client_id is an https URL; its JSON document lists the redirect URIs. It is fetched with
  the guards of fetch.py and cached. Such clients are public (token_endpoint_auth_method none).

Every client but the pre-registered one must use PKCE with S256.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection

from ..settings import Settings
from . import storage
from .fetch import FetchError, fetch_json

PRE_REGISTERED = "pre-registered"
REGISTERED = "registered"
METADATA_DOCUMENT = "metadata document"
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
AUTH_METHODS = (*SECRET_METHODS, "none")
GRANT_TYPES = ("authorization_code", "refresh_token")
LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "localhost")
# Registrations per hour from all addresses together, whatever the per-address limit.
MAX_REGISTRATIONS_PER_HOUR = 1000
MAX_CLIENT_NAME = 100
MAX_REDIRECT_URIS = 10
# How long a fetched metadata document is used, at most (less when its Cache-Control says so).
DOCUMENT_CACHE_SECONDS = 600
FAILED_DOCUMENT_CACHE_SECONDS = 60
_MAX_CACHED_DOCUMENTS = 1000


@dataclass(frozen=True)
class Client:
    """A client the authorization server knows, however it came to know it."""

    client_id: str
    kind: str
    redirect_uris: tuple[str, ...]
    auth_method: str
    secret_hash: str | None = None
    name: str = ""

    @property
    def is_public(self) -> bool:
        """A public client has no secret (RFC 6749 2.1)."""
        return self.auth_method == "none"

    @property
    def needs_pkce(self) -> bool:
        """Only the pre-registered client (GPT Actions send no PKCE) may go without it."""
        return self.kind != PRE_REGISTERED

    def allows_redirect_uri(self, uri: str) -> bool:
        """Exact match (RFC 9700 2.1); for http loopback URIs any port (RFC 8252 7.3)."""
        if uri in self.redirect_uris:
            return True
        if self.kind == PRE_REGISTERED or not uri.startswith("http://"):
            return False
        given = urlsplit(uri)
        if given.hostname is None or not _is_loopback_netloc(given.netloc):
            return False
        for registered in self.redirect_uris:
            parts = urlsplit(registered)
            if parts.scheme == "http" and _is_loopback_netloc(parts.netloc):
                same_host = parts.hostname == given.hostname
                if same_host and (parts.path, parts.query) == (given.path, given.query):
                    return True
        return False


class ClientMetadataError(ValueError):
    """Registration metadata or a metadata document is unusable; one sentence."""

    def __init__(self, message: str, error: str = "invalid_client_metadata") -> None:
        super().__init__(message)
        self.error = error


def _is_loopback_netloc(netloc: str) -> bool:
    host = netloc.rpartition("@")[2]
    host = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return host in LOOPBACK_HOSTS


def check_redirect_uri(uri: object) -> str:
    """A redirect URI a client may register: https, or http on the loopback host; no fragment."""
    if not isinstance(uri, str) or not uri.isprintable() or " " in uri or len(uri) > 2000:
        raise ClientMetadataError("Each redirect URI must be a URL string.", "invalid_redirect_uri")
    parts = urlsplit(uri)
    secure = parts.scheme == "https" or (
        parts.scheme == "http" and _is_loopback_netloc(parts.netloc)
    )
    if not secure or not parts.hostname or "#" in uri or parts.username or parts.password:
        raise ClientMetadataError(
            f"The redirect URI {uri!r} must be an https URL (http only on the loopback host) "
            "without a fragment or user name.",
            "invalid_redirect_uri",
        )
    return uri


def _redirect_uris(metadata: dict[str, Any]) -> tuple[str, ...]:
    uris = metadata.get("redirect_uris")
    if not isinstance(uris, list) or not uris or len(uris) > MAX_REDIRECT_URIS:
        raise ClientMetadataError(
            f"redirect_uris must list 1 to {MAX_REDIRECT_URIS} URLs.", "invalid_redirect_uri"
        )
    return tuple(check_redirect_uri(uri) for uri in uris)


def _check_flow(metadata: dict[str, Any]) -> None:
    grant_types = metadata.get("grant_types", ["authorization_code"])
    if not isinstance(grant_types, list) or "authorization_code" not in grant_types:
        raise ClientMetadataError("grant_types must include authorization_code.")
    if not set(grant_types) <= set(GRANT_TYPES):
        raise ClientMetadataError("Only the authorization_code and refresh_token grants exist.")
    response_types = metadata.get("response_types", ["code"])
    if response_types != ["code"]:
        raise ClientMetadataError('response_types must be ["code"].')


def _client_name(metadata: dict[str, Any]) -> str:
    name = metadata.get("client_name", "")
    if not isinstance(name, str):
        raise ClientMetadataError("client_name must be a string.")
    return "".join(char for char in name if char.isprintable())[:MAX_CLIENT_NAME]


# -- dynamic client registration (RFC 7591) ----------------------------------------------------


def register_client(
    settings: Settings, conn: Connection, metadata: object, address: str
) -> tuple[dict[str, Any], int]:
    """Register a client; return the RFC 7591 answer (or error) and its HTTP status."""
    if not isinstance(metadata, dict):
        return _registration_error("The registration must be a JSON object."), 400
    since = storage.now() - 3600
    if (
        storage.recent_registrations(conn, since, address) >= settings.oauth_registrations_per_hour
        or storage.recent_registrations(conn, since, None) >= MAX_REGISTRATIONS_PER_HOUR
    ):
        return {"error": "slow_down", "error_description": "Too many registrations."}, 429
    try:
        redirect_uris = _redirect_uris(metadata)
        _check_flow(metadata)
        name = _client_name(metadata)
        method = metadata.get("token_endpoint_auth_method", "client_secret_basic")
        if method not in AUTH_METHODS:
            raise ClientMetadataError(
                "token_endpoint_auth_method must be one of " + ", ".join(AUTH_METHODS) + "."
            )
        scope = metadata.get("scope")
        supported = set(settings.oauth_scope.split())
        wrong_scope = not isinstance(scope, str) or not set(scope.split()) <= supported
        if scope is not None and wrong_scope:
            raise ClientMetadataError(f"scope must be a subset of {settings.oauth_scope!r}.")
    except ClientMetadataError as error:
        return _registration_error(str(error), error.error), 400
    client_id = "dcr-" + secrets.token_urlsafe(24)
    client_secret = None if method == "none" else secrets.token_urlsafe(32)
    stored = {
        "redirect_uris": list(redirect_uris),
        "token_endpoint_auth_method": method,
        "grant_types": metadata.get("grant_types", ["authorization_code"]),
        "response_types": ["code"],
        "client_name": name,
    }
    if scope is not None:
        stored["scope"] = scope
    storage.save_client(
        conn,
        client_id=client_id,
        client_secret=client_secret,
        metadata=stored,
        registered_from=address,
    )
    answer: dict[str, Any] = {"client_id": client_id, "client_id_issued_at": storage.now()}
    if client_secret is not None:
        # 0: the secret never expires (RFC 7591 3.2.1), so the client never has to register again.
        answer.update(client_secret=client_secret, client_secret_expires_at=0)
    answer.update(stored)
    return answer, 201


def _registration_error(description: str, error: str = "invalid_client_metadata") -> dict[str, str]:
    return {"error": error, "error_description": description}


# -- client ID metadata documents --------------------------------------------------------------


def is_metadata_document_url(client_id: str) -> bool:
    """Tell whether a client_id names a metadata document (an https URL) rather than an id."""
    return client_id.startswith("https://")


def check_document_url(url: str) -> None:
    """The client_id URL rules of the metadata document draft: https, a path, nothing else."""
    parts = urlsplit(url)
    segments = parts.path.split("/")
    if (
        parts.scheme != "https"
        or not parts.hostname
        or parts.path in ("", "/")
        or "." in segments
        or ".." in segments
        or parts.fragment
        or "#" in url
        or parts.username
        or parts.password
        or len(url) > 2000
    ):
        raise ClientMetadataError(
            "A client_id URL must be an https URL with a path, without dot segments, "
            "fragment or user name."
        )


def client_from_document(url: str, document: dict[str, Any]) -> Client:
    """Check a fetched metadata document and make the client it describes."""
    if document.get("client_id") != url:
        raise ClientMetadataError("The document's client_id is not the URL it was fetched from.")
    if "client_secret" in document or "client_secret_expires_at" in document:
        raise ClientMetadataError("A metadata document must not contain a client secret.")
    method = document.get("token_endpoint_auth_method", "none")
    if method != "none":
        raise ClientMetadataError(
            f"token_endpoint_auth_method {method!r} is not supported for metadata documents: "
            "use none (a public client with PKCE)."
        )
    _check_flow(document)
    return Client(
        client_id=url,
        kind=METADATA_DOCUMENT,
        redirect_uris=_redirect_uris(document),
        auth_method="none",
        name=_client_name(document),
    )


class _DocumentCache:
    """Fetched clients (or the reason they failed) by URL, each until its expiry time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[float, Client | ClientMetadataError]] = {}

    def get(self, url: str) -> Client | ClientMetadataError | None:
        with self._lock:
            entry = self._entries.get(url)
        if entry is None or entry[0] <= time.monotonic():
            return None
        return entry[1]

    def put(self, url: str, value: Client | ClientMetadataError, seconds: float) -> None:
        with self._lock:
            if len(self._entries) >= _MAX_CACHED_DOCUMENTS:
                self._entries.clear()
            self._entries[url] = (time.monotonic() + seconds, value)


_documents = _DocumentCache()


def metadata_document_client(settings: Settings, url: str) -> Client:
    """The client a metadata document URL describes, fetched safely or from the cache."""
    cached = _documents.get(url)
    if isinstance(cached, Client):
        return cached
    if isinstance(cached, ClientMetadataError):
        raise cached
    try:
        check_document_url(url)
        try:
            document, max_age = fetch_json(
                url, allow_loopback=settings.oauth_client_metadata_allow_loopback
            )
        except FetchError as error:
            raise ClientMetadataError(str(error)) from None
        client = client_from_document(url, document)
    except ClientMetadataError as error:
        _documents.put(url, error, FAILED_DOCUMENT_CACHE_SECONDS)
        raise
    seconds = DOCUMENT_CACHE_SECONDS if max_age is None else min(max_age, DOCUMENT_CACHE_SECONDS)
    if seconds > 0:
        _documents.put(url, client, seconds)
    return client


# -- looking clients up ------------------------------------------------------------------------


def find_client(settings: Settings, conn: Connection, client_id: str) -> Client | None:
    """The client named `client_id`, or None; a metadata document that fails raises."""
    if storage.same(client_id, settings.oauth_client_id):
        return Client(
            client_id=settings.oauth_client_id,
            kind=PRE_REGISTERED,
            redirect_uris=tuple(settings.oauth_redirect_uris),
            auth_method="client_secret_post",
            name="ChatGPT",
        )
    if is_metadata_document_url(client_id):
        return metadata_document_client(settings, client_id)
    metadata, secret_hash = storage.find_client(conn, client_id)
    if not metadata:
        return None
    return Client(
        client_id=client_id,
        kind=REGISTERED,
        redirect_uris=tuple(metadata["redirect_uris"]),
        auth_method=metadata["token_endpoint_auth_method"],
        secret_hash=secret_hash,
        name=metadata.get("client_name", ""),
    )


def secret_matches(settings: Settings, client: Client, client_secret: str) -> bool:
    """Check a confidential client's secret in constant time."""
    if client.kind == PRE_REGISTERED:
        return storage.same(client_secret, settings.oauth_client_secret)
    if client.secret_hash is None:
        return False
    return storage.same(storage.digest(client_secret), client.secret_hash)
