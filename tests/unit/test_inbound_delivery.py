"""What a delivery becomes: the target's input with `{{webhook...}}` filled in, the headers
kept with the job (never a signature or a credential), the body as JSON where it is JSON."""

from __future__ import annotations

from courier.inbound.receive import body_of, fill, kept_headers

DELIVERY = {"source": "src_1", "provider": "stripe", "eventType": "invoice.paid", "deliveryId": "evt_1", "receivedAt": "2026-12-07T00:00:00Z",
            "headers": {"user-agent": "Stripe/1.0"}, "body": {"id": "evt_1", "data": {"object": {"amount": 5}}}}


def test_placeholders_are_whole_strings_and_paths_into_the_delivery() -> None:
    template = {"url": "https://app.example.com/hook", "json": "{{webhook}}", "meta": {"kind": "{{ webhook.eventType }}"},
                "list": ["{{webhook.body.data.object.amount}}", "literal {{webhook}} text"], "missing": "{{webhook.body.nope.deeper}}"}
    filled = fill(template, DELIVERY)
    assert filled["json"] == DELIVERY and filled["meta"] == {"kind": "invoice.paid"} and filled["url"] == "https://app.example.com/hook"
    assert filled["list"] == [5, "literal {{webhook}} text"] and filled["missing"] is None


def test_signatures_and_credentials_never_reach_the_job() -> None:
    headers = {"x-hub-signature-256": "sha256=ab", "stripe-signature": "t=1,v1=ab", "authorization": "Bearer x", "cookie": "a=b",
               "x-acme-signature": "ab", "webhook-signature": "v1,x", "x-github-event": "push", "content-type": "application/json",
               "host": "api.example.com", "x-api-key": "ck_secret"}
    assert kept_headers(headers, "X-Acme-Signature") == {"content-type": "application/json", "x-github-event": "push"}
    assert len(kept_headers({f"x-h{n}": "v" * 5000 for n in range(100)}, None)) == 40
    assert all(len(v) == 1000 for v in kept_headers({"x-long": "v" * 5000}, None).values())


def test_the_body_is_json_where_it_says_so_and_text_otherwise() -> None:
    assert body_of(b'{"a": 1}', {"content-type": "application/json; charset=utf-8"}) == {"a": 1}
    assert body_of(b"a=1&b=2", {"content-type": "application/x-www-form-urlencoded"}) == "a=1&b=2"
    assert body_of(b"{not json", {"content-type": "application/json"}) == "{not json"
    assert body_of(b"\xff\xfe", {"content-type": "text/plain"}) == "\ufffd\ufffd"
