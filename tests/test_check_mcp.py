"""`plugin check` on what `export` writes for the MCP endpoint: the corpus of broken trees.

Each directory of tests/data/check/mcp-cases/ is an exported tree (mcp/tools.json and the OAuth
metadata files) with one mistake, named after the code it must produce; mcp-good/ has none.
The live-only codes are covered by the faults of tests/helpers/mcp_server.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.mcp_server import FAULTS
from typer.testing import CliRunner

from generator.check._codes import RULES
from generator.check._mcp_live import parse_bearer_challenge
from generator.cli import app

DATA = Path(__file__).parent / "data" / "check"
GOOD = DATA / "mcp-good"
CASES = sorted(path for path in (DATA / "mcp-cases").iterdir() if path.is_dir())
REPO = Path(__file__).resolve().parents[1]
DOMAIN = ("--domain", "todo.example.test")
MCP_CODES = {code for code in RULES if code[0] in "PD"}


def check(*args: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["check", *args, "--json"])
    return result.exit_code, json.loads(result.output)


def codes(report: dict) -> set[str]:
    return {finding["code"] for finding in report["findings"]}


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_broken_tree_reports_exactly_its_code(case: Path) -> None:
    exit_code, report = check(str(case), "--target", "chatgpt-app", *DOMAIN)
    code = case.name.split("-", 1)[0]
    assert codes(report) == {code}, report["findings"]
    assert exit_code == (1 if RULES[code].severity == "error" else 0)


def test_every_mcp_code_has_a_broken_example() -> None:
    offline = {case.name.split("-", 1)[0] for case in CASES}
    live = set().union(*FAULTS.values())
    assert MCP_CODES - offline - live == set()


def test_good_tree_checks_clean_and_names_what_it_read() -> None:
    exit_code, report = check(str(GOOD), "--target", "chatgpt-app", *DOMAIN)
    assert (exit_code, report["findings"]) == (0, [])
    assert report["profile"] == "chatgpt-app"
    assert report["checked"] == [
        ".well-known/oauth-protected-resource.json",
        ".well-known/oauth-authorization-server.json",
        "mcp/tools.json",
    ]


def test_without_the_domain_the_resource_is_not_compared(tmp_path: Path) -> None:
    # offline, the endpoint's URL is known only from --domain or the manifest's api.url
    exit_code, report = check(str(GOOD), "--target", "chatgpt-app")
    assert (exit_code, report["findings"]) == (0, [])
    exit_code, report = check(str(GOOD), "--target", "chatgpt-app", "--domain", "other.example")
    assert [f["code"] for f in report["findings"]] == ["D004"]
    assert report["findings"][0]["message"].endswith(
        "the MCP endpoint is https://other.example/mcp (for a server behind a proxy, pass its "
        "public host with --domain)"
    )


def test_chatgpt_rules_apply_only_to_the_chatgpt_app_target(tmp_path: Path) -> None:
    # a 2023 plugin whose export also holds the MCP tools: the MCP protocol rules run, the
    # ChatGPT-only ones (annotations, securitySchemes) do not
    shutil.copytree(DATA / "good", tmp_path, dirs_exist_ok=True)
    tools = json.loads((GOOD / "mcp" / "tools.json").read_text())
    for tool in tools["tools"]:
        tool.pop("annotations")
        tool.pop("securitySchemes", None)
        tool.pop("_meta", None)
    tools["tools"].append(dict(tools["tools"][0]))
    (tmp_path / "mcp").mkdir()
    (tmp_path / "mcp" / "tools.json").write_text(json.dumps(tools))
    exit_code, report = check(str(tmp_path))
    assert codes(report) == {"P009"}
    assert report["checked"] == [".well-known/ai-plugin.json", "openapi.yaml", "mcp/tools.json"]
    assert exit_code == 1
    exit_code, report = check(str(tmp_path), "--target", "chatgpt-app")
    assert codes(report) == {"P007", "P009"}


def test_plugin_rules_are_unchanged_by_the_mcp_files(tmp_path: Path) -> None:
    shutil.copytree(DATA / "good", tmp_path, dirs_exist_ok=True)
    shutil.copytree(GOOD, tmp_path, dirs_exist_ok=True)
    exit_code, report = check(str(tmp_path), "--domain", "todo.example.test")
    # the corpus plugin lives on todo.example.com: only its URLs are off this domain
    assert codes(report) == {"U002"}
    exit_code, report = check(str(tmp_path), "--domain", "example.com")
    assert report["findings"][0]["code"] == "D004"  # the metadata names todo.example.test


@pytest.mark.parametrize(
    ("text", "code"),
    [("{not json", "P005"), ('{"tools": [{"description": "no name"}]}', "P005")],
)
def test_unreadable_tool_list_is_a_finding(tmp_path: Path, text: str, code: str) -> None:
    shutil.copytree(GOOD, tmp_path, dirs_exist_ok=True)
    (tmp_path / "mcp" / "tools.json").write_text(text)
    exit_code, report = check(str(tmp_path), "--target", "chatgpt-app", *DOMAIN)
    assert codes(report) == {code}
    assert exit_code == 1


def test_metadata_that_is_not_json_is_a_finding(tmp_path: Path) -> None:
    shutil.copytree(GOOD, tmp_path, dirs_exist_ok=True)
    (tmp_path / ".well-known" / "oauth-authorization-server.json").write_bytes(b"\xff{")
    exit_code, report = check(str(tmp_path), "--target", "chatgpt-app", *DOMAIN)
    assert [(f["code"], f["message"]) for f in report["findings"]] == [
        ("D005", "the file is not UTF-8 JSON")
    ]
    assert exit_code == 1


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"type": "array"}, "has type 'array'"),
        ({"type": "object", "properties": {"a": {"type": "text"}}}, "properties/a/type"),
        ({"type": "object", "required": "a"}, "at required"),
    ],
)
def test_input_schema_problems_are_located(tmp_path: Path, schema: dict, problem: str) -> None:
    shutil.copytree(GOOD, tmp_path, dirs_exist_ok=True)
    tools = json.loads((GOOD / "mcp" / "tools.json").read_text())
    tools["tools"][1]["inputSchema"] = schema
    (tmp_path / "mcp" / "tools.json").write_text(json.dumps(tools))
    _, report = check(str(tmp_path), "--target", "chatgpt-app", *DOMAIN)
    (finding,) = report["findings"]
    assert (finding["code"], finding["place"]) == ("P006", "mcp/tools.json#/tools/1/inputSchema")
    assert problem in finding["message"]


def test_missing_tool_and_long_parameter_descriptions_are_warnings(tmp_path: Path) -> None:
    shutil.copytree(GOOD, tmp_path, dirs_exist_ok=True)
    tools = json.loads((GOOD / "mcp" / "tools.json").read_text())
    del tools["tools"][0]["description"]
    tools["tools"][1]["inputSchema"]["properties"]["text"]["description"] = "x" * 701
    (tmp_path / "mcp" / "tools.json").write_text(json.dumps(tools))
    exit_code, report = check(str(tmp_path), "--target", "chatgpt-app", *DOMAIN)
    assert [(f["code"], f["severity"], f["pointer"]) for f in report["findings"]] == [
        ("P012", "warning", "/tools/0"),
        ("P012", "warning", "/tools/1/inputSchema/properties/text/description"),
    ]
    assert exit_code == 0


def test_directory_without_any_plugin_or_mcp_file_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(tmp_path), "--target", "chatgpt-app"])
    assert result.exit_code == 2
    assert result.output == (
        f"Error: {tmp_path} has no mcp/tools.json: pass a project directory or the tree its "
        "`export` command writes.\n"
    )


def test_mcp_path_must_be_a_path() -> None:
    result = CliRunner().invoke(app, ["check", str(GOOD), "--mcp-path", "mcp"])
    assert result.exit_code == 2
    assert result.output == "Error: --mcp-path mcp is not a path: pass one such as /mcp.\n"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            'Bearer error="invalid_token", resource_metadata="https://a.example/.well-known/x"',
            {"error": "invalid_token", "resource_metadata": "https://a.example/.well-known/x"},
        ),
        ('Basic realm="x", Bearer scope="a b"', {"scope": "a b"}),
        ('Bearer realm="x", Basic realm="y"', {"realm": "x"}),
        ("bearer", {}),
        ('Bearer scope="a \\"b\\""', {"scope": 'a "b"'}),
        ('Basic realm="x"', None),
        ('Bearer scope="unterminated', None),
        ("Bearerish x=1", None),
    ],
)
def test_bearer_challenge_parsing(header: str, expected: dict | None) -> None:
    assert parse_bearer_challenge(header) == expected


def test_every_mcp_code_is_in_the_readme_with_its_severity() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([PD]\d{3})` \| (\w+) \|", readme, flags=re.M))
    assert rows == {code: RULES[code].severity for code in MCP_CODES}


def test_importing_the_command_loads_neither_jsonschema_nor_the_mcp_checker() -> None:
    code = (
        "import sys, generator.cli; "
        "print(sorted(m for m in ('httpx', 'jsonschema', 'mcp', 'generator.check._mcp_live') "
        "if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == "[]"
