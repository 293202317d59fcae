"""What a real AWS account and real nodes need on the first `pulumi up`, asserted on the recorded inputs.

Zones by ID and offerings, the S3 gateway endpoint, the endpoint bootstrap modes and their validation,
the cluster role's use of its secrets key, prod protection of the audit log group and keys, add-ons
tolerating a tainted system pool, Argo CD's URL, GPU pods' /dev/shm and model cache, and the spot
warning.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.argocd_values import LOCAL_DOMAIN, get_path
from components.iam_policies import SECRETS_KEY_ACTIONS
from components.network import usable_zone_ids
from preflight import invokes
from tests.support.fixtures import (
    AWS_STACKS,
    P,
    config,
    errors,
    pool,
    preview,
    recorded,
)
from tests.support.recordings import by_name, of_type, one

SUBNET = "aws:ec2/subnet:Subnet"
KMS = "aws:kms/key:Key"
RELEASE = "kubernetes:helm.sh/v3:Release"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
OFFERINGS = "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings"
PROD, DEV = "stacks/Pulumi.prod.yaml", "stacks/Pulumi.dev.yaml"
SYSTEM_TAINT = {"key": "CriticalAddonsOnly", "value": "true", "effect": "NoSchedule"}
TOLERATION = {**SYSTEM_TAINT, "operator": "Equal"}


# --- availability zones by ID, intersected with the pools' offerings ---------------------------

def test_preflight_account_has_a_zone_without_gpu_types():
    answer = invokes.answer(OFFERINGS, {"locationType": "availability-zone-id",
                                        "filters": [{"name": "instance-type", "values": ["g5.xlarge", "m6i.large"]}]},
                            "us-east-1")
    offered = set(zip(answer["instanceTypes"], answer["locations"]))
    assert ("m6i.large", "use1-az3") in offered and ("g5.xlarge", "use1-az3") not in offered
    assert ("g5.xlarge", "use1-az1") in offered
    # Names map to IDs in this account's own order: us-east-1c is use1-az1, us-east-1e the GPU-less zone.
    zones = invokes.answer("aws:index/getAvailabilityZones:getAvailabilityZones",
                           {"filters": [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]}, "us-east-1")
    assert dict(zip(zones["names"], zones["zoneIds"]))["us-east-1e"] == "use1-az3"


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_the_zone_lacking_the_gpu_types_is_never_used(stack):
    zones = {s.inputs["availabilityZoneId"] for s in of_type(recorded(stack), SUBNET)}
    assert "use1-az3" not in zones


def test_a_cpu_only_stack_may_use_the_zone_without_gpus():
    def cpu_only(c: dict[str, Any]) -> None:
        c[P + "nodePools"] = [p for p in c[P + "nodePools"] if p["role"] == "system"]
        c[P + "services"] = []
        c[P + "network"]["azCount"] = 3
        c[P + "addons"] = {"dcgmExporter": {"enabled": False, "version": "4.8.2"}}
    zones = {s.inputs["availabilityZoneId"] for s in of_type(preview("prod", cpu_only), SUBNET)}
    assert zones == {"use1-az1", "use1-az2", "use1-az3"}


def test_too_few_zones_offering_the_pools_fail_with_one_line_naming_the_zones():
    with pytest.raises(pulumi.RunError) as caught:
        preview("prod", lambda c: c[P + "network"].update(azCount=6))
    assert str(caught.value) == (
        f"{PROD}: network.azCount: 6 zones asked for, but only 5 zone(s) of the region (use1-az1, use1-az2, use1-az4, "
        "use1-az5, use1-az6) offer every node pool instance type (m6i.xlarge, g5.2xlarge, g5.12xlarge); lower azCount "
        "or change the pools' instanceTypes")


def test_too_few_zones_exit_2_with_the_one_line_in_preflight(tmp_path, capsys):
    from preflight.cli import main
    from tests.support.fixtures import PROJECT, ROOT
    (tmp_path / "stacks").mkdir()
    (tmp_path / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())
    (tmp_path / "__main__.py").write_text((ROOT / "__main__.py").read_text())
    prod = (PROJECT / "stacks" / "Pulumi.prod.yaml").read_text()
    (tmp_path / "stacks" / "Pulumi.prod.yaml").write_text(prod.replace("    azCount: 3\n", "    azCount: 6\n"))
    assert main(["preview", "--stack", "prod", "--no-policy", "--project-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"{PROD}: network.azCount: 6 zones asked for, but only 5 zone(s) of the region (use1-az1, use1-az2, "
                   "use1-az4, use1-az5, use1-az6) offer every node pool instance type (m6i.xlarge, g5.2xlarge, "
                   "g5.12xlarge); lower azCount or change the pools' instanceTypes"]


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), unique=True),
       st.sets(st.tuples(st.sampled_from(["t1", "t2", "t3"]), st.sampled_from(["a", "b", "c", "d"]))),
       st.sets(st.sampled_from(["t1", "t2", "t3"]), min_size=1))
def test_usable_zones_offer_every_type_and_keep_their_order(zones, offerings, types):
    usable = usable_zone_ids(zones, sorted(offerings), sorted(types))
    assert usable == [z for z in zones if z in usable]
    for zone in zones:
        assert (zone in usable) == all((t, zone) in offerings for t in types)


# --- S3 gateway endpoint --------------------------------------------------------------------------

@pytest.mark.parametrize("stack", AWS_STACKS)
def test_s3_gateway_endpoint_on_every_private_route_table(stack):
    recording = recorded(stack)
    endpoint = one(recording, "aws:ec2/vpcEndpoint:VpcEndpoint", "network-s3")
    assert endpoint.inputs["serviceName"] == "com.amazonaws.us-east-1.s3"
    assert endpoint.inputs["vpcEndpointType"] == "Gateway"
    private = sorted(t.urn for n, t in by_name(recording, "aws:ec2/routeTable:RouteTable").items() if "-private-" in n)
    assert len(private) == config(stack).network.az_count
    assert sorted(endpoint.property_dependencies["routeTableIds"]) == private


# --- endpoint bootstrap: three modes and their validation ----------------------------------------

def cluster_edit(**changes: Any):
    def edit(c: dict[str, Any]) -> None:
        for key, value in changes.items():
            if value is None:
                c[P + "cluster"].pop(key, None)
            else:
                c[P + "cluster"][key] = value
    return edit


def test_public_mode_limits_the_public_endpoint_to_office_and_runner_cidrs():
    recording = preview("dev", cluster_edit(runnerCidrs=["198.51.100.0/28"]))
    vpc = one(recording, "aws:eks/cluster:Cluster", "cluster-eks").inputs["vpcConfig"]
    assert (vpc["endpointPublicAccess"], vpc["endpointPrivateAccess"]) == (True, True)
    assert vpc["publicAccessCidrs"] == ["198.51.100.0/28", "203.0.113.0/24"]


@pytest.mark.parametrize("edit, expected", [
    pytest.param(cluster_edit(endpointAccess=None, runnerCidrs=None), [
        f"{PROD}: cluster.runnerCidrs: endpointAccess 'private' (the default in prod) is reachable only from inside "
        "the VPC, and no runner is declared; deploy first with endpointAccess: bootstrap and runnerCidrs set to the "
        "runners' public egress CIDRs, or declare an existing runner VPC's CIDR (see docs/running-for-real.md)"],
        id="private-without-runners"),
    pytest.param(cluster_edit(endpointAccess="private", runnerCidrs=["10.42.8.0/24"]), [
        f"{PROD}: cluster.runnerCidrs[0]: 10.42.8.0/24 lies in network.cidr 10.42.0.0/16, the VPC this stack creates, "
        "so no runner is there on the first run; deploy first with endpointAccess: bootstrap and runnerCidrs set to "
        "the runners' public egress CIDRs, or declare an existing runner VPC's CIDR (see docs/running-for-real.md)"],
        id="runner-in-the-vpc-this-stack-creates"),
    pytest.param(cluster_edit(endpointAccess="private", runnerCidrs=["198.51.100.16/28"]), [
        f"{PROD}: cluster.runnerCidrs[0]: 198.51.100.16/28 is a public range, which cannot reach a private-only "
        "endpoint; list the CIDR of the runners' VPC (peered, attached by Transit Gateway or reached by VPN)"],
        id="public-runner-for-a-private-endpoint"),
    pytest.param(cluster_edit(runnerCidrs=["10.90.0.0/16"]), [
        f"{PROD}: cluster.runnerCidrs[0]: 10.90.0.0/16 is a private range, which cannot reach the public endpoint "
        "of endpointAccess 'bootstrap'; list the runners' public egress CIDRs (e.g. their NAT gateways' addresses)"],
        id="private-runner-for-bootstrap"),
    pytest.param(cluster_edit(runnerCidrs=[]), [
        f"{PROD}: cluster.runnerCidrs: endpointAccess 'bootstrap' opens the public endpoint to the runners only; "
        "list their public egress CIDRs"], id="bootstrap-without-runners"),
    pytest.param(cluster_edit(endpointAccess="public", runnerCidrs=None), [
        f"{PROD}: cluster.runnerCidrs: prod is deployed from CI: declare the runners' CIDRs so the endpoint admits them",
        f"{PROD}: cluster.endpointAccess: a public API endpoint in prod must be limited by publicAccessCidrs or "
        "runnerCidrs"], id="prod-public-without-runners"),
    pytest.param(cluster_edit(endpointPublicAccess=False), [
        f"{PROD}: cluster: endpointPublicAccess is replaced by endpointAccess: public, bootstrap (public endpoint "
        "only for runnerCidrs) or private"], id="renamed-key"),
])
def test_a_prod_endpoint_no_declared_runner_can_reach_is_rejected(edit, expected):
    assert errors("prod", edit) == expected


def test_dev_needs_no_runner_for_its_public_endpoint():
    assert config("dev").cluster.runner_cidrs == []
    recorded("dev")  # validates and runs


# --- KMS: the cluster role's use of its key; prod protection -------------------------------------

@pytest.mark.parametrize("stack", AWS_STACKS)
def test_cluster_role_may_use_its_secrets_key_before_the_cluster_exists(stack):
    recording = recorded(stack)
    grant = one(recording, "aws:iam/rolePolicy:RolePolicy", "cluster-role-secrets-key")
    key, role = one(recording, KMS, "cluster-secrets"), one(recording, "aws:iam/role:Role", "cluster-role")
    assert grant.property_dependencies["policy"] == [key.urn]
    assert grant.property_dependencies["role"] == [role.urn]
    assert grant.urn in one(recording, "aws:eks/cluster:Cluster", "cluster-eks").options["dependsOn"]
    assert SECRETS_KEY_ACTIONS == ("kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey")


def test_secrets_key_policy_names_exactly_the_four_actions_on_the_key():
    from components.iam_policies import secrets_key_policy
    (statement,) = json.loads(secrets_key_policy("arn:aws:kms:us-east-1:123456789012:key/k"))["Statement"]
    assert statement == {"Sid": "ClusterEncryption", "Effect": "Allow", "Resource": "arn:aws:kms:us-east-1:123456789012:key/k",
                         "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ListGrants", "kms:DescribeKey"]}


def test_prod_protects_and_retains_the_audit_log_group_and_every_kms_key():
    recording = recorded("prod")
    logs = one(recording, "aws:cloudwatch/logGroup:LogGroup", "cluster-logs")
    durable = [logs, *of_type(recording, KMS)]
    assert len(durable) == 3  # the log group, the secrets key, the alerts key
    assert all(r.options["protect"] and r.options["retainOnDelete"] for r in durable)
    dev = recorded("dev")
    assert not any(r.options["protect"] or r.options["retainOnDelete"]
                   for r in [one(dev, "aws:cloudwatch/logGroup:LogGroup", "cluster-logs"), *of_type(dev, KMS)])


# --- add-ons on a tainted system pool, and Argo CD's URL -----------------------------------------

def tainted_system(c: dict[str, Any]) -> None:
    pool(c, "system")["taints"] = [SYSTEM_TAINT]


def release_values(recording, name: str) -> dict[str, Any]:
    return one(recording, RELEASE, name).inputs["values"]


def test_every_system_pool_addon_tolerates_its_taints():
    recording = preview("prod", tainted_system)
    assert release_values(recording, "cluster-addons-cluster-autoscaler")["tolerations"] == [TOLERATION]
    assert release_values(recording, "cluster-addons-metrics-server")["tolerations"] == [TOLERATION]
    argo = release_values(recording, "argocd")
    paths = ["global", "controller", "server", "repoServer", "applicationSet", "notifications", "dex", "redis",
             "redisSecretInit", "redis-ha", "redis-ha.haproxy"]
    for path in paths:
        assert get_path(argo, f"{path}.tolerations") == [TOLERATION], path


def test_an_untainted_system_pool_gets_no_tolerations():
    argo = release_values(recorded("prod"), "argocd")
    assert argo["global"]["tolerations"] == [] and argo["redis-ha"]["haproxy"]["tolerations"] == []
    assert "tolerations" not in release_values(recorded("prod"), "cluster-addons-cluster-autoscaler")


def test_argocd_domain_is_the_port_forward_without_ingress_and_the_host_with_one():
    assert release_values(recorded("dev"), "argocd")["global"]["domain"] == LOCAL_DOMAIN == "localhost:8080"
    host = "argocd.apexlogic.com"
    recording = preview("dev", lambda c: c[P + "argocd"].update(ingress={"host": host, "tlsSecretName": "argocd-tls"}))
    values = release_values(recording, "argocd")
    assert values["global"]["domain"] == host and values["configs"]["cm"]["url"] == f"https://{host}"


# --- GPU pods: /dev/shm and the model cache ------------------------------------------------------

def pod_spec(recording, name: str) -> dict[str, Any]:
    return one(recording, DEPLOYMENT, name).inputs["spec"]["template"]["spec"]


def test_multi_gpu_service_mounts_an_in_memory_dev_shm():
    spec = pod_spec(recorded("prod"), "claims-triage-assistant")  # 2 GPUs, 64Gi
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["dshm"] == {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "32768Mi"}}
    mounts = {m["name"]: m["mountPath"] for m in spec["containers"][0]["volumeMounts"]}
    assert mounts["dshm"] == "/dev/shm"


def test_single_gpu_service_mounts_dev_shm_only_when_asked():
    assert "dshm" not in {v["name"] for v in pod_spec(recorded("dev"), "multimodal-inference-service")["volumes"]}
    recording = preview("dev", lambda c: c[P + "services"][0].update(sharedMemory={"enabled": True, "sizeLimit": "2Gi"}))
    volumes = {v["name"]: v for v in pod_spec(recording, "multimodal-inference-service")["volumes"]}
    assert volumes["dshm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "2Gi"}


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_gpu_services_get_a_sized_model_cache_as_home_and_hf_home(stack):
    for deployment in of_type(recorded(stack), DEPLOYMENT):
        spec = deployment.inputs["spec"]["template"]["spec"]
        container = spec["containers"][0]
        assert {"name": "model-cache", "emptyDir": {"sizeLimit": "50Gi"}} in spec["volumes"]
        assert {"name": "model-cache", "mountPath": "/model-cache"} in container["volumeMounts"]
        assert container["resources"]["requests"]["ephemeral-storage"] == "50Gi"
        env = {e["name"]: e["value"] for e in container["env"]}
        assert env["HOME"] == env["HF_HOME"] == "/model-cache"


@pytest.mark.parametrize("edit, expected", [
    pytest.param(lambda c: c[P + "services"][0].update(modelCache={"sizeLimit": "190Gi"}), [
        f"{DEV}: services[0].modelCache.sizeLimit: 190Gi does not fit pool 'gpu-a10g''s 200 GiB disk with 30 GiB left "
        "for images and the OS; lower it or raise the pool's diskSizeGib"], id="cache-larger-than-the-disk"),
    pytest.param(lambda c: c[P + "services"][0].update(sharedMemory={"enabled": True, "sizeLimit": "12Gi"}), [
        f"{DEV}: services[0].sharedMemory.sizeLimit: 12Gi must be less than resources.memory 12Gi: "
        "an in-memory /dev/shm counts against the memory limit"], id="shm-as-large-as-memory"),
    pytest.param(lambda c: c[P + "services"][0].update(env={"HF_HOME": "/tmp"}), [
        f"{DEV}: services[0].env: ['HF_HOME'] are set by the platform (model.version, ethics.policyId, the model "
        "cache path and model.artifactUri); remove them from env"], id="hf-home-in-env"),
])
def test_bad_pod_storage_config_says_what_is_wrong(edit, expected):
    assert errors("dev", edit) == expected


# --- spot diversification --------------------------------------------------------------------------

def test_a_single_type_spot_gpu_pool_is_warned_about():
    recording = preview("dev", lambda c: pool(c, "gpu-a10g").update(instanceTypes=["g5.xlarge"]))
    warnings = [m for level, m in recording.logs if level == "warning" and "spot GPU pool" in m]
    assert warnings == [f"{DEV}: nodePools[1].instanceTypes: spot GPU pool 'gpu-a10g' lists one instance type "
                        "(g5.xlarge); spot GPU capacity of a single type is often unavailable, so list several types "
                        "with the same GPU (e.g. g5.xlarge, g5.2xlarge, g5.4xlarge)"]
    assert not [m for _, m in recorded("dev").logs if "spot GPU pool" in m]
