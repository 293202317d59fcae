"""protect and retainOnDelete on the resources whose loss would hurt, as recorded on the fixture stacks
(sandbox: dev, preprod: staging, live: prod)."""

from __future__ import annotations

import pytest

from tests.support import preview

CRITICAL = {
    "aws:eks/cluster:Cluster": "the EKS cluster",
    "aws:budgets/budget:Budget": "a budget",
    "kubernetes:helm.sh/v3:Release": "the Argo CD release",
}


def critical(recording):
    found = [r for r in recording.resources if r.type in CRITICAL and (r.type != "kubernetes:helm.sh/v3:Release" or r.name == "argocd")]
    keys = [r for r in recording.resources if r.type == "aws:kms/key:Key"]
    cluster_keys = [k for k in keys if k.name == "cluster-secrets"]
    return found, keys, cluster_keys


@pytest.fixture(scope="module")
def prod():
    return preview("live")


def test_prod_protects_cluster_kms_key_argocd_and_budgets(prod):
    found, keys, cluster_keys = critical(prod)
    assert {r.type for r in found} == set(CRITICAL)
    for resource in found:
        assert resource.options["protect"], f"{resource.type} {resource.name} is not protected in prod"
    assert cluster_keys, [k.urn for k in keys]
    for key in cluster_keys:
        assert key.options["protect"] and key.options["retainOnDelete"], key.urn


def test_the_cluster_kms_key_is_retained_with_protection_only():
    """Deleting the key that envelope-encrypts the cluster's secrets makes them unreadable, so a
    protected stack retains it; a dev stack torn down on purpose does not leave a billed key behind."""
    _, _, dev_keys = critical(preview("sandbox"))
    assert dev_keys and not any(k.options["retainOnDelete"] for k in dev_keys)


def test_dev_protects_nothing_by_default():
    found, _, cluster_keys = critical(preview("sandbox"))
    assert found and not any(r.options["protect"] for r in [*found, *cluster_keys])


def test_protection_is_configurable():
    def off(config):
        config["ai-platform:protect"] = False

    found, _, cluster_keys = critical(preview("live", off))
    assert found and not any(r.options["protect"] for r in [*found, *cluster_keys])

    def on(config):
        config["ai-platform:protect"] = True

    found, _, cluster_keys = critical(preview("preprod", on))
    assert all(r.options["protect"] for r in [*found, *cluster_keys])
