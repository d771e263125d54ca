"""One router under load, in its own process: `python -m bench.router.client METHOD URL
SCENARIO REQUESTS CONCURRENCY` prints latencies and throughput as JSON.

Methods: `direct` (http.client straight to the upstream: the floor any client pays;
for a fallback, the failing call and the answering one),
`courier` (courier.ai.router.Router), `litellm` (litellm.Router, sync `completion`).
Both routers get the same two deployments on the same upstream, the same fallback
order, the same retries (2 more tries per deployment) and no cooldown, so the
fallback scenario measures the fallback path every time rather than a cooled skip.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

PROMPT = "Summarise in one line: the quick brown fox jumps over the lazy dog."
PRIMARY, FALLBACK = "primary-model", "fallback-model"
#: The upstream answers 503 for this model (devstack.model_server --fail-model).
FAILING = "failing-model"


def first(scenario: str) -> str:
    return FAILING if scenario == "fallback" else PRIMARY


def courier_call(url: str, scenario: str) -> Callable[[], str]:
    from courier.ai.catalog import parse_catalog
    from courier.ai.request import ChatRequest
    from courier.ai.router import Router

    deployments = [
        {"name": name, "provider": "openai-compatible", "baseUrl": f"{url}/v1", "model": name, "keySecret": "env:BENCH_KEY"}
        for name in (first(scenario), FALLBACK)
    ]
    retry = {"attemptsPerDeployment": 1 if scenario == "fallback" else 3, "cooldownSeconds": 0}
    catalog = parse_catalog({"deployments": deployments, "routes": {"default": [first(scenario), FALLBACK]}, "retry": retry})
    router = Router(lambda: catalog)
    return lambda: router.route(ChatRequest.build("summarize", prompt=PROMPT)).output


def litellm_call(url: str, scenario: str) -> Callable[[], str]:
    import litellm

    litellm.telemetry = False
    litellm.suppress_debug_info = True
    model_list = [
        {"model_name": name, "litellm_params": {"model": f"openai/{name}", "api_base": f"{url}/v1", "api_key": os.environ["BENCH_KEY"]}}
        for name in (first(scenario), FALLBACK)
    ]
    router = litellm.Router(
        model_list=model_list,
        fallbacks=[{first(scenario): [FALLBACK]}],
        num_retries=0 if scenario == "fallback" else 2,
        disable_cooldowns=True,
    )
    messages = [{"role": "user", "content": PROMPT}]
    return lambda: router.completion(model=first(scenario), messages=messages).choices[0].message.content


def direct_call(url: str, scenario: str) -> Callable[[], str]:
    import http.client
    from urllib.parse import urlsplit

    target = urlsplit(url)
    local = threading.local()
    headers = {"content-type": "application/json", "authorization": f"Bearer {os.environ['BENCH_KEY']}"}
    # The floor of a fallback is two plain calls: the one that fails, the one that answers.
    models = [FAILING, FALLBACK] if scenario == "fallback" else [PRIMARY]
    bodies = [json.dumps({"model": m, "messages": [{"role": "user", "content": PROMPT}]}).encode() for m in models]

    def call() -> str:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection(target.hostname, target.port)
        for body in bodies:
            local.conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
            data = local.conn.getresponse().read()
        return json.loads(data)["choices"][0]["message"]["content"]

    return call


METHODS = {"direct": direct_call, "courier": courier_call, "litellm": litellm_call}


def main() -> None:
    method, url, scenario, requests, concurrency = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
    os.environ.setdefault("BENCH_KEY", "bench-key")
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no download at import
    call = METHODS[method](url, scenario)
    expected = f"[{FALLBACK if scenario == 'fallback' else PRIMARY}]"
    for _ in range(50):  # warm: connections, caches, lazy imports
        assert call().startswith(expected)
    latencies = []
    for _ in range(requests):
        began = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - began)
    count = requests * 2
    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        answers = list(pool.map(lambda _: call(), range(count)))
    elapsed = time.perf_counter() - began
    assert all(a.startswith(expected) for a in answers), "a wrong deployment answered"
    print(json.dumps({"latencies": latencies, "throughput": count / elapsed, "concurrency": concurrency}))


if __name__ == "__main__":
    main()
