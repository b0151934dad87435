"""Rendered projects under load: render one per auth mode, start it, get valid credentials."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench.servers import LOCAL_HOST, ServerSpec

REPOSITORY = Path(__file__).resolve().parent.parent
MODES = ("none", "service_http", "user_http", "oauth")
DOMAIN = "localhost:5003"
REDIRECT_URI = "https://chat.openai.com/aip/plugin-bench/oauth/callback"

# Fixed, obviously-not-real secrets: the benchmark must not depend on a project's .env.
FIXED_SECRETS = {
    "SERVICE_TOKEN": "bench-service-token-0123456789abcdef",
    "OAUTH_CLIENT_ID": "bench-client-id",
    "OAUTH_CLIENT_SECRET": "bench-client-secret-0123456789abcdef",
    "SECRET_KEY": "bench-secret-key-0123456789abcdef",
    "OAUTH_REDIRECT_URIS": REDIRECT_URI,
    "OPENAI_VERIFICATION_TOKEN": "bench-verification-token",
}


def render(mode: str, destination: Path, template: Path = REPOSITORY) -> Path:
    """Render the template with `mode` into `destination` using the real copier CLI."""
    argv = [
        sys.executable, "-m", "copier", "copy", "--quiet", "--defaults", "--vcs-ref", "HEAD",
        "--data", "name=Bench Todo", "--data", f"auth={mode}", "--data", f"domain={DOMAIN}",
        str(template), str(destination),
    ]  # fmt: skip
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=300)
    return destination


def package_name(project: Path) -> str:
    """The import name of a rendered project's package (the one directory under src/)."""
    packages = [p.name for p in (project / "src").iterdir() if (p / "__init__.py").exists()]
    if len(packages) != 1:
        raise RuntimeError(f"expected one package under {project / 'src'}, found {packages}")
    return packages[0]


def project_env(project: Path, port: int, database: Path) -> dict[str, str]:
    """Environment of a rendered project: loopback bind, a temporary database, fixed secrets."""
    return {
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(project / "src"), os.environ.get("PYTHONPATH")])
        ),
        "HOST": LOCAL_HOST,
        "PORT": str(port),
        "BASE_URL": f"http://{LOCAL_HOST}:{port}",
        "DATABASE_PATH": str(database),
        **FIXED_SECRETS,
    }


def server_spec(
    name: str, project: Path, port: int, env: dict[str, str], args: Sequence[str] = ()
) -> ServerSpec:
    """The project's own start command, `python -m <package> [ARGS]`, as its README documents."""
    return ServerSpec(
        name=name,
        argv=[sys.executable, "-m", package_name(project), *args],
        port=port,
        cwd=project,
        env=env,
        ready_path="/.well-known/ai-plugin.json",
    )


def _run_python(project: Path, env: dict[str, str], *args: str) -> str:
    """Run this Python with `args` in `project` and return what it printed."""
    done = subprocess.run(
        [sys.executable, *args],
        cwd=project,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def _last_token(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines:
        raise RuntimeError("the command printed nothing")
    return lines[-1].split()[-1]


def _answers(project: Path) -> dict[str, str]:
    import yaml

    return yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))


def credentials(mode: str, project: Path, env: dict[str, str], base_url: str) -> dict[str, str]:
    """HTTP headers that authenticate one user of `mode` against the running project."""
    if mode == "none":
        return {}
    if mode == "service_http":
        return {"Authorization": f"Bearer {env['SERVICE_TOKEN']}"}
    if mode == "user_http":
        created = _run_python(project, env, "-m", package_name(project), "create-user", "bench")
        key = _last_token(created)
        scheme = "Basic" if _answers(project).get("authorization_type") == "basic" else "Bearer"
        return {"Authorization": f"{scheme} {key}"}
    if mode == "oauth":
        return {"Authorization": f"Bearer {_oauth_access_token(project, env)}"}
    raise ValueError(f"unknown auth mode {mode!r}")


def _oauth_access_token(project: Path, env: dict[str, str]) -> str:
    # The project's own helper stores a token exactly as its token endpoint does.
    package = package_name(project)
    code = (
        "import secrets\n"
        f"from {package}.db import Database\n"
        f"from {package}.oauth import storage\n"
        f"from {package}.settings import Settings\n"
        f"from {package}.users import create_user\n"
        "settings = Settings()\n"
        "db = Database(settings.database_url)\n"
        "db.migrate()\n"
        "token = secrets.token_urlsafe(32)\n"
        "with db.connect() as conn:\n"
        "    storage.store_tokens(conn, family=secrets.token_urlsafe(32),\n"
        "        client_id=settings.oauth_client_id, user_id=create_user(conn, 'bench', None),\n"
        "        scope=settings.oauth_scope, access_token=token, access_ttl=3600,\n"
        "        refresh_token=None, refresh_ttl=3600)\n"
        "print(token)\n"
        "db.close()\n"
    )
    return _last_token(_run_python(project, env, "-c", code))


def seed(base_url: str, headers: dict[str, str], count: int, text_field: str = "todo") -> None:
    """Add `count` todos so the list the load reads has realistic content."""
    with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
        for number in range(count):
            response = client.post("/todos", json={text_field: f"seeded todo {number}"})
            response.raise_for_status()
