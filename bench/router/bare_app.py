"""The cold-start yardstick: the smallest FastAPI + Mangum app with the router's API
shape (a POST taking a pydantic body, a GET), nothing else."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from mangum import Mangum
from pydantic import BaseModel


class Body(BaseModel):
    type: str
    prompt: str


app = FastAPI()


@app.post("/v1/route")
def route(body: Body) -> dict[str, Any]:
    return {"type": body.type}


@app.get("/v1/models")
def models() -> dict[str, Any]:
    return {}


handler = Mangum(app, lifespan="off")
