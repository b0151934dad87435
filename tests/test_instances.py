"""Two instances of one oauth project on one PostgreSQL database behave as one server.

Each instance is a real process started by the project's own command (`python -m <package>
serve`, HOST and PORT from the environment), the way a deployment runs several behind a load
balancer: one DATABASE_URL, the same secrets from the environment, one public BASE_URL. Every
request goes over a real loopback socket; the database is the session's throwaway PostgreSQL
server, which one test restarts under load.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from helpers.oauth_client import (
    OAuthClient,
    authorization_code,
    bearer,
    pkce_pair,
    redeem,
    refresh,
    token_request,
    tokens,
)
from helpers.postgres import PostgresServer
from helpers.rendering import package_of, project_env

from bench.loadgen import run_wrk
from bench.projects import seed
from bench.servers import LOCAL_HOST, RunningServer, ServerSpec, free_port, start, stop
from bench.servers import wait_until_ready as wait_ready

# The address of the load balancer in front of the instances: the issuer and the manifest's
# URLs are the same whichever instance answers. Nothing needs to listen there.
PUBLIC_URL = "http://localhost:5003"
CALLBACK = "https://chat.openai.com/aip/plugin-instances/oauth/callback"
SECRET_NAMES = ("OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET", "SECRET_KEY")
PASSWORD = "correct horse battery staple"


@dataclass
class Deployment:
    """One database and the settings every instance of the project shares."""

    project: Path
    database_url: str
    secrets: dict[str, str]
    work: Path

    def env(self, port: int | None = None, *, with_secrets: bool = True) -> dict[str, str]:
        """The whole environment of one instance (or command) of this deployment."""
        env = project_env(self.project)
        env.update(
            DATABASE_URL=self.database_url,
            BASE_URL=PUBLIC_URL,
            OAUTH_REDIRECT_URIS=CALLBACK,
            PYTHONUNBUFFERED="1",
        )
        if port is not None:
            env.update(HOST=LOCAL_HOST, PORT=str(port))
        if with_secrets:
            env.update(self.secrets)
        return env

    def instance_dir(self, name: str) -> Path:
        """The working directory of one instance: its own, so no instance reads another's .env."""
        directory = self.work / name
        directory.mkdir(exist_ok=True)
        return directory

    def spec(self, name: str, *, with_secrets: bool = True) -> ServerSpec:
        """The project's own serve command for one instance on a free port."""
        port = free_port()
        return ServerSpec(
            name=name,
            argv=[sys.executable, "-m", package_of(self.project), "serve", "--no-access-log"],
            port=port,
            cwd=self.instance_dir(name),
            env=self.env(port, with_secrets=with_secrets),
            ready_path="/.well-known/ai-plugin.json",
            inherit_env=False,
        )

    def start(self, *names: str) -> list[RunningServer]:
        """Start one instance per name, all at once, and wait until every one serves."""
        servers = [start(self.spec(name), self.work) for name in names]
        try:
            for server in servers:
                wait_ready(server, timeout=90)
        except BaseException:
            for server in servers:
                stop(server)
            raise
        return servers

    def create_user(self, name: str) -> subprocess.Popen[str]:
        """Start the project's create-user command for `name`; `client_of` waits for it."""
        argv = [sys.executable, "-m", package_of(self.project), "create-user", name]
        return subprocess.Popen(
            [*argv, "--password", PASSWORD],
            cwd=self.instance_dir("commands"),
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def client_of(self, name: str, command: subprocess.Popen[str]) -> OAuthClient:
        """Wait for a create-user command; the client that user signs in with."""
        output, _ = command.communicate(timeout=120)
        assert command.returncode == 0, output
        return OAuthClient(
            client_id=self.secrets["OAUTH_CLIENT_ID"],
            client_secret=self.secrets["OAUTH_CLIENT_SECRET"],
            redirect_uri=CALLBACK,
            scope="todos",
            username=name,
            password=PASSWORD,
        )


def new_deployment(project: Path, postgres: PostgresServer, work: Path) -> Deployment:
    """A deployment on a new, empty database, with secrets of its own."""
    database = postgres.create_database()
    work.mkdir(parents=True, exist_ok=True)
    return Deployment(
        project=project,
        database_url=postgres.url(database, driver="postgresql+psycopg"),
        secrets={
            "OAUTH_CLIENT_ID": "client-" + secrets.token_urlsafe(8),
            "OAUTH_CLIENT_SECRET": secrets.token_urlsafe(32),
            "SECRET_KEY": secrets.token_urlsafe(32),
        },
        work=work,
    )


@pytest.fixture(scope="module")
def deployment(
    rendered_project, postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> Deployment:
    """The oauth project of the session on a database of this module's own."""
    work = tmp_path_factory.mktemp("instances")
    return new_deployment(rendered_project("oauth"), postgres, work)


@dataclass
class Cluster:
    """The module's running instances on one database, and its user."""

    pair: tuple[RunningServer, RunningServer]
    victim: RunningServer  # the instance the kill -9 test kills
    alice: OAuthClient


@pytest.fixture(scope="module")
def cluster(deployment: Deployment) -> Iterator[Cluster]:
    """Three instances and a create-user command, all started at once on the empty database."""
    user = deployment.create_user("alice")
    servers: list[RunningServer] = []
    try:
        servers = deployment.start("instance-1", "instance-2", "victim")
        alice = deployment.client_of("alice", user)
        yield Cluster((servers[0], servers[1]), servers[2], alice)
    finally:
        user.kill()
        user.wait()
        for server in servers:
            stop(server)


@pytest.fixture
def pair(cluster: Cluster) -> tuple[RunningServer, RunningServer]:
    """Two running instances of the deployment."""
    return cluster.pair


@pytest.fixture
def alice(cluster: Cluster) -> OAuthClient:
    """A user of the deployment, signing in with the pre-registered client."""
    return cluster.alice


def new_log(server: RunningServer, since: int) -> str:
    """What the server printed after the first `since` characters of its log."""
    return server.log_text()[since:]


def assert_invalid_grant(answer: httpx.Response) -> None:
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "invalid_grant"


def test_the_todo_mix_on_both_instances_at_once_has_no_errors(
    pair: tuple[RunningServer, RunningServer], alice: OAuthClient
) -> None:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed: install Debian's wrk package (.ci/run does).")
    headers = bearer(tokens(alice, pair[0].base_url)["access_token"])
    seed(pair[0].base_url, headers, 20)
    logs = [len(server.log_text()) for server in pair]

    def load(server: RunningServer):
        return run_wrk(
            server.base_url,
            seconds=4,
            threads=1,
            connections=8,
            headers=headers,
            reads_percent=80,
            text_field="todo",
        )

    with ThreadPoolExecutor(len(pair)) as pool:
        results = list(pool.map(load, pair))

    for server, result, since in zip(pair, results, logs, strict=True):
        assert result.socket_errors == 0, (server.spec.name, result)
        assert result.non_2xx == 0, (server.spec.name, result)
        assert result.requests >= 100, (server.spec.name, result)
        assert "Traceback" not in new_log(server, since)


def test_a_code_issued_by_one_instance_is_redeemed_at_the_other(
    pair: tuple[RunningServer, RunningServer], alice: OAuthClient
) -> None:
    first, second = pair
    verifier, challenge = pkce_pair()
    # The page (and its CSRF token) comes from the second instance, the form that issues the
    # code goes to the first, and the code is redeemed at the second.
    code, issuer = authorization_code(alice, second.base_url, first.base_url, challenge)
    assert issuer == PUBLIC_URL

    answer = redeem(alice, second.base_url, code, verifier)

    assert answer.status_code == 200, answer.text
    headers = bearer(answer.json()["access_token"])
    added = httpx.post(f"{first.base_url}/todos", json={"todo": "from one"}, headers=headers)
    assert added.status_code == 201, added.text
    # The second instance sees the todo the first added: it deletes it, and then neither has it.
    todo_url = f"/todos/{added.json()['id']}"
    assert httpx.delete(second.base_url + todo_url, headers=headers).is_success
    assert httpx.delete(first.base_url + todo_url, headers=headers).status_code == 404
    # The code was single-use for both: a replay at the first instance fails and revokes what
    # it gave (RFC 6749 4.1.2), at both instances.
    assert_invalid_grant(redeem(alice, first.base_url, code, verifier))
    for server in pair:
        assert httpx.get(f"{server.base_url}/todos", headers=headers).status_code == 401


def test_a_pkce_code_needs_its_verifier_at_the_other_instance(
    pair: tuple[RunningServer, RunningServer], alice: OAuthClient
) -> None:
    first, second = pair
    _, challenge = pkce_pair()
    code, _ = authorization_code(alice, first.base_url, first.base_url, challenge)

    assert_invalid_grant(redeem(alice, second.base_url, code, pkce_pair()[0]))


def test_a_refresh_token_reused_at_the_other_instance_revokes_the_family_at_both(
    pair: tuple[RunningServer, RunningServer], alice: OAuthClient
) -> None:
    first, second = pair
    issued = tokens(alice, first.base_url)
    rotated = refresh(alice, first.base_url, issued["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()
    for server in pair:
        assert httpx.get(f"{server.base_url}/todos", headers=bearer(new["access_token"])).is_success

    reuse = refresh(alice, second.base_url, issued["refresh_token"])

    assert_invalid_grant(reuse)
    for server in pair:
        answer = httpx.get(f"{server.base_url}/todos", headers=bearer(new["access_token"]))
        assert answer.status_code == 401, (server.spec.name, answer.text)
        assert_invalid_grant(refresh(alice, server.base_url, new["refresh_token"]))


def test_a_postgresql_restart_fails_requests_only_while_it_is_down(
    pair: tuple[RunningServer, RunningServer], alice: OAuthClient, postgres: PostgresServer
) -> None:
    headers = bearer(tokens(alice, pair[0].base_url)["access_token"])
    # (started, finished, status or None for a transport error), per request
    events: list[tuple[float, float, int | None]] = []
    done = threading.Event()
    # (started, finished, error) of each transport error, in seconds since `begun`, to show
    # what failed and when, should a request fail outside the outage
    errors: list[tuple[float, float, str]] = []
    begun = time.monotonic()

    def requests(base_url: str) -> None:
        with httpx.Client(base_url=base_url, headers=headers, timeout=10) as client:
            while not done.is_set():
                started = time.monotonic()
                try:
                    status: int | None = client.get("/todos").status_code
                except httpx.HTTPError as error:
                    status = None
                    errors.append((started - begun, time.monotonic() - begun, repr(error)))
                events.append((started, time.monotonic(), status))
                time.sleep(0.005)

    workers = [threading.Thread(target=requests, args=(s.base_url,)) for s in pair for _ in "ab"]
    for worker in workers:
        worker.start()
    try:
        time.sleep(1.5)
        down_at = time.monotonic()
        postgres.stop()
        time.sleep(1.5)
        postgres.start()
        up_at = time.monotonic()
        time.sleep(2.5)
    finally:
        done.set()
        for worker in workers:
            worker.join(30)
        if not postgres.is_running():
            postgres.start()

    before = [status for started, finished, status in events if finished < down_at]
    during = [
        status for started, finished, status in events if down_at <= finished and started <= up_at
    ]
    after = [status for started, _, status in events if started > up_at]
    outage = (down_at - begun, up_at - begun)
    assert len(before) >= 10 and set(before) == {200}, (outage, errors, before)
    assert len(after) >= 10 and set(after) == {200}, (outage, errors, after)
    failed = [status for status in during if status != 200]
    assert failed, "no request failed while PostgreSQL was down: the test did not take it down"
    # A database outage is the server's failure, never an "invalid token" (a client would throw
    # its tokens away on a 401).
    assert all(status is None or status >= 500 for status in failed), failed


def test_every_acknowledged_post_survives_a_kill_9_of_its_instance(cluster: Cluster) -> None:
    survivor, victim = cluster.pair[0], cluster.victim
    headers = bearer(tokens(cluster.alice, victim.base_url)["access_token"])
    acknowledged: list[tuple[int, str]] = []
    lock = threading.Lock()

    def post(worker: int) -> None:
        with httpx.Client(base_url=victim.base_url, headers=headers, timeout=10) as client:
            for number in range(100_000):
                text = f"worker {worker} todo {number}"
                try:
                    answer = client.post("/todos", json={"todo": text})
                except httpx.HTTPError:
                    return  # the instance is gone
                if answer.is_success:
                    with lock:
                        acknowledged.append((answer.json()["id"], text))

    writers = [threading.Thread(target=post, args=(n,)) for n in range(8)]
    try:
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + 30
        while len(acknowledged) < 150 and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(victim.process.pid, signal.SIGKILL)
        victim.process.wait(10)
        for writer in writers:
            writer.join(30)
    finally:
        stop(victim)

    assert victim.process.returncode == -signal.SIGKILL
    assert len(acknowledged) >= 150
    # Read all of alice's todos through the surviving instance: the list holds at most 100, so
    # each page read is deleted to reach the next.
    stored: dict[int, str] = {}
    with httpx.Client(base_url=survivor.base_url, headers=headers, timeout=10) as client:
        while True:
            page = client.get("/todos")
            assert page.status_code == 200, page.text
            todos = page.json()["todos"]
            if not todos:
                break
            for todo in todos:
                stored[todo["id"]] = todo["todo"]
                assert client.delete(f"/todos/{todo['id']}").is_success
    missing = [(todo_id, text) for todo_id, text in acknowledged if stored.get(todo_id) != text]
    assert missing == []


def test_two_instances_started_at_once_on_an_empty_database_both_serve(
    rendered_project, postgres: PostgresServer, tmp_path: Path
) -> None:
    deployment = new_deployment(rendered_project("oauth"), postgres, tmp_path / "race")
    # The create-user command migrates too: three processes race for the empty database.
    user = deployment.create_user("carol")
    servers: list[RunningServer] = []
    try:
        servers = deployment.start("racer-1", "racer-2")
        client = deployment.client_of("carol", user)

        for server in servers:
            assert server.process.poll() is None
            assert "Traceback" not in server.log_text()
        database = deployment.database_url.rsplit("/", 1)[1]
        assert postgres.psql("SELECT count(*) FROM alembic_version", database).strip() == "1"
        # Both hold the same client credentials: a wrong code is invalid_grant (the client was
        # authenticated), a wrong secret invalid_client, at each instance.
        wrong = dataclasses.replace(client, client_secret="not-the-secret")
        for server in servers:
            grant = {"grant_type": "authorization_code", "code": "x", "redirect_uri": CALLBACK}
            assert_invalid_grant(token_request(client, server.base_url, grant))
            assert token_request(wrong, server.base_url, grant).status_code == 401
        # A token one instance issued is accepted by the other, both ways.
        for issuer, other in (servers, servers[::-1]):
            headers = bearer(tokens(client, issuer.base_url)["access_token"])
            assert httpx.get(f"{other.base_url}/todos", headers=headers).status_code == 200
    finally:
        user.kill()
        user.wait()
        for server in servers:
            stop(server)


def test_without_the_secrets_both_instances_refuse_to_start_in_one_sentence(
    rendered_project, postgres: PostgresServer, tmp_path: Path
) -> None:
    deployment = new_deployment(rendered_project("oauth"), postgres, tmp_path / "no-secrets")
    specs = [deployment.spec(name, with_secrets=False) for name in ("bare-1", "bare-2")]
    processes = [
        subprocess.Popen(
            spec.argv,
            cwd=spec.cwd,
            env=spec.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for spec in specs
    ]
    outputs = [process.communicate(timeout=60) for process in processes]

    for spec, process, (out, err) in zip(specs, processes, outputs, strict=True):
        assert process.returncode == 2, (out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].endswith("."), err
        assert any(name in lines[0] for name in SECRET_NAMES), err
        assert not (spec.cwd / ".env").exists()
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://{LOCAL_HOST}:{spec.port}/", timeout=1)
