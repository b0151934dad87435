"""A client of a running oauth project's authorization server, over real HTTP.

It does what ChatGPT and the user's browser do, step by step, and each step may go to another
instance of the project: open the sign-in page, post the form (which issues the code), redeem
the code at the token endpoint with PKCE, refresh.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

HIDDEN_INPUT = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


@dataclass(frozen=True)
class OAuthClient:
    """The pre-registered client (OAUTH_CLIENT_ID / SECRET) and the user who signs in."""

    client_id: str
    client_secret: str
    redirect_uri: str
    scope: str
    username: str
    password: str


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier and its S256 challenge (RFC 7636 4.1, 4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_code(
    client: OAuthClient, page_url: str, form_url: str, challenge: str
) -> tuple[str, str]:
    """Sign in on the page served at `page_url`, post the form to `form_url`.

    Returns the code and the `iss` the redirect carried, after checking that `state` came back.
    """
    state = secrets.token_urlsafe(12)
    query = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": client.redirect_uri,
        "scope": client.scope,
        "state": state,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    # One browser: the CSRF cookie set by the page goes with the form (cookies ignore ports).
    with httpx.Client(follow_redirects=False, timeout=30) as browser:
        page = browser.get(f"{page_url}/oauth/authorize", params=query)
        if page.status_code != 200:
            raise AssertionError(f"sign-in page: {page.status_code} {page.text[:500]}")
        fields = {html.unescape(k): html.unescape(v) for k, v in HIDDEN_INPUT.findall(page.text)}
        form = {
            **fields,
            "username": client.username,
            "password": client.password,
            "decision": "allow",
        }
        answer = browser.post(f"{form_url}/oauth/authorize", data=form)
    if answer.status_code not in (302, 303):
        raise AssertionError(f"sign-in form: {answer.status_code} {answer.text[:500]}")
    location = answer.headers["location"]
    if location.split("?")[0] != client.redirect_uri:
        raise AssertionError(f"redirected to {location}")
    params = {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}
    if params.get("state") != state or "code" not in params:
        raise AssertionError(f"callback without the code or state: {params}")
    return params["code"], params.get("iss", "")


def token_request(client: OAuthClient, token_url: str, data: dict[str, str]) -> httpx.Response:
    """POST to `token_url`/oauth/token with the client's credentials in the body."""
    body = {**data, "client_id": client.client_id, "client_secret": client.client_secret}
    return httpx.post(f"{token_url}/oauth/token", data=body, timeout=30)


def redeem(client: OAuthClient, token_url: str, code: str, verifier: str | None) -> httpx.Response:
    """Exchange `code` (with the PKCE verifier) at the token endpoint of `token_url`."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": client.redirect_uri}
    if verifier is not None:
        data["code_verifier"] = verifier
    return token_request(client, token_url, data)


def refresh(client: OAuthClient, token_url: str, refresh_token: str) -> httpx.Response:
    """Use `refresh_token` at the token endpoint of `token_url`."""
    return token_request(
        client, token_url, {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


def tokens(client: OAuthClient, base_url: str) -> dict[str, Any]:
    """The whole flow at one instance; the token endpoint's JSON answer."""
    verifier, challenge = pkce_pair()
    code, _ = authorization_code(client, base_url, base_url, challenge)
    answer = redeem(client, base_url, code, verifier)
    if answer.status_code != 200:
        raise AssertionError(f"token endpoint: {answer.status_code} {answer.text}")
    return answer.json()


def bearer(access_token: str) -> dict[str, str]:
    """The Authorization header of an API call with `access_token`."""
    return {"Authorization": f"Bearer {access_token}"}
