"""`plugin new` from the command line: flags, scripts without a terminal, the destination, git."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers.commands import BIN_DIR, COPIER, PLUGIN, run
from helpers.repos import REPO_ROOT, git
from helpers.trees import leftovers, tree_snapshot
from typer.testing import CliRunner

from generator.cli import app


def plugin_new(*args: str) -> tuple[int, str, str]:
    """`plugin new` in-process, without a terminal; the exit code, stdout and stderr."""
    result = CliRunner().invoke(app, ["new", *args])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


def answers_of(project: Path) -> dict[str, object]:
    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


MODE_FLAGS = {
    "none": [],
    "service_http": ["--domain", "todo.example.com"],
    "user_http": ["--domain", "todo.example.com", "--authorization-type", "basic"],
    "oauth": ["--domain", "todo.example.com", "--oauth-scope", "todos:read todos:write"],
}
MODE_HINT = {
    "none": "create an app with the URL http://localhost:5003/mcp and No authentication.",
    "service_http": "authentication API key (Bearer): the service token `make credentials` prints",
    "user_http": "create a user's key with `.venv/bin/python -m todo_plus create-user NAME`",
    "oauth": "create an app with the URL https://todo.example.com/mcp and OAuth",
}


@pytest.mark.parametrize("auth", list(MODE_FLAGS))
def test_flags_answer_every_question_for_each_mode(
    tmp_path: Path, template_repo: Path, auth: str
) -> None:
    dest = tmp_path / "todo"
    code, out, err = plugin_new(
        str(dest), "--template", str(template_repo), "--name", "Todo Plus", "--auth", auth,
        "--description", "Todos in ChatGPT.", "--contact-email", "me@example.org",
        *MODE_FLAGS[auth],
    )  # fmt: skip
    assert (code, err) == (0, "")
    answers = answers_of(dest)
    assert answers["auth"] == auth
    assert answers["name"] == "Todo Plus"
    assert answers["description"] == "Todos in ChatGPT."
    assert answers["contact_email"] == "me@example.org"
    assert answers.get("authorization_type") == ("basic" if auth == "user_http" else None)
    assert answers.get("oauth_scope") == ("todos:read todos:write" if auth == "oauth" else None)
    assert (dest / "src" / "todo_plus" / "__init__.py").is_file()
    assert MODE_HINT[auth] in out
    assert "make run" in out and "make test" in out and "cd " in out


def test_first_commit_holds_every_file(tmp_path: Path, template_repo: Path) -> None:
    dest = tmp_path / "todo"
    code, _, _ = plugin_new(str(dest), "--template", str(template_repo), "--name", "Todo")
    assert code == 0
    assert git(dest, "rev-list", "--count", "HEAD").strip() == "1"
    assert git(dest, "status", "--porcelain", "--untracked-files=all") == ""
    tracked = set(git(dest, "ls-files").split())
    assert {".copier-answers.yml", "README.md", "src/todo/__init__.py"} <= tracked
    assert git(dest, "log", "--format=%an <%ae>").strip() == "Template Tester <tester@example.com>"


def test_author_falls_back_when_git_has_no_identity(
    tmp_path: Path, template_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{role}_NAME")
        monkeypatch.delenv(f"GIT_{role}_EMAIL")
    dest = tmp_path / "todo"
    code, _, err = plugin_new(str(dest), "--template", str(template_repo), "--name", "Todo")
    assert (code, err) == (0, "")
    assert git(dest, "log", "--format=%an <%ae>|%cn <%ce>").strip() == (
        "plugin new <plugin@localhost>|plugin new <plugin@localhost>"
    )


def test_author_comes_from_git_config(
    tmp_path: Path, template_repo: Path, git_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.delenv(f"GIT_{role}_NAME")
        monkeypatch.delenv(f"GIT_{role}_EMAIL")
    (git_home / ".gitconfig").write_text("[user]\n\tname = Ada\n\temail = ada@example.com\n")
    dest = tmp_path / "todo"
    assert plugin_new(str(dest), "--template", str(template_repo), "--name", "Todo")[0] == 0
    assert git(dest, "log", "--format=%an <%ae>").strip() == "Ada <ada@example.com>"


def test_no_git_skips_the_repository(tmp_path: Path, template_repo: Path) -> None:
    dest = tmp_path / "todo"
    code, out, _ = plugin_new(
        str(dest), "--template", str(template_repo), "--name", "Todo", "--no-git"
    )
    assert code == 0
    assert not (dest / ".git").exists()
    assert "git commit" not in out


def test_missing_git_is_a_clear_error_unless_no_git(
    tmp_path: Path, template_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(BIN_DIR))  # the virtualenv only: no git
    code, _, err = plugin_new(str(tmp_path / "a"), "--template", str(template_repo), "-y")
    assert code == 1
    assert err == (
        "Error: git is not installed: install git, or pass --no-git to create the project "
        "without a repository.\n"
    )
    assert not (tmp_path / "a").exists()
    code, _, err = plugin_new(
        str(tmp_path / "b"), "--template", str(template_repo), "--name", "Todo", "--no-git"
    )
    assert (code, err) == (0, "")
    assert answers_of(tmp_path / "b")["name"] == "Todo"


def test_dest_defaults_to_the_plugin_name(
    tmp_path: Path, template_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = plugin_new("--template", str(template_repo), "--name", "Todo Plus!")
    assert code == 0
    assert answers_of(tmp_path / "todo-plus")["name"] == "Todo Plus!"
    assert "  cd todo-plus\n" in out


def test_quiet_prints_nothing(tmp_path: Path, template_repo: Path) -> None:
    dest = tmp_path / "todo"
    result = CliRunner().invoke(
        app, ["new", str(dest), "--template", str(template_repo), "--name", "Todo", "--quiet"]
    )
    assert (result.exit_code, result.output) == (0, "")
    assert (dest / ".copier-answers.yml").is_file()


def test_missing_name_without_a_terminal_names_the_flag(
    tmp_path: Path, template_repo: Path
) -> None:
    code, out, err = plugin_new(str(tmp_path / "todo"), "--template", str(template_repo))
    assert (code, out) == (2, "")
    assert err == (
        "Error: Missing answer for name: pass --name NAME, or run plugin new in a terminal.\n"
    )
    assert not (tmp_path / "todo").exists()


def test_a_real_process_without_a_terminal_never_waits(tmp_path: Path, template_repo: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    result = run(PLUGIN, "new", "todo", "--template", str(template_repo), cwd=work)
    assert result.returncode == 2
    assert result.stderr.startswith("Error: Missing answer for name: pass --name NAME")
    assert os.listdir(work) == []


def test_defaults_flag_takes_every_default(tmp_path: Path, template_repo: Path) -> None:
    dest = tmp_path / "todo"
    assert plugin_new(str(dest), "--template", str(template_repo), "-y", "--name", "T")[0] == 0
    assert answers_of(dest)["domain"] == "localhost:5003"
    assert answers_of(dest)["auth"] == "none"


def test_unknown_data_key_lists_the_questions(tmp_path: Path, template_repo: Path) -> None:
    code, _, err = plugin_new(
        str(tmp_path / "todo"), "--template", str(template_repo), "--name", "T",
        "--data", "colour=red",
    )  # fmt: skip
    assert code == 2
    assert err.startswith("Error: --data colour: unknown question 'colour'; the questions are name")
    assert err.count("\n") == 1
    assert not (tmp_path / "todo").exists()


def test_malformed_data_is_refused(tmp_path: Path, template_repo: Path) -> None:
    code, _, err = plugin_new(
        str(tmp_path / "todo"), "--template", str(template_repo), "--data", "name"
    )
    assert code == 2
    assert err == "Error: --data 'name': write it as KEY=VALUE, e.g. --data name=Todo.\n"


def test_flag_for_a_question_of_another_mode_is_refused(
    tmp_path: Path, template_repo: Path
) -> None:
    code, _, err = plugin_new(
        str(tmp_path / "todo"), "--template", str(template_repo), "--name", "T",
        "--oauth-scope", "todos",
    )  # fmt: skip
    assert code == 2
    assert err == (
        "Error: --oauth-scope does not apply here: oauth_scope is asked only when "
        "auth == 'oauth'.\n"
    )


def test_data_file_then_data_then_flags(tmp_path: Path, template_repo: Path) -> None:
    answers_file = tmp_path / "answers.yml"
    answers_file.write_text(
        "name: From File\ndomain: file.example.com\ndescription: From the file.\nauth: oauth\n"
    )
    dest = tmp_path / "todo"
    code, _, err = plugin_new(
        str(dest), "--template", str(template_repo), "--data-file", str(answers_file),
        "--data", "domain=data.example.com", "--data", "name=From Data", "--name", "From Flag",
    )  # fmt: skip
    assert (code, err) == (0, "")
    answers = answers_of(dest)
    assert answers["name"] == "From Flag"
    assert answers["domain"] == "data.example.com"
    assert answers["description"] == "From the file."
    assert answers["auth"] == "oauth"


def test_data_file_that_is_not_a_mapping_is_refused(tmp_path: Path, template_repo: Path) -> None:
    answers_file = tmp_path / "answers.yml"
    answers_file.write_text("- name\n- domain\n")
    code, _, err = plugin_new(
        str(tmp_path / "todo"), "--template", str(template_repo), "--data-file", str(answers_file)
    )
    assert code == 2
    assert "expected a mapping of question keys to answers" in err


# -- the destination ----------------------------------------------------------------------------


def test_non_empty_destination_is_refused(tmp_path: Path, template_repo: Path) -> None:
    dest = tmp_path / "taken"
    dest.mkdir()
    (dest / "notes.txt").write_text("mine")
    code, _, err = plugin_new(str(dest), "--template", str(template_repo), "--name", "T")
    assert code == 2
    assert err.startswith(f"Error: {dest} is not empty: choose another directory, or pass --force")
    assert os.listdir(dest) == ["notes.txt"]
    assert leftovers(tmp_path) == []


def test_empty_destination_is_used(tmp_path: Path, template_repo: Path) -> None:
    dest = tmp_path / "empty"
    dest.mkdir()
    assert plugin_new(str(dest), "--template", str(template_repo), "--name", "T")[0] == 0
    assert answers_of(dest)["name"] == "T"


def test_destination_that_is_a_file_is_refused(tmp_path: Path, template_repo: Path) -> None:
    dest = tmp_path / "file"
    dest.write_text("x")
    code, _, err = plugin_new(str(dest), "--template", str(template_repo), "--name", "T")
    assert code == 2
    assert "is a file, not a directory" in err


def test_force_overwrites_template_files_and_keeps_the_others(
    tmp_path: Path, template_repo: Path
) -> None:
    dest = tmp_path / "taken"
    (dest / "docs").mkdir(parents=True)
    (dest / "notes.txt").write_text("mine")
    (dest / "docs" / "design.md").write_text("mine too")
    (dest / "README.md").write_text("old readme")
    code, _, err = plugin_new(
        str(dest), "--template", str(template_repo), "--name", "Forced", "--force"
    )
    assert (code, err) == (0, "")
    assert (dest / "notes.txt").read_text() == "mine"
    assert (dest / "docs" / "design.md").read_text() == "mine too"
    assert (dest / "README.md").read_text().startswith("# Forced")
    assert answers_of(dest)["name"] == "Forced"
    # The first commit holds the rendered files only; the owner's stay untracked.
    assert set(git(dest, "ls-files").split()) == {
        ".copier-answers.yml",
        "README.md",
        "src/forced/__init__.py",
    }
    assert leftovers(tmp_path) == []


def test_force_into_an_existing_repository_leaves_its_history(
    tmp_path: Path, template_repo: Path
) -> None:
    dest = tmp_path / "repo"
    dest.mkdir()
    git(dest, "init", "--quiet")
    (dest / "notes.txt").write_text("mine")
    git(dest, "add", "notes.txt")
    git(dest, "commit", "--quiet", "-m", "Owner's first commit")
    code, out, _ = plugin_new(str(dest), "--template", str(template_repo), "--name", "T", "--force")
    assert code == 0
    assert git(dest, "log", "--format=%s").strip() == "Owner's first commit"
    assert "its git repository kept" in out
    assert (dest / ".copier-answers.yml").is_file()


def test_nested_destination_parents_are_created(tmp_path: Path, template_repo: Path) -> None:
    dest = tmp_path / "a" / "b" / "todo"
    assert plugin_new(str(dest), "--template", str(template_repo), "--name", "T")[0] == 0
    assert answers_of(dest)["name"] == "T"


# -- start-up -----------------------------------------------------------------------------------


@pytest.mark.parametrize("argv", [["--help"], ["new", "--help"], ["--version"]])
def test_help_never_imports_copier_or_questionary(tmp_path: Path, argv: list[str]) -> None:
    result = run(sys.executable, "-X", "importtime", PLUGIN, *argv, cwd=tmp_path)
    assert result.returncode == 0
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines()}
    heavy = {name for name in imported if name.split(".")[0] in {"copier", "questionary"}}
    assert "typer" in imported  # the import log is really there
    assert heavy == set()
    assert ("Usage: plugin" in result.stdout) or result.stdout.startswith("plugin ")


def test_new_help_lists_every_flag(tmp_path: Path) -> None:
    result = run(PLUGIN, "new", "--help", cwd=tmp_path)
    assert result.returncode == 0
    for flag in (
        "--name", "--domain", "--auth", "--description", "--model-name", "--model-description",
        "--contact-email", "--legal-url", "--authorization-type", "--oauth-scope",
        "--package-name", "--mcp", "--no-mcp", "--data", "--data-file", "--defaults", "-y",
        "--force", "--no-git",
        "--quiet", "--template", "--vcs-ref",
    ):  # fmt: skip
        assert flag in result.stdout, flag


def test_shell_completion_offers_the_command_and_its_flags(tmp_path: Path) -> None:
    env = {**os.environ, "_PLUGIN_COMPLETE": "complete_bash"}
    commands = subprocess.run(
        [PLUGIN],
        env={**env, "COMP_WORDS": "plugin ne", "COMP_CWORD": "1"},
        capture_output=True,
        text=True,
        check=False,
    )
    flags = subprocess.run(
        [PLUGIN],
        env={**env, "COMP_WORDS": "plugin new --oauth", "COMP_CWORD": "2"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert commands.stdout.split() == ["new"]
    assert flags.stdout.split() == ["--oauth-scope"]


def test_shell_completion_offers_the_auth_modes_of_copier_yml(tmp_path: Path) -> None:
    def complete(words: str, cword: int) -> list[str]:
        done = subprocess.run(
            [PLUGIN],
            env={**os.environ, "_PLUGIN_COMPLETE": "complete_bash", "COMP_WORDS": words,
                 "COMP_CWORD": str(cword)},
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        return done.stdout.split()

    spec = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    assert complete("plugin new --auth ", 3) == list(spec["auth"]["choices"].values())
    assert complete("plugin new --auth u", 3) == ["user_http"]
    assert complete("plugin new --authorization-type ", 3) == list(
        spec["authorization_type"]["choices"].values()
    )


@pytest.mark.parametrize(
    ("shell", "first_line"),
    [("zsh", "#compdef plugin"), ("bash", "_plugin_completion() {"), ("fish", "complete ")],
)
def test_show_completion_prints_the_named_shells_script(shell: str, first_line: str) -> None:
    done = subprocess.run(
        [PLUGIN, "--show-completion", shell],
        env={**os.environ, "SHELL": "/bin/bash"},  # the shell named wins over the current one
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(first_line)
    assert "_PLUGIN_COMPLETE" in done.stdout


def test_show_completion_refuses_a_shell_it_has_no_script_for() -> None:
    done = subprocess.run(
        [PLUGIN, "--show-completion", "tcsh"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "tcsh is not a shell this command completes in: pass one of bash, zsh" in done.stderr


def test_relative_template_path_is_recorded_absolute(
    tmp_path: Path, template_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(template_repo.parent)
    dest = tmp_path / "todo"
    code, _, _ = plugin_new(str(dest), "--template", template_repo.name, "--name", "T")
    assert code == 0
    assert answers_of(dest)["_src_path"] == str(template_repo.resolve())


# -- the question -> flag table -------------------------------------------------------------------

#: Options of `plugin new` that answer no question.
NOT_QUESTIONS = {
    "--data", "--data-file", "--defaults", "--force", "--no-git", "--quiet", "--template",
    "--vcs-ref",
}  # fmt: skip


def test_every_question_has_a_flag_and_every_flag_a_question() -> None:
    import typer.main

    from generator.new import FLAGS

    copier_yml = yaml.safe_load((REPO_ROOT / "copier.yml").read_text(encoding="utf-8"))
    questions = {
        key
        for key, details in copier_yml.items()
        if not key.startswith("_") and details.get("when") is not False
    }
    command = typer.main.get_command(app).commands["new"]  # type: ignore[attr-defined]
    options = {
        opt
        for param in command.params
        for opt in (*param.opts, *param.secondary_opts)
        if opt.startswith("--")
    }
    flags = {opt for flag in FLAGS.values() for opt in flag.split("/")}
    assert set(FLAGS) == questions
    assert options - NOT_QUESTIONS == flags


def test_next_steps_name_the_port_the_public_project_serves_on(
    tmp_path: Path, template_repo: Path
) -> None:
    code, out, _ = plugin_new(
        str(tmp_path / "todo"), "--template", str(template_repo), "--name", "T",
        "--domain", "todo.example.com:8443",
    )  # fmt: skip
    assert code == 0
    # The proxy in front owns 8443; the server binds copier.yml's derived port.
    assert "make run     # serves it on http://127.0.0.1:5003\n" in out
    assert "create an app with the URL https://todo.example.com:8443/mcp" in out


def test_next_steps_name_a_local_domains_port(tmp_path: Path, template_repo: Path) -> None:
    code, out, _ = plugin_new(
        str(tmp_path / "todo"), "--template", str(template_repo), "--name", "T",
        "--domain", "localhost:7000",
    )  # fmt: skip
    assert code == 0
    assert "make run     # serves it on http://localhost:7000\n" in out
    assert "ChatGPT connects only to a public https address" in out


def test_next_steps_without_mcp_lead_with_the_gpt_action(
    tmp_path: Path, template_repo: Path
) -> None:
    code, out, _ = plugin_new(
        str(tmp_path / "todo"), "--template", str(template_repo), "--name", "T", "--no-mcp",
        "--domain", "todo.example.com", "--auth", "service_http",
    )  # fmt: skip
    assert code == 0
    assert "/mcp" not in out
    assert "As a GPT Action: import https://todo.example.com/openapi.yaml" in out
    assert "ChatGPT connects only to a public https address" not in out


def test_next_steps_say_chatgpt_apps_have_no_bearer_mode(
    tmp_path: Path, template_repo: Path
) -> None:
    code, out, _ = plugin_new(
        str(tmp_path / "todo"), "--template", str(template_repo), "--name", "T",
        "--domain", "todo.example.com", "--auth", "user_http",
    )  # fmt: skip
    assert code == 0
    assert "ChatGPT apps offer only no auth or OAuth" in out
    assert "https://todo.example.com/mcp with a fixed Authorization header" in out


@pytest.mark.parametrize(("flags", "expected"), [([], True), (["--no-mcp"], False)])
def test_mcp_flag_answers_the_mcp_question(
    tmp_path: Path, template_repo: Path, flags: list[str], expected: bool
) -> None:
    dest = tmp_path / "todo"
    code, _, err = plugin_new(str(dest), "--template", str(template_repo), "--name", "T", *flags)
    assert (code, err) == (0, "")
    assert answers_of(dest)["mcp"] is expected


@pytest.mark.parametrize(
    ("key", "value", "source"),
    [
        ("is_local", "true", "domain"),
        ("base_url", "https://todo.example.com\nSERVICE_TOKEN=known", "domain"),
        ("port", "8443", "domain"),
        ("has_secrets", "true", "auth"),
    ],
)
def test_a_derived_value_given_with_data_is_refused(
    tmp_path: Path, template_repo: Path, key: str, value: str, source: str
) -> None:
    dest = tmp_path / "todo"
    code, _, err = plugin_new(
        str(dest), "--template", str(template_repo), "--name", "T", "--domain", "todo.example.com",
        "--data", f"{key}={value}",
    )  # fmt: skip
    assert code == 2
    assert err == (
        f"Error: --data {key}: {key} is derived from {source} and cannot be given as an answer: "
        f"set {source} instead.\n"
    )
    assert not dest.exists() and leftovers(tmp_path) == []


def test_plain_copier_refuses_a_derived_value_on_copy_and_update(
    tmp_path: Path, template_repo: Path
) -> None:
    copied = run(
        COPIER, "copy", "--defaults", "--data", "name=T", "--data",
        "domain=todo.example.com", "--data", "is_local=true", str(template_repo),
        str(tmp_path / "copied"),
        cwd=tmp_path,
    )  # fmt: skip
    assert copied.returncode != 0
    assert "is_local is derived from domain and cannot be given as an answer" in copied.stderr
    assert not (tmp_path / "copied").exists()

    project = tmp_path / "project"
    made = plugin_new(
        str(project),
        "--template",
        str(template_repo),
        "--name",
        "T",
        "--domain",
        "todo.example.com",
    )
    assert made[0] == 0
    before = tree_snapshot(project)
    updated = run(
        COPIER, "update", "--defaults", "--vcs-ref", "HEAD", "--data",
        "base_url=http://todo.example.com\nSERVICE_TOKEN=known",
        cwd=project,
    )  # fmt: skip
    assert updated.returncode != 0
    assert "base_url is derived from domain and cannot be given as an answer" in updated.stderr
    assert tree_snapshot(project) == before
    assert "Served at https://todo.example.com with" in (project / "README.md").read_text()


def test_a_name_in_latin_letters_keeps_them_in_the_model_and_package_names(
    tmp_path: Path, template_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, err = plugin_new("--template", str(template_repo), "--name", "Über Straße Ærø")
    assert (code, err) == (0, "")
    project = tmp_path / "uber-strasse-aero"  # the default directory is transliterated too
    answers = answers_of(project)
    assert (answers["model_name"], answers["package_name"]) == ("uber_strasse_aero",) * 2
    # the default is copier.yml's: plain copier copy derives the same names
    copied = run(
        COPIER, "copy", "--defaults", "--data", "name=Über Straße Ærø", str(template_repo),
        str(tmp_path / "copied"), cwd=tmp_path,
    )  # fmt: skip
    assert copied.returncode == 0, copied.stderr
    assert answers_of(tmp_path / "copied")["package_name"] == "uber_strasse_aero"


def test_a_domain_in_capitals_is_taken_in_lowercase(tmp_path: Path, template_repo: Path) -> None:
    dest = tmp_path / "todo"
    code, out, err = plugin_new(
        str(dest), "--template", str(template_repo), "--name", "Todo", "--domain",
        "TODO.Example.com",
    )  # fmt: skip
    assert (code, err) == (0, "")
    assert answers_of(dest)["domain"] == "todo.example.com"
    assert "https://todo.example.com/mcp" in out


def test_an_unknown_vcs_ref_is_a_wrong_flag(tmp_path: Path, template_repo: Path) -> None:
    dest = tmp_path / "todo"
    code, out, err = plugin_new(
        str(dest), "--template", str(template_repo), "--vcs-ref", "v9.9.9", "--name", "T"
    )
    assert code == 2
    assert err == f"Error: Cannot read the template {template_repo}: Unknown revision: 'v9.9.9'\n"
    assert not dest.exists()


def test_short_options_mean_the_same_on_new_and_update() -> None:
    import typer

    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]

    def shorts(command: str) -> dict[str, str]:
        return {
            option: param.name
            for param in commands[command].params
            for option in param.opts
            if not option.startswith("--")
        }

    new, update = shorts("new"), shorts("update")
    assert new["-y"] == update["-y"] == "defaults"
    assert new["-d"] == update["-d"] == "data"
    shared = set(new) & set(update)
    assert all(new[option] == update[option] for option in shared)


def test_short_data_option_answers_a_question(tmp_path: Path, template_repo: Path) -> None:
    dest = tmp_path / "todo"
    code, _, err = plugin_new(str(dest), "--template", str(template_repo), "-d", "name=Short", "-y")
    assert (code, err) == (0, "")
    assert answers_of(dest)["name"] == "Short"


def test_the_version_is_spelled_one_way(tmp_path: Path, template_repo: Path) -> None:
    from generator import __version__

    described = git(REPO_ROOT, "describe", "--tags", "--always", "HEAD").strip()
    version = run(PLUGIN, "--version", cwd=tmp_path)
    assert version.stdout == f"plugin {__version__} (template {described})\n"

    dest = tmp_path / "todo"
    code, out, _ = plugin_new(str(dest), "--template", str(template_repo), "--name", "T")
    assert code == 0
    commit = answers_of(dest)["_commit"]
    assert f"Made with plugin {__version__} (template {commit}); `plugin update` brings" in out
