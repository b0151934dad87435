"""`plugin new`: flags -> answers -> wizard -> render -> next steps.

Only typer is imported at module level: Copier and questionary load when the command runs, so
`plugin --help` and `plugin new --help` stay instant.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from generator.errors import UsageError

if TYPE_CHECKING:
    from generator.answers import Given
    from generator.template_source import TemplateSource

#: Each copier.yml question (except the derived ones) and the `plugin new` flag that answers it.
#: Any key can also be answered with --data KEY=VALUE.
FLAGS = {
    "name": "--name",
    "domain": "--domain",
    "auth": "--auth",
    "authorization_type": "--authorization-type",
    "oauth_scope": "--oauth-scope",
    "mcp": "--mcp/--no-mcp",
    "model_name": "--model-name",
    "package_name": "--package-name",
    "description": "--description",
    "model_description": "--model-description",
    "contact_email": "--contact-email",
    "legal_info_url": "--legal-url",
}


def _lowercase(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


#: Answers `plugin new` rewrites before copier.yml checks them: host names are case-insensitive,
#: so a domain typed in capitals is taken in lowercase (copier.yml asks for lowercase).
NORMALIZE = {"domain": _lowercase}


#: The choices of copier.yml's `auth` and `authorization_type`, for shell completion only (the
#: answers are checked against copier.yml itself; tests/test_cli_new.py keeps these equal).
AUTH_MODES = ("none", "service_http", "user_http", "oauth")
AUTHORIZATION_TYPES = ("bearer", "basic")


def _completing(choices: tuple[str, ...]) -> Any:
    def complete(incomplete: str) -> list[str]:
        return [choice for choice in choices if choice.startswith(incomplete)]

    return complete


def flag_hint(key: str) -> str:
    """How to answer the question `key` on the command line, e.g. "--name NAME"."""
    flag = FLAGS.get(key)
    if flag is None:
        return f"--data {key}=VALUE"
    if "/" in flag:
        return " or ".join(flag.split("/"))
    return f"{flag} {key.upper()}"


def new(
    dest: Annotated[
        Path | None,
        typer.Argument(
            metavar="DEST",
            help="Directory to create. Default: a directory named after the plugin, e.g. "
            'todo-plus for "Todo Plus".',
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(metavar="NAME", help="Plugin name people see (at most 20 characters)."),
    ] = None,
    domain: Annotated[
        str | None,
        typer.Option(
            metavar="HOST[:PORT]",
            help="Host[:port] serving the plugin, e.g. todo.example.com [localhost:5003].",
        ),
    ] = None,
    auth: Annotated[
        str | None,
        typer.Option(
            metavar="MODE",
            help="Auth mode: none, service_http, user_http or oauth [none].",
            autocompletion=_completing(AUTH_MODES),
        ),
    ] = None,
    authorization_type: Annotated[
        str | None,
        typer.Option(
            metavar="TYPE",
            help="user_http only: bearer or basic [bearer].",
            autocompletion=_completing(AUTHORIZATION_TYPES),
        ),
    ] = None,
    oauth_scope: Annotated[
        str | None,
        typer.Option(
            metavar="SCOPE",
            help="oauth only: space-separated scope, may be empty [todos].",
        ),
    ] = None,
    mcp: Annotated[
        bool | None,
        typer.Option(
            "--mcp/--no-mcp",
            help="Serve the MCP endpoint /mcp, so ChatGPT can connect the plugin as an app "
            "[--mcp].",
            show_default=False,
        ),
    ] = None,
    description: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="Description people see (at most 100 characters)."),
    ] = None,
    model_name: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="name_for_model: letters, digits, _ [derived from the name].",
        ),
    ] = None,
    model_description: Annotated[
        str | None,
        typer.Option(metavar="TEXT", help="description_for_model (at most 8,000 characters)."),
    ] = None,
    contact_email: Annotated[
        str | None,
        typer.Option(metavar="EMAIL", help="Contact e-mail [support@<domain>]."),
    ] = None,
    legal_url: Annotated[
        str | None,
        typer.Option(
            "--legal-url", metavar="URL", help="Legal information URL [<base URL>/legal]."
        ),
    ] = None,
    package_name: Annotated[
        str | None,
        typer.Option(
            metavar="PACKAGE",
            help="Python package of the project [derived from the model name].",
        ),
    ] = None,
    data: Annotated[
        list[str] | None,
        typer.Option(
            "--data",
            "-d",
            metavar="KEY=VALUE",
            help="Answer any question by its copier.yml key; repeatable. The flags above win.",
        ),
    ] = None,
    data_file: Annotated[
        Path | None,
        typer.Option(
            "--data-file",
            metavar="FILE",
            help="YAML file of KEY: VALUE answers; --data and the flags above win.",
        ),
    ] = None,
    defaults: Annotated[
        bool,
        typer.Option(
            "--defaults", "-y", help="Take the default of every question not answered by a flag."
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="Write into a non-empty DEST, replacing the files the template produces and "
            "keeping all others.",
        ),
    ] = False,
    no_git: Annotated[
        bool, typer.Option("--no-git", help="Do not create a git repository and first commit.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")] = False,
    template: Annotated[
        str | None,
        typer.Option(
            metavar="SRC",
            help="Render another template: a local checkout or directory, or a git URL.",
            show_default=False,
        ),
    ] = None,
    vcs_ref: Annotated[
        str | None,
        typer.Option(metavar="REF", help="Git tag, branch or commit of the template to render."),
    ] = None,
) -> None:
    """Create a ChatGPT plugin project: asks what the flags leave open, on a terminal only.

    Without a terminal, questions with a default take it, and a missing answer without one
    (the name) is an error naming the flag to add.
    """
    flags = {
        "name": name,
        "domain": domain,
        "auth": auth,
        "authorization_type": authorization_type,
        "oauth_scope": oauth_scope,
        "mcp": mcp,
        "description": description,
        "model_name": model_name,
        "model_description": model_description,
        "contact_email": contact_email,
        "legal_info_url": legal_url,
        "package_name": package_name,
    }
    given = collect_given(flags, data or [], data_file)
    create_project(
        given,
        dest=dest,
        defaults=defaults,
        force=force,
        git=not no_git,
        quiet=quiet,
        source=_source(template, vcs_ref),
    )


def create_project(
    given: dict[str, Given],
    *,
    dest: Path | None,
    defaults: bool,
    force: bool,
    git: bool,
    quiet: bool,
    source: TemplateSource,
    interactive: bool | None = None,
) -> Path:
    """Answer the questions, render the project into `dest`, and print the next steps."""
    from generator._copier import errors_as_sentences
    from generator.answers import Questionnaire
    from generator.first_commit import require_git
    from generator.render import check_destination, open_template, render_project
    from generator.wizard import is_terminal, make_asker

    if git:
        require_git()
    if dest is not None:
        check_destination(dest.absolute(), force=force)
    if interactive is None:
        interactive = is_terminal()
    with open_template(source) as opened:
        with errors_as_sentences("The template's copier.yml cannot be used"):
            questionnaire = Questionnaire.from_worker(
                opened.worker(), hint=flag_hint, normalize=NORMALIZE
            )
            resolved = questionnaire.resolve(
                given,
                use_defaults=defaults or not interactive,
                ask=make_asker() if interactive else None,
                answered=None if dest is not None else _default_destination_check(force),
            )
        answers = resolved.answers
        target = dest if dest is not None else Path(default_directory(answers))
        committed = render_project(
            opened,
            answers,
            target,
            force=force,
            git=git,
            commit_message=f"Create {answers.get('name', target.name)} from the plugin template",
        )
        draft = opened.draft
    if not quiet:
        if draft:
            typer.echo(
                "Note: the template checkout has uncommitted changes; they were rendered, but "
                "the commit recorded in .copier-answers.yml exists nowhere, so copier update "
                "cannot update this project.",
                err=True,
            )
        typer.echo(next_steps(answers, resolved.derived, target, committed=committed, git=git))
    return target


def _default_destination_check(force: bool) -> Callable[[str, Mapping[str, Any]], None]:
    """Refuse the default destination as soon as the answers that name it are known: after the
    name (or, for a name without letters or digits, the package name), not after every
    question."""
    from generator.render import check_destination

    def answered(key: str, answers: Mapping[str, Any]) -> None:
        if (key == "name" and _slug(answers["name"])) or key == "package_name":
            check_destination(Path(default_directory(answers)).absolute(), force=force)

    return answered


def collect_given(
    flags: dict[str, Any], data: list[str], data_file: Path | None
) -> dict[str, Given]:
    """Answers from --data-file, then --data, then the flags (later ones win)."""
    from generator.answers import Given
    from generator.data_option import parse_data

    given: dict[str, Given] = {}
    if data_file is not None:
        for key, value in _read_data_file(data_file).items():
            given[key] = Given(value, f"--data-file {data_file} ({key})")
    for key, value in parse_data(data).items():
        given[key] = Given(value, f"--data {key}")
    for key, value in flags.items():
        if value is not None:
            given[key] = Given(value, _flag_given(key, value))
    return given


def _flag_given(key: str, value: Any) -> str:
    """The flag as it was typed: --name, or for a boolean --mcp or --no-mcp."""
    flag = FLAGS[key]
    if "/" in flag:
        on, off = flag.split("/")
        return on if value else off
    return flag


def default_directory(answers: dict[str, Any]) -> str:
    """The directory named after the plugin: its name as a lowercase slug."""
    slug = _slug(answers.get("name", ""))
    return slug or str(answers.get("package_name", "plugin")).replace("_", "-")


def _slug(name: Any) -> str:
    return re.sub(r"[^a-z0-9]+", "-", ascii_letters(str(name).lower())).strip("-")


#: Latin letters that Unicode does not decompose into an ASCII letter and an accent.
_UNDECOMPOSED = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "þ": "th", "ĳ": "ij", "ð": "d", "ø": "o", "đ": "d",
     "ħ": "h", "ı": "i", "ł": "l", "ŧ": "t"}
)  # fmt: skip


def ascii_letters(text: str) -> str:
    """Latin letters as their ASCII base letters (ü -> u, ß -> ss), like copier.yml's
    model_name default; other characters are kept."""
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text.translate(_UNDECOMPOSED))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def next_steps(
    answers: dict[str, Any],
    derived: dict[str, Any],
    dest: Path,
    *,
    committed: bool,
    git: bool,
) -> str:
    """What to do after rendering, for the chosen auth mode: cd, run, test, register.

    `derived` holds copier.yml's derived values for these answers (`port`, `base_url`,
    `is_local`), the same the template rendered with.
    """
    package = answers.get("package_name", "<package>")
    domain = answers.get("domain", "localhost:5003")
    auth = answers.get("auth", "none")
    local = bool(derived.get("is_local", True))
    base_url = derived.get("base_url", f"http://{domain}")
    port = derived.get("port", 5003)
    python = f".venv/bin/python -m {package}"
    shown = _shown_path(dest)
    repository = (
        ", with a first git commit"
        if committed
        else ""
        if not git
        else " (its git repository kept)"
    )
    lines = [
        f"Created {answers.get('name', dest.name)!r} in {shown} (auth: {auth}){repository}.",
        "",
        "Next steps:",
        f"  cd {shlex.quote(shown)}",
        f"  make run     # serves it on http://127.0.0.1:{port}"
        if not local
        else f"  make run     # serves it on {base_url}",
        "  make test    # runs the project's own tests",
        "",
    ]
    lines += _connect_lines(answers, base_url, python)
    lines += [
        f"The 2023 plugin manifest stays at {base_url}/.well-known/ai-plugin.json,",
        "  for the clients that still read the retired plugin store's format.",
    ]
    if local:
        lines += [
            "ChatGPT connects only to a public https address: deploy the project first",
            "  (README: Deploy) and give ChatGPT that address instead.",
        ]
    commit = _recorded_commit(dest)
    if commit is not None:
        from generator import __version__

        lines += [
            "",
            f"Made with plugin {__version__} (template {commit}); `plugin update` brings later",
            "  template versions.",
        ]
    return "\n".join(lines)


def _recorded_commit(dest: Path) -> str | None:
    """`_commit` of the project's .copier-answers.yml: the template version it was made from."""
    import yaml

    try:
        recorded = yaml.safe_load((dest / ".copier-answers.yml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    commit = recorded.get("_commit") if isinstance(recorded, dict) else None
    return str(commit) if commit else None


def _connect_lines(answers: dict[str, Any], base_url: str, python: str) -> list[str]:
    """How to connect the project: as a ChatGPT app (MCP), then as a GPT Action."""
    auth = answers.get("auth", "none")
    mcp = answers.get("mcp", True)
    action = f"As a GPT Action: import {base_url}/openapi.yaml in the GPT editor"
    lines: list[str] = []
    if mcp and auth == "none":
        lines.append(
            f"As a ChatGPT app: create an app with the URL {base_url}/mcp and No authentication."
        )
    elif mcp and auth == "oauth":
        lines += [
            f"As a ChatGPT app: create an app with the URL {base_url}/mcp and OAuth; ChatGPT",
            "  finds the sign-in and registers itself. Add users with"
            f" `{python} create-user NAME`.",
        ]
    elif mcp:
        lines += [
            "ChatGPT apps offer only no auth or OAuth. Codex, Claude Code and Cursor connect to",
            f"  {base_url}/mcp with a fixed Authorization header (README: Connect to ChatGPT).",
        ]
    if auth == "none":
        lines.append(f"{action}; authentication None.")
    elif auth == "service_http":
        lines += [
            f"{action};",
            "  authentication API key (Bearer): the service token `make credentials` prints.",
        ]
    elif auth == "user_http":
        kind = answers.get("authorization_type", "bearer")
        lines += [
            f"Each user's key ({kind}): create a user's key with `{python} create-user NAME`.",
            "  (A GPT Action holds one key for all its users, so it does not fit this mode.)",
        ]
    elif auth == "oauth":
        lines += [
            f"{action}; authentication OAuth:",
            "  paste the client ID and secret that `make credentials` prints, and put",
            "  ChatGPT's callback URL in OAUTH_REDIRECT_URIS in .env, then restart.",
        ]
    return lines


def _shown_path(dest: Path) -> str:
    try:
        return str(dest.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(dest)


def _read_data_file(path: Path) -> dict[str, Any]:
    import yaml

    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"--data-file {path}: cannot read it ({error.strerror}).") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"--data-file {path}: not valid YAML{where}.") from None
    if content is None:
        return {}
    if not isinstance(content, dict) or not all(isinstance(key, str) for key in content):
        raise UsageError(f"--data-file {path}: expected a mapping of question keys to answers.")
    return content


def _source(template: str | None, vcs_ref: str | None) -> TemplateSource:
    from generator.template_source import TemplateSource, default_source

    if template is None:
        source = default_source()
        if vcs_ref is None:
            return source
        return TemplateSource(src_path=source.src_path, vcs_ref=vcs_ref)
    local = Path(template).expanduser()
    if local.exists() and not template.startswith("~"):
        # Recorded as _src_path: absolute, so updates work from any directory.
        template = str(local.resolve())
    return TemplateSource(src_path=template, vcs_ref=vcs_ref)
