"""`plugin check`: lint a plugin, from its files or from its running server.

Only typer is imported here; the rules (and httpx, yaml, openapi-spec-validator, jsonschema) load
when the command runs, so `plugin --help` stays instant.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

__all__ = ["Profile", "check"]


class Profile(StrEnum):
    """Which rules apply: ChatGPT plugins, GPT Actions (longer descriptions), or ChatGPT apps
    (the MCP endpoint and its OAuth discovery only, with ChatGPT's own rules)."""

    plugin = "plugin"
    gpt_action = "gpt-action"
    chatgpt_app = "chatgpt-app"


def check(
    target: Annotated[
        str,
        typer.Argument(
            metavar="TARGET",
            help="A plugin directory (a generated project, or any directory with "
            ".well-known/ai-plugin.json and an OpenAPI file, or mcp/tools.json) or a base URL "
            "such as http://localhost:5003, checked live.",
            show_default=False,
        ),
    ],
    profile: Annotated[
        Profile,
        typer.Option(
            "--target",
            help="Apply ChatGPT plugin limits, GPT Action limits, or ChatGPT app rules "
            "(the MCP endpoint is then mandatory, the plugin manifest is not checked).",
        ),
    ] = Profile.plugin,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the findings as one JSON document.")
    ] = False,
    domain: Annotated[
        str | None,
        typer.Option(
            "--domain",
            help="The plugin's domain (host[:port]); default: the URL's host, or api.url's.",
            show_default=False,
        ),
    ] = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.1, help="Seconds to wait for each live request.")
    ] = 5.0,
    client_id: Annotated[
        str | None,
        typer.Option(
            "--client-id",
            envvar="PLUGIN_CHECK_CLIENT_ID",
            help="OAuth client id, so the live token check can expect invalid_grant.",
            show_default=False,
        ),
    ] = None,
    client_secret: Annotated[
        str | None,
        typer.Option(
            "--client-secret",
            envvar="PLUGIN_CHECK_CLIENT_SECRET",
            help="OAuth client secret (prefer the environment variable to the flag).",
            show_default=False,
        ),
    ] = None,
    mcp_path: Annotated[
        str | None,
        typer.Option(
            "--mcp-path",
            help="Path of the MCP endpoint; default /mcp, checked when the target serves it. "
            "Given, the endpoint must exist.",
            show_default=False,
        ),
    ] = None,
    mcp_token: Annotated[
        str | None,
        typer.Option(
            "--mcp-token",
            envvar="PLUGIN_CHECK_MCP_TOKEN",
            help="Bearer token for the MCP endpoint, so the tools of a server with auth are "
            "checked live too.",
            show_default=False,
        ),
    ] = None,
    apps_challenge: Annotated[
        str | None,
        typer.Option(
            "--apps-challenge",
            help="The domain token of the app submission portal: "
            "/.well-known/openai-apps-challenge must serve exactly it.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Check a plugin's manifest, OpenAPI document and MCP endpoint, and for a URL, its live
    behaviour.

    Exit status: 0 when there is no error, 1 when there is one, 2 for a usage error.
    """
    from generator.check._output import as_json as render_json
    from generator.check._output import as_text, error_as_json
    from generator.check._run import Options, run_check
    from generator.errors import UsageError

    options = Options(
        profile=profile.value,
        domain=domain,
        timeout=timeout,
        client_id=client_id,
        client_secret=client_secret,
        mcp_path=mcp_path,
        mcp_token=mcp_token,
        apps_challenge=apps_challenge,
    )
    try:
        report = run_check(target, options)
    except UsageError as error:
        if as_json:  # scripts get JSON on stdout either way; the sentence still goes to stderr
            typer.echo(error_as_json(target, profile.value, error.message))
        raise
    typer.echo(render_json(report) if as_json else as_text(report))
    if report.count("error"):
        raise typer.Exit(1)
