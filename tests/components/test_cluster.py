"""Cluster: EKS (create / existing) or a kubeconfig context, and the one Kubernetes provider."""

from __future__ import annotations

import json

import pytest

from components.kubeconfig import kubeconfig_for_eks
from preflight import invokes
from preflight.engine import SECRET_SIG, SIG_KEY, UNKNOWN
from tests.support.fixtures import (
    AWS_STACKS,
    STACKS,
    P,
    config,
    preview,
    recorded,
)
from tests.support.recordings import by_name, of_type, one, provider_urn

EKS = "aws:eks/cluster:Cluster"
KMS = "aws:kms/key:Key"
ADDON = "aws:eks/addon:Addon"
NG = "aws:eks/nodeGroup:NodeGroup"
K8S_PROVIDER = "pulumi:providers:kubernetes"
ENTRY = "aws:eks/accessEntry:AccessEntry"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
PROD_DEPLOYER = "arn:aws:iam::123456789012:role/ai-platform-prod-deployer"


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_control_plane_logs_include_audit_and_authenticator(stack):
    eks = one(recorded(stack), EKS, "cluster-eks")
    # audit and authenticator only: the high-volume api log is off unless controlPlaneLogs lists it.
    assert eks.inputs["enabledClusterLogTypes"] == ["audit", "authenticator"]
    logs = one(recorded(stack), "aws:cloudwatch/logGroup:LogGroup", "cluster-logs")
    assert logs.inputs["name"] == f"/aws/eks/{config(stack).cluster.name}/cluster"
    assert logs.urn in eks.options["dependsOn"]  # created first, with a retention


def test_control_plane_log_types_are_configurable():
    recording = preview("sandbox", lambda c: c[P + "cluster"].update(controlPlaneLogs=["api", "audit", "authenticator", "scheduler"]))
    eks = one(recording, EKS, "cluster-eks")
    assert eks.inputs["enabledClusterLogTypes"] == ["api", "audit", "authenticator", "scheduler"]


RUNNER_VPC = "10.90.0.0/16"
"""An existing runner VPC, peered with prod's (tests switch prod to endpointAccess: private with it)."""


def prod_private(c) -> None:
    c[P + "cluster"].update(endpointAccess="private", runnerCidrs=[RUNNER_VPC])
    c[P + "cluster"].pop("privateAccessCidrs", None)


def test_prod_bootstrap_opens_the_public_endpoint_to_the_runners_only():
    vpc = one(recorded("live"), EKS, "cluster-eks").inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == config("live").cluster.runner_cidrs == ["198.51.100.16/28"]
    # Nothing reaches the private endpoint yet: no runner exists in the VPC this stack creates.
    assert of_type(recorded("live"), INGRESS) == []


def test_prod_private_is_private_only_and_admits_the_runner_vpc():
    recording = preview("live", prod_private)
    vpc = one(recording, EKS, "cluster-eks").inputs["vpcConfig"]
    assert (vpc["endpointPrivateAccess"], vpc["endpointPublicAccess"]) == (True, False)
    assert vpc.get("publicAccessCidrs") is None
    assert [r.inputs["cidrIpv4"] for r in of_type(recording, INGRESS)] == [RUNNER_VPC]


def test_dev_public_endpoint_is_limited_to_the_configured_cidrs():
    vpc = one(recorded("sandbox"), EKS, "cluster-eks").inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is True
    assert vpc["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_a_public_endpoint_without_cidrs_is_flagged():
    recording = preview("sandbox", lambda c: c[P + "cluster"].pop("publicAccessCidrs"))
    vpc = one(recording, EKS, "cluster-eks").inputs["vpcConfig"]
    assert vpc["endpointPublicAccess"] is True and vpc.get("publicAccessCidrs") is None
    assert any(level == "warning" and "open to 0.0.0.0/0" in message for level, message in recording.logs)
    assert not any("open to 0.0.0.0/0" in message for _, message in recorded("sandbox").logs)


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_api_authentication_with_an_access_entry_for_the_admin(stack):
    recording, cfg = recorded(stack), config(stack)
    eks = one(recording, EKS, "cluster-eks")
    assert eks.inputs["name"] == cfg.cluster.name
    assert eks.inputs["version"] == cfg.cluster.version
    assert eks.inputs["accessConfig"] == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    entry = one(recording, "aws:eks/accessEntry:AccessEntry", "cluster-admin")
    assert entry.inputs["principalArn"] == cfg.cluster.admin_principal_arn
    assert entry.inputs["type"] == "STANDARD"
    association = one(recording, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "cluster-admin")
    assert association.inputs["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert association.inputs["accessScope"] == {"type": "cluster"}


def test_prod_deployer_gets_an_access_entry_with_cluster_admin_and_the_provider_waits_for_it():
    recording, cfg = recorded("live"), config("live")
    assert cfg.cluster.deployer_principal_arns == [PROD_DEPLOYER]
    name = "cluster-deployer-123456789012-role-ai-platform-prod-deployer"
    entry = one(recording, ENTRY, name)
    assert entry.inputs["principalArn"] == PROD_DEPLOYER and entry.inputs["type"] == "STANDARD"
    expected = cfg.tags.aws_tags()
    assert {k: entry.inputs["tags"][k] for k in expected} == expected
    association = one(recording, ASSOCIATION, name)
    assert association.inputs["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert association.inputs["accessScope"] == {"type": "cluster"}
    assert association.property_dependencies["principalArn"] == [entry.urn]
    # Kubernetes resources are created by the deployer itself: its access comes first.
    assert association.urn in one(recording, K8S_PROVIDER).options["dependsOn"]


def test_deployers_are_optional_and_one_entry_each():
    assert [e.name for e in of_type(recorded("sandbox"), ENTRY)] == ["cluster-admin"]
    arns = ["arn:aws:iam::123456789012:role/github-actions/deploy", "arn:aws:iam::210987654321:user/ci"]
    recording = preview("sandbox", lambda c: c[P + "cluster"].update(deployerPrincipalArns=arns))
    entries = {e.inputs["principalArn"]: e.name for e in of_type(recording, ENTRY)}
    assert entries == {"arn:aws:iam::123456789012:role/platform-admin": "cluster-admin",
                       arns[0]: "cluster-deployer-123456789012-role-github-actions-deploy",
                       arns[1]: "cluster-deployer-210987654321-user-ci"}
    assert len(of_type(recording, ASSOCIATION)) == 3


def test_private_endpoint_admits_the_runner_vpc_on_443_through_the_cluster_security_group():
    recording = preview("live", prod_private)
    (rule,) = of_type(recording, INGRESS)
    eks = one(recording, EKS, "cluster-eks")
    assert rule.inputs["cidrIpv4"] == RUNNER_VPC
    assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == ("tcp", 443, 443)
    assert "cidrIpv6" not in rule.inputs
    # The cluster security group is EKS's to create: unknown at preview, the cluster's once it exists.
    assert rule.inputs["securityGroupId"] == UNKNOWN
    assert rule.property_dependencies["securityGroupId"] == [eks.urn]
    expected = config("live").tags.aws_tags()
    assert {k: rule.inputs["tags"][k] for k in expected} == expected
    (created,) = of_type(preview("live", prod_private, preview=False), INGRESS)
    assert created.inputs["securityGroupId"] == invokes.answer(
        "aws:eks/getCluster:getCluster", {"name": "ai-platform-prod"}, "us-east-1")["vpcConfig"]["clusterSecurityGroupId"]


def test_private_access_cidrs_are_optional_and_take_ipv6():
    assert of_type(recorded("sandbox"), INGRESS) == []
    recording = preview("sandbox", lambda c: c[P + "cluster"].update(privateAccessCidrs=["10.40.0.0/16", "2600:1f18::/56"]))
    rules = {r.name: r.inputs for r in of_type(recording, INGRESS)}
    assert set(rules) == {"cluster-api-from-10-40-0-0-16", "cluster-api-from-2600-1f18-56"}
    assert rules["cluster-api-from-2600-1f18-56"]["cidrIpv6"] == "2600:1f18::/56"
    assert "cidrIpv4" not in rules["cluster-api-from-2600-1f18-56"]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_secrets_are_envelope_encrypted_with_a_rotating_key(stack):
    recording = recorded(stack)
    eks, key = one(recording, EKS, "cluster-eks"), one(recording, KMS, "cluster-secrets")
    assert key.inputs["enableKeyRotation"] is True
    assert eks.inputs["encryptionConfig"]["resources"] == ["secrets"]
    assert eks.property_dependencies["encryptionConfig"] == [key.urn]


def test_prod_protects_the_cluster_and_retains_the_key():
    recording = recorded("live")
    eks, key = one(recording, EKS, "cluster-eks"), one(recording, KMS, "cluster-secrets")
    assert eks.options["protect"] is True and eks.inputs["deletionProtection"] is True
    assert key.options["protect"] is True and key.options["retainOnDelete"] is True


def test_dev_does_not_protect():
    recording = recorded("sandbox")
    eks, key = one(recording, EKS, "cluster-eks"), one(recording, KMS, "cluster-secrets")
    assert eks.options["protect"] is False and eks.inputs["deletionProtection"] is False
    assert key.options["protect"] is False and key.options["retainOnDelete"] is False


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_eks_addons_are_pinned_to_the_newest_version_for_the_cluster_version(stack):
    recording, version = recorded(stack), config(stack).cluster.version
    addons = {a.inputs["addonName"]: a.inputs for a in of_type(recording, ADDON)}
    assert addons
    for name, inputs in addons.items():
        # preflight's deterministic getAddonVersion answer for (name, cluster.version, mostRecent=True).
        expected = invokes.answer("aws:eks/getAddonVersion:getAddonVersion",
                                  {"addonName": name, "kubernetesVersion": version, "mostRecent": True}, "us-east-1")
        assert inputs["addonVersion"] == expected["version"], name
    assert addons["kube-proxy"]["addonVersion"] == f"v{version}.0-eksbuild.2"


def test_addon_versions_follow_the_cluster_version():
    recording = preview("sandbox", lambda c: c[P + "cluster"].update(version="1.34"))
    kube_proxy = next(a for a in of_type(recording, ADDON) if a.inputs["addonName"] == "kube-proxy")
    assert kube_proxy.inputs["addonVersion"] == "v1.34.0-eksbuild.2"


def test_preflight_answers_get_addon_version_and_fails_loudly_for_an_unknown_addon():
    answer = invokes.answer("aws:eks/getAddonVersion:getAddonVersion",
                            {"addonName": "vpc-cni", "kubernetesVersion": "1.35", "mostRecent": True}, "us-east-1")
    assert answer["version"] == "v1.20.4-eksbuild.2" and answer["addonName"] == "vpc-cni"
    with pytest.raises(invokes.UnansweredInvoke, match="aws-efs-csi-driver"):
        invokes.answer("aws:eks/getAddonVersion:getAddonVersion",
                       {"addonName": "aws-efs-csi-driver", "kubernetesVersion": "1.35"}, "us-east-1")


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_vpc_cni_enforces_network_policies_and_the_other_addons_keep_their_defaults(stack):
    addons = {a.inputs["addonName"]: a.inputs for a in of_type(recorded(stack), ADDON)}
    assert json.loads(addons["vpc-cni"]["configurationValues"]) == {"enableNetworkPolicy": "true"}
    for name in ("coredns", "kube-proxy", "eks-pod-identity-agent"):
        assert "configurationValues" not in addons[name], name


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_eks_addons_and_their_order_around_the_nodes(stack):
    recording = recorded(stack)
    # The cluster's own add-ons (the monitoring stack adds the EBS CSI driver: tests/observability).
    addons = {a.inputs["addonName"]: a for a in of_type(recording, ADDON) if a.name.startswith("cluster-")}
    assert set(addons) == {"vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent"}
    groups = by_name(recording, NG)
    # Nodes wait for the CNI and kube-proxy (EKS installs no self-managed copies)...
    assert one(recording, EKS, "cluster-eks").inputs["bootstrapSelfManagedAddons"] is False
    for ng in groups.values():
        for name in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
            assert addons[name].urn in ng.options["dependsOn"]
    # ...and coredns, a Deployment, waits for the system nodes it runs on.
    assert groups["system-ng"].urn in addons["coredns"].options["dependsOn"]


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_node_role_has_the_worker_cni_and_ecr_policies(stack):
    recording = recorded(stack)
    role = one(recording, "aws:iam/role:Role", "cluster-node-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com"}
    attached = {a.inputs["policyArn"] for a in of_type(recording, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                if a.name.startswith("cluster-node-role-")}
    assert attached == {
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    }
    for ng in of_type(recording, NG):
        assert ng.property_dependencies["nodeRoleArn"] == [role.urn]


@pytest.mark.parametrize("stack", STACKS)
def test_every_kubernetes_resource_uses_the_one_explicit_provider(stack):
    recording = recorded(stack)
    providers = of_type(recording, K8S_PROVIDER)
    assert len(providers) == 1
    kubernetes = [r for r in recording.resources if r.type.startswith("kubernetes:")]
    assert kubernetes, "no Kubernetes resource to check"
    for resource in kubernetes:
        assert provider_urn(resource.options["provider"]) == providers[0].urn, resource.urn


@pytest.mark.parametrize("stack", AWS_STACKS)
def test_the_eks_provider_waits_for_admin_access_and_the_system_nodes(stack):
    recording = recorded(stack)
    provider = one(recording, K8S_PROVIDER)
    association = one(recording, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "cluster-admin")
    assert association.urn in provider.options["dependsOn"]
    assert one(recording, NG, "system-ng").urn in provider.options["dependsOn"]
    # Its kubeconfig is a secret: the engine gets the secret envelope, never the text.
    assert provider.inputs["kubeconfig"] == {SIG_KEY: SECRET_SIG, "value": "[secret]"}


def test_kubeconfig_export_is_a_secret():
    outputs = recorded("live", False).outputs
    assert outputs["kubeconfig"] == {SIG_KEY: SECRET_SIG, "value": "[secret]"}
    assert outputs["clusterName"] == "ai-platform-prod"


def test_eks_kubeconfig_gets_a_token_from_aws_eks_get_token():
    kubeconfig = json.loads(kubeconfig_for_eks("c1", "https://x.eks.amazonaws.com", "Q0E=", "us-east-1"))
    user = kubeconfig["users"][0]["user"]["exec"]
    assert user["command"] == "aws"
    assert user["args"] == ["eks", "get-token", "--cluster-name", "c1", "--output", "json", "--region", "us-east-1"]
    assert kubeconfig["clusters"][0]["cluster"] == {"server": "https://x.eks.amazonaws.com",
                                                     "certificate-authority-data": "Q0E="}
    assert kubeconfig["current-context"] == "c1"


def test_local_stack_has_no_aws_resource_at_all():
    recording = recorded("kind")
    assert recording.resources
    aws = [r.type for r in recording.resources if r.type.startswith("aws:") or r.type == "pulumi:providers:aws"]
    assert aws == []
    provider = one(recording, K8S_PROVIDER)
    assert provider.inputs == {"context": "kind-ai-platform"}
    assert "kubeconfig" not in recording.outputs


def test_existing_cluster_is_looked_up_and_gets_node_pools_but_no_control_plane():
    def edit(c):
        c[P + "cluster"]["mode"] = "existing"
        del c[P + "network"]

    recording = preview("preprod", edit)
    cluster = one(recording, "ai-platform:cluster:Cluster", "cluster")
    children = {r.type for r in recording.resources if r.parent == cluster.urn}
    assert children == {"aws:iam/role:Role", "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                        "ai-platform:cluster:NodePool", K8S_PROVIDER}
    assert of_type(recording, EKS) == [] and of_type(recording, ADDON) == []
    assert of_type(recording, "aws:ec2/vpc:Vpc") == []
    ng = one(recording, NG, "gpu-a10g-ng")
    assert ng.inputs["clusterName"] == "ai-platform-staging"
    # Subnets come from the cluster's own VPC config (preflight's getCluster answer).
    assert ng.inputs["subnetIds"] == ["subnet-0aaa0000000000001", "subnet-0aaa0000000000002"]
    assert ng.options["ignoreChanges"] == ["scalingConfig.desiredSize"]
    assert len(of_type(recording, K8S_PROVIDER)) == 1
