"""The base of every API answer's model (the jobs API's, the router's): strict, built on
first use. Its own module so the router's answers do not load the jobs API's."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class View(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
