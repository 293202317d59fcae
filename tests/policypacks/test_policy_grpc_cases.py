"""Every policy, passing and failing, through the Analyzer gRPC path (one shared pack process).

The passing side: ``good_stack(env)`` exercises every rule and passes all of them under the
shipped dev, staging and prod configs. The failing side: one case per broken fact, each asserting
the policy name, the level the environment's config gives it, and what the message says.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.conftest import config_for, violations

ALL_POLICIES = {
    "finops-required-tags", "finops-required-labels", "gpu-instance-allowlist", "gpu-capacity-ceiling",
    "gpu-pool-scale-to-zero", "gpu-pool-spot", "gpu-pool-off-peak-schedule", "budget-coverage", "cost-within-budget",
    "cost-allocation-tags-active", "gpu-request-valid", "gpu-workload-placement", "gpu-workload-schedulable",
    "container-resources", "inference-availability", "inference-probes", "no-public-load-balancer", "no-public-exposure",
    "ethics-policy-approved", "model-provenance", "model-card-metadata", "evaluation-gate", "high-risk-safeguards",
    "data-residency", "imdsv2-required", "ebs-encrypted", "eks-control-plane-hardening", "helm-chart-pinned",
    "protect-critical-resources", "argocd-admin-secured", "no-literal-secrets-in-env", "observability-coverage",
    "artifact-store-hardening", "artifact-least-privilege", "artifact-provenance",
}


@pytest.mark.parametrize("env", ["prod", "staging", "dev"])
def test_good_stack_passes_every_policy(pack, env):
    run = pack.run(b.good_stack(env), env)
    assert violations(run) == []
    assert {p.name for p in run.pack.policies} == ALL_POLICIES


def test_every_policy_is_exercised_and_passes_in_some_environment(pack):
    """A policy 'passes' only where it ran: not reported not-applicable, and no violation."""
    evaluated: set[str] = set()
    for env in ("prod", "dev"):
        run = pack.run(b.good_stack(env), env)
        assert violations(run) == []
        evaluated |= ALL_POLICIES - {n["policy"] for n in run.not_applicable}
    assert evaluated == ALL_POLICIES


# --- failing cases ----------------------------------------------------------------------------------

def edit(name: str, change: Callable[[RecordedResource], Any], env: str = "prod") -> Callable[[], list[RecordedResource]]:
    return lambda: b.replace(b.good_stack(env), name, change)


def inputs(path: str | tuple[str, ...], value: Any) -> Callable[[RecordedResource], None]:
    """Set (or with value=DELETE, remove) an input path: dotted, or a tuple for keys with dots."""
    def apply(r: RecordedResource) -> None:
        keys = path.split(".") if isinstance(path, str) else list(path)
        target: Any = r.inputs
        for key in keys[:-1]:
            target = target[int(key)] if isinstance(target, list) else target[key]
        last = keys[-1]
        if value is DELETE:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return apply


DELETE = object()
GOV = b.GOV
TPL = "spec.template.spec"
C0 = f"{TPL}.containers.0"


def annotation(name: str, value: Any) -> Callable[[RecordedResource], None]:
    """Change a governance annotation on the Deployment and its pod template alike."""
    def apply(r: RecordedResource) -> None:
        for meta in (r.inputs["metadata"], r.inputs["spec"]["template"]["metadata"]):
            if value is DELETE:
                meta["annotations"].pop(f"{GOV}/{name}", None)
            else:
                meta["annotations"][f"{GOV}/{name}"] = value
    return apply


def both(*changes: Callable[[RecordedResource], None]) -> Callable[[RecordedResource], None]:
    def apply(r: RecordedResource) -> None:
        for change in changes:
            change(r)
    return apply


def add(*extra: RecordedResource, env: str = "prod") -> Callable[[], list[RecordedResource]]:
    return lambda: b.good_stack(env) + list(extra)


def drop(*names: str, env: str = "prod") -> Callable[[], list[RecordedResource]]:
    return lambda: b.without(b.good_stack(env), *names)


def seed(env: str = "prod") -> Callable[[], list[RecordedResource]]:
    return lambda: b.replace(b.good_stack(env), "multimodal", lambda r: r.inputs.update(b.handwritten_deployment(env).inputs))


def cpu_pod_tolerating_gpus() -> RecordedResource:
    r = b.deployment("batch", "project-nova", gpus=0, annotations={})
    r.inputs["metadata"]["labels"]["app.kubernetes.io/component"] = "batch"
    r.inputs["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] = "batch"
    r.inputs["spec"]["template"]["spec"]["tolerations"] = [{"key": "nvidia.com/gpu", "operator": "Exists"}]
    return r


ARGO_LB = b.helm_release("argocd-public", "argo-cd", "9.1.4", protect=True,
                         values={"server": {"service": {"type": "LoadBalancer"}}})
ARGO_INGRESS_NO_TLS = b.helm_release("argocd-ingress", "argo-cd", "9.1.4", protect=True,
                                     values={"server": {"ingress": {"enabled": True, "hostname": "argocd.example.com"}}})

CASES: list[tuple[str, str, Callable[[], list[RecordedResource]], str, str, str]] = [
    # (id, env, resources, policy, level, message fragment)
    ("tags-missing", "prod", edit("cluster-eks", lambda r: r.inputs["tags"].pop(f"{b.PREFIX}/owner")),
     "finops-required-tags", "mandatory", f"missing {b.PREFIX}/owner"),
    ("tags-bad-value", "dev", edit("cluster-eks", inputs(("tags", f"{b.PREFIX}/environment"), "Dev Stack!"), "dev"),
     "finops-required-tags", "advisory", "does not match"),
    ("lt-no-volume-tags", "prod", edit("gpu-lt", lambda r: r.inputs.update(tagSpecifications=r.inputs["tagSpecifications"][:1])),
     "finops-required-tags", "mandatory", "no tagSpecifications entry for 'volume'"),
    ("labels-missing", "prod", edit("project-nova", lambda r: r.inputs["metadata"]["labels"].pop(f"{b.PREFIX}/project")),
     "finops-required-labels", "mandatory", f"missing {b.PREFIX}/project"),
    ("pod-labels-missing", "prod", edit("multimodal", lambda r: r.inputs["spec"]["template"]["metadata"]["labels"].pop(f"{b.PREFIX}/cost-center")),
     "finops-required-labels", "mandatory", "spec.template.metadata.labels"),
    ("p5-in-dev", "dev", edit("gpu-ng", inputs("instanceTypes", ["p5.48xlarge"]), "dev"),
     "gpu-instance-allowlist", "mandatory", "p5.48xlarge not allowed"),
    ("capacity-pool", "prod", edit("gpu-ng", inputs("scalingConfig.maxSize", 40.0)),
     "gpu-capacity-ceiling", "mandatory", "above the per-pool cap of 16"),
    ("capacity-stack", "dev", edit("gpu-ng", inputs("scalingConfig.maxSize", 5.0), "dev"),
     "gpu-capacity-ceiling", "mandatory", "above the stack cap of 4"),
    ("min-size", "dev", edit("gpu-ng", inputs("scalingConfig.minSize", 1.0), "dev"),
     "gpu-pool-scale-to-zero", "advisory", "minSize is 1"),
    ("on-demand", "dev", edit("gpu-ng", inputs("capacityType", DELETE), "dev"),
     "gpu-pool-spot", "advisory", "ON_DEMAND (the default)"),
    ("no-schedule", "dev", drop("gpu-down", "gpu-up", env="dev"),
     "gpu-pool-off-peak-schedule", "advisory", "no off-peak scale-down schedule"),
    ("no-budget", "prod", drop("budget-project-nova"),
     "budget-coverage", "mandatory", "project 'project-nova'"),
    ("budget-no-subscriber", "prod", edit("budget-project-nova", lambda r: [n.update(subscriberEmailAddresses=[])
                                                                         for n in r.inputs["notifications"]]),
     "budget-coverage", "mandatory", "notify nobody"),
    ("budget-too-low", "prod", edit("budget-project-nova", inputs("limitAmount", "100.00")),
     "cost-within-budget", "mandatory", "exceeds its budget of $100.00"),
    ("stack-ceiling", "dev", edit("gpu-ng", inputs("instanceTypes", ["g6.2xlarge"]), "dev"),
     "cost-within-budget", "mandatory", "exceeds the ceiling of $100.00; top items: "),
    # Advisory even in prod: Billing lists a key a day after tagged spend, so the first deploy cannot activate it.
    ("allocation-tag", "prod", drop("cat-owner"),
     "cost-allocation-tags-active", "advisory", f"{b.PREFIX}/owner"),
    ("fractional-gpu", "prod", seed(),
     "gpu-request-valid", "mandatory", "request '0.5' differs from limit '1'"),
    ("request-without-limit", "dev", edit("multimodal", inputs(f"{C0}.resources.limits", {"memory": "12Gi"}), "dev"),
     "gpu-request-valid", "mandatory", "without a limit"),
    ("gpu-no-toleration", "prod", edit("multimodal", inputs(f"{TPL}.tolerations", [])),
     "gpu-workload-placement", "mandatory", "must tolerate the GPU taint"),
    ("cpu-tolerates-gpu", "prod", add(cpu_pod_tolerating_gpus()),
     "gpu-workload-placement", "mandatory", "without GPUs tolerates the GPU taint"),
    ("two-gpus-on-one-gpu-nodes", "prod", edit("multimodal", inputs(f"{C0}.resources", {
        "requests": {"cpu": "3", "memory": "12Gi", "nvidia.com/gpu": "2"},
        "limits": {"memory": "12Gi", "nvidia.com/gpu": "2"}})),
     "gpu-workload-schedulable", "mandatory", "1 GPU(s) per instance < 2 per pod"),
    ("no-memory-limit", "prod", edit("multimodal", inputs(f"{C0}.resources.limits", {"nvidia.com/gpu": "1"})),
     "container-resources", "mandatory", "limits.memory"),
    ("one-replica", "prod", lambda: [r if r.type != "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
                                     else b.hpa("multimodal", "project-nova", 1.0) for r in b.good_stack("prod")],
     "inference-availability", "mandatory", "needs at least 2"),
    ("no-pdb", "prod", lambda: [r for r in b.good_stack("prod") if r.type != "kubernetes:policy/v1:PodDisruptionBudget"],
     "inference-availability", "mandatory", "no PodDisruptionBudget"),
    ("no-readiness", "prod", edit("multimodal", inputs(f"{C0}.readinessProbe", DELETE)),
     "inference-probes", "mandatory", "no readiness probe"),
    ("public-lb", "prod", add(b.service("public", "project-nova", "LoadBalancer")),
     "no-public-exposure", "mandatory", "LoadBalancer Service is reachable from the internet"),
    ("public-lb-everywhere", "prod", add(b.service("public", "project-nova", "LoadBalancer", {
        "service.beta.kubernetes.io/aws-load-balancer-internal": "false"})),
     "no-public-load-balancer", "mandatory", "LoadBalancer Service is reachable from the internet"),
    ("public-endpoint", "prod", edit("cluster-eks", inputs("vpcConfig.endpointPublicAccess", True)),
     "no-public-exposure", "mandatory", "open to 0.0.0.0/0"),
    ("argocd-lb", "prod", add(ARGO_LB), "no-public-exposure", "mandatory", "Argo CD server Service is a public LoadBalancer"),
    ("argocd-ingress", "dev", add(ARGO_INGRESS_NO_TLS, env="dev"), "no-public-exposure", "mandatory", "without TLS"),
    ("ethics-missing", "dev", edit("multimodal", annotation("ethics-policy-id", DELETE), "dev"),
     "ethics-policy-approved", "mandatory", "set services[].ethics.policyId to an id of the form "
     "policy-<year>-<3 digits> (e.g. policy-2026-001)"),
    ("ethics-unknown-id", "prod", edit("multimodal", annotation("ethics-policy-id", "policy-2099-999")),
     "ethics-policy-approved", "mandatory", "'policy-2099-999' is not in the approved registry"),
    ("ethics-env-mismatch", "prod", edit("multimodal", inputs(f"{C0}.env.1.value", "policy-2026-004")),
     "ethics-policy-approved", "mandatory", "ETHICS_POLICY_ID=policy-2026-004"),
    ("image-latest", "dev", edit("multimodal", inputs(f"{C0}.image", "apexlogic/multimodal-model:latest"), "dev"),
     "model-provenance", "advisory", "uses the 'latest' tag"),
    ("image-registry", "prod", edit("multimodal", inputs(f"{C0}.image", f"ghcr.io/someone/model:v1.2.0@{b.SHA}")),
     "model-provenance", "mandatory", "not from an allowed registry"),
    ("image-no-digest", "prod", edit("multimodal", inputs(f"{C0}.image", "123456789012.dkr.ecr.us-east-1.amazonaws.com/multimodal-model:v1.2.0")),
     "model-provenance", "mandatory", "not pinned by @sha256 digest"),
    ("version-mismatch", "prod", edit("multimodal", inputs(f"{C0}.env.0.value", "v9.9.9")),
     "model-provenance", "mandatory", "MODEL_VERSION=v9.9.9 disagrees"),
    ("store-mutable-tags", "prod", edit("project-nova-images", inputs("imageTagMutability", "MUTABLE")),
     "artifact-store-hardening", "mandatory", "image tags are MUTABLE"),
    ("store-reader-any-bucket", "prod", edit("multimodal-model-reader-read", inputs(
        "policy", '{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}')),
     "artifact-least-privilege", "mandatory", "any bucket"),
    ("store-report-elsewhere", "dev", edit("multimodal", annotation("eval-report", "s3://somewhere-else/r.json"), "dev"),
     "artifact-provenance", "advisory", "is not in project 'project-nova''s bucket (apexlogic-model-evals)"),
    ("card-bad-tier", "prod", edit("multimodal", annotation("risk-tier", "extreme")),
     "model-card-metadata", "mandatory", "risk-tier='extreme'"),
    ("card-missing-url", "staging", edit("multimodal", annotation("model-card", DELETE), "staging"),
     "model-card-metadata", "advisory", "model-card is missing"),
    ("eval-accuracy", "prod", edit("multimodal", annotation("eval-accuracy", "0.5")),
     "evaluation-gate", "mandatory", "accuracy 0.5 < 0.88 (thresholds: accuracy >= 0.88, demographic-parity-difference "
     "<= 0.05, max age 180 days; set by evaluation-gate thresholds.limited and maxAgeDays in the policy pack config, "
     "policypacks/ai-governance/config/test.json)"),
    ("eval-stale", "prod", edit("multimodal", annotation("eval-date", "2025-01-02")),
     "evaluation-gate", "mandatory", "days old (max 180)"),
    ("high-risk-no-explainability", "prod", edit("multimodal", both(annotation("risk-tier", "high"),
                                                                    annotation("eval-accuracy", "0.97"),
                                                                    annotation("audit-logging", "true"))),
     "high-risk-safeguards", "mandatory", "an explainability reference"),
    ("residency", "prod", edit("multimodal", annotation("data-classification", "pii")),
     "data-residency", "mandatory", "runs in us-east-1, which is not allowed for 'pii' data"),
    ("imds-optional", "prod", edit("gpu-lt", inputs("metadataOptions.httpTokens", "optional")),
     "imdsv2-required", "mandatory", "httpTokens is 'optional'"),
    ("imds-hops", "dev", edit("gpu-lt", inputs("metadataOptions.httpPutResponseHopLimit", 2.0), "dev"),
     "imdsv2-required", "advisory", "above 1"),
    ("ebs-plain", "prod", edit("gpu-lt", inputs("blockDeviceMappings.0.ebs.encrypted", "false")),
     "ebs-encrypted", "mandatory", "is not encrypted"),
    ("eks-audit", "prod", edit("cluster-eks", inputs("enabledClusterLogTypes", ["api"])),
     "eks-control-plane-hardening", "mandatory", "audit, authenticator are off"),
    ("eks-no-kms", "dev", edit("cluster-eks", inputs("encryptionConfig", DELETE), "dev"),
     "eks-control-plane-hardening", "advisory", "not envelope-encrypted"),
    ("helm-range", "prod", add(b.helm_release("dcgm", "dcgm-exporter", "^4.8")),
     "helm-chart-pinned", "mandatory", "is a range or tag"),
    ("helm-unpinned", "dev", add(b.helm_release("plugin", "nvidia-device-plugin", None), env="dev"),
     "helm-chart-pinned", "advisory", "has no version"),
    ("argocd-generated-admin", "prod", edit("argocd", inputs(("values", "configs", "cm", "admin.enabled"), True)),
     "argocd-admin-secured", "mandatory", "with the password Argo CD generates"),
    ("argocd-admin-by-default", "prod", edit("argocd", inputs(("values", "configs"), {})),
     "argocd-admin-secured", "mandatory", "configs.cm.admin.enabled is unset"),
    ("literal-password", "prod", edit("multimodal", lambda r: r.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
                                      .append({"name": "DB_PASSWORD", "value": "hunter2-literal"})),
     "no-literal-secrets-in-env", "mandatory", "spec.template.spec.containers[0].env[3] (DB_PASSWORD)"),
    ("literal-api-key", "dev", edit("multimodal", lambda r: r.inputs["spec"]["template"]["spec"]["containers"][0]["env"]
                                    .append({"name": "openai_api_key", "value": "sk-literal"}), "dev"),
     "no-literal-secrets-in-env", "mandatory", "(openai_api_key) hold literal values"),
    ("unprotected-cluster", "prod", edit("cluster-eks", lambda r: r.options.update(protect=False)),
     "protect-critical-resources", "mandatory", "without protect=True"),
    ("unprotected-argocd", "prod", edit("argocd", lambda r: r.options.update(protect=False)),
     "protect-critical-resources", "mandatory", "Release argocd"),
    ("no-owner-route", "prod", edit("kube-prometheus-stack", inputs("values.alertmanager.config.route.routes", [])),
     "observability-coverage", "mandatory", "an owner route for project 'project-nova'"),
    ("no-monitoring", "prod", drop("kube-prometheus-stack", "observability-rules"),
     "observability-coverage", "mandatory", "no kube-prometheus-stack release routes alerts"),
    ("no-slo-alerts", "prod", edit("observability-rules", inputs("spec.groups.0.rules", [
        {"alert": "ModelQualityBelowMinimum", "labels": {"project": "project-nova", "service": "multimodal"}}])),
     "observability-coverage", "mandatory", "SLO burn-rate alerts (services[].slo)"),
]


OVERRIDES: dict[str, dict[str, Any]] = {
    # PII may only be served from the EU in this variant of the prod config.
    "residency": {"data_residency": {"allowedRegions": {"public": ["*"], "internal": ["*"], "confidential": ["*"],
                                                        "pii": ["eu-*"]}}},
    "stack-ceiling": {"cost_within_budget": {"maxMonthlyUsd": 100}},
}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_failing_case(pack, case):
    case_id, env, resources, policy, level, fragment = case
    config = config_for(env, **OVERRIDES.get(case_id, {}))
    run = pack.run(resources(), config)
    found = violations(run, policy)
    assert found, f"{policy} did not fire; got {violations(run)}"
    assert {lvl for _, lvl, _ in found} == {level}, found
    if fragment:
        assert any(fragment in message for _, _, message in found), found
    internal = [v for v in violations(run) if "internal error" in v[2]]
    assert internal == []


def test_every_policy_has_a_failing_case():
    assert {c[3] for c in CASES} == ALL_POLICIES


def test_a_handwritten_manifest_fails_gpu_request_and_provenance_in_prod(pack):
    """A hand-written manifest: request 0.5 GPU under limit 1, apexlogic/multimodal-model:v1.2.0 by tag."""
    resources = [r for r in b.good_stack("prod") if r.name != "multimodal"] + [b.handwritten_deployment("prod")]
    run = pack.run(resources, "prod")
    fired = {(p, lvl) for p, lvl, _ in violations(run)}
    assert ("gpu-request-valid", "mandatory") in fired
    assert ("model-provenance", "mandatory") in fired
    assert any("not pinned by @sha256 digest" in m for _, _, m in violations(run, "model-provenance"))


def test_unknown_stays_unknown_not_violation(pack):
    """Computed values the rules do not need (role ARNs, subnet ids, the launch template id, the KMS
    key ARN) never produce a finding even when unknowns are mandatory."""
    run = pack.run(b.good_stack("prod"), "prod")
    assert not [v for v in run.violations if "cannot verify" in v.message]
    stack = b.good_stack("prod")
    assert any(UNKNOWN in str(r.inputs) for r in stack)


def test_a_literal_secret_is_named_but_never_quoted(pack):
    stack = b.replace(b.good_stack("prod"), "multimodal", lambda r: r.inputs["spec"]["template"]["spec"]["containers"][0]
                      ["env"].append({"name": "DB_PASSWORD", "value": "hunter2-literal"}))
    run = pack.run(stack, "prod")
    assert violations(run, "no-literal-secrets-in-env") and "hunter2" not in str(violations(run))


def test_argocd_admin_with_a_secret_hash_passes(pack):
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "value": "[secret]"}
    stack = b.replace(b.good_stack("prod"), "argocd", inputs(("values", "configs"), {
        "cm": {"admin.enabled": True}, "secret": {"argocdServerAdminPassword": secret}}))
    assert violations(pack.run(stack, "prod"), "argocd-admin-secured") == []
