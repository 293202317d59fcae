"""The ai-governance policy pack: builds the PolicyPack (a gRPC server that never returns).

The Pulumi CLI runs this as ``python -u -m pulumi.policy <engine-address> <pack-dir>``; so does
``python -m preflight preview``. The rules live in the importable ``ai_governance`` package.
"""

from pulumi_policy import EnforcementLevel, PolicyPack

from ai_governance import DESCRIPTION, PACK_NAME, POLICIES, install_sdk_hooks

install_sdk_hooks()

PolicyPack(
    name=PACK_NAME,
    description=DESCRIPTION,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
