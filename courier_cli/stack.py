"""A deployed stack's outputs, read with the caller's credentials: the names the
commands need (`TableName`, `ApiUrl`) without anyone copying them by hand."""

from __future__ import annotations

import os
from dataclasses import dataclass


class StackNotFound(Exception):
    pass


def default_stack() -> str:
    """`COURIER_STACK`, else the stack `cdk deploy` makes without `-c stage=`."""
    from infra.config import CourierConfig, stack_name  # the catalogue behind it: only when asked

    return os.environ.get("COURIER_STACK") or stack_name(CourierConfig.stage)


@dataclass(frozen=True)
class StackOutputs:
    name: str
    region: str
    values: dict[str, str]

    def __getitem__(self, key: str) -> str:
        try:
            return self.values[key]
        except KeyError:
            raise StackNotFound(f"stack {self.name} has no output {key!r} (deployed from an older Courier? deploy again)") from None

    @property
    def api_url(self) -> str:
        from infra.config import OUTPUT_API_URL

        return self[OUTPUT_API_URL].rstrip("/")

    @property
    def table_name(self) -> str:
        from infra.config import OUTPUT_TABLE_NAME

        return self[OUTPUT_TABLE_NAME]

    @classmethod
    def read(cls, name: str) -> StackOutputs:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

        from courier.aws import client

        try:
            cloudformation = client("cloudformation")
            stacks = cloudformation.describe_stacks(StackName=name)["Stacks"]
        except NoRegionError:
            raise StackNotFound("no AWS region: set AWS_REGION (or a profile's region)") from None
        except NoCredentialsError:
            raise StackNotFound("no AWS credentials: set AWS_PROFILE or log in (aws sso login)") from None
        except ClientError as error:
            message = error.response.get("Error", {}).get("Message", str(error))
            if "does not exist" in message:
                raise StackNotFound(f"no stack {name} in {cloudformation.meta.region_name}: deploy it (README, \"Deploying\") or pass --stack") from None
            raise StackNotFound(f"cannot read stack {name}: {message}") from None
        except BotoCoreError as error:  # no network, a wrong endpoint
            raise StackNotFound(f"cannot reach CloudFormation for stack {name}: {error}") from None
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
        return cls(name, cloudformation.meta.region_name, outputs)
