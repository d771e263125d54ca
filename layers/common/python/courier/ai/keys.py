"""Model API keys, found by the catalog's `keySecret`: a field of the JSON secret at
MODEL_KEYS_SECRET_REF (cached by Powertools across warm invocations), or `env:NAME`."""

from __future__ import annotations

import os

from courier.ai.catalog import Deployment
from courier.errors import Misconfigured
from courier.settings import ModelSettings


def key_for(deployment: Deployment) -> str | None:
    reference = deployment.key_secret
    if not reference:
        return None
    if reference.startswith("env:"):
        value = os.environ.get(reference[4:])
        if not value:
            raise Misconfigured(f"deployment {deployment.name}: environment variable {reference[4:]} is not set")
        return value
    secret = ModelSettings.from_env().model_keys_secret_ref
    if not secret:
        raise Misconfigured(f"deployment {deployment.name} needs key {reference!r} but MODEL_KEYS_SECRET_REF is not set")
    from courier.secrets import load_json_secret

    value = load_json_secret(secret).get(reference)
    if not isinstance(value, str) or not value:
        raise Misconfigured(f"the model-keys secret has no key {reference!r} (deployment {deployment.name})")
    return value
