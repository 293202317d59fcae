"""Cross-field checks on the paths the first mutation run let through: each one states the rule
and a look-alike that must pass."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from components.config import ConfigError, validate_flat_config
from components.config.network import NetworkConfig
from components.config.services import ModelConfig
from tests.support.fixtures import ConfigEdit, P, stack_source

ADMIN = "arn:aws:iam::123456789012:role/platform-admin"


def problems(stack: str, edit: ConfigEdit) -> list[str]:
    source = stack_source(stack, edit)
    try:
        validate_flat_config(source.config, source.project, source.source)
    except ConfigError as error:
        return [line.split(": ", 1)[1] for line in str(error).splitlines()]
    return []


# --- model validators ---------------------------------------------------------------------------------

@pytest.mark.parametrize("fields, ok", [
    ({"mode": "existing", "vpcId": "vpc-1", "privateSubnetIds": ["subnet-a", "subnet-b"]}, True),
    ({"mode": "existing", "privateSubnetIds": ["subnet-a", "subnet-b"]}, False),  # no VPC
    ({"mode": "existing", "vpcId": "vpc-1", "privateSubnetIds": ["subnet-a"]}, False),  # one AZ
    ({"mode": "create"}, True),  # ids belong to mode existing only
])
def test_an_existing_network_needs_its_vpc_and_two_subnets(fields, ok):
    if ok:
        NetworkConfig.model_validate(fields)
    else:
        with pytest.raises(ValidationError, match="mode 'existing' needs vpcId and at least 2 privateSubnetIds"):
            NetworkConfig.model_validate(fields)


MODEL = {"name": "m", "version": "v1.2.0", "modelCardUrl": "https://models.example.com/m", "riskTier": "limited",
         "dataClassification": "internal", "owner": "ml@example.com", "intendedUse": "Captions for product images."}


@pytest.mark.parametrize("image, ok", [
    ("registry.example.com/m:v1.2.0", True),
    ("registry.example.com/m:v2.0.0", False),  # sorts after the version
    ("registry.example.com/m:v1.0.0", False),  # sorts before it
    ("registry.example.com/m:v9.9.9@sha256:" + "ab" * 32, True),  # a digest pins the image whatever the tag
])
def test_the_image_tag_is_the_model_version(image, ok):
    if ok:
        ModelConfig.model_validate({**MODEL, "image": image})
    else:
        with pytest.raises(ValidationError, match="does not match the image tag"):
            ModelConfig.model_validate({**MODEL, "image": image})


# --- cross-field checks -----------------------------------------------------------------------------------

def deployers(*arns: str) -> ConfigEdit:
    return lambda c: c[P + "cluster"].update(deployerPrincipalArns=list(arns))


def test_a_deployer_that_is_the_admin_is_refused_and_any_other_is_not():
    assert problems("sandbox", deployers(ADMIN)) == [
        "cluster.deployerPrincipalArns[0]: is adminPrincipalArn, which has its own access entry; remove it"]
    # Principals sorting before and after the admin's ARN are simply other principals.
    assert problems("sandbox", deployers(ADMIN + "-ci", "arn:aws:iam::123456789012:role/a-ci")) == []


def test_kubeconfig_mode_belongs_to_the_local_stack_only():
    def kubeconfig(c: dict[str, Any]) -> None:
        c[P + "cluster"] = {"mode": "kubeconfig", "name": "ai-platform-dev", "kubeconfigContext": "kind-ai-platform"}

    assert "cluster.mode: mode 'kubeconfig' is for the local stack only, and the local stack must use it" \
        in problems("sandbox", kubeconfig)


@pytest.mark.parametrize("url, refused", [
    ("git@github.com:apexlogic/ai-platform-gitops.git", True),
    ("ssh://git@github.com/apexlogic/ai-platform-gitops.git", True),
    ("https://github.com/apexlogic/ai-platform-gitops.git", False),
])
def test_a_private_gitops_repo_is_reached_over_https(url, refused):
    def private(c: dict[str, Any]) -> None:
        c[P + "argocd"]["repo"].update(url=url, private=True)
        for project in c[P + "projects"]:
            project["sourceRepos"] = [url]

    found = [p for p in problems("sandbox", private) if p.startswith("argocd.repo.url")]
    assert found == (["argocd.repo.url: a private repo takes the gitopsRepoToken over HTTPS; use an https:// URL"]
                     if refused else [])


def test_pool_capacity_counts_whole_pods_per_node():
    # g5.12xlarge has 4 GPUs: 2 nodes hold 2 x (4 // 2) = 4 pods of 2 GPUs; 5 replicas do not fit.
    def big(c: dict[str, Any]) -> None:
        pool = c[P + "nodePools"][1]
        pool.update(instanceTypes=["g5.12xlarge"], maxSize=2)
        service = c[P + "services"][0]
        service["resources"]["gpus"] = 2
        service["replicas"] = {"min": 1, "max": 5}

    assert "services[0].replicas.max: 5 replicas x 2 GPU(s) exceed pool 'gpu-a10g' capacity: 2 nodes x 4 GPU(s) " \
           "hold at most 4 such pods" in problems("sandbox", big)


def test_a_created_cluster_needs_its_admin_and_the_others_do_not():
    assert problems("sandbox", lambda c: c[P + "cluster"].pop("adminPrincipalArn")) == [
        "cluster: mode 'create' needs adminPrincipalArn for the cluster access entry"]


def test_a_label_key_too_long_for_its_autoscaler_tag_says_how_long_it_may_be():
    # k8s.io/cluster-autoscaler/node-template/label/ is 46 characters: 128 - 46 = 82 remain for the key.
    key = "a" * 30 + ".example.com/" + "b" * 50

    def long_label(c: dict[str, Any]) -> None:
        c[P + "nodePools"][1].setdefault("labels", {})[key] = "x"

    assert f"nodePools[1].labels: label key '{key}' makes its scale-from-zero ASG tag key 139 characters (AWS " \
           "allows 128); use a key of at most 82 characters" in problems("sandbox", long_label)


def test_a_version_tag_without_a_digest_is_fine_in_prod():
    def tag_only(c: dict[str, Any]) -> None:
        c[P + "services"][0]["model"]["image"] = "apexlogic/multimodal-model:v1.2.0"

    assert not [p for p in problems("live", tag_only) if "latest" in p]


def test_a_disabled_argocd_is_not_checked():
    def disabled_with_ssh(c: dict[str, Any]) -> None:
        c[P + "argocd"].update(enabled=False)
        c[P + "argocd"]["repo"].update(url="git@github.com:apexlogic/ai-platform-gitops.git", private=True)

    assert not [p for p in problems("sandbox", disabled_with_ssh) if p.startswith("argocd.")]


def test_argocd_ha_needs_three_system_nodes():
    def ha(c: dict[str, Any]) -> None:
        c[P + "argocd"]["ha"] = True
        c[P + "nodePools"][0]["minSize"] = 2

    assert [p for p in problems("sandbox", ha) if p.startswith("argocd.ha")] == [
        "argocd.ha: HA runs redis-ha with 3 pods on separate nodes, but system pool 'system' has minSize 2; raise its "
        "minSize to 3 or set argocd.ha: false"]


def test_a_private_access_cidr_listed_twice_is_refused():
    def twice(c: dict[str, Any]) -> None:
        c[P + "cluster"]["privateAccessCidrs"] = ["10.42.0.0/16", "10.43.0.0/16", "10.42.0.0/16"]

    assert [p for p in problems("live", twice) if p.startswith("cluster.privateAccessCidrs")] == [
        "cluster.privateAccessCidrs[2]: lists 10.42.0.0/16 twice"]
