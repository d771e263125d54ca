"""References to secrets that already exist: created by the user, never by the template.

A reference is a Secrets Manager secret name, or `ssm:/name` for an SSM SecureString
parameter. Functions receive only the reference (`secretsmanager:<name>` or `ssm:<name>`)
and read the value at run time, so no secret ever sits in the template or in a plain
environment variable.
"""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_ssm as ssm
from constructs import Construct

SSM_PREFIX = "ssm:"


class SecretReference(Construct):
    """`kms_key_arn`: the customer-managed key the secret is encrypted with, if any; a
    reader may decrypt with it only through Secrets Manager or SSM."""

    def __init__(self, scope: Construct, construct_id: str, *, reference: str, kms_key_arn: str | None = None) -> None:
        super().__init__(scope, construct_id)
        self._kms_key_arn = kms_key_arn
        self._secret: secretsmanager.ISecret | None = None
        self._parameter: ssm.IParameter | None = None
        if reference.startswith(SSM_PREFIX):
            name = reference[len(SSM_PREFIX):]
            if not name.startswith("/"):
                raise ValueError(f"SSM parameter references need an absolute name: {reference!r}")
            self._parameter = ssm.StringParameter.from_secure_string_parameter_attributes(
                self, "Parameter", parameter_name=name
            )
            self.runtime_reference = f"ssm:{name}"
        else:
            self._secret = secretsmanager.Secret.from_secret_name_v2(self, "Secret", reference)
            # By name: the full ARN ends in a random suffix the template cannot know.
            self.runtime_reference = f"secretsmanager:{reference}"

    def grant_read(self, grantee: iam.IGrantable) -> None:
        if self._secret is not None:
            self._secret.grant_read(grantee)
        else:
            assert self._parameter is not None
            self._parameter.grant_read(grantee)
        if self._kms_key_arn:
            stack = Stack.of(self)
            services = [f"{service}.{stack.region}.{stack.url_suffix}" for service in ("secretsmanager", "ssm")]
            grantee.grant_principal.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["kms:Decrypt"], resources=[self._kms_key_arn],
                    conditions={"StringEquals": {"kms:ViaService": services}},
                )
            )
