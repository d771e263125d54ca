"""The AI router: task type → route → deployments, with retries, fallbacks and cost.

Callable in-process (`shared_router().route(ChatRequest.build(...))`), behind
`POST /v1/route`, and as the `ai.route` job; all three route the same way.
"""
