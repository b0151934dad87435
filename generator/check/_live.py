"""Live checks (`L`): fetch what ChatGPT fetches from a running plugin and probe its behaviour.

Only URLs on the target's own origin are fetched, and only safe requests are sent: GETs without
parameters, CORS preflights, and a token request carrying a code that cannot exist.
"""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import urlencode, urljoin

import httpx

from generator import __version__
from generator.check._findings import Report
from generator.check._manifest import check_manifest, parse_manifest
from generator.check._openapi import MAX_CHARS, Operation, check_openapi, operations, parse_openapi
from generator.check._sources import MANIFEST_PATH, OPENAPI_NAMES
from generator.check._urls import is_absolute_http, is_local, same_origin
from generator.errors import UsageError

CHATGPT_ORIGINS = ("https://chat.openai.com", "https://chatgpt.com")
PROBE_REDIRECT_URI = "https://chat.openai.com/aip/plugin-check/oauth/callback"
SPEC_TYPES = (
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "text/x-yaml",
    "application/json",
    "application/vnd.oai.openapi",
    "application/vnd.oai.openapi+json",
    "text/plain",
)


class LiveChecker:
    """Runs every live rule against one base URL, recording findings in `report`."""

    def __init__(
        self,
        base_url: str,
        profile: str,
        report: Report,
        domain_url: str,
        timeout: float,
        client_id: str | None,
        client_secret: str | None,
    ) -> None:
        self.base_url = base_url
        self.profile = profile
        self.report = report
        self.domain_url = domain_url
        self.client_id = client_id
        self.client_secret = client_secret
        self._declared = False  # whether the document declares security on any operation
        self.client = httpx.Client(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"User-Agent": f"plugin-check/{__version__}"},
        )

    def run(self) -> None:
        """Fetch the manifest, the spec and the logo, then probe CORS, auth and OAuth."""
        with self.client:
            manifest = self._manifest()
            spec_url, spec = self._spec(manifest)
            if manifest is not None:
                self._logo(manifest)
            ops = list(operations(spec)) if spec is not None else []
            auth = manifest.get("auth") if manifest else None
            auth_type = auth.get("type") if isinstance(auth, dict) else None
            server = self._server_url(spec)
            probe = self._safe_operation(ops, auth_type) if server else None
            self._cors(spec_url, server, probe, auth_type)
            if probe is not None and server is not None:
                self._probe_operation(server, probe, auth_type)
            if auth_type == "oauth" and isinstance(auth, dict):
                self._oauth(auth)

    # --- fetching -------------------------------------------------------------------------

    def _get(self, url: str, what: str) -> httpx.Response | None:
        """GET a URL; record L001 unless it answers 200."""
        try:
            response = self.client.get(url)
        except httpx.HTTPError as error:
            self.report.add(
                "L001", url, "", f"the {what} could not be fetched: {_describe_error(error)}"
            )
            return None
        if response.status_code != 200:
            extra = ""
            if response.is_redirect:
                location = response.headers.get("location")
                extra = f" (a redirect to {location}, which is not followed)"
            self.report.add(
                "L001", url, "", f"the {what} answered HTTP {response.status_code}{extra}"
            )
            return None
        return response

    def _content(
        self, response: httpx.Response, url: str, what: str, accepted: tuple[str, ...]
    ) -> None:
        """Record L002 for an unexpected Content-Type and L003 for an oversized body."""
        content_type = response.headers.get("content-type", "")
        media_type = content_type.split(";")[0].strip().lower()
        if not any(
            media_type == a or (a.endswith("/") and media_type.startswith(a)) for a in accepted
        ):
            self.report.add(
                "L002",
                url,
                "",
                f"the {what} is served as "
                f"{content_type or 'no Content-Type'}; expected " + " or ".join(accepted),
            )
        if not accepted[0].startswith("image/") and len(response.text) >= MAX_CHARS:
            self.report.add("L003", url, "", f"the {what} has {len(response.text):,} characters")

    def _manifest(self) -> dict[str, Any] | None:
        url = urljoin(self.base_url, "/" + MANIFEST_PATH)
        try:
            response = self.client.get(url)
        except httpx.HTTPError as error:
            raise UsageError(f"Cannot reach {self.base_url}: {_describe_error(error)}.") from None
        self.report.checked.append(url)
        if response.status_code == 404 and self.profile == "gpt-action":
            return None  # a GPT Action needs only the OpenAPI document
        if response.status_code != 200:
            self.report.add("M001", url, "", f"the manifest answered HTTP {response.status_code}")
            return None
        self._content(response, url, "manifest", ("application/json",))
        manifest = parse_manifest(response.text, url, self.report)
        if manifest is not None:
            check_manifest(manifest, url, self.domain_url, self.report)
        return manifest

    def _spec(self, manifest: dict[str, Any] | None) -> tuple[str | None, dict[str, Any] | None]:
        api = manifest.get("api") if manifest else None
        api_url = api.get("url") if isinstance(api, dict) else None
        if manifest is None:
            candidates = [urljoin(self.base_url, "/" + name) for name in OPENAPI_NAMES]
            for url in candidates:
                try:
                    if self.client.get(url).status_code == 200:
                        api_url = url
                        break
                except httpx.HTTPError:
                    continue
            if api_url is None:
                self.report.add(
                    "O001",
                    self.base_url,
                    "",
                    "no manifest and no " + ", ".join(OPENAPI_NAMES) + " answered",
                )
                return None, None
        if not isinstance(api_url, str) or not is_absolute_http(api_url):
            return None, None  # reported by the manifest rules
        if not self._own(api_url, "the OpenAPI document"):
            return None, None
        response = self._get(api_url, "OpenAPI document")
        if response is None:
            return api_url, None
        self.report.checked.append(api_url)
        self._content(response, api_url, "OpenAPI document", SPEC_TYPES)
        spec = parse_openapi(response.text, api_url, self.report)
        if spec is not None:
            check_openapi(spec, response.text, api_url, manifest, self.profile, self.report)
        return api_url, spec

    def _logo(self, manifest: dict[str, Any]) -> None:
        url = manifest.get("logo_url")
        if not isinstance(url, str) or not is_absolute_http(url) or not self._own(url, "the logo"):
            return
        response = self._get(url, "logo")
        if response is not None:
            self.report.checked.append(url)
            self._content(response, url, "logo", ("image/",))

    def _own(self, url: str, what: str) -> bool:
        """True when the URL is on the target's origin; otherwise record that it was skipped."""
        if same_origin(url, self.base_url):
            return True
        self.report.add("L009", url, "", f"{what} is not on {self.base_url}, so it was not fetched")
        return False

    # --- CORS -----------------------------------------------------------------------------

    def _cors(
        self, spec_url: str | None, server: str | None, probe: Operation | None, auth_type: Any
    ) -> None:
        targets: list[tuple[str, str, str]] = [
            (urljoin(self.base_url, "/" + MANIFEST_PATH), "GET", "")
        ]
        if spec_url and same_origin(spec_url, self.base_url):
            targets.append((spec_url, "GET", ""))
        if probe is not None and server is not None:
            wanted = "authorization" if auth_type not in (None, "none") else ""
            targets.append((server.rstrip("/") + probe.path, probe.method.upper(), wanted))
        local = is_local(self.base_url)
        for url, method, request_headers in targets:
            refused, missing_private = [], []
            for origin in CHATGPT_ORIGINS:
                headers = {"Origin": origin, "Access-Control-Request-Method": method}
                if request_headers:
                    headers["Access-Control-Request-Headers"] = request_headers
                if local:
                    headers["Access-Control-Request-Private-Network"] = "true"
                try:
                    response = self.client.options(url, headers=headers)
                except httpx.HTTPError as error:
                    refused.append(f"{origin} ({_describe_error(error)})")
                    continue
                allowed = response.headers.get("access-control-allow-origin")
                if response.status_code >= 300 or allowed not in (origin, "*"):
                    refused.append(
                        f"{origin} (HTTP {response.status_code}, "
                        f"Access-Control-Allow-Origin: {allowed or 'absent'})"
                    )
                elif (
                    local
                    and response.headers.get("access-control-allow-private-network", "").lower()
                    != "true"
                ):
                    missing_private.append(origin)
            if refused:
                self.report.add(
                    "L004",
                    url,
                    "",
                    f"the {method} preflight is not answered for " + "; ".join(refused),
                )
            if missing_private:
                self.report.add(
                    "L005",
                    url,
                    "",
                    "the preflight from "
                    + " and ".join(missing_private)
                    + " lacks Access-Control-Allow-Private-Network: true",
                )

    # --- the API and its auth -------------------------------------------------------------

    def _server_url(self, spec: dict[str, Any] | None) -> str | None:
        servers = spec.get("servers") if spec else None
        first = servers[0] if isinstance(servers, list) and servers else None
        url = first.get("url") if isinstance(first, dict) else None
        if isinstance(url, str) and is_absolute_http(url) and self._own(url, "the API server"):
            return url
        return None

    @staticmethod
    def _needs_credentials(op: Operation, auth_type: Any, declared: bool) -> bool:
        """Whether a call without credentials must be refused."""
        if auth_type is None:  # no manifest (a GPT Action): the document alone says
            return op.protected
        if auth_type == "none":
            return False
        return op.protected or not declared

    def _safe_operation(self, ops: list[Operation], auth_type: Any) -> Operation | None:
        """A GET without required parameters: callable with no side effect and no input.

        When the plugin has auth, one that needs credentials is preferred: it is the probe.
        """
        declared = any(op.security for op in ops)
        safe = [
            op
            for op in ops
            if op.method == "get" and not any(p.get("required") for _, p in op.parameters)
        ]
        protected = [op for op in safe if self._needs_credentials(op, auth_type, declared)]
        self._declared = declared
        return (protected or safe or [None])[0]

    def _probe_operation(self, server: str, op: Operation, auth_type: Any) -> None:
        url = server.rstrip("/") + op.path
        try:
            response = self.client.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            self.report.add(
                "L001",
                url,
                "",
                f"{op.method.upper()} {op.path} could not be called: {_describe_error(error)}",
            )
            return
        if not self._needs_credentials(op, auth_type, self._declared):
            if response.status_code >= 400:
                self.report.add(
                    "L001",
                    url,
                    "",
                    f"{op.method.upper()} {op.path} answered HTTP {response.status_code}",
                )
            else:
                self._content(response, url, f"answer of {op.path}", ("application/json",))
        elif response.status_code < 400:
            self.report.add(
                "L006",
                url,
                "",
                f"{op.method.upper()} {op.path} answered HTTP "
                f"{response.status_code} to a call without credentials although "
                f"auth.type is {auth_type}",
            )

    def _oauth(self, auth: dict[str, Any]) -> None:
        client_url, token_url = auth.get("client_url"), auth.get("authorization_url")
        if (
            isinstance(client_url, str)
            and is_absolute_http(client_url)
            and self._own(client_url, "the OAuth authorization page")
        ):
            self._authorize_page(client_url, auth)
        if (
            isinstance(token_url, str)
            and is_absolute_http(token_url)
            and self._own(token_url, "the OAuth token endpoint")
        ):
            self._token_endpoint(token_url, auth)

    def _authorize_page(self, client_url: str, auth: dict[str, Any]) -> None:
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id or "plugin-check-probe",
                "scope": auth.get("scope") or "",
                "state": secrets.token_urlsafe(16),
                "redirect_uri": PROBE_REDIRECT_URI,
            }
        )
        url = client_url + ("&" if "?" in client_url else "?") + query
        try:
            response = self.client.get(url)
        except httpx.HTTPError as error:
            self.report.add(
                "L007",
                client_url,
                "",
                f"the authorization page could not be fetched: {_describe_error(error)}",
            )
            return
        # 400 is right for a client or redirect_uri the server does not know; 404/405/5xx are not
        if response.status_code >= 500 or response.status_code in (404, 405):
            self.report.add(
                "L007",
                client_url,
                "",
                f"the authorization page answered HTTP {response.status_code}",
            )

    def _token_endpoint(self, token_url: str, auth: dict[str, Any]) -> None:
        fields = {
            "grant_type": "authorization_code",
            "code": "plugin-check-" + secrets.token_urlsafe(24),
            "redirect_uri": PROBE_REDIRECT_URI,
            "client_id": self.client_id or "plugin-check-probe",
            "client_secret": self.client_secret or "plugin-check-probe",
        }
        as_json = auth.get("authorization_content_type") == "application/json"
        try:
            if as_json:
                response = self.client.post(token_url, json=fields)
            else:
                response = self.client.post(token_url, data=fields)
        except httpx.HTTPError as error:
            self.report.add(
                "L008",
                token_url,
                "",
                f"the token endpoint could not be reached: {_describe_error(error)}",
            )
            return
        try:
            error_code = response.json().get("error")
        except (json.JSONDecodeError, AttributeError):
            error_code = None
        if response.status_code >= 400:
            # RFC 6749 section 5.2: the error answer is a JSON document
            self._content(
                response, token_url, "token endpoint's error answer", ("application/json",)
            )
        has_credentials = bool(self.client_id and self.client_secret)
        accepted = {"invalid_grant"} if has_credentials else {"invalid_grant", "invalid_client"}
        if has_credentials and error_code == "invalid_client":
            self.report.add(
                "L008",
                token_url,
                "",
                "the token endpoint refused the client "
                "credentials given with --client-id and --client-secret "
                "(invalid_client), so the code was never checked",
            )
        elif response.status_code < 400 or error_code not in accepted:
            self.report.add(
                "L008",
                token_url,
                "",
                f"a token request with an unknown code got "
                f"HTTP {response.status_code} with error {json.dumps(error_code)}; "
                "expected " + " or ".join(sorted(accepted)),
            )
        elif not has_credentials:
            self.report.add(
                "L009",
                token_url,
                "",
                "the unknown code was refused with "
                f"{error_code}; pass --client-id and --client-secret to check that "
                "it is refused with invalid_grant",
            )


def _describe_error(error: httpx.HTTPError) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0]
