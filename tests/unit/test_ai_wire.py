"""How requests are put to each provider and how answers are read."""

from __future__ import annotations

import json

import pytest

from courier.ai.catalog import Deployment
from courier.ai.providers import BadResponse, build_call, parse_completion, split_reasoning, upstream_error
from courier.ai.request import ChatRequest, image_data_url
from courier.errors import InvalidInput

AZURE = "https://acme.services.ai.azure.com"


def deployment(**fields: object) -> Deployment:
    return Deployment.model_validate({"name": "d", "provider": "azure-foundry", "baseUrl": AZURE, "model": "Phi-4", **fields})


def test_azure_openai_v1_route_with_api_key_header() -> None:
    call = build_call(deployment(), ChatRequest.build("x", prompt="hi"), "k-123")
    assert call.url == f"{AZURE}/openai/v1/chat/completions"
    assert call.headers["api-key"] == "k-123" and "authorization" not in call.headers
    assert json.loads(call.body) == {"model": "Phi-4", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("base", [AZURE, AZURE + "/", AZURE + "/models", AZURE + "/openai/v1"])
def test_azure_model_inference_route_with_api_version(base: str) -> None:
    call = build_call(deployment(baseUrl=base, api="model-inference", apiVersion="2024-05-01-preview"), ChatRequest.build("x", prompt="hi"), "k")
    assert call.url == f"{AZURE}/models/chat/completions?api-version=2024-05-01-preview"


def test_openai_compatible_takes_a_bearer_token_or_nothing() -> None:
    local = deployment(provider="openai-compatible", baseUrl="http://127.0.0.1:11434/v1/", model="phi4")
    call = build_call(local, ChatRequest.build("x", prompt="hi"), None)
    assert call.url == "http://127.0.0.1:11434/v1/chat/completions" and "authorization" not in call.headers
    assert build_call(local, ChatRequest.build("x", prompt="hi"), "sk").headers["authorization"] == "Bearer sk"


def test_reasoning_models_get_no_temperature_others_do() -> None:
    request = ChatRequest.build("x", prompt="hi", temperature=0.3, max_tokens=50, json=True)
    plain = json.loads(build_call(deployment(), request, None).body)
    assert plain["temperature"] == 0.3 and plain["max_tokens"] == 50 and plain["response_format"] == {"type": "json_object"}
    reasoning = json.loads(build_call(deployment(capabilities=["text", "reasoning"]), request, None).body)
    assert "temperature" not in reasoning and "top_p" not in reasoning and reasoning["max_tokens"] == 50


def test_images_become_parts_of_the_last_user_message() -> None:
    image = image_data_url(b"\xff\xd8jpeg")
    request = ChatRequest.build(
        "vision", messages=[{"role": "system", "content": "be brief"}, {"role": "user", "content": "what is this?"}], images=[image]
    )
    messages = json.loads(build_call(deployment(), request, None).body)["messages"]
    assert messages[0] == {"role": "system", "content": "be brief"}
    assert messages[1]["content"] == [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": image}},
    ]
    assert image.startswith("data:image/jpeg;base64,/9hqcGVn")


@pytest.mark.parametrize("image", ["http://example.com/a.jpg", "data:text/plain;base64,aGk=", "data:image/png;base64,not base64!", "file:///etc/passwd"])
def test_images_must_be_data_urls_or_https(image: str) -> None:
    with pytest.raises(InvalidInput) as error:
        ChatRequest.build("vision", prompt="x", images=[image])
    assert error.value.code == "invalid_image"


@pytest.mark.parametrize(
    "kwargs, message",
    [({}, "exactly one"), ({"prompt": "a", "messages": []}, "exactly one"), ({"messages": []}, "empty"),
     ({"messages": [{"role": "robot", "content": "x"}]}, "role"), ({"messages": [{"role": "user", "content": 5}]}, "content")],
)
def test_bad_messages_are_invalid_input(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ChatRequest.build("x", **kwargs)


@pytest.mark.parametrize(
    "content, field, output, reasoning",
    [
        ("<think>2 and 2 make 4</think>\n\nIt is 4.", None, "It is 4.", "2 and 2 make 4"),
        ("It is 4.", "2 and 2 make 4", "It is 4.", "2 and 2 make 4"),
        ("2 and 2 make 4</think>It is 4.", None, "It is 4.", "2 and 2 make 4"),
        ("<think></think>It is 4.", None, "It is 4.", None),
        ("It is 4.", None, "It is 4.", None),
    ],
)
def test_reasoning_is_split_from_the_answer_however_it_arrives(content: str, field: str | None, output: str, reasoning: str | None) -> None:
    assert split_reasoning(content, field) == (output, reasoning)


def test_a_completion_is_read_with_usage_and_reasoning_field() -> None:
    data = json.dumps({"choices": [{"message": {"content": "4", "reasoning_content": "think"}, "finish_reason": "stop"}],
                       "usage": {"prompt_tokens": 12, "completion_tokens": 3}}).encode()
    completion = parse_completion(data)
    assert (completion.output, completion.reasoning, completion.input_tokens, completion.output_tokens) == ("4", "think", 12, 3)
    with pytest.raises(BadResponse):
        parse_completion(b'{"choices": []}')


def test_upstream_errors_give_their_code_including_azure_content_filter() -> None:
    azure = {"error": {"code": "content_filter", "message": "The response was filtered", "innererror": {"code": "ResponsibleAIPolicyViolation"}}}
    assert upstream_error(json.dumps(azure).encode()) == ("content_filter", "The response was filtered")
    assert upstream_error(b'{"error": {"innererror": {"code": "ResponsibleAIPolicyViolation"}, "message": "m"}}') == ("ResponsibleAIPolicyViolation", "m")
    assert upstream_error(b"Bad Gateway") == (None, "Bad Gateway")
