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

from generator import __version__
from generator.errors import UserError

F = TypeVar("F", bound=Callable[..., Any])

app = typer.Typer(
    name="plugin",
    help="Start, check and upgrade ChatGPT plugin projects.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


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
        typer.echo(f"plugin {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Show the version and exit.", callback=_print_version, is_eager=True
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
