"""The deployment checks behind /healthz and `courier doctor`: verdicts, fixes, caching."""

from __future__ import annotations

from types import SimpleNamespace

from courier import health
from courier.errors import Misconfigured
from courier.jobs.dispatch import Route
from courier.secrets import QStashCredentials

ROUTES = {"text.hash": Route("w", "https://w.lambda-url.eu-west-1.on.aws/", "https://sqs/q")}


def checks(**overrides: object) -> dict[str, health.Check]:
    qstash_keys = overrides.pop("qstash_keys", ("sig_a", "sig_b"))
    options = {
        "table_name": "t", "read_table": lambda: {}, "bucket_name": "b", "public_api_url": "https://api",
        "routes": ROUTES, "mode": "auto",
        "credentials": lambda: QStashCredentials("token", "sig_a", "sig_b"),
        "qstash": lambda: SimpleNamespace(signing_key=SimpleNamespace(get=lambda: SimpleNamespace(current=qstash_keys[0], next=qstash_keys[1]))),
        **overrides,
    }
    return {c.name: c for c in health.run(health.jobs_api_checks(**options))}  # type: ignore[arg-type]


def test_a_complete_deployment_passes_every_check() -> None:
    found = checks()
    assert {c.status for c in found.values()} == {"ok"} and health.overall(found.values()) == "ok"


def test_signing_keys_that_are_not_qstashs_fail_and_a_rotation_warns() -> None:
    assert checks(qstash_keys=("sig_x", "sig_y"))["qstash_signing_keys"].status == "fail"
    rotated = checks(qstash_keys=("sig_b", "sig_c"))["qstash_signing_keys"]
    assert rotated.status == "warn" and "rotated" in rotated.detail and rotated.fix


def test_a_missing_secret_or_token_fails_with_a_fix() -> None:
    def missing() -> QStashCredentials:
        raise Misconfigured("cannot read secret courier/dev/qstash: not found")

    found = checks(credentials=missing)
    assert found["qstash_secret"].status == "fail" and "courier/dev/qstash" in found["qstash_secret"].detail
    assert found["qstash_secret"].fix and found["qstash_signing_keys"].status == "fail"
    no_token = checks(credentials=lambda: QStashCredentials(None, "sig_a", "sig_b"))
    assert "every job goes by SQS" in no_token["qstash_secret"].detail


def test_in_sqs_mode_qstash_trouble_is_a_warning() -> None:
    found = checks(mode="sqs", credentials=lambda: QStashCredentials(None, "sig_a", "sig_b"))
    assert found["qstash_secret"].status == "warn" and "callbacks only" in found["qstash_secret"].detail
    assert health.overall(found.values()) == "warn"
    assert checks(mode="sqs", routes={"t": Route("w", "", "https://sqs/q")})["job_types"].status == "ok"


def test_an_exception_is_the_failure_of_its_check_not_of_the_report() -> None:
    def unreachable() -> object:
        raise ConnectionError("connection refused")

    found = checks(qstash=unreachable, read_table=lambda: 1 / 0)
    assert found["qstash_signing_keys"].status == "fail" and "ConnectionError" in found["qstash_signing_keys"].detail
    assert found["table"].status == "fail" and "ZeroDivisionError" in found["table"].detail
    assert found["bucket"].status == "ok"
    assert checks(routes={})["job_types"].status == "fail" and checks(bucket_name=None)["bucket"].status == "fail"


def test_details_only_for_callers_that_authenticated() -> None:
    check = health.Check("table", "fail", "AccessDenied for arn:aws:sts::123456789012:assumed-role/x", "fix it")
    assert check.to_dict(detailed=False) == {"name": "table", "status": "fail"}
    assert check.to_dict(detailed=True)["detail"].startswith("AccessDenied")


def test_the_report_is_cached_and_fresher_on_request() -> None:
    calls: list[int] = []
    report = health.CachedReport(lambda: calls.append(1) or [], ttl=60)
    report(), report()
    assert len(calls) == 1
    report(max_age=0)
    assert len(calls) == 2
