"""Property: whatever text `plugin new` is given, it refuses cleanly or renders a sound project.

Hypothesis feeds names, domains, descriptions and e-mail addresses full of quotes, backslashes,
braces, Jinja syntax, newlines, non-ASCII and overlong values. Every case must end in one of two
ways, never a traceback:

- a refusal: exit 2, one sentence on stderr, nothing written;
- a project whose Python, JSON, YAML and TOML files all parse, whose manifest (built by its own
  model) keeps ChatGPT's limits, and which carries the given texts unchanged (no escaping lost or
  doubled).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from generator.cli import app

# Fixed, fake secrets: `export` of the auth modes that need them must not write a .env.
SECRETS_ENV = {
    "SERVICE_TOKEN": "fuzz-service-token-0123456789",
    "OAUTH_CLIENT_ID": "fuzz-client-id",
    "OAUTH_CLIENT_SECRET": "fuzz-client-secret-0123456789",
    "SECRET_KEY": "fuzz-secret-key-0123456789abcdef",
}
MANIFEST_LIMITS = {"name_for_human": 20, "description_for_human": 100}
MODEL_NAME = re.compile(r"[A-Za-z0-9_]{1,50}")

# The characters that break templates, string literals and data formats, mixed into any text.
NASTY = [
    '"', "'", "\\", "{", "}", "{{", "}}", "{%", "%}", "{#", "#}", "$", "`", "<", ">", "&",
    "\n", "\r", "\t", "\x0b", "\u2028", "\u0301", "é", "ß", "中文", "🙂", "\u202e", ":", "#",
    "---", "- ", "*", "!", "|", ">-", "[", "]", "=", ";", "%", "@", "'''", '"""', "\\n", "\\u0041",
    "{{ 7*7 }}", "{% raw %}", "{% if true %}", "{{ cycler.__init__.__globals__ }}", "</script>",
]  # fmt: skip


def nasty_text(max_size: int) -> st.SearchStrategy[str]:
    """Text mixing ordinary characters with the nastiest fragments, at most `max_size` long."""
    piece = st.one_of(
        st.sampled_from(NASTY),
        # Any character a command-line argument can carry (no NUL, no lone surrogate).
        st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=6),
        st.text("abcdefghij XYZ0123", min_size=1, max_size=8),
    )
    return st.lists(piece, max_size=8).map("".join).map(lambda text: text[:max_size])


def overlong(limit: int) -> st.SearchStrategy[str]:
    """Text just over `limit` characters."""
    return st.integers(limit + 1, limit + 40).map(lambda n: ('Todo é{{x}}"\\ ' * n)[:n])


CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def one_line(max_size: int, fallback: str) -> st.SearchStrategy[str]:
    """Nasty text that copier.yml accepts for a one-line field: no control characters, trimmed."""
    return nasty_text(max_size * 2).map(
        lambda text: CONTROL.sub("", text).strip()[:max_size].strip() or fallback
    )


hosts = st.one_of(
    st.sampled_from(
        ["localhost:5003", "127.0.0.1:8080", "todo.example.com", "a-b.example.co.uk:443"]
    ),
    st.from_regex(r"[a-z][a-z0-9-]{0,10}\.[a-z]{2,6}(:[1-9][0-9]{0,3})?", fullmatch=True).filter(
        lambda host: not host.split(".")[0].endswith("-")
    ),
)
# Addresses copier.yml accepts can still hold braces, quotes of other kinds, `|` and `$`.
valid_emails = st.one_of(
    st.emails().filter(lambda address: len(address) < 200),
    st.sampled_from(
        ["{{x}}@example.com", "a|b$c@example.com", "`x`@example.com", "{%x%}@a.example.com"]
    ),
)
wild_emails = st.one_of(
    st.tuples(nasty_text(12), nasty_text(12)).map(lambda parts: f"{parts[0]}@{parts[1]}"),
    st.sampled_from(['"quoted"@example.com', "a\\b@example.com", "o'neil@example.com"]),
)
modes = st.sampled_from(["none", "service_http", "user_http", "oauth"])


@st.composite
def answers(draw: st.DrawFn) -> dict[str, str]:
    """Answers to `plugin new`: half the time all acceptable (yet nasty), else anything at all."""
    if draw(st.booleans()):
        return {
            "name": draw(one_line(20, "Todo")),
            "domain": draw(hosts),
            "description": draw(one_line(100, "Todos.")),
            "model_description": draw(
                nasty_text(300).map(lambda text: text if text.strip() else text + "Todos.")
            ),
            "contact_email": draw(valid_emails),
            "auth": draw(modes),
        }
    return {
        "name": draw(st.one_of(nasty_text(24), overlong(20))),
        "domain": draw(st.one_of(hosts, nasty_text(40))),
        "description": draw(st.one_of(nasty_text(100), overlong(100))),
        "model_description": draw(st.one_of(nasty_text(300), overlong(8000))),
        "contact_email": draw(st.one_of(valid_emails, wild_emails)),
        "auth": draw(modes),
    }


def _files(root: Path) -> list[Path]:
    return sorted(path for path in root.rglob("*") if path.is_file() and ".git" not in path.parts)


def assert_every_file_parses(project: Path) -> None:
    """Python, JSON, YAML and TOML files of the project all parse; no template is left over."""
    for path in _files(project):
        text = path.read_bytes()
        where = path.relative_to(project)
        assert not path.name.endswith(".jinja"), f"{where}: an unrendered template"
        if path.suffix == ".py":
            ast.parse(text, filename=str(where))
        elif path.suffix == ".json":
            json.loads(text)
        elif path.suffix in (".yml", ".yaml"):
            yaml.safe_load(text)
        elif path.suffix == ".toml":
            tomllib.loads(text.decode("utf-8"))


def served_manifest(project: Path, work: Path) -> dict[str, Any]:
    """The manifest as the project builds it, through its own manifest model, in a subprocess."""
    (package,) = [p.name for p in (project / "src").iterdir() if (p / "__init__.py").is_file()]
    code = (
        f"from {package}.manifest import build_manifest\n"
        f"from {package}.settings import Settings\n"
        "print(build_manifest(Settings()).model_dump_json())\n"
    )
    env = {
        **os.environ,
        **SECRETS_ENV,
        "PYTHONPATH": str(project / "src"),
        "DATABASE_PATH": str(work / "fuzz.db"),
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, f"building the manifest failed:\n{done.stdout}\n{done.stderr}"
    assert not (project / ".env").exists(), "building the manifest wrote secrets"
    return json.loads(done.stdout)


def assert_manifest_sound(manifest: dict[str, Any], given: dict[str, str]) -> None:
    """The manifest keeps ChatGPT's limits and carries the given texts exactly."""
    for field, limit in MANIFEST_LIMITS.items():
        assert 1 <= len(manifest[field]) <= limit, (field, manifest[field])
    assert 1 <= len(manifest["description_for_model"]) <= 8000
    assert MODEL_NAME.fullmatch(manifest["name_for_model"]), manifest["name_for_model"]
    assert manifest["name_for_human"] == given["name"]
    assert manifest["description_for_human"] == given["description"]
    assert manifest["description_for_model"] == given["model_description"]
    assert manifest["contact_email"] == given["contact_email"]
    assert manifest["auth"]["type"] == given["auth"]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(given_answers=answers())
def test_plugin_new_refuses_cleanly_or_renders_a_sound_project(
    given_answers: dict[str, str],
) -> None:
    work = Path(tempfile.mkdtemp(prefix="fuzz-new-"))
    try:
        dest = work / "project"
        argv = ["new", str(dest), "--defaults", "--no-git", "--quiet"]
        for key, value in given_answers.items():
            argv += [f"--{key.replace('_', '-')}", value]
        result = CliRunner().invoke(app, argv, catch_exceptions=True)

        assert result.exception is None or isinstance(result.exception, SystemExit), (
            f"{type(result.exception).__name__} escaped: {result.exception!r}"
        )
        assert "Traceback" not in result.output + result.stderr
        event("rendered" if result.exit_code == 0 else "refused")
        if result.exit_code == 0:
            assert result.stdout == "", "--quiet printed something"
            assert_every_file_parses(dest)
            assert_manifest_sound(served_manifest(dest, work), given_answers)
        else:
            assert result.exit_code == 2, (result.exit_code, result.stderr)
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
            assert len(lines[0]) < 400, "the refusal is not one short sentence"
            assert not dest.exists(), "a refused project left its directory behind"
            assert [p.name for p in work.iterdir()] == [], "a refusal left files behind"
    finally:
        shutil.rmtree(work, ignore_errors=True)
