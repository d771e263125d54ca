"""QStash signature checks: every way a delivery can be forged or stale is refused."""

from __future__ import annotations

import time

import pytest

from courier.secrets import QStashCredentials
from courier.signatures import InvalidSignature, SignatureVerifier
from tests.support.qstash_tokens import CURRENT_KEY, NEXT_KEY, sign

URL = "https://abc.lambda-url.us-east-1.on.aws/"
BODY = b'{"jobId":"j-1","type":"video.analyze"}'


@pytest.fixture
def verifier() -> SignatureVerifier:
    return SignatureVerifier(lambda: QStashCredentials(None, CURRENT_KEY, NEXT_KEY))


def test_current_key_accepted(verifier: SignatureVerifier) -> None:
    verifier.verify(signature=sign(BODY, URL), body=BODY, url=URL)


def test_next_key_accepted_during_rotation(verifier: SignatureVerifier) -> None:
    verifier.verify(signature=sign(BODY, URL, key=NEXT_KEY), body=BODY, url=URL)


@pytest.mark.parametrize(
    "signature, body, url, reason",
    [
        (None, BODY, URL, "missing"),
        ("", BODY, URL, "missing"),
        (sign(BODY, URL, key="sig_someoneElsesKey000000000"), BODY, URL, "decoding"),
        (sign(BODY, URL, key=NEXT_KEY, issued_at=time.time() - 3600), BODY, URL, "expired"),
        (sign(BODY, "https://other.lambda-url.us-east-1.on.aws/", key=NEXT_KEY), BODY, URL, "subject"),
        (sign(BODY, URL, key=NEXT_KEY), BODY.replace(b"j-1", b"j-2"), URL, "body hash"),
        ("not-a-jwt", BODY, URL, "decoding"),
        (sign(b"\xff\xfe", URL), b"\xff\xfe", URL, "UTF-8"),
    ],
    ids=["none", "empty", "wrong-key", "expired", "other-url", "tampered-body", "garbage", "binary-body"],
)
def test_forged_or_stale_refused(verifier, signature, body, url, reason) -> None:
    # The SDK tries the current key, then the next; signing with the next key makes the
    # final message the one that names the real reason.
    with pytest.raises(InvalidSignature) as caught:
        verifier.verify(signature=signature, body=body, url=url)
    assert reason.lower() in caught.value.message.lower()
    assert caught.value.status == 401 and caught.value.retryable is False


def test_not_yet_valid_refused(verifier: SignatureVerifier) -> None:
    with pytest.raises(InvalidSignature):
        verifier.verify(signature=sign(BODY, URL, issued_at=time.time() + 600), body=BODY, url=URL)
