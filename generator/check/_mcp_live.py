"""Live checks of an MCP endpoint and its discovery (`P`, `D`), with raw JSON-RPC over httpx.

Raw requests, not an MCP client library: the checker must see the answers as they are (a 307,
a 406, an SSE stream) rather than what a client library makes of them.

Every request goes to the target's origin. A URL on the public domain (`--domain`) is requested
from the target, which serves that domain (and when the endpoint refuses the target's own Host
with 421, it is asked again with the public one, as a proxy forwards it); any other origin is
never contacted. Unless the endpoint is required (`--target chatgpt-app`, `--mcp-path`), a plain
GET first tells whether the target serves one, so a server without it gets no POST.

Nothing that changes data is sent: the JSON-RPC methods are initialize,
notifications/initialized, server/discover and tools/list (no tool is ever called), the OAuth
probes are a GET of the sign-in page and a token request with a code that cannot exist, and
client registration is never used."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from generator import __version__
from generator.check._findings import Report
from generator.check._mcp_rules import (
    check_authorization_server,
    check_protected_resource,
    check_tools,
    metadata_urls,
)
from generator.check._urls import is_absolute_http, same_origin
from generator.errors import UsageError

LEGACY_VERSION = "2025-11-25"
MODERN_VERSION = "2026-07-28"
STANDARD_ACCEPT = "application/json, text/event-stream"
# (Accept, Content-Type) pairs that clients and scanners send, beyond the standard ones
CLIENT_HEADERS = (
    ("*/*", "application/json"),
    ("application/octet-stream, */*", "application/json"),
    (STANDARD_ACCEPT, "application/json; charset=utf-8"),
)
MAX_BODY = 1_000_000  # bytes read from one answer at most
MAX_PAGES = 20  # tools/list pages followed at most
CHALLENGE_PATH = "/.well-known/openai-apps-challenge"
CHATGPT_REDIRECT_URI = "https://chatgpt.com/connector_platform_oauth_redirect"
# The only JSON-RPC methods the checker sends: none of them changes data.
RPC_METHODS = frozenset(
    {"initialize", "notifications/initialized", "server/discover", "tools/list"}
)


@dataclass
class Answer:
    """What one JSON-RPC POST got back."""

    status: int | None  # None: no HTTP answer at all
    headers: httpx.Headers = field(default_factory=httpx.Headers)
    message: dict[str, Any] | None = None  # the JSON-RPC response carrying the request's id
    problem: str | None = None  # why no message was read
    unreachable: bool = False  # the connection itself failed

    @property
    def result(self) -> Any:
        return self.message.get("result") if self.message else None

    def describe(self) -> str:
        """The answer in a few words, for a finding's message."""
        if self.status is None:
            return f"no answer ({self.problem})"
        text = f"HTTP {self.status}"
        if 300 <= self.status < 400:
            location = self.headers.get("location")
            text += f" (a redirect to {location}, which clients do not follow for a POST)"
        elif self.message and isinstance(self.message.get("error"), dict):
            error = self.message["error"]
            text += f" with JSON-RPC error {error.get('code')}: {error.get('message')}"
        elif self.problem:
            text += f" ({self.problem})"
        return text


class McpLiveChecker:
    """Runs the `P` and `D` rules against one running server, recording findings in `report`."""

    def __init__(self, base_url: str, domain_url: str, options: Any, report: Report) -> None:
        self.base_url = base_url
        self.domain_url = domain_url
        self.path = options.endpoint_path
        self.endpoint = base_url + self.path
        self.public_endpoint = domain_url + self.path
        self.report = report
        self.chatgpt = options.profile == "chatgpt-app"
        self.required = self.chatgpt or options.mcp_path is not None
        self.token = options.mcp_token
        self.client_id = options.client_id
        self.client_secret = options.client_secret
        self.apps_challenge = options.apps_challenge
        self.session_id: str | None = None
        self.version: str | None = None
        self.has_auth = False
        self.resource_host: str | None = None
        # the public host, when it is not the target's: a proxy in front forwards it as Host
        target_host = urlsplit(base_url).netloc.lower()
        public_host = urlsplit(domain_url).netloc.lower()
        self.public_host = public_host if public_host not in ("", target_host) else None
        # the Host every request carries, once the target refused its own with 421 and
        # accepted the public one (None: the URL's own host)
        self.host: str | None = None
        # how --mcp-token is sent: Bearer, or Basic to a server that challenges only with Basic
        self.scheme = "Bearer"
        self._next_id = 0
        self.client = httpx.Client(
            timeout=httpx.Timeout(options.timeout),
            follow_redirects=False,
            headers={"User-Agent": f"plugin-check/{__version__}"},
        )

    # --- the run ----------------------------------------------------------------------------

    def run(self) -> None:
        """Handshake, discovery, tools, transport and the domain challenge, in that order."""
        with self.client:
            if not self.required and self._get_status() in (None, 404):
                return  # no MCP endpoint here, and none was asked for: nothing is POSTed
            first = self._rpc("initialize", self._initialize_params())
            if first.unreachable and self.chatgpt:
                raise UsageError(f"Cannot reach {self.base_url}: {first.problem}.")
            if first.status == 404 or (first.status == 405 and not self.required):
                if self.required:
                    self.report.add(
                        "P001", self.endpoint, "", f"a POST to {self.path} answered {first.status}"
                    )
                return
            self.report.checked.append(self.endpoint)
            if first.status == 421:
                self._refused_hosts("nothing else could be checked")
                return
            needs_token = first.status == 401
            challenge = self._challenge(first) if needs_token else None
            offered = first.headers.get("www-authenticate", "") if needs_token else ""
            if (
                _find_scheme(offered, "bearer") is None
                and _find_scheme(offered, "basic") is not None
            ):
                self.scheme = "Basic"  # a fixed key sent as Basic (user_http's basic mode)
            handshake = first
            if needs_token and self.token:
                handshake = self._rpc("initialize", self._initialize_params(), token=True)
                if handshake.status in (401, 403):
                    raise UsageError(
                        f"{self.endpoint} refused the token given with --mcp-token "
                        f"(HTTP {handshake.status})."
                    )
            self._discovery(challenge, needs_token)
            if handshake.status == 421:  # the host check comes after the token check
                self._refused_hosts("its handshake and tools could not be checked")
                self._apps_challenge()
                return
            readable = not needs_token or bool(self.token)
            legacy_ok = self._handshake(handshake) if readable else False
            modern_ok = self._server_discover() if readable else False
            if legacy_ok or modern_ok:
                self._tools(modern=not legacy_ok)
            elif not readable:
                self.report.add(
                    "L009",
                    self.endpoint,
                    "",
                    "the MCP endpoint needs a token, so its handshake and tools were not "
                    "checked; pass --mcp-token to check them",
                )
            self._transport(needs_token)
            self._apps_challenge()

    def _refused_hosts(self, consequence: str) -> None:
        """P015 for an endpoint that refuses the target's host (and the public one) with 421."""
        hosts = urlsplit(self.base_url).netloc
        if self.public_host:
            hosts += f" and to the public host {self.public_host}"
        self.report.add(
            "P015",
            self.endpoint,
            "",
            f"the endpoint answered 421 to the host {hosts}, so {consequence}",
        )

    # --- JSON-RPC over HTTP -----------------------------------------------------------------

    def _initialize_params(self) -> dict[str, Any]:
        return {
            "protocolVersion": LEGACY_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "plugin-check", "version": __version__},
        }

    def _rpc(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        token: bool = False,
        accept: str = STANDARD_ACCEPT,
        content_type: str = "application/json",
        host: str | None = None,
        modern: bool = False,
        notification: bool = False,
    ) -> Answer:
        """POST one JSON-RPC message to the endpoint and read the answer to it.

        A 421 to the target's own host is retried with the public host (`--domain`), which a
        proxy in front of the target forwards as Host; when that is accepted, every later
        request carries the public host too. An explicit `host` is never retried.
        """
        options = {
            "token": token,
            "accept": accept,
            "content_type": content_type,
            "modern": modern,
            "notification": notification,
        }
        answer = self._post(method, params, host=host or self.host, **options)
        if answer.status != 421 or host is not None or self.host or not self.public_host:
            return answer
        retried = self._post(method, params, host=self.public_host, **options)
        if retried.status is None or retried.status == 421:
            return answer
        self.host = self.public_host
        self.client.headers["Host"] = self.public_host
        return retried

    def _post(
        self,
        method: str,
        params: dict[str, Any] | None,
        *,
        token: bool,
        accept: str,
        content_type: str,
        host: str | None,
        modern: bool,
        notification: bool,
    ) -> Answer:
        assert method in RPC_METHODS  # the checker never sends anything else
        headers = {"Accept": accept, "Content-Type": content_type}
        if modern:
            headers["MCP-Protocol-Version"] = MODERN_VERSION
            headers["Mcp-Method"] = method
            meta = {
                "io.modelcontextprotocol/protocolVersion": MODERN_VERSION,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {
                    "name": "plugin-check",
                    "version": __version__,
                },
            }
            params = {**(params or {}), "_meta": meta}
        elif method != "initialize":
            if self.session_id:
                headers["Mcp-Session-Id"] = self.session_id
            if self.version:
                headers["MCP-Protocol-Version"] = self.version
        if token and self.token:
            headers["Authorization"] = f"{self.scheme} {self.token}"
        if host:
            headers["Host"] = host
        body: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            body["params"] = params
        request_id = None
        if not notification:
            self._next_id += 1
            request_id = body["id"] = self._next_id
        try:
            with self.client.stream("POST", self.endpoint, json=body, headers=headers) as response:
                answer = Answer(response.status_code, response.headers)
                if notification or response.status_code != 200:
                    _read(response)
                    return answer
                media_type = response.headers.get("content-type", "").split(";")[0].strip()
                if media_type == "text/event-stream":
                    answer.message = _from_sse(response, request_id)
                elif media_type == "application/json":
                    answer.message = _matching(_json(_read(response)), request_id)
                else:
                    answer.problem = f"Content-Type {media_type or 'missing'}"
                    return answer
                if answer.message is None:
                    answer.problem = f"no JSON-RPC response with id {request_id}"
                return answer
        except httpx.HTTPError as error:
            return Answer(
                None, problem=_describe(error), unreachable=isinstance(error, httpx.ConnectError)
            )

    def _get_status(self) -> int | None:
        """The status a plain GET of the endpoint gets (the body, maybe a stream, is not read)."""
        try:
            with self.client.stream(
                "GET", self.endpoint, headers={"Accept": "text/event-stream"}
            ) as response:
                return response.status_code
        except httpx.HTTPError:
            return None

    def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """Send a request and read at most MAX_BODY bytes of the answer."""
        with self.client.stream(method, url, **kwargs) as response:
            content = _read(response)  # already decoded: drop what described the encoding
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length", "transfer-encoding")
        ]
        return httpx.Response(
            response.status_code, headers=headers, content=content, request=response.request
        )

    def _get(self, url: str) -> httpx.Response | None:
        """GET a URL on the target (after `_local`); None when it does not answer."""
        try:
            return self._send("GET", url)
        except httpx.HTTPError:
            return None

    def _local(self, url: str, what: str) -> str | None:
        """The URL to request on the target for `url`, or None (noted) when it is elsewhere."""
        if same_origin(url, self.base_url):
            return url
        if same_origin(url, self.domain_url):
            parts = urlsplit(url)
            return self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        self.report.add(
            "L009", url, "", f"{what} is not on {self.domain_url}, so it was not fetched"
        )
        return None

    # --- handshake and tools ----------------------------------------------------------------

    def _handshake(self, answer: Answer) -> bool:
        """P002/P003 on the initialize answer; on success, keep the session and version."""
        result = answer.result
        problems = []
        if answer.status != 200 or not isinstance(result, dict):
            self.report.add(
                "P002", self.endpoint, "", f"initialize ({LEGACY_VERSION}) got {answer.describe()}"
            )
            return False
        if not isinstance(result.get("protocolVersion"), str):
            problems.append("no protocolVersion")
        capabilities = result.get("capabilities")
        if not isinstance(capabilities, dict):
            problems.append("no capabilities")
        elif not isinstance(capabilities.get("tools"), dict):
            problems.append("no tools capability")
        server_info = result.get("serverInfo")
        if not isinstance(server_info, dict) or not isinstance(server_info.get("name"), str):
            problems.append("no serverInfo with a name")
        if problems:
            self.report.add(
                "P002", self.endpoint, "", "the initialize result has " + ", ".join(problems)
            )
            return False
        version = result["protocolVersion"]
        if version != LEGACY_VERSION:
            self.report.add(
                "P003",
                self.endpoint,
                "",
                f"initialize asked for {LEGACY_VERSION} and the server answered {version}",
            )
        self.version = version
        self.session_id = answer.headers.get("mcp-session-id")
        self._rpc("notifications/initialized", token=True, notification=True)
        return True

    def _server_discover(self) -> bool:
        """P004: the stateless revision's server/discover."""
        answer = self._rpc("server/discover", token=True, modern=True)
        result = answer.result
        if answer.status != 200 or not isinstance(result, dict):
            self.report.add(
                "P004",
                self.endpoint,
                "",
                f"server/discover ({MODERN_VERSION}) got {answer.describe()}",
            )
            return False
        versions = result.get("supportedVersions")
        if not isinstance(versions, list) or MODERN_VERSION not in versions:
            self.report.add(
                "P004",
                self.endpoint,
                "",
                f"server/discover lists supportedVersions {versions!r}, without {MODERN_VERSION}",
            )
            return False
        if not isinstance(result.get("capabilities"), dict):
            self.report.add(
                "P004", self.endpoint, "", "the server/discover result has no capabilities"
            )
            return False
        return True

    def _tools(self, *, modern: bool) -> None:
        """P005-P012 on every page of tools/list."""
        tools: list[Any] = []
        cursor = None
        source = f"{self.endpoint} (tools/list)"
        for _ in range(MAX_PAGES):
            params = {"cursor": cursor} if cursor else None
            answer = self._rpc("tools/list", params, token=True, modern=modern)
            result = answer.result
            if answer.status == 401 and not self.token:
                self.report.add(
                    "L009",
                    source,
                    "",
                    "tools/list needs a token, so the tools were not checked; pass --mcp-token "
                    "to check them",
                )
                return
            if answer.status != 200 or not isinstance(result, dict):
                self.report.add("P005", source, "", f"tools/list got {answer.describe()}")
                return
            if not isinstance(result.get("tools"), list):
                check_tools(result, source, self.report, chatgpt=self.chatgpt, has_auth=False)
                return
            tools.extend(result["tools"])
            cursor = result.get("nextCursor")
            if not isinstance(cursor, str) or not cursor:
                break
        check_tools(
            {"tools": tools}, source, self.report, chatgpt=self.chatgpt, has_auth=self.has_auth
        )

    # --- transport --------------------------------------------------------------------------

    def _transport(self, needs_token: bool) -> None:
        """P013 (Accept), P014 (GET), P015 (the public host)."""
        tolerated = {200, 401} if needs_token and not self.token else {200}
        for accept, content_type in CLIENT_HEADERS:
            answer = self._rpc(
                "initialize",
                self._initialize_params(),
                token=True,
                accept=accept,
                content_type=content_type,
            )
            if answer.status not in tolerated or (answer.status == 200 and answer.message is None):
                self.report.add(
                    "P013",
                    self.endpoint,
                    "",
                    f"initialize with Accept: {accept} and Content-Type: {content_type} got "
                    f"{answer.describe()}",
                )
        self._get_stream(needs_token)
        target_host = urlsplit(self.base_url).netloc.lower()
        hosts = {urlsplit(self.domain_url).netloc.lower(), self.resource_host or ""}
        for host in sorted(hosts - {target_host, ""}):
            answer = self._rpc("initialize", self._initialize_params(), token=True, host=host)
            if answer.status == 421:
                self.report.add(
                    "P015",
                    self.endpoint,
                    "",
                    f"a request for the public host {host} got HTTP 421 (the host check "
                    "refuses it)",
                )

    def _get_stream(self, needs_token: bool) -> None:
        headers = {"Accept": "text/event-stream"}
        if self.session_id:
            headers["Mcp-Session-Id"] = self.session_id
        if self.version:
            headers["MCP-Protocol-Version"] = self.version
        if self.token:
            headers["Authorization"] = f"{self.scheme} {self.token}"
        try:
            with self.client.stream("GET", self.endpoint, headers=headers) as response:
                status = response.status_code
                media_type = response.headers.get("content-type", "").split(";")[0].strip()
                allow = response.headers.get("allow")
        except httpx.HTTPError as error:
            self.report.add("P014", self.endpoint, "", f"GET got no answer ({_describe(error)})")
            return
        if status == 200 and media_type == "text/event-stream":
            return
        if status == 405 and allow:
            return
        if status == 401 and needs_token and not self.token:
            return
        if status == 400 and self.session_id is None:
            return  # a stateful server wants a session first, and none was opened
        detail = f"HTTP {status}"
        if status == 405:
            detail += " without an Allow header"
        elif status == 200:
            detail += f" with Content-Type {media_type or 'missing'}"
        self.report.add(
            "P014", self.endpoint, "", f"GET with Accept: text/event-stream got {detail}"
        )

    # --- OAuth discovery --------------------------------------------------------------------

    def _challenge(self, answer: Answer) -> dict[str, str] | None:
        """D001: the 401's WWW-Authenticate, parsed into its Bearer parameters."""
        header = answer.headers.get("www-authenticate")
        params = parse_bearer_challenge(header) if header else None
        # another scheme (Basic, say) is a fixed-credential server, which only ChatGPT refuses
        other_scheme = header is not None and _find_scheme(header, "bearer") is None
        if params is None and (self.chatgpt or not other_scheme):
            shown = f"WWW-Authenticate: {header}" if header else "no WWW-Authenticate header"
            self.report.add("D001", self.endpoint, "", f"the 401 without a token has {shown}")
        return params

    def _discovery(self, challenge: dict[str, str] | None, needs_token: bool) -> None:
        """D001-D011: protected-resource metadata, authorization-server metadata, endpoints."""
        candidates = []
        pointed = challenge.get("resource_metadata") if challenge else None
        if pointed is not None:
            if is_absolute_http(pointed):
                local = self._local(pointed, "the protected-resource metadata")
                if local:
                    candidates.append((pointed, local))
            else:
                self.report.add(
                    "D001",
                    self.endpoint,
                    "",
                    f"resource_metadata {pointed!r} in WWW-Authenticate is not an absolute URL",
                )
        for suffix in (self.path, ""):
            url = f"{self.base_url}/.well-known/oauth-protected-resource{suffix}"
            if all(local != url for _, local in candidates):
                candidates.append((url, url))
        document, source = None, None
        for index, (shown, url) in enumerate(candidates):
            response = self._get(url)
            if response is not None and response.status_code == 200:
                source = shown
                try:
                    document = response.json()
                except ValueError:
                    self.report.add(
                        "D003", shown, "", "the protected-resource metadata is not JSON"
                    )
                    return
                self.report.checked.append(shown)
                break
            if index == 0 and pointed is not None:
                status = "no answer" if response is None else f"HTTP {response.status_code}"
                self.report.add("D003", shown, "", f"resource_metadata answered {status}")
        if source is None:
            if not needs_token:
                return  # a server without auth
            if self.chatgpt:
                self.report.add(
                    "D002",
                    self.endpoint,
                    "",
                    "the endpoint needs a token but neither its 401 nor "
                    "/.well-known/oauth-protected-resource names protected-resource metadata",
                )
            else:
                self.report.add(
                    "L009",
                    self.endpoint,
                    "",
                    "the endpoint needs a token and offers no OAuth discovery, so the OAuth "
                    "checks were skipped (MCP clients need a fixed Authorization header)",
                )
            return
        self.has_auth = True
        resource = document.get("resource") if isinstance(document, dict) else None
        if isinstance(resource, str) and is_absolute_http(resource):
            self.resource_host = urlsplit(resource).netloc.lower()
        issuer = check_protected_resource(document, source, self.public_endpoint, self.report)
        if issuer is None:
            return
        scopes = document.get("scopes_supported")
        scope = (
            " ".join(s for s in scopes if isinstance(s, str)) if isinstance(scopes, list) else ""
        )
        self._authorization_server(issuer, scope)

    def _authorization_server(self, issuer: str, scope: str) -> None:
        tried = []
        for url in metadata_urls(issuer):
            local = self._local(url, "the authorization-server metadata")
            if local is None:
                return
            response = self._get(local)
            tried.append(url)
            if response is None or response.status_code != 200:
                continue
            self.report.checked.append(url)
            try:
                document = response.json()
            except ValueError:
                self.report.add("D005", url, "", "the authorization-server metadata is not JSON")
                return
            if check_authorization_server(document, url, issuer, self.report):
                self._authorize_probe(document["authorization_endpoint"], scope)
                self._token_probe(document["token_endpoint"])
            return
        self.report.add(
            "D005", issuer, "", "no authorization-server metadata at " + " or ".join(tried)
        )

    def _authorize_probe(self, endpoint: str, scope: str) -> None:
        """D010: the authorization endpoint answers a request with resource and PKCE."""
        local = self._local(endpoint, "the authorization endpoint")
        if local is None:
            return
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id or "plugin-check-probe",
                "redirect_uri": CHATGPT_REDIRECT_URI,
                "scope": scope,
                "state": secrets.token_urlsafe(16),
                "code_challenge": challenge.decode().rstrip("="),
                "code_challenge_method": "S256",
                "resource": self.public_endpoint,
            }
        )
        url = local + ("&" if "?" in local else "?") + query
        try:
            response = self._send("GET", url)
        except httpx.HTTPError as error:
            self.report.add("D010", endpoint, "", f"the request got no answer ({_describe(error)})")
            return
        # 400 is right for a client the server does not know; 404, 405 and 5xx never are
        if response.status_code >= 500 or response.status_code in (404, 405):
            self.report.add(
                "D010",
                endpoint,
                "",
                "a request with resource and an S256 code_challenge got HTTP "
                f"{response.status_code}",
            )

    def _token_probe(self, endpoint: str) -> None:
        """D011: a token request with a code that cannot exist is refused with invalid_grant."""
        local = self._local(endpoint, "the token endpoint")
        if local is None:
            return
        fields = {
            "grant_type": "authorization_code",
            "code": "plugin-check-" + secrets.token_urlsafe(24),
            "redirect_uri": CHATGPT_REDIRECT_URI,
            "client_id": self.client_id or "plugin-check-probe",
            "code_verifier": secrets.token_urlsafe(48),
            "resource": self.public_endpoint,
        }
        if self.client_secret:
            fields["client_secret"] = self.client_secret
        try:
            response = self._send("POST", local, data=fields)
        except httpx.HTTPError as error:
            self.report.add("D011", endpoint, "", f"the request got no answer ({_describe(error)})")
            return
        try:
            error_code = response.json().get("error")
        except (ValueError, AttributeError):
            error_code = None
        known_client = self.client_id is not None
        accepted = {"invalid_grant"} if known_client else {"invalid_grant", "invalid_client"}
        if response.status_code < 400 or error_code not in accepted:
            self.report.add(
                "D011",
                endpoint,
                "",
                f"a token request with an unknown code got HTTP {response.status_code} with "
                f"error {json.dumps(error_code)}; expected " + " or ".join(sorted(accepted)),
            )
        elif not known_client and error_code == "invalid_client":
            self.report.add(
                "L009",
                endpoint,
                "",
                "the unknown code was refused with invalid_client; pass --client-id (and "
                "--client-secret for a confidential client) to check that it is refused with "
                "invalid_grant",
            )

    # --- domain verification ----------------------------------------------------------------

    def _apps_challenge(self) -> None:
        """D012: /.well-known/openai-apps-challenge serves the portal's token as text/plain."""
        if not self.chatgpt and self.apps_challenge is None:
            return
        url = self.base_url + CHALLENGE_PATH
        response = self._get(url)
        if response is None:
            self.report.add("D012", url, "", "the request got no answer")
            return
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        body = response.text.strip() if response.status_code == 200 else ""
        if self.apps_challenge is not None:
            if response.status_code != 200:
                problem = f"HTTP {response.status_code}"
            elif media_type != "text/plain":
                problem = f"Content-Type {media_type or 'missing'}"
            elif body != self.apps_challenge.strip():
                problem = "a body that is not the token given with --apps-challenge"
            else:
                return
            self.report.add("D012", url, "", f"the challenge answered {problem}")
        elif response.status_code == 200 and (media_type != "text/plain" or not body):
            self.report.add(
                "D012",
                url,
                "",
                f"the challenge answered 200 with Content-Type {media_type or 'missing'} and "
                f"{'an empty body' if not body else 'a body'}; expected the token as text/plain",
            )
        elif response.status_code not in (200, 404):
            self.report.add(
                "D012",
                url,
                "",
                f"the challenge answered HTTP {response.status_code}, not 200 or 404",
            )


def parse_bearer_challenge(header: str) -> dict[str, str] | None:
    """The parameters of the Bearer challenge in a WWW-Authenticate value (RFC 9110 §11.6.1).

    None when there is no Bearer challenge or its parameters do not parse.
    """
    text = header.strip()
    position = _find_scheme(text, "bearer")
    if position is None:
        return None
    rest = text[position + len("bearer") :]
    params: dict[str, str] = {}
    index = 0
    while index < len(rest):
        while index < len(rest) and rest[index] in " \t,":
            index += 1
        start = index
        while index < len(rest) and rest[index] not in "= \t,":
            index += 1
        name = rest[start:index].lower()
        if not name:
            break
        while index < len(rest) and rest[index] in " \t":
            index += 1
        if index >= len(rest) or rest[index] != "=":
            # the next challenge's scheme starts here: the Bearer parameters are complete
            break
        index += 1
        while index < len(rest) and rest[index] in " \t":
            index += 1
        if index < len(rest) and rest[index] == '"':
            index += 1
            value = []
            while index < len(rest) and rest[index] != '"':
                if rest[index] == "\\" and index + 1 < len(rest):
                    index += 1
                value.append(rest[index])
                index += 1
            if index >= len(rest):
                return None  # an unterminated quoted string
            index += 1
            params[name] = "".join(value)
        else:
            start = index
            while index < len(rest) and rest[index] not in " \t,":
                index += 1
            params[name] = rest[start:index]
            if not params[name]:
                return None
    return params


def _find_scheme(text: str, scheme: str) -> int | None:
    """Where the auth scheme `scheme` starts in a WWW-Authenticate value, or None."""
    match = re.search(rf"(?:^|,)\s*({scheme})(?=[ \t,]|$)", text, flags=re.IGNORECASE)
    return match.start(1) if match else None


def _read(response: httpx.Response) -> bytes:
    data = bytearray()
    for chunk in response.iter_bytes():
        data.extend(chunk)
        if len(data) > MAX_BODY:
            break
    return bytes(data[:MAX_BODY])


def _json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return None


def _matching(message: Any, request_id: int | None) -> dict[str, Any] | None:
    if isinstance(message, dict) and message.get("id") == request_id:
        return message
    return None


def _from_sse(response: httpx.Response, request_id: int | None) -> dict[str, Any] | None:
    """The JSON-RPC response with `request_id` from an SSE stream; stops reading once found."""
    data: list[str] = []
    size = 0
    for line in response.iter_lines():
        size += len(line) + 1
        if size > MAX_BODY:
            return None
        if line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))
        elif not line and data:
            message = _matching(_json("\n".join(data).encode()), request_id)
            if message is not None:
                return message
            data = []
    if data:
        return _matching(_json("\n".join(data).encode()), request_id)
    return None


def _describe(error: httpx.HTTPError) -> str:
    text = str(error) or type(error).__name__
    return text.splitlines()[0]
