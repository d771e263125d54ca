"""The KMS key that seals inbound webhook sources' secrets at rest (courier.inbound.sealing).

A customer-managed key, rotated yearly, kept when the stack is retained; only the jobs API
may encrypt and decrypt with it. Each secret is sealed under an encryption context naming its
tenant and source, so a sealed secret moved to another source's item does not open.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from infra.config import CourierConfig


class SealingKey(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, config: CourierConfig) -> None:
        super().__init__(scope, construct_id)
        self.key = kms.Key(
            self, "Key", alias=f"courier-{config.stage}-sources", enable_key_rotation=True,
            description="Courier: inbound webhook sources' secrets",
            removal_policy=RemovalPolicy.RETAIN if config.retain_data else RemovalPolicy.DESTROY,
        )

    def grant_seal_and_open(self, grantee: iam.IGrantable) -> None:
        grantee.grant_principal.add_to_principal_policy(iam.PolicyStatement(actions=["kms:Encrypt", "kms:Decrypt"], resources=[self.key.key_arn]))
