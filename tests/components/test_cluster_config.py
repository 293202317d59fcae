"""Config checks of the network, cluster, nodePools and addons sections: each says exactly what is wrong."""

from __future__ import annotations

from tests.support.fixtures import P, errors, pool

DEV = "stacks/Pulumi.sandbox.yaml"


def test_gpu_pool_needs_known_gpu_instance_types():
    lines = errors("sandbox", lambda c: pool(c, "gpu-a10g").update(instanceTypes=["m6i.large"]))
    assert lines == [
        f"{DEV}: nodePools[1]: instance types ['m6i.large'] are not NVIDIA GPU types in the catalog; a gpu pool "
        "needs e.g. g5.xlarge, g6.xlarge, g5.12xlarge, p5.48xlarge"
    ]


def test_sizes_must_be_ordered():
    lines = errors("sandbox", lambda c: pool(c, "gpu-a10g").update(minSize=1, desiredSize=3, maxSize=2))
    assert lines == [f"{DEV}: nodePools[1]: sizes must satisfy minSize <= desiredSize <= maxSize, got 1 <= 3 <= 2"]


def test_gpu_pool_needs_an_nvidia_ami():
    lines = errors("sandbox", lambda c: pool(c, "gpu-a10g").update(amiType="AL2023_x86_64_STANDARD"))
    assert lines == [
        f"{DEV}: nodePools[1]: a gpu pool needs an NVIDIA AMI (AL2023_x86_64_NVIDIA, BOTTLEROCKET_x86_64_NVIDIA), "
        "not AL2023_x86_64_STANDARD"
    ]


def test_pool_name_must_leave_room_for_the_node_group_suffix():
    name = "gpu-a10g-" + "x" * 28

    def edit(c):
        pool(c, "gpu-a10g").update(name=name)
        c[P + "services"][0].update(nodePool=name)

    lines = errors("sandbox", edit)
    assert lines == [
        f"{DEV}: nodePools[1].name: '{name}' is 37 characters; a node pool name may have at most 36 "
        "(EKS adds a 26-character suffix and caps node group names at 63)"
    ]


def test_taint_key_must_be_a_kubernetes_label_key():
    lines = errors("sandbox", lambda c: pool(c, "gpu-a10g").update(
        taints=[{"key": "gpu type", "value": "a 10g", "effect": "NoRun"}]))
    assert lines == [
        f"{DEV}: nodePools[1].taints[0].key: taint key 'gpu type': name must be 1-63 characters of letters, "
        "digits, '-', '_' or '.', starting and ending alphanumeric",
        f"{DEV}: nodePools[1].taints[0].value: taint value 'a 10g' must be at most 63 characters of letters, "
        "digits, '-', '_' or '.', starting and ending alphanumeric",
        f"{DEV}: nodePools[1].taints[0].effect: Input should be 'NoSchedule', 'NoExecute' or 'PreferNoSchedule' "
        "(got 'NoRun')",
    ]


def test_system_pool_must_not_sleep_off_peak():
    lines = errors("sandbox", lambda c: pool(c, "system").update(offPeak=True))
    assert lines == [
        f"{DEV}: nodePools[0].offPeak: the system pool runs coredns, the autoscaler and Argo CD; "
        "it must not scale to zero off-peak"
    ]


def test_label_too_long_for_a_scale_from_zero_asg_tag():
    key = "team.platform.example.com/" + "x" * 60
    lines = errors("sandbox", lambda c: pool(c, "gpu-a10g").update(labels={key: "a"}))
    assert lines == [
        f"{DEV}: nodePools[1].labels: label key '{key}' makes its scale-from-zero ASG tag key 132 characters "
        "(AWS allows 128); use a key of at most 82 characters"
    ]


def test_gpu_pools_need_the_device_plugin():
    lines = errors("sandbox", lambda c: c.update({P + "addons": {"nvidiaDevicePlugin": {"enabled": False, "version": "0.19.3"}}}))
    assert lines == [
        f"{DEV}: addons.nvidiaDevicePlugin.enabled: AL2023 NVIDIA GPU pools need the NVIDIA device plugin: "
        "without it nodes never report nvidia.com/gpu"
    ]


def test_a_gpu_pool_has_one_gpu_model_for_its_accelerator_label():
    lines = errors("sandbox", lambda c: pool(c, "gpu-a10g").update(instanceTypes=["g5.xlarge", "g6.xlarge"]))
    assert lines == [
        f"{DEV}: nodePools[1]: instance types ['g5.xlarge', 'g6.xlarge'] carry different GPU models (NVIDIA A10G, "
        "NVIDIA L4); every node of a pool gets one k8s.amazonaws.com/accelerator label, so put each GPU model in "
        "a pool of its own"
    ]


def test_platform_node_labels_cannot_be_set_by_hand():
    lines = errors("sandbox", lambda c: pool(c, "gpu-a10g").update(labels={"k8s.amazonaws.com/accelerator": "nvidia-h100"}))
    assert lines == [
        f"{DEV}: nodePools[1]: labels ['k8s.amazonaws.com/accelerator'] are set by the platform from the pool's "
        "instance types and AMI; remove them"
    ]


def test_control_plane_logs_must_keep_audit_and_authenticator():
    lines = errors("sandbox", lambda c: c[P + "cluster"].update(controlPlaneLogs=["api"]))
    assert lines == [
        f"{DEV}: cluster.controlPlaneLogs: must include audit and authenticator (who did what, and which IAM "
        "principal did it)"
    ]
    lines = errors("sandbox", lambda c: c[P + "cluster"].update(controlPlaneLogs=["audit", "authenticator", "apiserver"]))
    assert lines == [
        f"{DEV}: cluster.controlPlaneLogs[2]: Input should be 'api', 'audit', 'authenticator', 'controllerManager' "
        "or 'scheduler' (got 'apiserver')"
    ]


def test_deployer_principals_are_iam_roles_or_users_each_once_and_not_the_admin():
    session = "arn:aws:sts::123456789012:assumed-role/ci/run-42"
    lines = errors("sandbox", lambda c: c[P + "cluster"].update(deployerPrincipalArns=[session]))
    assert lines == [
        f"{DEV}: cluster.deployerPrincipalArns[0]: '{session}' is not an IAM role or user ARN such as "
        "arn:aws:iam::123456789012:role/platform-admin (EKS access entries take no STS session ARN)"
    ]
    ci = "arn:aws:iam::123456789012:role/ci"
    admin = "arn:aws:iam::123456789012:role/platform-admin"
    lines = errors("sandbox", lambda c: c[P + "cluster"].update(deployerPrincipalArns=[ci, admin, ci]))
    assert lines == [
        f"{DEV}: cluster.deployerPrincipalArns[1]: is adminPrincipalArn, which has its own access entry; remove it",
        f"{DEV}: cluster.deployerPrincipalArns[2]: lists {ci} twice (EKS takes one access entry per principal)",
    ]


def test_private_access_cidrs_are_cidrs():
    lines = errors("sandbox", lambda c: c[P + "cluster"].update(privateAccessCidrs=["10.40.0.0/33", "0.0.0.0/0"]))
    assert lines == [
        f"{DEV}: cluster.privateAccessCidrs[0]: '10.40.0.0/33' is not a CIDR block such as 10.42.0.0/16",
        f"{DEV}: cluster.privateAccessCidrs[1]: '0.0.0.0/0' opens the API endpoint to everything routed to the VPC; "
        "list real CIDRs",
    ]


def test_deployers_and_private_cidrs_apply_to_a_cluster_created_here_only():
    def edit(c):
        c[P + "cluster"].update(mode="existing", deployerPrincipalArns=["arn:aws:iam::123456789012:role/ci"],
                                privateAccessCidrs=["10.40.0.0/16"])
        del c[P + "network"]

    assert errors("sandbox", edit) == [
        f"{DEV}: cluster.deployerPrincipalArns: applies to a cluster created here (mode 'create'), not mode "
        "'existing'; grant access where the cluster is managed",
        f"{DEV}: cluster.privateAccessCidrs: applies to a cluster created here (mode 'create'), not mode "
        "'existing'; grant access where the cluster is managed",
    ]


def test_autoscaler_image_must_match_a_kubernetes_minor_it_knows():
    lines = errors("sandbox", lambda c: c[P + "cluster"].update(version="1.38"))
    assert lines == [
        f"{DEV}: addons.clusterAutoscaler.imageTag: is required for Kubernetes 1.38: set the "
        "cluster-autoscaler release of the same minor (v1.38.x)"
    ]


def test_chart_versions_are_exact():
    lines = errors("sandbox", lambda c: c.update({P + "addons": {"clusterAutoscaler": {"version": "9.x"}}}))
    assert lines == [f"{DEV}: addons.clusterAutoscaler.version: String should match pattern '^\\d+\\.\\d+\\.\\d+$' (got '9.x')"]


def test_admin_principal_must_be_an_iam_role_or_user_not_a_session():
    arn = "arn:aws:sts::123456789012:assumed-role/platform-admin/alice"
    lines = errors("sandbox", lambda c: c[P + "cluster"].update(adminPrincipalArn=arn))
    assert lines == [
        f"{DEV}: cluster.adminPrincipalArn: '{arn}' is not an IAM role or user ARN such as "
        "arn:aws:iam::123456789012:role/platform-admin (EKS access entries take no STS session ARN)"
    ]


def test_existing_cluster_cannot_get_a_new_vpc():
    lines = errors("sandbox", lambda c: c[P + "cluster"].update(mode="existing"))
    assert lines == [
        f"{DEV}: network.mode: an existing cluster's node groups must live in its VPC; use mode 'existing' "
        "with its subnet ids, or drop the network section"
    ]


def test_dcgm_exporter_needs_gpu_pools():
    def edit(c):
        c[P + "nodePools"] = [pool(c, "system")]
        c[P + "services"] = []
        c[P + "addons"] = {"dcgmExporter": {"enabled": True, "version": "4.8.2"}}

    assert f"{DEV}: addons.dcgmExporter.enabled: the DCGM exporter needs at least one GPU pool" in errors("sandbox", edit)


def test_existing_network_needs_its_ids():
    lines = errors("sandbox", lambda c: c[P + "network"].update(mode="existing"))
    assert lines == [f"{DEV}: network: mode 'existing' needs vpcId and at least 2 privateSubnetIds (in 2 AZs)"]
