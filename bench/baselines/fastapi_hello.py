"""A bare FastAPI app with one JSON endpoint: the framework's own ceiling on this machine.

uvicorn --host 127.0.0.1 --port 5003 bench.baselines.fastapi_hello:app
"""

from __future__ import annotations

from fastapi import FastAPI

app = FastAPI()


@app.get("/todos")
def hello() -> dict[str, str]:
    """Answer with a constant: no storage, no auth, only routing and serialisation."""
    return {"message": "hello"}
