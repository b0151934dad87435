"""The authorization server's tables and every query on them; above db.py, below the rest.

Codes, tokens and client secrets are stored as SHA-256 digests, never in clear. Every token
descends from one authorization code: that code's digest is the token's family, and replaying
the code or an already rotated refresh token revokes the whole family. A family's grant row
holds what the code was issued for: its client and its resource (RFC 8707 audience).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    ForeignKey,
    Index,
    Integer,
    Row,
    Table,
    Text,
    text,
)

from ..db import metadata

# A used code is kept this long after it expired, so that a late replay still revokes its tokens.
USED_CODE_RETENTION = 24 * 3600
# Online password guessing (RFC 6749 10.10): a user name with this many recent failures waits.
MAX_SIGN_IN_FAILURES = 5
SIGN_IN_LOCK_SECONDS = 15 * 60

# The tables are made and changed by the migrations; these declarations describe them for the
# queries and for the test that compares the two. Epoch seconds are BigInteger (past 2038).
# The users table these refer to belongs to the application's own schema (users.py).
codes = Table(
    "oauth_codes",
    metadata,
    Column("code_hash", Text, primary_key=True),
    Column("client_id", Text, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("code_challenge", Text),
    Column("expires_at", BigInteger, nullable=False),
    Column("redeemed_at", BigInteger),
)
tokens = Table(
    "oauth_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("family", Text, nullable=False),
    Column("client_id", Text, nullable=False),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("scope", Text, nullable=False),
    Column("access_hash", Text, nullable=False, unique=True),
    Column("access_expires_at", BigInteger, nullable=False),
    Column("refresh_hash", Text, unique=True),
    Column("refresh_expires_at", BigInteger),
    Column("rotated_at", BigInteger),
    Column("revoked_at", BigInteger),
    Index("oauth_tokens_family", "family"),
)
# Remembered so that a token issued by a request racing the revocation is born revoked.
revoked_families = Table(
    "oauth_revoked_families",
    metadata,
    Column("family", Text, primary_key=True),
    Column("revoked_at", BigInteger, nullable=False),
)
# One row per family: the resource its tokens are for. A family without a row (issued before
# this table existed) is for the REST API only.
grants = Table(
    "oauth_grants",
    metadata,
    Column("family", Text, primary_key=True),
    Column("resource", Text),
    Column("created_at", BigInteger, nullable=False),
)
# Clients registered through RFC 7591; they never expire.
clients = Table(
    "oauth_clients",
    metadata,
    Column("client_id", Text, primary_key=True),
    Column("secret_hash", Text),
    Column("metadata", Text, nullable=False),
    Column("registered_from", Text, nullable=False),
    Column("created_at", BigInteger, nullable=False),
    Index("oauth_clients_created", "created_at"),
)
# Keyed by a digest of the name typed, so that mistyped passwords in it are not kept.
sign_in_failures = Table(
    "oauth_sign_in_failures",
    metadata,
    Column("name_hash", Text, primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failure_at", BigInteger, nullable=False),
)


def digest(secret: str) -> str:
    """The stored form of a code, token or client secret."""
    # They carry 190+ random bits, so a plain SHA-256 is a safe one-way lookup key.
    return hashlib.sha256(secret.encode()).hexdigest()


def new_token(_request: object) -> str:
    """A fresh random code or token (oauthlib passes its request; it is not needed)."""
    return secrets.token_urlsafe(32)


def same(given: str | None, expected: str) -> bool:
    """Compare two secrets in constant time."""
    # Response timing then reveals nothing about how much of a secret matched.
    return hmac.compare_digest((given or "").encode(), expected.encode())


def now() -> int:
    """The current time in whole seconds, as stored."""
    return int(time.time())


# -- codes -------------------------------------------------------------------------------------


def save_code(
    conn: Connection,
    *,
    code: str,
    client_id: str,
    user_id: int,
    redirect_uri: str,
    scope: str,
    code_challenge: str | None,
    resource: str | None,
    ttl: int,
) -> None:
    """Store a new authorization code and the grant its tokens will belong to."""
    moment = now()
    conn.execute(
        text("DELETE FROM oauth_codes WHERE expires_at < :before"),
        {"before": moment - USED_CODE_RETENTION},
    )
    # Grants whose code is gone and that never got a token are of no use any more.
    conn.execute(
        text(
            "DELETE FROM oauth_grants WHERE created_at < :before"
            " AND family NOT IN (SELECT code_hash FROM oauth_codes)"
            " AND family NOT IN (SELECT family FROM oauth_tokens)"
        ),
        {"before": moment - USED_CODE_RETENTION},
    )
    code_hash = digest(code)
    conn.execute(
        text(
            "INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, scope,"
            " code_challenge, expires_at) VALUES (:code_hash, :client_id, :user_id,"
            " :redirect_uri, :scope, :code_challenge, :expires_at)"
        ),
        {
            "code_hash": code_hash,
            "client_id": client_id,
            "user_id": user_id,
            "redirect_uri": redirect_uri,
            "scope": scope,
            "code_challenge": code_challenge,
            "expires_at": moment + ttl,
        },
    )
    save_grant(conn, code_hash, resource)


def find_code(conn: Connection, code: str) -> Row[Any] | None:
    """The stored code with its grant's resource, or None."""
    return conn.execute(
        text(
            "SELECT c.code_hash, c.client_id, c.user_id, c.redirect_uri, c.scope,"
            " c.code_challenge, c.expires_at, c.redeemed_at, g.resource FROM oauth_codes c"
            " LEFT JOIN oauth_grants g ON g.family = c.code_hash WHERE c.code_hash = :code_hash"
        ),
        {"code_hash": digest(code)},
    ).first()


def claim_code(conn: Connection, code_hash: str) -> bool:
    """Mark a code as redeemed; False when another request redeemed it first."""
    # Claiming in the statement that checks keeps two racing requests from both redeeming it.
    claimed = conn.execute(
        text(
            "UPDATE oauth_codes SET redeemed_at = :moment"
            " WHERE code_hash = :code_hash AND redeemed_at IS NULL"
        ),
        {"moment": now(), "code_hash": code_hash},
    ).rowcount
    return claimed == 1


# -- tokens ------------------------------------------------------------------------------------


def revoke_family(conn: Connection, family: str) -> None:
    """Revoke every token of a family, and those that a racing request may still issue."""
    moment = now()
    conn.execute(
        text(
            "INSERT INTO oauth_revoked_families (family, revoked_at) VALUES (:family, :moment)"
            " ON CONFLICT (family) DO NOTHING"
        ),
        {"family": family, "moment": moment},
    )
    conn.execute(
        text(
            "UPDATE oauth_tokens SET revoked_at = :moment"
            " WHERE family = :family AND revoked_at IS NULL"
        ),
        {"family": family, "moment": moment},
    )


def save_grant(conn: Connection, family: str, resource: str | None) -> None:
    """Record the resource of a family (its code's, or one made without a code: tests, tools)."""
    conn.execute(
        text(
            "INSERT INTO oauth_grants (family, resource, created_at)"
            " VALUES (:family, :resource, :moment) ON CONFLICT (family) DO UPDATE"
            " SET resource = excluded.resource, created_at = excluded.created_at"
        ),
        {"family": family, "resource": resource, "moment": now()},
    )


def store_tokens(
    conn: Connection,
    *,
    family: str,
    client_id: str,
    user_id: int,
    scope: str,
    access_token: str,
    access_ttl: int,
    refresh_token: str | None,
    refresh_ttl: int,
) -> None:
    """Store a new access token (and refresh token) of a family, and drop long expired ones."""
    moment = now()
    conn.execute(
        text(
            "DELETE FROM oauth_tokens WHERE access_expires_at < :moment"
            " AND (refresh_expires_at IS NULL OR refresh_expires_at < :moment)"
        ),
        {"moment": moment},
    )
    # No family lives longer than a refresh token plus the retention of a used code.
    conn.execute(
        text("DELETE FROM oauth_revoked_families WHERE revoked_at < :before"),
        {"before": moment - refresh_ttl - USED_CODE_RETENTION},
    )
    # One statement, so a revocation of the family lands either before it or after it.
    conn.execute(
        text(
            "INSERT INTO oauth_tokens (family, client_id, user_id, scope, access_hash,"
            " access_expires_at, refresh_hash, refresh_expires_at, revoked_at)"
            " VALUES (:family, :client_id, :user_id, :scope, :access_hash, :access_expires_at,"
            " :refresh_hash, :refresh_expires_at,"
            " (SELECT revoked_at FROM oauth_revoked_families WHERE family = :family))"
        ),
        {
            "family": family,
            "client_id": client_id,
            "user_id": user_id,
            "scope": scope,
            "access_hash": digest(access_token),
            "access_expires_at": moment + access_ttl,
            "refresh_hash": digest(refresh_token) if refresh_token else None,
            "refresh_expires_at": moment + refresh_ttl if refresh_token else None,
        },
    )


def find_refresh_token(conn: Connection, refresh_token: str) -> Row[Any] | None:
    """The stored refresh token with its grant's resource, or None."""
    return conn.execute(
        text(
            "SELECT t.id, t.family, t.client_id, t.user_id, t.scope, t.refresh_expires_at,"
            " t.rotated_at, t.revoked_at, g.resource FROM oauth_tokens t"
            " LEFT JOIN oauth_grants g ON g.family = t.family WHERE t.refresh_hash = :hash"
        ),
        {"hash": digest(refresh_token)},
    ).first()


def claim_refresh_token(conn: Connection, token_id: int) -> bool:
    """Mark a refresh token as rotated; False when another request rotated it first."""
    claimed = conn.execute(
        text(
            "UPDATE oauth_tokens SET rotated_at = :moment"
            " WHERE id = :id AND rotated_at IS NULL AND revoked_at IS NULL"
        ),
        {"moment": now(), "id": token_id},
    ).rowcount
    return claimed == 1


# Built once: it runs on every request.
_ACCESS_TOKEN = text(
    "SELECT t.user_id, t.scope, t.client_id, t.access_expires_at, g.resource,"
    " g.family IS NOT NULL AS has_grant FROM oauth_tokens t"
    " LEFT JOIN oauth_grants g ON g.family = t.family"
    " WHERE t.access_hash = :hash AND t.access_expires_at > :moment AND t.revoked_at IS NULL"
)


def find_access_token(conn: Connection, access_token: str) -> Row[Any] | None:
    """A valid (unexpired, unrevoked) access token: user_id, scope, client_id, resource."""
    # One indexed lookup by the digest: comparing digests leaks nothing usable about the token.
    return conn.execute(_ACCESS_TOKEN, {"hash": digest(access_token), "moment": now()}).first()


# -- registered clients (RFC 7591) -------------------------------------------------------------


def save_client(
    conn: Connection,
    *,
    client_id: str,
    client_secret: str | None,
    metadata: dict[str, Any],
    registered_from: str,
) -> None:
    """Store a registered client; only a digest of its secret is kept."""
    conn.execute(
        text(
            "INSERT INTO oauth_clients (client_id, secret_hash, metadata, registered_from,"
            " created_at) VALUES (:client_id, :secret_hash, :metadata, :registered_from, :moment)"
        ),
        {
            "client_id": client_id,
            "secret_hash": digest(client_secret) if client_secret else None,
            "metadata": json.dumps(metadata),
            "registered_from": digest(registered_from),
            "moment": now(),
        },
    )


def find_client(conn: Connection, client_id: str) -> tuple[dict[str, Any], str | None]:
    """A registered client's metadata and secret digest; ({}, None) when there is none."""
    row = conn.execute(
        text("SELECT metadata, secret_hash FROM oauth_clients WHERE client_id = :client_id"),
        {"client_id": client_id},
    ).first()
    if row is None:
        return {}, None
    return json.loads(row.metadata), row.secret_hash


def recent_registrations(conn: Connection, since: int, registered_from: str | None) -> int:
    """How many clients were registered since `since`, by one address or by anyone."""
    if registered_from is None:
        query = text("SELECT count(*) FROM oauth_clients WHERE created_at >= :since")
        return int(conn.execute(query, {"since": since}).scalar_one())
    query = text(
        "SELECT count(*) FROM oauth_clients WHERE created_at >= :since AND registered_from = :by"
    )
    return int(conn.execute(query, {"since": since, "by": digest(registered_from)}).scalar_one())


# -- sign-in failures --------------------------------------------------------------------------


def sign_in_locked(conn: Connection, name_hash: str) -> bool:
    """Tell whether a user name had too many recent failed sign-ins."""
    row = conn.execute(
        text(
            "SELECT failures, last_failure_at FROM oauth_sign_in_failures"
            " WHERE name_hash = :name_hash"
        ),
        {"name_hash": name_hash},
    ).first()
    return (
        row is not None
        and row.failures >= MAX_SIGN_IN_FAILURES
        and now() - row.last_failure_at < SIGN_IN_LOCK_SECONDS
    )


def record_sign_in(conn: Connection, name_hash: str, succeeded: bool) -> None:
    """Count a failed sign-in, or forget the failures after a successful one."""
    if succeeded:
        conn.execute(
            text("DELETE FROM oauth_sign_in_failures WHERE name_hash = :name_hash"),
            {"name_hash": name_hash},
        )
        return
    moment = now()
    # Failures older than the lock count no more, and their rows would only pile up.
    conn.execute(
        text("DELETE FROM oauth_sign_in_failures WHERE last_failure_at <= :before"),
        {"before": moment - SIGN_IN_LOCK_SECONDS},
    )
    conn.execute(
        text(
            "INSERT INTO oauth_sign_in_failures (name_hash, failures, last_failure_at)"
            " VALUES (:name_hash, 1, :moment) ON CONFLICT (name_hash) DO UPDATE"
            " SET failures = oauth_sign_in_failures.failures + 1,"
            " last_failure_at = excluded.last_failure_at"
        ),
        {"name_hash": name_hash, "moment": moment},
    )
