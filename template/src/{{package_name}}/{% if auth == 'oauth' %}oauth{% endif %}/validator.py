"""oauthlib's questions answered from the clients (registration.py) and the tables (storage.py).

Values found while validating are kept on the oauthlib request as `oauth_*` attributes and read
again when oauthlib later asks for them, so each step costs one query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from typing import Any
from urllib.parse import unquote_plus

from oauthlib.oauth2 import RequestValidator, WebApplicationServer
from oauthlib.oauth2.rfc6749 import errors
from sqlalchemy import Connection
from typing_extensions import override

from ..settings import Settings
from . import storage
from .registration import Client, ClientMetadataError, find_client, secret_matches
from .resource import default_resource, known_resources

_PKCE_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")
_PKCE_S256_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43}")


class InvalidTargetError(errors.OAuth2Error):
    """RFC 8707 2: the resource asked for is not one this server issues tokens for."""

    error = "invalid_target"
    status_code = 400


def client_credentials(request: Any) -> list[tuple[str, str]]:
    """The (client id, secret) readings of a token request, from HTTP Basic or from the body."""
    header = request.headers.get("Authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        if request.client_id is None or request.client_secret is None:
            return []
        return [(request.client_id, request.client_secret)]
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:
        # binascii.Error, UnicodeDecodeError, and the ValueError of a non-ASCII header value.
        return []
    client_id, colon, client_secret = decoded.partition(":")
    # Two authentication methods in one request are refused (RFC 6749 2.3).
    if not colon or request.client_secret is not None:
        return []
    # RFC 6749 2.3.1 form-urlencodes both parts first, but many clients skip that step.
    readings = {(client_id, client_secret), (unquote_plus(client_id), unquote_plus(client_secret))}
    # A client_id repeated in the body must name the same client.
    return [
        (reading_id, reading_secret)
        for reading_id, reading_secret in sorted(readings)
        if request.client_id in (None, reading_id)
    ]


def pkce_holds(challenge: str | None, verifier: str | None, required: bool) -> bool:
    """Check a code_verifier against the stored S256 challenge (RFC 7636 4.6)."""
    # Both absent: no PKCE, allowed only where it is optional. One without the other is a
    # downgrade attempt (RFC 9700 2.1.1).
    if challenge is None and verifier is None:
        return not required
    if challenge is None or verifier is None or not _PKCE_VERIFIER.fullmatch(verifier):
        return False
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return hmac.compare_digest(computed.rstrip(b"=").decode(), challenge)


class StoreRequestValidator(RequestValidator):
    """The RequestValidator of this server: clients, codes, tokens, scopes and resources."""

    def __init__(self, settings: Settings, conn: Connection) -> None:
        super().__init__()
        self.settings = settings
        self.conn = conn
        self.last_client_problem: str | None = None

    # -- the client --------------------------------------------------------------------------

    def client(self, client_id: str | None, request: Any) -> Client | None:
        """The client named `client_id` (looked up once per request), or None."""
        cached = getattr(request, "oauth_client", None)
        if cached is not None and cached.client_id == client_id:
            return cached
        if not client_id:
            return None
        try:
            client = find_client(self.settings, self.conn, client_id)
        except ClientMetadataError as error:
            # Kept for the error page: the user should see why the app was refused.
            self.last_client_problem = str(error)
            return None
        request.oauth_client = client
        return client

    def _named_client_id(self, request: Any) -> str | None:
        readings = client_credentials(request)
        return readings[0][0] if readings else request.client_id

    @override
    def client_authentication_required(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        client = self.client(self._named_client_id(request), request)
        # Unknown clients go on to authenticate_client, which refuses them.
        return client is None or not client.is_public

    @override
    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        for client_id, client_secret in client_credentials(request):
            client = self.client(client_id, request)
            confidential = client is not None and not client.is_public
            if confidential and secret_matches(self.settings, client, client_secret):
                request.client = client
                return True
        return False

    @override
    def authenticate_client_id(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        client = self.client(client_id, request)
        if client is None or not client.is_public or request.client_secret is not None:
            return False
        request.client = client
        return True

    @override
    def validate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        return self.client(client_id, request) is not None

    @override
    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        return grant_type in ("authorization_code", "refresh_token")

    @override
    def validate_response_type(
        self,
        client_id: str,
        response_type: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return response_type == "code"

    @override
    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        client = self.client(client_id, request)
        return client is not None and client.allows_redirect_uri(redirect_uri)

    @override
    def get_default_redirect_uri(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        return None  # redirect_uri is always required, at authorize and at token

    @override
    def get_default_scopes(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> list[str]:
        # A client that names no scope (ChatGPT on reconnect) gets every supported scope.
        return self.settings.oauth_scope.split()

    @override
    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        # oauthlib turns an empty scope parameter into [""]: an empty scope asks for nothing.
        return {scope for scope in scopes if scope} <= set(self.settings.oauth_scope.split())

    @override
    def is_pkce_required(self, client_id: str, request: Any) -> bool:
        client = self.client(client_id, request)
        return client is None or client.needs_pkce

    # -- authorization codes -----------------------------------------------------------------

    @override
    def save_authorization_code(
        self, client_id: str, code: dict[str, str], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        storage.save_code(
            self.conn,
            code=code["code"],
            client_id=client_id,
            user_id=int(request.user),
            redirect_uri=request.redirect_uri,
            scope=" ".join(scope for scope in request.scopes or [] if scope),
            code_challenge=request.code_challenge,
            resource=request.oauth_resource,
            ttl=self.settings.auth_code_ttl,
        )

    @override
    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        row = storage.find_code(self.conn, code)
        if row is None or not storage.same(client_id, row.client_id):
            return False
        code_hash = row.code_hash
        if row.redeemed_at is not None:
            # RFC 6749 4.1.2: a replayed code revokes every token issued from it.
            storage.revoke_family(self.conn, code_hash)
            return False
        if row.expires_at <= storage.now():
            return False
        if request.redirect_uri is None:
            raise errors.InvalidRequestError(
                description="Missing redirect_uri parameter.", request=request
            )
        if request.redirect_uri != row.redirect_uri:
            return False
        if request.resource is not None and request.resource != row.resource:
            raise InvalidTargetError(
                description="resource must be the one the code was issued for.", request=request
            )
        required = client.needs_pkce if isinstance(client, Client) else True
        if not pkce_holds(row.code_challenge, request.code_verifier, required):
            return False
        if not storage.claim_code(self.conn, code_hash):
            storage.revoke_family(self.conn, code_hash)
            return False
        request.user = str(row.user_id)
        request.scopes = row.scope.split()
        request.oauth_family = code_hash
        request.oauth_redirect_uri = row.redirect_uri
        request.oauth_code_challenge = row.code_challenge
        return True

    @override
    def get_code_challenge(self, code: str, request: Any) -> str | None:
        return getattr(request, "oauth_code_challenge", None)

    @override
    def get_code_challenge_method(self, code: str, request: Any) -> str | None:
        # Only S256 challenges are ever stored; `plain` is refused at the authorize step.
        return "S256" if getattr(request, "oauth_code_challenge", None) else None

    @override
    def confirm_redirect_uri(
        self,
        client_id: str,
        code: str,
        redirect_uri: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        stored = getattr(request, "oauth_redirect_uri", None)
        return stored is not None and redirect_uri == stored

    @override
    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        pass  # validate_code already marked the code as redeemed

    # -- tokens ------------------------------------------------------------------------------

    @override
    def save_bearer_token(
        self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        storage.store_tokens(
            self.conn,
            family=request.oauth_family,
            client_id=request.client.client_id,
            user_id=int(request.user),
            scope=token.get("scope", ""),
            access_token=token["access_token"],
            access_ttl=int(token["expires_in"]),
            refresh_token=token.get("refresh_token"),
            refresh_ttl=self.settings.refresh_token_ttl,
        )

    @override
    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        row = storage.find_refresh_token(self.conn, refresh_token)
        if row is None or not storage.same(client.client_id, row.client_id):
            return False
        if row.revoked_at is not None:
            return False
        if row.rotated_at is not None:
            # RFC 9700 4.14.2: a rotated token used again means it leaked; end the whole grant.
            storage.revoke_family(self.conn, row.family)
            return False
        if row.refresh_expires_at <= storage.now():
            return False
        # Checked before the claim, so a refused request does not cost the client its token.
        if request.scope is not None and not set(request.scope.split()) <= set(row.scope.split()):
            raise errors.InvalidScopeError(request=request)
        if request.resource is not None and request.resource != row.resource:
            raise InvalidTargetError(
                description="resource must be the one the grant was issued for.", request=request
            )
        if not storage.claim_refresh_token(self.conn, row.id):
            storage.revoke_family(self.conn, row.family)
            return False
        request.user = str(row.user_id)
        request.oauth_family = row.family
        request.oauth_original_scope = row.scope
        return True

    @override
    def get_original_scopes(
        self, refresh_token: str, request: Any, *args: Any, **kwargs: Any
    ) -> list[str]:
        return request.oauth_original_scope.split()

    @override
    def rotate_refresh_token(self, request: Any) -> bool:
        return True  # every refresh returns a new refresh token (RFC 9700 4.14.2)


def _only_code(request: Any) -> dict[str, str]:
    # oauthlib accepts any response_type containing "code" ("code token", "xcode") this far.
    if request.response_type is not None and request.response_type != "code":
        raise errors.UnsupportedResponseTypeError(request=request)
    return {}


def _require_state(request: Any) -> dict[str, str]:
    # ChatGPT always sends state; without it the client has no CSRF protection of its own.
    if not request.state:
        raise errors.InvalidRequestError(description="Missing state parameter.", request=request)
    return {}


def _only_s256(request: Any) -> dict[str, str]:
    # RFC 9700 2.1.1: `plain` (also the default when no method is named) offers no protection.
    if request.code_challenge is None:
        return {}
    if request.code_challenge_method != "S256":
        raise errors.UnsupportedCodeChallengeMethodError(
            description="Only the S256 code_challenge_method is supported.", request=request
        )
    if not _PKCE_S256_CHALLENGE.fullmatch(request.code_challenge):
        raise errors.InvalidRequestError(
            description="code_challenge must be 43 base64url characters.", request=request
        )
    return {}


def _resource_check(settings: Settings) -> Any:
    def check_resource(request: Any) -> dict[str, str]:
        # RFC 8707 2: the token's audience is named here and bound to the code.
        client = getattr(request, "oauth_client", None)
        if request.resource is None:
            request.oauth_resource = default_resource(settings, client)
        elif request.resource in known_resources(settings):
            request.oauth_resource = request.resource
        else:
            raise InvalidTargetError(
                description=f"resource must be one of {', '.join(known_resources(settings))}.",
                request=request,
            )
        return {}

    return check_resource


def build_server(settings: Settings, conn: Connection) -> WebApplicationServer:
    """The oauthlib server of one request, on that request's database connection."""
    server = WebApplicationServer(
        StoreRequestValidator(settings, conn),
        token_expires_in=settings.access_token_ttl,
        token_generator=storage.new_token,
        refresh_token_generator=storage.new_token,
    )
    server.auth_grant.custom_validators.pre_auth.extend(
        [_only_code, _require_state, _only_s256, _resource_check(settings)]
    )
    return server
