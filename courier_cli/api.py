"""The HTTP API as the CLI calls it: the key in the Authorization header, Courier's error
shape turned into a `CliError` with the API's own code and message."""

from __future__ import annotations

from typing import Any

import httpx

from courier_cli.output import FAILED, USAGE, CliError
from courier_cli.target import Target

TIMEOUT_SECONDS = 30.0


class Api:
    def __init__(self, target: Target) -> None:
        self.target = target
        self._client = httpx.Client(base_url=target.api, headers={"Authorization": f"Bearer {target.key}"}, timeout=TIMEOUT_SECONDS)
        self._tenant: str | None = None

    @property
    def tenant(self) -> str:
        """The tenant the key acts as (`GET /v1/me`), asked once."""
        if self._tenant is None:
            try:
                self._tenant = str(self.get("/v1/me")["tenantId"])
            except CliError:  # a deployment from before GET /v1/me: the answer still counts
                self._tenant = "(unknown: this deployment does not answer GET /v1/me)"
        return self._tenant

    def acting_as(self) -> str:
        """`tenant demo (the local stack's demo key)`: what a message names when the answer
        depends on whose jobs the CLI sees."""
        return f"tenant {self.tenant} ({self.target.key_source}; --tenant or --key to act as another)"

    def __call__(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise CliError("unreachable", f"{self.target.where} did not answer ({type(error).__name__}: {error})") from None
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        if response.is_success:
            return body
        shape = body.get("error") if isinstance(body, dict) else None
        detail: dict[str, Any] = shape if isinstance(shape, dict) else {}
        code = str(detail.get("code") or f"http_{response.status_code}")
        message = str(detail.get("message") or response.reason_phrase)
        if response.status_code == 401:
            raise CliError(code, f"{self.target.where} refused the API key: {message}", USAGE)
        if response.status_code == 404 and path != "/v1/me":
            message += f", as {self.acting_as()}"
        raise CliError(code, f"{message} ({response.status_code} {code})", FAILED)

    def get(self, path: str, **params: Any) -> Any:
        return self("GET", path, params={k: v for k, v in params.items() if v is not None})

    def post(self, path: str, json: Any = None) -> Any:
        return self("POST", path, json=json)

    def delete(self, path: str) -> Any:
        return self("DELETE", path)
