"""IAM and KMS policy documents the cluster-side components share: pure JSON builders."""

from __future__ import annotations

import json
from typing import Any

SECRETS_KEY_ACTIONS = ("kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey")
"""What the EKS control plane does with the secrets key (terraform-aws-eks's cluster encryption policy)."""


def secrets_key_policy(key_arn: str) -> str:
    """The cluster role's use of its secrets key, and of no other key."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "ClusterEncryption", "Effect": "Allow", "Action": list(SECRETS_KEY_ACTIONS), "Resource": key_arn},
    ]})


def policy_document(statements: list[dict[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def assume_role_policy(service: str) -> str:
    return policy_document([{"Effect": "Allow", "Principal": {"Service": service},
                     "Action": ["sts:AssumeRole", "sts:TagSession"]}])
