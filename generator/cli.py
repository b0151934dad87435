"""The `plugin` command line: flags in, exit codes out. No business logic lives here.

Each command is declared in its own module (generator/new.py, update.py, check/) with only
typer imported at module level, so `plugin --help` never imports copier or questionary.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from typer.completion import completion_init

from generator.errors import UserError

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="plugin",
    help="Start, check and upgrade ChatGPT plugin projects.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    # Typer's own --show-completion is a flag that detects the shell and ignores a shell named
    # after it (`--show-completion zsh` printed bash); ours below takes the name.
    add_completion=False,
)

SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")
# Typer's shell-completion classes, which add_completion=False leaves out (the completion
# itself, `_PLUGIN_COMPLETE=complete_bash plugin`, still works through them).
completion_init()


def reports_user_errors(func: F) -> F:
    """Turn a UserError raised by a command into one line on stderr and its exit code."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as error:
            typer.echo(f"Error: {error.message}", err=True)
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            typer.echo("Interrupted: nothing was written.", err=True)
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _print_version(value: bool) -> None:
    if value:
        from generator.template_source import version_line

        typer.echo(f"plugin {version_line()}")
        raise typer.Exit()


def _named_shell(flag: str) -> str | None:
    """The shell named right after `flag` on the command line (`--show-completion zsh`), else
    the one this process runs in."""
    from typer._completion_shared import _get_shell_name

    argv = sys.argv[1:]
    if flag in argv:
        following = argv[argv.index(flag) + 1 : argv.index(flag) + 2]
        if following and following[0] in SHELLS:
            return following[0]
        if following and not following[0].startswith("-"):
            raise typer.BadParameter(
                f"{following[0]} is not a shell this command completes in: pass one of "
                f"{', '.join(SHELLS)}.",
                param_hint=flag,
            )
    return _get_shell_name()


def _show_completion(ctx: typer.Context, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from typer._completion_shared import get_completion_script

    shell = _named_shell("--show-completion") or "bash"
    typer.echo(
        get_completion_script(prog_name="plugin", complete_var="_PLUGIN_COMPLETE", shell=shell)
    )
    raise typer.Exit()


def _install_completion(ctx: typer.Context, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from typer._completion_shared import install

    shell, path = install(shell=_named_shell("--install-completion"), prog_name="plugin")
    typer.echo(f"{shell} completion installed in {path}; it takes effect in a new terminal.")
    raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_print_version, is_eager=True
        ),
    ] = False,
    _install_completion_flag: Annotated[
        bool,
        typer.Option(
            "--install-completion",
            metavar="[SHELL]",
            help="Install completion for the shell named after it (bash, zsh, fish, powershell, "
            "pwsh; default: the current shell).",
            callback=_install_completion,
            is_eager=True,
            expose_value=False,
        ),
    ] = False,
    _show_completion_flag: Annotated[
        bool,
        typer.Option(
            "--show-completion",
            metavar="[SHELL]",
            help="Print the completion script of the shell named after it (default: the "
            "current shell).",
            callback=_show_completion,
            is_eager=True,
            expose_value=False,
        ),
    ] = False,
) -> None:
    """Start, check and upgrade ChatGPT plugin projects."""


def _register() -> None:
    from generator import check, new, update

    app.command("new")(reports_user_errors(new.new))
    app.command("update")(reports_user_errors(update.update))
    app.command("check")(reports_user_errors(check.check))


_register()


def main() -> None:
    """Console-script entry point."""
    sys.exit(app())
