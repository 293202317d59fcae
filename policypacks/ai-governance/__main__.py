"""The ai-governance policy pack: builds the PolicyPack (a gRPC server that never returns).

The Pulumi CLI runs this as ``python -u -m pulumi.policy <engine-address> <pack-dir>``; so does
``python -m preflight preview``. The rules live in the importable ``ai_governance`` package.
"""

import gc

from pulumi_policy import EnforcementLevel, PolicyPack

from ai_governance import DESCRIPTION, PACK_NAME, POLICIES, install_sdk_hooks

install_sdk_hooks()
# Every Analyze call deserializes a property bag into short-lived objects; with the default
# thresholds the collector keeps rescanning the long-lived SDK and rule objects. Freeze what is
# loaded now and collect the young generation less often (the pack's memory stays bounded).
gc.freeze()
gc.set_threshold(20_000, 20, 20)

PolicyPack(
    name=PACK_NAME,
    description=DESCRIPTION,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=POLICIES,
)
