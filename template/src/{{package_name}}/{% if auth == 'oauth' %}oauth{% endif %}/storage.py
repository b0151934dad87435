"""The authorization server's tables and every query on them; it imports nothing above it.

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
import sqlite3
import time
from typing import Any

# A used code is kept this long after it expired, so that a late replay still revokes its tokens.
USED_CODE_RETENTION = 24 * 3600
# Online password guessing (RFC 6749 10.10): a user name with this many recent failures waits.
MAX_SIGN_IN_FAILURES = 5
SIGN_IN_LOCK_SECONDS = 15 * 60

# The users table these refer to belongs to the application's own schema.
SCHEMA = """
CREATE TABLE IF NOT EXISTS oauth_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT,
    expires_at INTEGER NOT NULL,
    redeemed_at INTEGER
);
CREATE TABLE IF NOT EXISTS oauth_tokens (
    id INTEGER PRIMARY KEY,
    family TEXT NOT NULL,
    client_id TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    access_hash TEXT NOT NULL UNIQUE,
    access_expires_at INTEGER NOT NULL,
    refresh_hash TEXT UNIQUE,
    refresh_expires_at INTEGER,
    rotated_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX IF NOT EXISTS oauth_tokens_family ON oauth_tokens (family);
-- Remembered so that a token issued by a request racing the revocation is born revoked.
CREATE TABLE IF NOT EXISTS oauth_revoked_families (
    family TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL
);
-- One row per family: the resource its tokens are for. A family without a row (issued before
-- this table existed) is for the REST API only.
CREATE TABLE IF NOT EXISTS oauth_grants (
    family TEXT PRIMARY KEY,
    resource TEXT,
    created_at INTEGER NOT NULL
);
-- Clients registered through RFC 7591; they never expire.
CREATE TABLE IF NOT EXISTS oauth_clients (
    client_id TEXT PRIMARY KEY,
    secret_hash TEXT,
    metadata TEXT NOT NULL,
    registered_from TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS oauth_clients_created ON oauth_clients (created_at);
-- Keyed by a digest of the name typed and the client address (throttle.py), so that mistyped
-- passwords in it are not kept.
CREATE TABLE IF NOT EXISTS oauth_sign_in_failures (
    name_hash TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL
);
-- Failed sign-ins per client address (a digest of it), whatever the names.
CREATE TABLE IF NOT EXISTS oauth_sign_in_addresses (
    address_hash TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    last_failure_at INTEGER NOT NULL
);
"""


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
    conn: sqlite3.Connection,
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
    conn.execute("DELETE FROM oauth_codes WHERE expires_at < ?", (moment - USED_CODE_RETENTION,))
    # Grants whose code is gone and that never got a token are of no use any more.
    conn.execute(
        "DELETE FROM oauth_grants WHERE created_at < ?"
        " AND family NOT IN (SELECT code_hash FROM oauth_codes)"
        " AND family NOT IN (SELECT family FROM oauth_tokens)",
        (moment - USED_CODE_RETENTION,),
    )
    code_hash = digest(code)
    conn.execute(
        "INSERT INTO oauth_codes (code_hash, client_id, user_id, redirect_uri, scope,"
        " code_challenge, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (code_hash, client_id, user_id, redirect_uri, scope, code_challenge, moment + ttl),
    )
    conn.execute(
        "INSERT OR REPLACE INTO oauth_grants (family, resource, created_at) VALUES (?, ?, ?)",
        (code_hash, resource, moment),
    )


def find_code(conn: sqlite3.Connection, code: str) -> sqlite3.Row | None:
    """The stored code with its grant's resource, or None."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT c.code_hash, c.client_id, c.user_id, c.redirect_uri, c.scope, c.code_challenge,"
        " c.expires_at, c.redeemed_at, g.resource FROM oauth_codes c"
        " LEFT JOIN oauth_grants g ON g.family = c.code_hash WHERE c.code_hash = ?",
        (digest(code),),
    ).fetchone()
    return row


def claim_code(conn: sqlite3.Connection, code_hash: str) -> bool:
    """Mark a code as redeemed; False when another request redeemed it first."""
    # Claiming in the statement that checks keeps two racing requests from both redeeming it.
    claimed = conn.execute(
        "UPDATE oauth_codes SET redeemed_at = ? WHERE code_hash = ? AND redeemed_at IS NULL",
        (now(), code_hash),
    ).rowcount
    return claimed == 1


# -- tokens ------------------------------------------------------------------------------------


def revoke_family(conn: sqlite3.Connection, family: str) -> None:
    """Revoke every token of a family, and those that a racing request may still issue."""
    moment = now()
    conn.execute(
        "INSERT OR IGNORE INTO oauth_revoked_families (family, revoked_at) VALUES (?, ?)",
        (family, moment),
    )
    conn.execute(
        "UPDATE oauth_tokens SET revoked_at = ? WHERE family = ? AND revoked_at IS NULL",
        (moment, family),
    )


def save_grant(conn: sqlite3.Connection, family: str, resource: str | None) -> None:
    """Record the resource of a family that was made without a code (tests, tools)."""
    conn.execute(
        "INSERT OR REPLACE INTO oauth_grants (family, resource, created_at) VALUES (?, ?, ?)",
        (family, resource, now()),
    )


def store_tokens(
    conn: sqlite3.Connection,
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
        "DELETE FROM oauth_tokens WHERE access_expires_at < ?"
        " AND (refresh_expires_at IS NULL OR refresh_expires_at < ?)",
        (moment, moment),
    )
    # No family lives longer than a refresh token plus the retention of a used code.
    conn.execute(
        "DELETE FROM oauth_revoked_families WHERE revoked_at < ?",
        (moment - refresh_ttl - USED_CODE_RETENTION,),
    )
    # One statement, so a revocation of the family lands either before it or after it.
    conn.execute(
        "INSERT INTO oauth_tokens (family, client_id, user_id, scope, access_hash,"
        " access_expires_at, refresh_hash, refresh_expires_at, revoked_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
        " (SELECT revoked_at FROM oauth_revoked_families WHERE family = ?))",
        (
            family,
            client_id,
            user_id,
            scope,
            digest(access_token),
            moment + access_ttl,
            digest(refresh_token) if refresh_token else None,
            moment + refresh_ttl if refresh_token else None,
            family,
        ),
    )


def find_refresh_token(conn: sqlite3.Connection, refresh_token: str) -> sqlite3.Row | None:
    """The stored refresh token with its grant's resource, or None."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT t.id, t.family, t.client_id, t.user_id, t.scope, t.refresh_expires_at,"
        " t.rotated_at, t.revoked_at, g.resource FROM oauth_tokens t"
        " LEFT JOIN oauth_grants g ON g.family = t.family WHERE t.refresh_hash = ?",
        (digest(refresh_token),),
    ).fetchone()
    return row


def claim_refresh_token(conn: sqlite3.Connection, token_id: int) -> bool:
    """Mark a refresh token as rotated; False when another request rotated it first."""
    claimed = conn.execute(
        "UPDATE oauth_tokens SET rotated_at = ?"
        " WHERE id = ? AND rotated_at IS NULL AND revoked_at IS NULL",
        (now(), token_id),
    ).rowcount
    return claimed == 1


def find_access_token(conn: sqlite3.Connection, access_token: str) -> sqlite3.Row | None:
    """A valid (unexpired, unrevoked) access token: user_id, scope, client_id, resource."""
    # One indexed lookup by the digest: comparing digests leaks nothing usable about the token.
    row: sqlite3.Row | None = conn.execute(
        "SELECT t.user_id, t.scope, t.client_id, t.access_expires_at, g.resource,"
        " g.family IS NOT NULL AS has_grant FROM oauth_tokens t"
        " LEFT JOIN oauth_grants g ON g.family = t.family"
        " WHERE t.access_hash = ? AND t.access_expires_at > ? AND t.revoked_at IS NULL",
        (digest(access_token), now()),
    ).fetchone()
    return row


# -- registered clients (RFC 7591) -------------------------------------------------------------


def save_client(
    conn: sqlite3.Connection,
    *,
    client_id: str,
    client_secret: str | None,
    metadata: dict[str, Any],
    registered_from: str,
) -> None:
    """Store a registered client; only a digest of its secret is kept."""
    conn.execute(
        "INSERT INTO oauth_clients (client_id, secret_hash, metadata, registered_from,"
        " created_at) VALUES (?, ?, ?, ?, ?)",
        (
            client_id,
            digest(client_secret) if client_secret else None,
            json.dumps(metadata),
            digest(registered_from),
            now(),
        ),
    )


def find_client(conn: sqlite3.Connection, client_id: str) -> tuple[dict[str, Any], str | None]:
    """A registered client's metadata and secret digest; ({}, None) when there is none."""
    row = conn.execute(
        "SELECT metadata, secret_hash FROM oauth_clients WHERE client_id = ?", (client_id,)
    ).fetchone()
    if row is None:
        return {}, None
    return json.loads(row[0]), row[1]


def recent_registrations(conn: sqlite3.Connection, since: int, registered_from: str | None) -> int:
    """How many clients were registered since `since`, by one address or by anyone."""
    if registered_from is None:
        query = "SELECT count(*) FROM oauth_clients WHERE created_at >= ?"
        return int(conn.execute(query, (since,)).fetchone()[0])
    return int(
        conn.execute(
            "SELECT count(*) FROM oauth_clients WHERE created_at >= ? AND registered_from = ?",
            (since, digest(registered_from)),
        ).fetchone()[0]
    )


# -- sign-in failures --------------------------------------------------------------------------


def sign_in_locked(conn: sqlite3.Connection, name_hash: str) -> bool:
    """Tell whether a user name had too many recent failed sign-ins."""
    row = conn.execute(
        "SELECT failures, last_failure_at FROM oauth_sign_in_failures WHERE name_hash = ?",
        (name_hash,),
    ).fetchone()
    return (
        row is not None and row[0] >= MAX_SIGN_IN_FAILURES and now() - row[1] < SIGN_IN_LOCK_SECONDS
    )


def record_sign_in(conn: sqlite3.Connection, name_hash: str, succeeded: bool) -> None:
    """Count a failed sign-in, or forget the failures after a successful one."""
    if succeeded:
        conn.execute("DELETE FROM oauth_sign_in_failures WHERE name_hash = ?", (name_hash,))
        return
    moment = now()
    # Failures older than the lock count no more, and their rows would only pile up.
    conn.execute(
        "DELETE FROM oauth_sign_in_failures WHERE last_failure_at <= ?",
        (moment - SIGN_IN_LOCK_SECONDS,),
    )
    conn.execute(
        "INSERT INTO oauth_sign_in_failures (name_hash, failures, last_failure_at)"
        " VALUES (?, 1, ?) ON CONFLICT (name_hash) DO UPDATE"
        " SET failures = failures + 1, last_failure_at = excluded.last_failure_at",
        (name_hash, moment),
    )
