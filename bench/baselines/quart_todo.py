"""The baseline a generated project must beat: a minimal Quart todo list kept in memory.

It serves the same three routes as a generated project (list, add, delete) so one load script
drives both. Two ways to run it, as ChatGPT plugin quickstarts did and as production would:

    python bench/baselines/quart_todo.py --port 5003            # app.run(debug=True)
    hypercorn --bind 127.0.0.1:5003 bench.baselines.quart_todo:app
"""

from __future__ import annotations

import argparse
import itertools
from typing import Any

from quart import Quart, abort, jsonify, request

app = Quart(__name__)

# Process memory only: restarting the server forgets everything, as in the original quickstart.
_todos: dict[int, dict[str, Any]] = {}
_next_id = itertools.count(1)


@app.get("/todos")
async def list_todos() -> Any:
    """Return every todo, oldest first."""
    return jsonify(list(_todos.values()))


@app.post("/todos")
async def add_todo() -> Any:
    """Store the posted todo and return it with its id."""
    payload = await request.get_json(force=True)
    text = str(payload.get("text") or payload.get("todo") or "")
    todo = {"id": next(_next_id), "text": text}
    _todos[todo["id"]] = todo
    return jsonify(todo), 201


@app.delete("/todos/<int:todo_id>")
async def delete_todo(todo_id: int) -> Any:
    """Forget one todo; 404 when it does not exist."""
    if _todos.pop(todo_id, None) is None:
        abort(404)
    return "", 204


def main() -> None:
    """Run the development server the way the original plugin quickstart does."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5003)
    args = parser.parse_args()
    app.run(debug=True, host=args.host, port=args.port)


if __name__ == "__main__":
    main()
