"""`plugin check` offline: the corpus of broken plugins, output formats and exit codes."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from generator.check._codes import RULES
from generator.cli import app

DATA = Path(__file__).parent / "data" / "check"
GOOD = DATA / "good"
CASES = sorted(path for path in (DATA / "cases").iterdir() if path.is_dir())
REPO = Path(__file__).resolve().parents[1]
# rules only a running server can break: tests/test_check_live.py covers them; the MCP rules
# (P, D) have their own corpus and test server: tests/test_check_mcp*.py
LIVE_CODES = {code for code in RULES if code[0] in "LPD"}

runner = CliRunner()


def run_check(*args: str) -> tuple[int, str]:
    """Run `plugin check ARGS` in-process; return the exit code and what it printed."""
    result = runner.invoke(app, ["check", *args])
    return result.exit_code, result.output


def check_json(*args: str) -> tuple[int, dict]:
    code, output = run_check(*args, "--json")
    return code, json.loads(output)


def expected_code(case: Path) -> str:
    return case.name.split("-", 1)[0]


def profile_of(case: Path) -> str:
    return "gpt-action" if "-gpt-action-" in case.name else "plugin"


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_broken_plugin_reports_exactly_its_code(case: Path) -> None:
    exit_code, report = check_json(str(case), "--target", profile_of(case))
    codes = {finding["code"] for finding in report["findings"]}
    assert codes == {expected_code(case)}, report["findings"]
    severity = RULES[expected_code(case)].severity
    assert exit_code == (1 if severity == "error" else 0)
    assert report["summary"]["ok"] is (severity != "error")


def test_every_offline_rule_has_a_broken_plugin_in_the_corpus() -> None:
    covered = {expected_code(case) for case in CASES}
    assert set(RULES) - LIVE_CODES - covered == set()


@pytest.mark.parametrize("profile", ["plugin", "gpt-action"])
def test_good_plugin_has_no_findings(profile: str) -> None:
    exit_code, report = check_json(str(GOOD), "--target", profile)
    assert report["findings"] == []
    assert report["checked"] == [".well-known/ai-plugin.json", "openapi.yaml"]
    assert exit_code == 0


@pytest.mark.parametrize(
    "case", ["O008-operation-description-too-long", "O009-parameter-description-too-long"]
)
def test_gpt_action_allows_longer_descriptions_than_plugins(case: str) -> None:
    exit_code, report = check_json(str(DATA / "cases" / case), "--target", "gpt-action")
    assert report["findings"] == []
    assert exit_code == 0


def test_gpt_action_needs_only_the_openapi_document() -> None:
    exit_code, report = check_json(
        str(DATA / "cases" / "M001-no-manifest"), "--target", "gpt-action"
    )
    assert (exit_code, report["findings"]) == (0, [])
    assert report["checked"] == ["openapi.yaml"]


def test_text_output_has_one_line_per_finding_and_a_summary() -> None:
    case = DATA / "cases" / "U005-zero-zero-host"
    exit_code, output = run_check(str(case))
    lines = output.strip().splitlines()
    assert exit_code == 1
    assert len(lines) == 5  # four findings (three manifest URLs, the server URL) + summary
    for line in lines[:-1]:
        assert re.match(
            r"error U005 (\.well-known/ai-plugin\.json|openapi\.yaml)#/\S+: .+\. "
            r"Fix: .+",
            line,
        ), line
    assert lines[-1] == f"{case}: 4 errors, 0 warnings, 0 notes (plugin rules)."


def test_findings_are_listed_errors_first(tmp_path: Path) -> None:
    # found in the order note (manifest), warning (POST), error (DELETE): shown the other way
    shutil.copytree(GOOD, tmp_path, dirs_exist_ok=True)
    manifest = json.loads((GOOD / ".well-known" / "ai-plugin.json").read_text())
    manifest["auth"]["verification_tokens"]["openai"] = ""
    (tmp_path / ".well-known" / "ai-plugin.json").write_text(json.dumps(manifest))
    spec = (GOOD / "openapi.yaml").read_text()
    spec = spec.replace("operationId: deleteTodo", "operationId: delete-todo")
    spec = spec.replace("      x-openai-isConsequential: false\n", "", 2)
    (tmp_path / "openapi.yaml").write_text(spec)
    exit_code, output = run_check(str(tmp_path))
    assert exit_code == 1
    assert [line.split()[:2] for line in output.splitlines()[:-1]] == [
        ["error", "O007"],
        ["warning", "O013"],
        ["note", "A004"],
    ]


def test_json_report_shape() -> None:
    exit_code, report = check_json(str(DATA / "cases" / "M006-name-for-human-too-long"))
    assert exit_code == 1
    assert set(report) == {"target", "profile", "checked", "exported_by", "findings", "summary"}
    assert report["exported_by"] is None
    assert report["profile"] == "plugin"
    assert report["summary"] == {"errors": 1, "warnings": 0, "notes": 0, "ok": False}
    (finding,) = report["findings"]
    assert finding == {
        "code": "M006",
        "severity": "error",
        "place": ".well-known/ai-plugin.json#/name_for_human",
        "source": ".well-known/ai-plugin.json",
        "pointer": "/name_for_human",
        "message": "name_for_human has 24 characters; the limit is 20",
        "fix": "Shorten name_for_human to 20 characters or fewer.",
    }


def test_warnings_and_notes_alone_exit_zero() -> None:
    exit_code, report = check_json(str(DATA / "cases" / "A004-verification-token-empty"))
    assert report["summary"] == {"errors": 0, "warnings": 0, "notes": 1, "ok": True}
    assert exit_code == 0


def test_manifest_that_is_not_utf8_is_a_finding(tmp_path: Path) -> None:
    (tmp_path / ".well-known").mkdir()
    (tmp_path / ".well-known" / "ai-plugin.json").write_bytes(b'{"name_for_human": "\xff"}')
    (tmp_path / "openapi.yaml").write_text((GOOD / "openapi.yaml").read_text())
    exit_code, report = check_json(str(tmp_path))
    assert exit_code == 1
    assert [f["message"] for f in report["findings"] if f["code"] == "M002"] == [
        "the file is not UTF-8 text"
    ]


def test_api_url_cannot_make_the_checker_read_outside_the_directory(tmp_path: Path) -> None:
    plugin = tmp_path / "plugin"
    (plugin / ".well-known").mkdir(parents=True)
    manifest = json.loads((GOOD / ".well-known" / "ai-plugin.json").read_text())
    manifest["api"]["url"] = "https://todo.example.com/../secret.yaml"
    (plugin / ".well-known" / "ai-plugin.json").write_text(json.dumps(manifest))
    (tmp_path / "secret.yaml").write_text((GOOD / "openapi.yaml").read_text())
    exit_code, report = check_json(str(plugin))
    assert [f["code"] for f in report["findings"]] == ["O001"]
    assert exit_code == 1


def test_domain_option_sets_the_plugins_domain() -> None:
    exit_code, report = check_json(str(GOOD), "--domain", "other.example.org")
    off_domain = sorted(f["pointer"] for f in report["findings"] if f["code"] == "U002")
    assert off_domain == ["/api/url", "/legal_info_url", "/logo_url"]
    assert exit_code == 1
    # a subdomain of the plugin's domain is its own
    exit_code, report = check_json(str(GOOD), "--domain", "example.com")
    assert (exit_code, report["findings"]) == (0, [])


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no/such/directory", "is neither a directory nor an http(s) URL"),
        ("http://", "is not an http(s) URL"),
    ],
)
def test_bad_target_is_a_usage_error(target: str, message: str) -> None:
    exit_code, output = run_check(target)
    assert exit_code == 2
    assert output.count("\n") == 1 and output.startswith("Error: ") and message in output


def test_manifest_file_as_target_names_the_directory_to_pass() -> None:
    exit_code, output = run_check(str(GOOD / ".well-known" / "ai-plugin.json"))
    assert exit_code == 2
    assert output.endswith(f"pass the directory that holds .well-known/, here {GOOD}.\n")


def test_directory_without_plugin_files_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("not a plugin\n")
    exit_code, output = run_check(str(tmp_path))
    assert exit_code == 2
    assert output == (
        f"Error: {tmp_path} has neither .well-known/ai-plugin.json nor "
        "openapi.yaml / openapi.yml / openapi.json: pass a plugin project "
        "directory.\n"
    )


def test_unreachable_url_is_a_usage_error() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens on it
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    exit_code, output = run_check(f"http://127.0.0.1:{port}", "--timeout", "2")
    assert exit_code == 2
    assert output.startswith(f"Error: Cannot reach http://127.0.0.1:{port}: ")


@pytest.mark.parametrize("kind", ["no such directory", "unreachable URL"])
def test_json_is_printed_also_when_the_target_cannot_be_checked(tmp_path: Path, kind: str) -> None:
    if kind == "no such directory":
        target, message = str(tmp_path / "missing"), "is neither a directory nor an http(s) URL"
    else:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            target, message = f"http://127.0.0.1:{sock.getsockname()[1]}", "Cannot reach"
    done = subprocess.run(
        [sys.executable, "-m", "generator", "check", target, "--json", "--timeout", "2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    document = json.loads(done.stdout)
    assert document["target"] == target
    assert message in document["error"]["message"]
    assert document["error"]["exit_status"] == 2
    assert document["summary"]["ok"] is False and document["findings"] == []
    # the one sentence still goes to stderr, for the person reading the log
    assert done.stderr == f"Error: {document['error']['message']}\n"


def test_unknown_profile_is_a_usage_error() -> None:
    exit_code, output = run_check(str(GOOD), "--target", "browser-extension")
    assert exit_code == 2
    assert "browser-extension" in output


def test_cli_exit_codes_in_a_real_process() -> None:
    plugin = [sys.executable, "-m", "generator", "check"]
    good = subprocess.run([*plugin, str(GOOD)], capture_output=True, text=True, check=False)
    bad = subprocess.run(
        [*plugin, str(DATA / "cases" / "M005-schema-version")],
        capture_output=True,
        text=True,
        check=False,
    )
    usage = subprocess.run([*plugin, "no/such/dir"], capture_output=True, text=True, check=False)
    assert (good.returncode, bad.returncode, usage.returncode) == (0, 1, 2)
    assert "error M005 " in bad.stdout
    assert usage.stderr.startswith("Error: ") and usage.stdout == ""


def test_importing_the_command_loads_no_heavy_module() -> None:
    code = (
        "import sys, generator.check; "
        "print(sorted(m for m in ('httpx', 'yaml', 'openapi_spec_validator') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert result.stdout.strip() == "[]"


def test_every_code_is_documented_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Checking a plugin", 1)[1].split("\n## ", 1)[0]
    assert sorted(re.findall(r"^\| `([A-Z]\d{3})` \|", section, flags=re.M)) == sorted(RULES)


ODD_SPECS = {
    "version-is-a-mapping": "openapi: {x: 1}\ninfo: {title: t, version: '1'}\npaths: {}\n",
    "paths-is-a-list": "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: [1, 2]\n",
    "parameter-name-is-a-mapping": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\nservers: [{url: 5}]\npaths:\n"
        "  /a:\n    parameters: [{name: {x: 1}, in: query}]\n    get:\n"
        "      parameters: [{name: {y: 2}, in: query}, 7, {$ref: '#/nowhere'}]\n"
        "      security: yes\n      responses: {'200': {description: ok}}\n"
    ),
    "reference-cycle": (
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n"
        "      parameters: [{$ref: '#/components/parameters/p'}]\n"
        "      responses: {'200': {description: ok}}\n"
        "components:\n  parameters:\n    p: {$ref: '#/components/parameters/q'}\n"
        "    q: {$ref: '#/components/parameters/p'}\n"
        "  securitySchemes: [1]\n"
    ),
    "a-bare-string": "just words\n",
}


@pytest.mark.parametrize("spec", ODD_SPECS.values(), ids=ODD_SPECS.keys())
def test_odd_documents_give_findings_not_tracebacks(tmp_path: Path, spec: str) -> None:
    shutil.copytree(GOOD / ".well-known", tmp_path / ".well-known")
    (tmp_path / "openapi.yaml").write_text(spec)
    result = runner.invoke(app, ["check", str(tmp_path), "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    report = json.loads(result.output)
    assert result.exit_code == 1
    assert {f["code"] for f in report["findings"]} & {"O002", "O003"}
