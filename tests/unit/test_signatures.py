"""QStash signature checks: every way a delivery can be forged or stale is refused."""

from __future__ import annotations

import time

import jwt
import pytest

from courier.secrets import QStashCredentials
from courier.signatures import SIGNATURE_TTL_SECONDS, InvalidSignature, SignatureVerifier, body_hash
from tests.support.qstash_tokens import CURRENT_KEY, NEXT_KEY, sign

URL = "https://abc.lambda-url.us-east-1.on.aws/"
BODY = b'{"jobId":"j-1","type":"video.analyze"}'


def token(*, without: str | None = None, iss: str = "Upstash", alg: str = "HS256") -> str:
    """A token made with the right key but otherwise off."""
    now = int(time.time())
    claims = {"iss": iss, "sub": URL, "iat": now, "nbf": now, "exp": now + 300, "body": body_hash(BODY)}
    claims.pop(without or "", None)
    return jwt.encode(claims, CURRENT_KEY, algorithm=alg)


@pytest.fixture
def verifier() -> SignatureVerifier:
    return SignatureVerifier(lambda: QStashCredentials(None, CURRENT_KEY, NEXT_KEY))


def test_current_key_accepted(verifier: SignatureVerifier) -> None:
    verifier.verify(signature=sign(BODY, URL), body=BODY, url=URL)


def test_next_key_accepted_during_rotation(verifier: SignatureVerifier) -> None:
    verifier.verify(signature=sign(BODY, URL, key=NEXT_KEY), body=BODY, url=URL)


@pytest.mark.parametrize(
    "make_signature, body, url, reason",
    [
        (lambda: None, BODY, URL, "missing"),
        (lambda: "", BODY, URL, "missing"),
        (lambda: sign(BODY, URL, key="sig_someoneElsesKey000000000"), BODY, URL, "signing key"),
        (lambda: sign(BODY, URL, key=NEXT_KEY, issued_at=time.time() - 3600), BODY, URL, "expired"),
        (lambda: sign(BODY, "https://other.lambda-url.us-east-1.on.aws/", key=NEXT_KEY), BODY, URL, "another URL"),
        (lambda: sign(BODY, URL, key=NEXT_KEY), BODY.replace(b"j-1", b"j-2"), URL, "body does not match"),
        (lambda: "not-a-jwt", BODY, URL, "rejected"),
        (lambda: sign(b"\xff\xfe", URL), b"\xff\xfe", URL, "UTF-8"),
        (lambda: token(without="body"), BODY, URL, "body"),
        (lambda: token(without="sub"), BODY, URL, "sub"),
        (lambda: token(iss="Someone"), BODY, URL, "issuer"),
        (lambda: token(alg="HS512"), BODY, URL, "alg"),
        (lambda: sign(BODY, URL, issued_at=time.time() + 3600), BODY, URL, "not valid yet"),
    ],
    ids=["none", "empty", "wrong-key", "expired", "other-url", "tampered-body", "garbage", "binary-body",
         "no-body-claim", "no-sub", "other-issuer", "other-algorithm", "future-nbf"],
)
def test_forged_or_stale_refused(verifier, make_signature, body, url, reason) -> None:
    # Signed when the test runs, not when it is collected: a suite takes longer than a token lives.
    with pytest.raises(InvalidSignature) as caught:
        verifier.verify(signature=make_signature(), body=body, url=url)
    assert reason.lower() in caught.value.message.lower()
    assert caught.value.status == 401 and caught.value.retryable is False


def test_clock_skew_within_the_tolerance_is_accepted(verifier: SignatureVerifier) -> None:
    # nbf 3 s in our future (QStash's clock ahead), and exp 3 s in our past (ours ahead).
    verifier.verify(signature=sign(BODY, URL, issued_at=time.time() + 3), body=BODY, url=URL)
    verifier.verify(signature=sign(BODY, URL, issued_at=time.time() - SIGNATURE_TTL_SECONDS - 3), body=BODY, url=URL)


def test_not_yet_valid_refused(verifier: SignatureVerifier) -> None:
    with pytest.raises(InvalidSignature):
        verifier.verify(signature=sign(BODY, URL, issued_at=time.time() + 600), body=BODY, url=URL)
