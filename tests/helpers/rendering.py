"""The real template rendered with Copier's public API, and a rendered project's environment."""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

from helpers.repos import REPO_ROOT

MODES = ("none", "service_http", "user_http", "oauth")


def render_template(destination: Path, src: Path | str = REPO_ROOT, **answers: Any) -> Path:
    """Render the template with `answers` (plus defaults) into `destination` using copier.

    From a git checkout the working tree is rendered (vcs_ref HEAD), uncommitted changes
    included, so the tests always see the template as it is on disk.
    """
    import copier
    from copier.errors import DirtyLocalWarning

    vcs_ref = "HEAD" if (Path(src) / ".git").exists() else None
    with warnings.catch_warnings():
        # copier warns that uncommitted template changes are included: that is the point here.
        warnings.simplefilter("ignore", DirtyLocalWarning)
        copier.run_copy(
            str(src),
            destination,
            data=answers,
            defaults=True,
            quiet=True,
            vcs_ref=vcs_ref,
            unsafe=False,
        )
    return destination


def answers_for(mode: str) -> dict[str, str]:
    """The answers of the session's project of `mode`: defaults except the name and auth."""
    return {"name": f"Todo {mode}"[:20], "auth": mode}


def project_env(project: Path) -> dict[str, str]:
    """The environment of the project's own commands: its src on the path, no plugin settings."""
    plugin_settings = re.compile(
        r"BASE_URL|HOST|PORT|DATABASE_PATH|DATABASE_URL|SERVICE_TOKEN|SECRET_KEY|OAUTH_.*|.*VERIFICATION_TOKENS?"
    )
    env = {key: value for key, value in os.environ.items() if not plugin_settings.fullmatch(key)}
    env["PYTHONPATH"] = str(project / "src")
    # Keep the shared session projects free of __pycache__ and cache directories.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def package_of(project: Path) -> str:
    """The one Python package under the project's src/."""
    (package,) = [p.name for p in (project / "src").iterdir() if (p / "__init__.py").exists()]
    return package
