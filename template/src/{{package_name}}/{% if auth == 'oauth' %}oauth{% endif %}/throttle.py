"""The sign-in throttle: failures counted per name and address, and per address.

A lockout per user name alone lets anyone lock any user out with a few wrong passwords. Here
failures count per (name, client address): five wrong passwords lock that name from that address
only, and the user signing in from elsewhere is never denied. An address that fails often,
whatever the names (password spraying), is refused for every name for a while. The counts live
in the database, so that several instances share them.

Password hashing is the costly part (scrypt: 16 MiB and about 0.1 s per check): at most
SIGN_IN_CONCURRENCY sign-ins check a password at once. The others wait for a slot on the event
loop, holding no thread, for at most HASHING_WAIT_SECONDS, and then get a 503 page: a burst of
sign-ins can neither fill the thread pool that the token endpoint needs nor the memory.

The client address is the TCP peer's, unless that peer is a trusted proxy (TRUSTED_PROXIES):
then it is the last X-Forwarded-For address that is not itself a trusted proxy.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from sqlalchemy import Connection, text

from . import storage

# One name from one address waits after storage.MAX_SIGN_IN_FAILURES (RFC 6749 10.10).
# Failures from one address, whatever the names, before it waits for every name.
MAX_ADDRESS_FAILURES = 20
LOCK_SECONDS = storage.SIGN_IN_LOCK_SECONDS
# How long a sign-in waits for a password-hashing slot before the 503 page.
HASHING_WAIT_SECONDS = 2.0


@asynccontextmanager
async def hashing_slot(app: FastAPI, slots: int) -> AsyncIterator[bool]:
    """Hold one of the app's `slots` password-hashing slots; yields False when none came free."""
    loop = asyncio.get_running_loop()
    held = getattr(app.state, "hashing_slots", None)
    # One semaphore per event loop: an app served again (tests) runs on another loop.
    if held is None or held[0] is not loop:
        held = (loop, asyncio.Semaphore(slots))
        app.state.hashing_slots = held
    semaphore: asyncio.Semaphore = held[1]
    try:
        await asyncio.wait_for(semaphore.acquire(), HASHING_WAIT_SECONDS)
    except TimeoutError:
        yield False
        return
    try:
        yield True
    finally:
        semaphore.release()


def client_address(request: Request, trusted_proxies: Sequence[str]) -> str:
    """The address the request came from, believing X-Forwarded-For only from trusted proxies."""
    peer = request.client.host if request.client else "unknown"
    if peer not in trusted_proxies:
        return peer
    hops = [
        hop.strip()
        for header in request.headers.getlist("x-forwarded-for")
        for hop in header.split(",")
        if hop.strip()
    ]
    # Each proxy appends the address it saw: the last one a trusted proxy did not add is the
    # client; anything left of it may have been written by the client itself.
    for hop in reversed(hops):
        if hop not in trusted_proxies:
            return hop
    return peer


def name_key(name: str, address: str) -> str:
    """The stored key of a (name, address) pair: a digest, so typed names are not kept."""
    return storage.digest(f"{name.strip()}\n{address}")


def locked(conn: Connection, name: str, address: str) -> bool:
    """Tell whether this name from this address, or this address at all, must wait."""
    if storage.sign_in_locked(conn, name_key(name, address)):
        return True
    row = conn.execute(
        text(
            "SELECT failures, last_failure_at FROM oauth_sign_in_addresses"
            " WHERE address_hash = :address_hash"
        ),
        {"address_hash": storage.digest(address)},
    ).first()
    return (
        row is not None and row[0] >= MAX_ADDRESS_FAILURES and storage.now() - row[1] < LOCK_SECONDS
    )


def record(conn: Connection, name: str, address: str, succeeded: bool) -> None:
    """Count a failed sign-in for the pair and the address, or forget the pair's failures."""
    storage.record_sign_in(conn, name_key(name, address), succeeded)
    if succeeded:
        # The address keeps its count: one right password must not reset a spraying address.
        return
    moment = storage.now()
    conn.execute(
        text("DELETE FROM oauth_sign_in_addresses WHERE last_failure_at <= :expired"),
        {"expired": moment - LOCK_SECONDS},
    )
    conn.execute(
        text(
            "INSERT INTO oauth_sign_in_addresses (address_hash, failures, last_failure_at)"
            " VALUES (:address_hash, 1, :moment) ON CONFLICT (address_hash) DO UPDATE"
            " SET failures = oauth_sign_in_addresses.failures + 1,"
            " last_failure_at = excluded.last_failure_at"
        ),
        {"address_hash": storage.digest(address), "moment": moment},
    )
