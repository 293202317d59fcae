"""RegistryScanning: Amazon Inspector enhanced scanning of the stack's model repositories.

ECR keeps one scanning configuration per registry (account and region): with ``modelStore.scanning:
enhanced`` this stack owns it, continuously scanning the repositories under ``<cluster>/``. Only one
stack per account and region may set it (a second would overwrite the first's rules).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.model_store.documents import enhanced_scanning_rules

TYPE = "ai-platform:artifacts:RegistryScanning"
ENHANCED = "ENHANCED"


@dataclass(frozen=True)
class RegistryScanningArgs:
    """The repositories Inspector scans."""

    repository_prefix: str
    """The start of the stack's repository names (``<cluster>/``); a wildcard filter covers them."""


class RegistryScanning(pulumi.ComponentResource):
    """The registry's enhanced scanning configuration."""

    configuration: aws.ecr.RegistryScanningConfiguration
    """The registry scanning configuration (scan type ENHANCED)."""

    def __init__(self, name: str, args: RegistryScanningArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        self.configuration = aws.ecr.RegistryScanningConfiguration(
            name, scan_type=ENHANCED, rules=enhanced_scanning_rules(args.repository_prefix),
            opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})
