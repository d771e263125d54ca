"""cdk-nag acknowledgements: each one names the rule, the construct and why it stands."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct

#: IAM actions that exist only on Resource "*" (X-Ray's PutTraceSegments, say), each with
#: the reason Courier grants it. Empty: Courier grants nothing on "*", and the
#: infrastructure tests fail on any statement with a "*" resource whose actions are not here.
STAR_RESOURCE_ACTIONS: dict[str, str] = {}


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))
