"""Every generated API answers as its own OpenAPI document says: schemathesis, per auth mode.

Each mode's rendered project is imported and served in-process (ASGI) with a temporary SQLite
database and valid credentials of that mode. Schemathesis generates requests for every
operation of the served /openapi.json, valid ones and invalid ones, and checks each answer:
no server error, a documented status code, content type, headers and body schema, and invalid
requests rejected.
"""

from __future__ import annotations

import importlib
import secrets
import sys
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

MODES = ("none", "service_http", "user_http", "oauth")
OPERATIONS = ("listTodos", "addTodo", "deleteTodo")
BASE_URL = "http://localhost:5003"
SECRETS: dict[str, dict[str, Any]] = {
    "service_http": {"service_token": "conformance-service-token-0123456789"},
    "oauth": {
        "oauth_client_id": "conformance-client",
        "oauth_client_secret": "conformance-client-secret-0123456789",
        "secret_key": "conformance-secret-key-0123456789",
        "oauth_redirect_uris": ["https://chat.openai.com/aip/plugin-test/oauth/callback"],
    },
}


@dataclass
class ServedApi:
    """A generated app running in-process, with the headers of one valid user."""

    app: Any
    headers: dict[str, str]
    #: Ids of todos the user owns, for requests that must find one.
    todo_ids: list[int]


def _package(project: Path) -> str:
    (package,) = [p.name for p in (project / "src").iterdir() if (p / "__init__.py").is_file()]
    return package


def _credentials(mode: str, package: str, app: Any, app_settings: Any) -> dict[str, str]:
    if mode == "none":
        return {}
    if mode == "service_http":
        return {"Authorization": f"Bearer {app_settings.service_token}"}
    if mode == "user_http":
        users = importlib.import_module(f"{package}.users")
        with app.state.db.connect() as conn:
            key = users.create_user(conn, "conformance")
        return {"Authorization": f"Bearer {key}"}
    # A token stored exactly as the project's token endpoint stores one, for the REST API.
    storage = importlib.import_module(f"{package}.oauth.storage")
    users = importlib.import_module(f"{package}.users")
    token, family = secrets.token_urlsafe(32), storage.digest(secrets.token_urlsafe(32))
    with app.state.db.connect() as conn:
        storage.store_tokens(
            conn,
            family=family,
            client_id=app_settings.oauth_client_id,
            user_id=users.create_user(conn, "conformance", None),
            scope=app_settings.oauth_scope,
            access_token=token,
            access_ttl=3600,
            refresh_token=None,
            refresh_ttl=3600,
        )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module", params=MODES)
def served_api(
    request: pytest.FixtureRequest,
    rendered_project: Callable[[str], Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServedApi]:
    """The mode's app with its lifespan running, and a user's credentials."""
    with warnings.catch_warnings():
        # Starlette suggests another HTTP client package; the test client works as it is.
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    mode: str = request.param
    project = rendered_project(mode)
    package = _package(project)
    sys.path.insert(0, str(project / "src"))
    try:
        app_module = importlib.import_module(f"{package}.app")
        settings_module = importlib.import_module(f"{package}.settings")
    finally:
        sys.path.remove(str(project / "src"))
    database = tmp_path_factory.mktemp(f"conformance-{mode}") / "todos.db"
    app_settings = settings_module.Settings(
        _env_file=None, base_url=BASE_URL, database_path=database, **SECRETS.get(mode, {})
    )
    app = app_module.create_app(app_settings)
    with TestClient(app) as client:  # runs the lifespan: the schema is created
        headers = _credentials(mode, package, app, app_settings)
        # The credentials must really work, or every case below would only exercise the 401.
        assert client.get("/todos", headers=headers).status_code == 200
        if headers:
            assert client.get("/todos").status_code == 401
        added = [
            client.post("/todos", json={"todo": f"seed {n}"}, headers=headers) for n in range(5)
        ]
        assert [response.status_code for response in added] == [201] * 5
        yield ServedApi(app, headers, [response.json()["id"] for response in added])


def _schema(served_api: ServedApi) -> Any:
    schema = schemathesis.openapi.from_asgi("/openapi.json", served_api.app)
    if served_api.headers:
        # As configuration, not per call: negative cases that drop the header stay unauthorised.
        schema.config.update(headers=served_api.headers)
    return schema


@pytest.mark.parametrize("generation_mode", list(GenerationMode), ids=str)
@pytest.mark.parametrize("operation_id", OPERATIONS)
def test_every_answer_matches_the_openapi_document(
    served_api: ServedApi, operation_id: str, generation_mode: GenerationMode
) -> None:
    operation = _schema(served_api).find_operation_by_id(operation_id)

    @given(case=operation.as_strategy(generation_mode=generation_mode))
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    def check(case: Any) -> None:
        statuses.append(case.call_and_validate().status_code)

    statuses: list[int] = []
    check()
    if generation_mode == GenerationMode.POSITIVE and operation_id != "deleteTodo":
        # Valid requests with valid credentials must get through, not only be turned away.
        assert any(200 <= status < 300 for status in statuses), statuses


# Requests at the edges, sent every run: what random generation finds only sometimes.
EDGE_CASES: dict[str, tuple[str, dict[str, Any]]] = {
    "existing-todo": ("deleteTodo", {}),  # the id of a todo the user owns, filled in below
    "largest-sqlite-id": ("deleteTodo", {"path_parameters": {"todo_id": 2**63 - 1}}),
    "id-beyond-sqlite-integer": ("deleteTodo", {"path_parameters": {"todo_id": 2**63}}),
    "negative-id": ("deleteTodo", {"path_parameters": {"todo_id": -1}}),
    "body-not-json": ("addTodo", {"body": b"\x80{not json", "media_type": "application/json"}),
    "longest-todo": ("addTodo", {"body": {"todo": "x" * 500}, "media_type": "application/json"}),
    "todo-too-long": ("addTodo", {"body": {"todo": "x" * 501}, "media_type": "application/json"}),
    "list-limit-over-max": ("listTodos", {"query": {"limit": 101}}),
}


@pytest.mark.parametrize("edge", list(EDGE_CASES))
def test_edge_requests_match_the_openapi_document(served_api: ServedApi, edge: str) -> None:
    operation_id, fields = EDGE_CASES[edge]
    if edge == "existing-todo":
        fields = {"path_parameters": {"todo_id": served_api.todo_ids.pop()}}
    case = _schema(served_api).find_operation_by_id(operation_id).Case(**fields)
    # A hand-made case gets no configured headers: the credentials go with the call.
    response = case.call_and_validate(headers=served_api.headers)
    assert response.status_code != 401, "the edge request was not authenticated"
    if edge == "existing-todo":
        assert response.status_code == 200, response.text
