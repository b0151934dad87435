"""`plugin check URL` against a real MCP server (the official SDK on 127.0.0.1), good and broken.

The server (tests/helpers/mcp_server.py) plays a ChatGPT app deployed at todo.example.test behind
a proxy; the checker reaches it on its loopback port with `--domain todo.example.test`.
"""

from __future__ import annotations

import json
import socket
from urllib.parse import parse_qs

import pytest
from helpers.mcp_server import (
    CHALLENGE,
    CLIENT_ID,
    CLIENT_SECRET,
    FAULTS,
    PUBLIC_HOST,
    TOKEN,
    serve,
)
from helpers.servers import served
from starlette.applications import Starlette
from typer.testing import CliRunner

from generator.check._codes import RULES
from generator.cli import app

APP = ("--target", "chatgpt-app", "--domain", PUBLIC_HOST)
CREDENTIALS = ("--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET)
EVERYTHING = (*APP, "--mcp-token", TOKEN, *CREDENTIALS, "--apps-challenge", CHALLENGE)


def check(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["check", *args, "--json", "--timeout", "5"])
    return result.exit_code, json.loads(result.output)


def codes(report: dict) -> set[str]:
    return {finding["code"] for finding in report["findings"]}


def test_good_app_checks_clean() -> None:
    with serve() as server:
        exit_code, report = check(server.base_url, *EVERYTHING)
    assert (exit_code, report["findings"]) == (0, [])
    assert report["checked"] == [
        f"{server.base_url}/mcp",
        f"https://{PUBLIC_HOST}/.well-known/oauth-protected-resource/mcp",
        f"https://{PUBLIC_HOST}/.well-known/oauth-authorization-server",
    ]
    assert server.tool_calls == []


@pytest.mark.parametrize(
    ("stateless", "json_response"), [(True, False), (False, True), (True, True)]
)
def test_every_sdk_transport_mode_checks_clean(stateless: bool, json_response: bool) -> None:
    with serve(stateless=stateless, json_response=json_response) as server:
        exit_code, report = check(server.base_url, *EVERYTHING)
    assert (exit_code, report["findings"]) == (0, [])


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_each_fault_yields_exactly_its_codes(fault: str) -> None:
    with serve(fault) as server:
        exit_code, report = check(server.base_url, *EVERYTHING)
    assert codes(report) == FAULTS[fault], report["findings"]
    errors = any(RULES[code].severity == "error" for code in FAULTS[fault])
    assert exit_code == (1 if errors else 0)


def test_live_checks_change_nothing_and_stay_on_the_targets_origin() -> None:
    # the metadata names a token endpoint on another origin: it must not be contacted
    with serve("foreign-token-endpoint") as server:
        exit_code, report = check(server.base_url, *EVERYTHING)
    assert [(f["code"], f["source"]) for f in report["findings"]] == [
        ("L009", f"{server.foreign_url}/oauth/token")
    ]
    assert exit_code == 0
    assert server.foreign_received == []
    target_host = server.base_url.removeprefix("http://")
    assert {r.host for r in server.received} == {target_host, PUBLIC_HOST}
    assert {(r.method, r.path) for r in server.received} == {
        ("POST", "/mcp"),
        ("GET", "/mcp"),
        ("GET", "/.well-known/oauth-protected-resource/mcp"),
        ("GET", "/.well-known/oauth-authorization-server"),
        ("GET", "/oauth/authorize"),
        ("GET", "/.well-known/openai-apps-challenge"),
    }
    sent = {method for r in server.received for method in r.rpc_methods}
    assert sent == {"initialize", "notifications/initialized", "server/discover", "tools/list"}
    assert server.tool_calls == []
    # the public host only ever gets the host-check probe
    assert [r.rpc_methods for r in server.received if r.host == PUBLIC_HOST] == [["initialize"]]


def test_the_token_probe_sends_a_code_that_cannot_exist() -> None:
    with serve() as server:
        check(server.base_url, *EVERYTHING)
    posts = [r for r in server.received if r.method == "POST" and r.path != "/mcp"]
    assert [r.path for r in posts] == ["/oauth/token"]
    form = parse_qs(posts[0].body.decode())
    assert form["grant_type"] == ["authorization_code"]
    assert form["code"][0].startswith("plugin-check-") and len(form["code"][0]) > 30
    assert form["resource"] == [f"https://{PUBLIC_HOST}/mcp"]
    assert not any(r.path == "/oauth/register" for r in server.received)


def test_app_without_auth_checks_clean_and_needs_no_security_schemes() -> None:
    with serve(auth=False) as server:
        exit_code, report = check(server.base_url, *APP)
    assert (exit_code, report["findings"]) == (0, [])
    assert report["checked"] == [f"{server.base_url}/mcp"]
    assert not any(r.path.startswith("/oauth") for r in server.received)


def test_without_a_token_only_the_discovery_is_checked() -> None:
    with serve() as server:
        exit_code, report = check(server.base_url, *APP)
    assert exit_code == 0
    assert [f["code"] for f in report["findings"]] == ["L009", "L009"]
    messages = " ".join(f["message"] for f in report["findings"])
    assert "pass --mcp-token" in messages and "pass --client-id" in messages
    assert "tools/list" not in {m for r in server.received for m in r.rpc_methods}


def test_tools_behind_a_token_on_an_open_endpoint_are_skipped_with_a_note() -> None:
    with serve("tools-list-needs-token", auth=False) as server:
        exit_code, report = check(server.base_url, *APP)
        assert exit_code == 0
        assert [(f["code"], f["source"]) for f in report["findings"]] == [
            ("L009", f"{server.base_url}/mcp (tools/list)")
        ]
        exit_code, report = check(server.base_url, *APP, "--mcp-token", TOKEN)
        assert (exit_code, report["findings"]) == (0, [])


def test_without_the_public_domain_the_resource_does_not_match() -> None:
    with serve() as server:
        _, report = check(server.base_url, "--target", "chatgpt-app", "--mcp-token", TOKEN)
    assert "D004" in codes(report)


def test_plugin_target_checks_the_endpoint_it_finds_without_chatgpt_rules() -> None:
    with serve("wrong-issuer") as server:
        exit_code, report = check(server.base_url, "--domain", PUBLIC_HOST, "--mcp-token", TOKEN)
    # no 2023 plugin here (M001, O001, L004), and the MCP rules still run
    assert codes(report) == {"M001", "O001", "L004", "D006", "L009"}
    assert exit_code == 1
    with serve("tool-without-annotations") as server:
        _, report = check(server.base_url, "--domain", PUBLIC_HOST, "--mcp-token", TOKEN)
    assert "P007" not in codes(report)


@pytest.mark.parametrize(
    ("fault", "reported"), [("basic-challenge", False), ("no-challenge", True)]
)
def test_plugin_target_accepts_another_auth_scheme_but_not_a_bare_401(
    fault: str, reported: bool
) -> None:
    # Basic is a fixed-credential MCP server (fine for Codex or Cursor); ChatGPT refuses it
    with serve(fault) as server:
        _, report = check(server.base_url, "--domain", PUBLIC_HOST, "--mcp-token", TOKEN)
    assert ("D001" in codes(report)) is reported


def test_chatgpt_app_target_needs_the_endpoint() -> None:
    with served(Starlette()) as base_url:
        exit_code, report = check(base_url, "--target", "chatgpt-app")
        assert (exit_code, [f["code"] for f in report["findings"]]) == (1, ["P001"])
        # with the plugin target an absent endpoint is no finding, unless --mcp-path names it
        _, report = check(base_url, "--mcp-path", "/mcp")
        assert "P001" in codes(report)
        _, report = check(base_url)
        assert "P001" not in codes(report)


def test_mcp_path_points_the_checker_at_another_path() -> None:
    with serve(auth=False) as server:
        exit_code, report = check(server.base_url, *APP, "--mcp-path", "/elsewhere")
    assert (exit_code, [f["code"] for f in report["findings"]]) == (1, ["P001"])
    assert [r.path for r in server.received] == ["/elsewhere"]


def test_unreachable_app_is_a_usage_error() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = CliRunner().invoke(app, ["check", f"http://127.0.0.1:{port}", *APP])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: Cannot reach http://127.0.0.1:{port}: ")


def test_a_token_the_endpoint_refuses_is_a_usage_error() -> None:
    with serve() as server:
        result = CliRunner().invoke(
            app, ["check", server.base_url, *APP, "--mcp-token", "not-the-token"]
        )
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {server.base_url}/mcp refused the token given with --mcp-token (HTTP 401).\n"
    )


def test_wrong_apps_challenge_token_is_reported() -> None:
    with serve() as server:
        _, report = check(server.base_url, *EVERYTHING[:-1], "another-token")
    assert [(f["code"], f["message"]) for f in report["findings"]] == [
        ("D012", "the challenge answered a body that is not the token given with --apps-challenge")
    ]


@pytest.mark.parametrize("auth", [True, False])
def test_behind_a_proxy_a_refused_own_host_is_retried_with_the_public_host(auth: bool) -> None:
    # a project whose BASE_URL is public accepts that host alone; its proxy forwards it as Host
    arguments = EVERYTHING if auth else APP
    with serve("public-host-only", auth=auth) as server:
        exit_code, report = check(server.base_url, *arguments)
    assert (exit_code, report["findings"]) == (0, [])
    target_host = server.base_url.removeprefix("http://")
    # the own host gets the first initialize (and, when the token check comes before the host
    # check, the first one with the token too); from the refusal on, the public host only
    own = 2 if auth else 1
    mcp = [r for r in server.received if r.path == "/mcp"]
    assert [r.host for r in mcp[:own]] == [target_host] * own
    assert [r.rpc_methods for r in mcp[:own]] == [["initialize"]] * own
    assert {r.host for r in mcp[own:]} == {PUBLIC_HOST}
    assert len(mcp) > own + 5  # the handshake, tools/list and the transport probes


def test_a_refused_own_host_without_a_public_host_is_p015() -> None:
    with serve("public-host-only", auth=False) as server:
        exit_code, report = check(server.base_url, "--target", "chatgpt-app")
    assert (exit_code, [f["code"] for f in report["findings"]]) == (1, ["P015"])
    target_host = server.base_url.removeprefix("http://")
    assert report["findings"][0]["message"] == (
        f"the endpoint answered 421 to the host {target_host}, so nothing else could be checked"
    )


def test_an_endpoint_refusing_its_own_and_the_public_host_is_p015() -> None:
    with serve("public-host-only") as server:
        exit_code, report = check(
            server.base_url, "--target", "chatgpt-app", "--domain", "other.example.test",
            "--mcp-token", TOKEN,
        )  # fmt: skip
    p015 = [f for f in report["findings"] if f["code"] == "P015"]
    target_host = server.base_url.removeprefix("http://")
    assert [f["message"] for f in p015] == [
        f"the endpoint answered 421 to the host {target_host} and to the public host "
        "other.example.test, so its handshake and tools could not be checked"
    ]
    # nothing else is reported for the refusals: no handshake, transport or tools findings
    assert not codes(report) & {"P002", "P004", "P005", "P013", "P014"}
    assert exit_code == 1


def test_a_server_challenging_with_basic_gets_the_token_as_basic() -> None:
    # user_http's basic mode: the key goes in Authorization: Basic <key>
    with serve("basic-challenge") as server:
        exit_code, report = check(server.base_url, "--domain", PUBLIC_HOST, "--mcp-token", TOKEN)
    assert exit_code == 1  # the test server has no 2023 plugin files
    assert not codes(report) & {"P002", "P005", "D001"}, report["findings"]
    assert f"{server.base_url}/mcp" in report["checked"]
    schemes = {r.auth_scheme for r in server.received if r.path == "/mcp" and r.auth_scheme}
    assert schemes == {"Basic"}
    assert "tools/list" in {m for r in server.received for m in r.rpc_methods}
