"""The rules' other paths, through the Analyzer gRPC path: values unknown at preview (each named, never
guessed), the second and third ways a fact can be wrong, and the look-alikes that must pass.

One case per path: ``good_stack(env)`` with one change, and the *complete* list of what one policy
then reports (empty when the change is allowed). Prod treats unknowns as mandatory findings, so an
unknown shows up as "cannot verify <what> at preview".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.conftest import config_for, violations
from tests.policypacks.test_policy_grpc_cases import C0, DELETE, GOV, TPL, add, annotation, both, drop, edit, inputs

Stack = Callable[[], list[RecordedResource]]
C0P = "spec.template.spec.containers[0]"
DEP = "Deployment multimodal"


def cannot(what: str) -> str:
    return f"cannot verify {what} at preview"


def pdb_in(ns: str) -> RecordedResource:
    pdb = b.pdb("multimodal", ns)
    pdb.urn = pdb.urn + "-" + ns
    return pdb


def with_taint(r: RecordedResource) -> None:
    r.inputs["taints"] = r.inputs["taints"] + [{"key": "dedicated", "value": "ml", "effect": "NO_SCHEDULE"}]


def lb(annotations: Any) -> RecordedResource:
    svc = b.service("edge", "project-nova", "LoadBalancer")
    svc.inputs["metadata"]["annotations"] = annotations
    return svc


def cpu_batch() -> RecordedResource:
    """A one-replica CPU Deployment that is not inference: no component label, no governance facts."""
    batch = b.deployment("batch", "project-nova", gpus=0, annotations={})
    for meta in (batch.inputs["metadata"], batch.inputs["spec"]["template"]["metadata"]):
        meta["labels"]["app.kubernetes.io/component"] = "batch"
    return batch


def cpu_batch_with_unknown_gpus() -> RecordedResource:
    batch = cpu_batch()
    batch.inputs["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] = UNKNOWN
    return batch


def high_risk_with_min_replicas(value: Any) -> list[RecordedResource]:
    """good_stack with a high-risk model that has every safeguard, and its HPA's minReplicas set."""
    safeguarded = both(annotation("risk-tier", "high"), annotation("eval-accuracy", "0.97"),
                       annotation("audit-logging", "true"), annotation("explainability", "https://models.apexlogic.com/x"))
    stack = b.replace(b.good_stack("prod"), "multimodal", safeguarded)
    return b.replace(stack, "multimodal-hpa", inputs("spec.minReplicas", value))


def high_risk_second() -> RecordedResource:
    """A second inference workload, high-risk and missing its explainability reference."""
    notes = b.governance(risk="high", explainability=None, **{"eval-accuracy": "0.97"})
    return b.deployment("risky", "project-nova", annotations=notes)


def eu_cluster_stack() -> list[RecordedResource]:
    """The cluster on an explicit AWS provider in eu-west-1, while the stack's aws:region says us-east-1."""
    provider = b.res("pulumi:providers:aws", "eu", {"region": "eu-west-1"}, custom=True)
    stack = b.replace(b.good_stack("prod"), "cluster-eks", lambda r: setattr(r, "provider", provider.urn))
    return [provider, *stack]


def arn_cluster_stack(workload: Any) -> list[RecordedResource]:
    """The cluster on an AWS provider without a region: its ARN says where it runs (``workload``: an
    edit of the inference Deployment)."""
    provider = b.res("pulumi:providers:aws", "no-region", {}, custom=True)

    def on_provider(r: RecordedResource) -> None:
        r.provider = provider.urn
        r.inputs["arn"] = "arn:aws:eks:eu-central-1:123456789012:cluster/ai-platform-prod"

    stack = b.replace(b.replace(b.good_stack("prod"), "multimodal", workload), "cluster-eks", on_provider)
    return [provider, *stack]


def no_region_cluster_stack() -> list[RecordedResource]:
    """The cluster on an AWS provider without a region and without an ARN: the stack's aws:region."""
    provider = b.res("pulumi:providers:aws", "no-region", {}, custom=True)
    return [provider, *b.replace(b.good_stack("prod"), "cluster-eks", lambda r: setattr(r, "provider", provider.urn))]


def batch_first(edit: Any) -> list[RecordedResource]:
    """A non-inference workload ahead of the inference one (``edit`` applied to the latter)."""
    stack = b.replace(b.good_stack("prod"), "multimodal", edit)
    at = next(i for i, r in enumerate(stack) if r.name == "multimodal")
    return [*stack[:at], cpu_batch(), *stack[at:]]


def init_container(r: RecordedResource) -> None:
    r.inputs["spec"]["template"]["spec"]["initContainers"] = [{
        "name": "fetch-weights", "image": r.inputs["spec"]["template"]["spec"]["containers"][0]["image"],
        "resources": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "1Gi"}}}]


def pod_init(r: RecordedResource) -> dict[str, Any]:
    return r.inputs["spec"]["template"]["spec"]["initContainers"][0]


# (id, env, stack, policy, config overrides, expected messages of that policy, in order)

GATE_THRESHOLDS = {"limited": "accuracy >= 0.88, demographic-parity-difference <= 0.05",
                   "high": "accuracy >= 0.92, demographic-parity-difference <= 0.03"}


def gate(tier: str, problems: str) -> str:
    """An evaluation-gate message: its problems, then the thresholds and the file that sets them."""
    return (f"{DEP}: evaluation gate for risk tier '{tier}' in prod: {problems} (thresholds: "
            f"{GATE_THRESHOLDS[tier]}, max age 180 days; set by evaluation-gate thresholds.{tier} and maxAgeDays "
            "in the policy pack config, policypacks/ai-governance/config/test.json)")

CASES: list[tuple[str, str, Stack, str, dict[str, Any], list[str]]] = [
    # --- gpu-request-valid ---
    ("containers-unknown", "prod", edit("multimodal", inputs(f"{TPL}.containers", UNKNOWN)),
     "gpu-request-valid", {}, [cannot("spec.template.spec.containers")]),
    ("resources-unknown", "prod", edit("multimodal", inputs(f"{C0}.resources", UNKNOWN)),
     "gpu-request-valid", {}, [cannot(f"{C0P}.resources")]),
    ("gpu-limit-unknown", "prod", edit("multimodal", inputs((*C0.split("."), "resources", "limits", "nvidia.com/gpu"),
                                                           UNKNOWN)),
     "gpu-request-valid", {}, [cannot(f"{C0P}.resources nvidia.com/gpu")]),
    ("fractional-limit-and-request", "prod", edit("multimodal", inputs(f"{C0}.resources", {
        "requests": {"cpu": "3", "memory": "12Gi", "nvidia.com/gpu": "1.5"},
        "limits": {"memory": "12Gi", "nvidia.com/gpu": "1.5"}})),
     "gpu-request-valid", {}, [f"{DEP}: {C0P} (model-server): nvidia.com/gpu: limit '1.5' is not a whole number; "
                               "request '1.5' is not a whole number. Kubernetes rejects this pod"]),
    ("limit-only-is-fine", "prod", edit("multimodal", inputs(f"{C0}.resources", {
        "requests": {"cpu": "3", "memory": "12Gi"}, "limits": {"memory": "12Gi", "nvidia.com/gpu": "1"}})),
     "gpu-request-valid", {}, []),
    ("gpu-in-an-init-container", "prod", edit("multimodal", lambda r: (init_container(r), pod_init(r).update(
        resources={"requests": {"cpu": "1", "memory": "1Gi", "nvidia.com/gpu": "1"},
                   "limits": {"memory": "1Gi"}}))),
     "gpu-request-valid", {}, [f"{DEP}: spec.template.spec.initContainers[0] (fetch-weights): nvidia.com/gpu: "
                               "requests '1' without a limit (GPUs go in limits). Kubernetes rejects this pod"]),
    # --- gpu-workload-placement ---
    ("affinity-unknown", "prod", edit("multimodal", both(inputs(f"{TPL}.nodeSelector", {"ai-platform.io/node-pool": "gpu"}),
                                                         inputs(f"{TPL}.affinity", UNKNOWN))),
     "gpu-workload-placement", {}, [cannot("spec.template.spec.nodeSelector")]),
    ("gpu-amount-unknown-on-a-cpu-pod", "prod",
     lambda: b.good_stack("prod") + [cpu_batch_with_unknown_gpus()],
     "gpu-workload-placement", {}, [cannot("the GPU amounts of spec.template.spec.containers")]),
    # --- gpu-workload-schedulable ---
    ("no-gpu-pool", "prod", drop("gpu-ng", "gpu-lt"),
     "gpu-workload-schedulable", {}, [f"{DEP} asks for 1 GPU(s) per pod but the stack has no GPU node pool"]),
    ("selector-matches-no-pool", "prod", edit("multimodal", inputs((*TPL.split("."), "nodeSelector"),
                                                                   {"ai-platform.io/node-pool": "other",
                                                                    "nvidia.com/gpu.present": "true"})),
     "gpu-workload-schedulable", {}, [f"{DEP} (1 GPU(s) x 2 min replicas) fits no GPU node pool: gpu-ng: labels lack "
                                      "ai-platform.io/node-pool=other"]),
    ("pool-taint-not-tolerated", "prod", edit("gpu-ng", with_taint),
     "gpu-workload-schedulable", {}, [f"{DEP} (1 GPU(s) x 2 min replicas) fits no GPU node pool: gpu-ng: taint "
                                      "dedicated=ml:NoSchedule not tolerated"]),
    ("pool-labels-unknown", "prod", edit("gpu-ng", inputs("labels", UNKNOWN)),
     "gpu-workload-schedulable", {}, [cannot(f"the GPU node pools {DEP} could run on")]),
    ("pool-max-size-unknown", "prod", edit("gpu-ng", inputs("scalingConfig.maxSize", UNKNOWN)),
     "gpu-workload-schedulable", {}, [cannot(f"the GPU node pools {DEP} could run on")]),
    # --- container-resources ---
    ("container-resources-unknown", "prod", edit("multimodal", inputs(f"{C0}.resources", UNKNOWN)),
     "container-resources", {}, [cannot(f"{C0P}.resources")]),
    ("cpu-request-unknown", "prod", edit("multimodal", inputs(f"{C0}.resources.requests.cpu", UNKNOWN)),
     "container-resources", {}, [cannot(f"{C0P}.resources.requests.cpu")]),
    ("blank-requests", "prod", edit("multimodal", both(inputs(f"{C0}.resources.requests.cpu", " "),
                                                       inputs(f"{C0}.resources.requests.memory", DELETE))),
     "container-resources", {}, [f"{DEP}: {C0P} (model-server) sets no requests.cpu, requests.memory"]),
    ("init-container-without-resources", "prod", edit("multimodal", lambda r: (init_container(r),
                                                                                pod_init(r).pop("resources"))),
     "container-resources", {}, [f"{DEP}: spec.template.spec.initContainers[0] (fetch-weights) sets no requests.cpu, "
                                 "requests.memory, limits.memory"]),
    # --- inference-availability ---
    ("pod-labels-unknown", "prod", edit("multimodal", inputs("spec.template.metadata.labels", UNKNOWN)),
     "inference-availability", {}, [cannot(f"the pod labels of {DEP}")]),
    ("pdb-selector-unknown", "prod", edit("multimodal-pdb", inputs("spec.selector", UNKNOWN)),
     "inference-availability", {}, [cannot(f"the PodDisruptionBudget selectors for {DEP}")]),
    ("pdb-in-another-namespace", "prod", lambda: b.without(b.good_stack("prod"), "multimodal-pdb") + [pdb_in("other")],
     "inference-availability", {}, [f"{DEP}: no PodDisruptionBudget selects its pods; a node drain could take every "
                                    "replica down at once"]),
    ("hpa-min-unknown", "prod", edit("multimodal-hpa", inputs("spec.minReplicas", UNKNOWN)),
     "inference-availability", {}, [cannot(f"the replicas of {DEP}")]),
    ("availability-off-in-dev", "dev", edit("multimodal-hpa", inputs("spec.minReplicas", 1.0), "dev"),
     "inference-availability", {}, []),
    ("min-replicas-setting", "prod", lambda: b.good_stack("prod"),
     "inference-availability", {"inference_availability": {"minReplicas": 3}},
     [f"{DEP}: 2.0 min replica(s); inference in prod needs at least 3"]),
    # --- inference-probes ---
    ("readiness-unknown", "prod", edit("multimodal", inputs(f"{C0}.readinessProbe", UNKNOWN)),
     "inference-probes", {}, [cannot(f"{C0P}.readinessProbe")]),
    ("readiness-without-a-handler", "prod", edit("multimodal", inputs(f"{C0}.readinessProbe", {"periodSeconds": 5.0})),
     "inference-probes", {}, [f"{DEP}: {C0P} (model-server) has no readiness probe; traffic would reach a model "
                              "that is still loading"]),
    ("readiness-by-tcp", "prod", edit("multimodal", inputs(f"{C0}.readinessProbe", {"tcpSocket": {"port": 8080.0}})),
     "inference-probes", {}, []),
    ("init-containers-need-no-probe", "prod", edit("multimodal", init_container), "inference-probes", {}, []),
    # --- no-public-exposure ---
    ("service-type-unknown", "prod", add(b.service("edge", "project-nova", UNKNOWN)),  # type: ignore[arg-type]
     "no-public-exposure", {}, [cannot("spec.type")]),
    ("lb-annotations-unknown", "prod", add(lb(UNKNOWN)), "no-public-exposure", {}, [cannot("metadata.annotations")]),
    ("lb-internal-scheme", "prod", add(lb({"service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
                                            "service.beta.kubernetes.io/aws-load-balancer-internal": "true"})),
     "no-public-exposure", {}, []),
    ("lb-internet-facing-not-repeated", "prod",
     add(lb({"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"})), "no-public-exposure", {}, []),
    ("lb-internal-legacy", "prod", add(lb({"service.beta.kubernetes.io/aws-load-balancer-internal": "true"})),
     "no-public-exposure", {}, []),
    # Public under both controllers: decided at Analyze by the resource half, never repeated by the stack rule.
    ("lb-internet-facing", "prod", add(lb({"service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing"})),
     "no-public-load-balancer", {}, ["Service edge-svc: a LoadBalancer Service is reachable from the internet: the in-tree "
                                "controller reads only service.beta.kubernetes.io/aws-load-balancer-internal (unset; "
                                "internal needs any value but 'false'); the AWS Load Balancer Controller reads "
                                "service.beta.kubernetes.io/aws-load-balancer-scheme 'internet-facing'"]),
    ("vpc-config-unknown", "prod", edit("cluster-eks", inputs("vpcConfig", UNKNOWN)),
     "no-public-exposure", {}, [cannot("vpcConfig.endpointPublicAccess")]),
    ("public-cidrs-unknown", "prod", edit("cluster-eks", both(inputs("vpcConfig.endpointPublicAccess", True),
                                                              inputs("vpcConfig.publicAccessCidrs", UNKNOWN))),
     "no-public-exposure", {}, [cannot("vpcConfig.publicAccessCidrs")]),
    ("public-by-aws-default", "prod", edit("cluster-eks", inputs("vpcConfig.endpointPublicAccess", DELETE)),
     "no-public-exposure", {}, ["Cluster cluster-eks: the public API endpoint is on (the AWS default) and open to "
                                "0.0.0.0/0 (no publicAccessCidrs); in prod keep it private or limit publicAccessCidrs"]),
    ("public-to-everyone", "prod", edit("cluster-eks", both(inputs("vpcConfig.endpointPublicAccess", True),
                                                            inputs("vpcConfig.publicAccessCidrs",
                                                                   ["203.0.113.0/24", "0.0.0.0/0", "::/0"]))),
     "no-public-exposure", {}, ["Cluster cluster-eks: the public API endpoint is open to 203.0.113.0/24, 0.0.0.0/0, "
                                "::/0 (merged: 0.0.0.0/0, ::/0); in prod keep it private or limit publicAccessCidrs"]),
    ("public-to-listed-cidrs", "prod", edit("cluster-eks", both(inputs("vpcConfig.endpointPublicAccess", True),
                                                                inputs("vpcConfig.publicAccessCidrs",
                                                                       ["203.0.113.0/24", "not-a-cidr"]))),
     "no-public-exposure", {}, []),
    ("public-endpoint-outside-prod", "dev", edit("cluster-eks", inputs("vpcConfig.publicAccessCidrs", DELETE), "dev"),
     "no-public-exposure", {}, []),
    ("argocd-values-unknown", "prod", edit("argocd", inputs("values", UNKNOWN)),
     "no-public-exposure", {}, [cannot("values")]),
    ("argocd-chart-by-url", "prod", add(b.helm_release("gitops", "oci://ghcr.io/argoproj/argo-helm/argo-cd/", "9.1.4",
                                                       protect=True, values={"server": {"service": {"type": "LoadBalancer"}}})),
     "no-public-exposure", {}, ["Release gitops: the Argo CD server Service is a public LoadBalancer: the in-tree "
                                "controller reads only service.beta.kubernetes.io/aws-load-balancer-internal (unset; "
                                "internal needs any value but 'false')"]),
    # --- ethics-policy-approved ---
    ("ethics-id-unknown", "prod", edit("multimodal", annotation("ethics-policy-id", UNKNOWN)),
     "ethics-policy-approved", {}, [cannot(f"annotation {GOV}/ethics-policy-id")]),
    ("ethics-registry-date-bad", "prod", lambda: b.good_stack("prod"),
     "ethics-policy-approved", {"ethics_policy_approved": {"registry": {"policy-2026-001": "someday"}}},
     [f"{DEP}: the registry's valid-until date for 'policy-2026-001' ('someday') is not a date (YYYY-MM-DD)"]),
    ("ethics-expired", "prod", lambda: b.good_stack("prod"),
     "ethics-policy-approved", {"ethics_policy_approved": {"registry": {"policy-2026-001": "2026-11-30"}}},
     [f"{DEP}: ethics policy 'policy-2026-001' expired on 2026-11-30 (as of 2026-12-01)"]),
    ("ethics-valid-through-today", "prod", lambda: b.good_stack("prod"),
     "ethics-policy-approved", {"ethics_policy_approved": {"registry": {"policy-2026-001": "2026-12-01"}}}, []),
    ("ethics-env-unknown", "prod", edit("multimodal", inputs(f"{C0}.env.1.value", UNKNOWN)),
     "ethics-policy-approved", {}, [cannot(f"{C0P}.env ETHICS_POLICY_ID")]),
    ("ethics-empty-registry", "prod", lambda: b.good_stack("prod"),
     "ethics-policy-approved", {"ethics_policy_approved": {"registry": {}}},
     [f"{DEP}: ethics policy 'policy-2026-001' is not in the approved registry (known: none)"]),
    # --- model-provenance ---
    ("image-unknown", "prod", edit("multimodal", inputs(f"{C0}.image", UNKNOWN)),
     "model-provenance", {}, [cannot(f"{C0P}.image")]),
    ("image-blank", "prod", edit("multimodal", inputs(f"{C0}.image", " ")),
     "model-provenance", {}, [f"{DEP}: {C0P} (model-server) has no image"]),
    ("image-not-a-reference", "prod", edit("multimodal", inputs(f"{C0}.image", "UPPER CASE!")),
     "model-provenance", {}, [f"{DEP}: {C0P} (model-server): 'UPPER CASE!' is not an image reference"]),
    ("image-without-tag", "dev", edit("multimodal", inputs(f"{C0}.image", "apexlogic/multimodal-model"), "dev"),
     "model-provenance", {}, [f"{DEP}: {C0P} (model-server): image 'apexlogic/multimodal-model' has no tag (Docker "
                              "would pull 'latest')"]),
    ("image-tag-disagrees", "prod", edit("multimodal", inputs(
        f"{C0}.image", f"123456789012.dkr.ecr.us-east-1.amazonaws.com/multimodal-model:v1.3.0@{b.SHA}")),
     "model-provenance", {}, [f"{DEP}: {C0P} (model-server): image tag 'v1.3.0' disagrees with the model version "
                              "'v1.2.0'"]),
    ("image-digest-only", "prod", edit("multimodal", inputs(
        f"{C0}.image", f"123456789012.dkr.ecr.us-east-1.amazonaws.com/multimodal-model@{b.SHA}")),
     "model-provenance", {}, []),
    ("image-registry-prefix-is-not-a-parent", "prod", edit("multimodal", inputs(f"{C0}.image", "apexlogic-x/m:v1.2.0")),
     "model-provenance", {"model_provenance": {"requireDigest": False}},
     [f"{DEP}: {C0P} (model-server): image 'apexlogic-x/m:v1.2.0' (docker.io/apexlogic-x/m) is not from an allowed "
      "registry (docker.io/apexlogic/, 123456789012.dkr.ecr.us-east-1.amazonaws.com/)"]),
    ("image-from-localhost", "prod", edit("multimodal", inputs(f"{C0}.image", f"localhost/m:v1.2.0@{b.SHA}")),
     "model-provenance", {"model_provenance": {"allowedRegistries": ["localhost/"]}}, []),
    ("registry-listed-without-a-slash", "prod", lambda: b.good_stack("prod"),
     "model-provenance", {"model_provenance": {"allowedRegistries": ["123456789012.dkr.ecr.us-east-1.amazonaws.com"]}},
     []),
    ("model-version-missing", "prod", edit("multimodal", annotation("model-version", DELETE)),
     "model-provenance", {}, [f"{DEP}: no model version annotation ({GOV}/model-version)"]),
    ("model-version-env-missing", "prod", edit("multimodal", inputs(f"{C0}.env", [{"name": "ETHICS_POLICY_ID",
                                                                                   "value": "policy-2026-001"}])),
     "model-provenance", {}, [f"{DEP}: {C0P} (model-server) does not set MODEL_VERSION"]),
    ("model-version-env-unknown", "prod", edit("multimodal", inputs(f"{C0}.env.0.value", UNKNOWN)),
     "model-provenance", {}, [cannot(f"{C0P}.env MODEL_VERSION")]),
    ("model-version-env-optional", "prod", edit("multimodal", inputs(f"{C0}.env", [])),
     "model-provenance", {"model_provenance": {"requireModelVersionEnv": False}}, []),
    # --- model-card-metadata ---
    ("card-fact-unknown", "prod", edit("multimodal", annotation("risk-tier", UNKNOWN)),
     "model-card-metadata", {}, [cannot(f"annotation {GOV}/risk-tier")]),
    ("card-several-problems", "prod", edit("multimodal", both(annotation("owner", DELETE),
                                                              annotation("data-classification", "secret"))),
     "model-card-metadata", {}, [f"{DEP}: model card metadata: {GOV}/owner is missing (an email address or "
                                 f"on-call alias of the owner / human-oversight contact); {GOV}/data-classification='secret' is not one of public, internal, "
                                 "confidential, pii"]),
    # --- evaluation-gate ---
    ("eval-tier-unknown", "prod", edit("multimodal", annotation("risk-tier", UNKNOWN)), "evaluation-gate", {},
     [cannot(f"annotation {GOV}/risk-tier")]),
    ("eval-metric-unknown", "prod", edit("multimodal", annotation("eval-accuracy", UNKNOWN)),
     "evaluation-gate", {}, [cannot(f"annotation {GOV}/eval-accuracy")]),
    ("eval-metric-not-a-number", "prod", edit("multimodal", annotation("eval-accuracy", "high")),
     "evaluation-gate", {}, [gate("limited", "metric 'accuracy' is not a number ('high')")]),
    ("eval-metric-missing-and-max", "prod", edit("multimodal", both(annotation("eval-accuracy", DELETE),
                                                                    annotation("eval-demographic-parity-difference",
                                                                               "0.2"))),
     "evaluation-gate", {}, [gate("limited", "metric 'accuracy' is missing; demographic-parity-difference 0.2 > 0.05")]),
    ("eval-unknown-tier-is-strictest", "prod", edit("multimodal", both(annotation("risk-tier", "unheard-of"),
                                                                       annotation("eval-accuracy", "0.9"))),
     "evaluation-gate", {}, [gate("high", "accuracy 0.9 < 0.92")]),
    ("eval-date-bad", "prod", edit("multimodal", annotation("eval-date", "last week")),
     "evaluation-gate", {}, [gate("limited", "evaluation date 'last week' is not a date (YYYY-MM-DD)")]),
    ("eval-date-future", "prod", edit("multimodal", annotation("eval-date", "2026-12-02")),
     "evaluation-gate", {}, [gate("limited", "evaluation date 2026-12-02 is in the future")]),
    ("eval-date-missing", "prod", edit("multimodal", annotation("eval-date", DELETE)),
     "evaluation-gate", {}, [gate("limited", f"no evaluation date ({GOV}/eval-date)")]),
    ("eval-date-just-in-time", "prod", edit("multimodal", annotation("eval-date", "2026-06-04")),
     "evaluation-gate", {}, []),
    # --- high-risk-safeguards ---
    ("high-risk-everything-missing", "prod", edit("multimodal", both(
        annotation("risk-tier", "high"), annotation("eval-accuracy", "0.97"), annotation("owner", DELETE),
        annotation("explainability", "http://x.example.com"), annotation("audit-logging", "no"))),
     "high-risk-safeguards", {}, [f"{DEP}: risk tier 'high' requires a human-oversight contact ({GOV}/owner); an "
                                  f"explainability reference ({GOV}/explainability, https URL); request/response "
                                  f"audit logging on ({GOV}/audit-logging: \"true\")"]),
    ("high-risk-replicas-unknown", "prod", lambda: high_risk_with_min_replicas(UNKNOWN),
     "high-risk-safeguards", {}, [cannot(f"the replicas of {DEP}")]),
    ("high-risk-one-replica", "prod", lambda: high_risk_with_min_replicas(1.0),
     "high-risk-safeguards", {}, [f"{DEP}: risk tier 'high' requires at least 2 replicas in prod (has 1.0)"]),
    # --- data-residency ---
    ("residency-unclassified-is-pii", "prod", edit("multimodal", annotation("data-classification", "unheard-of")),
     "data-residency", {"data_residency": {"allowedRegions": {"public": ["*"], "internal": ["*"],
                                                             "confidential": ["*"], "pii": ["eu-*"]}}},
     ["Cluster cluster-eks runs in us-east-1, which is not allowed for 'pii' data (served by multimodal); allowed: "
      "eu-*"]),
    ("residency-without-a-cluster", "prod", drop("cluster-eks"),
     "data-residency", {"data_residency": {"allowedRegions": {"public": ["*"], "internal": ["eu-*"],
                                                             "confidential": ["*"], "pii": ["*"]}}},
     ["the stack (aws:region) runs in us-east-1, which is not allowed for 'internal' data (served by multimodal); "
      "allowed: eu-*"]),
    ("high-risk-second-workload", "prod", lambda: b.good_stack("prod") + [high_risk_second()],
     "high-risk-safeguards", {}, ["Deployment risky: risk tier 'high' requires an explainability reference "
                                  f"({GOV}/explainability, https URL); at least 2 replicas in prod (has 1)"]),
    ("residency-from-the-cluster-provider", "prod", lambda: eu_cluster_stack(),
     "data-residency", {"data_residency": {"allowedRegions": {"public": ["*"], "internal": ["us-*"],
                                                             "confidential": ["*"], "pii": ["*"]}}},
     ["Cluster cluster-eks runs in eu-west-1, which is not allowed for 'internal' data (served by multimodal); "
      "allowed: us-*"]),
    ("residency-provider-region-allowed", "prod", lambda: eu_cluster_stack(),
     "data-residency", {"data_residency": {"allowedRegions": {"public": ["*"], "internal": ["eu-*"],
                                                             "confidential": ["*"], "pii": ["*"]}}}, []),
    ("high-risk-min-replicas-one-is-a-valid-setting", "prod", lambda: high_risk_with_min_replicas(1.0),
     "high-risk-safeguards", {"high_risk_safeguards": {"minReplicas": 1}}, []),
    ("availability-ignores-batch-workloads", "prod", lambda: b.good_stack("prod") + [cpu_batch()],
     "inference-availability", {}, []),
    ("capacity-at-the-stack-cap", "dev", edit("gpu-ng", inputs("scalingConfig.maxSize", 4.0), "dev"),
     "gpu-capacity-ceiling", {}, []),
    ("only-schedules-scale-a-pool", "dev", lambda: b.without(b.good_stack("dev"), "gpu-down", "gpu-up") + [
        b.res("aws:cloudwatch/metricAlarm:MetricAlarm", "gpu-idle", {"maxSize": 0.0, "desiredCapacity": 0.0},
              deps=[b.urn("aws:eks/nodeGroup:NodeGroup", "gpu-ng")])],
     "gpu-pool-off-peak-schedule", {}, ["NodeGroup gpu-ng: GPU pool has no off-peak scale-down schedule (an "
                                        "aws.autoscaling.Schedule on its Auto Scaling group with desiredCapacity/"
                                        "maxSize 0)"]),
    ("residency-from-the-cluster-arn", "prod", lambda: arn_cluster_stack(annotation("data-classification", "pii")),
     "data-residency", {"data_residency": {"allowedRegions": {"public": ["*"], "internal": ["*"], "confidential": ["*"], "pii": ["us-*"]}}},
     ["Cluster cluster-eks runs in eu-central-1, which is not allowed for 'pii' data (served by multimodal); "
      "allowed: us-*"]),
    ("residency-from-the-cluster-arn-allowed", "prod",
     lambda: arn_cluster_stack(annotation("data-classification", "pii")), "data-residency", {"data_residency": {"allowedRegions": {"public": ["*"], "internal": ["*"], "confidential": ["*"], "pii": ["eu-*"]}}}, []),
    ("residency-without-provider-region-or-arn", "prod", lambda: no_region_cluster_stack(),
     "data-residency", {"data_residency": {"allowedRegions": {"public": ["*"], "internal": ["eu-*"],
                                                             "confidential": ["*"], "pii": ["*"]}}},
     ["Cluster cluster-eks runs in us-east-1, which is not allowed for 'internal' data (served by multimodal); "
      "allowed: eu-*"]),
    ("residency-after-a-batch-workload", "prod", lambda: batch_first(annotation("data-classification", "pii")),
     "data-residency", {"data_residency": {"allowedRegions": {"public": ["*"], "internal": ["*"], "confidential": ["*"], "pii": ["eu-*"]}}},
     ["Cluster cluster-eks runs in us-east-1, which is not allowed for 'pii' data (served by multimodal); "
      "allowed: eu-*"]),
    ("residency-after-an-unknown-classification", "prod", lambda: [
        *b.replace(b.good_stack("prod"), "multimodal", annotation("data-classification", UNKNOWN)),
        b.deployment("second", "project-nova", annotations=b.governance(classification="pii"))],
     "data-residency", {"data_residency": {"allowedRegions": {"public": ["*"], "internal": ["*"], "confidential": ["*"], "pii": ["eu-*"]}}},
     ["Cluster cluster-eks runs in us-east-1, which is not allowed for 'pii' data (served by second); "
      "allowed: eu-*", cannot(f"annotation {GOV}/data-classification")]),
    # --- finops-required-tags ---
    ("tag-value-empty", "prod", edit("cluster-eks", inputs(("tags", f"{b.PREFIX}/owner"), " ")),
     "finops-required-tags", {}, [f"Cluster cluster-eks: tags: {b.PREFIX}/owner is empty"]),
    ("tag-value-not-allowed", "prod", edit("cluster-eks", inputs(("tags", f"{b.PREFIX}/environment"), "staging")),
     "finops-required-tags", {}, [f"Cluster cluster-eks: tags: {b.PREFIX}/environment 'staging' is not one of prod"]),
    ("tag-pattern-invalid-regex-is-ignored", "prod", edit("cluster-eks", inputs(("tags", f"{b.PREFIX}/owner"), "x y")),
     "finops-required-tags", {"finops_required_tags": {"valuePattern": "(["}}, []),
    ("tags-unknown", "prod", edit("cluster-eks", inputs("tags", UNKNOWN)),
     "finops-required-tags", {}, [cannot("tags")]),
    ("tag-exempt-type", "prod", edit("cluster-eks", inputs("tags", {})),
     "finops-required-tags", {"finops_required_tags": {"exemptTypes": ["aws:eks/*"]}}, []),
    ("tag-specifications-unknown", "prod", edit("gpu-lt", inputs("tagSpecifications", UNKNOWN)),
     "finops-required-tags", {}, [cannot("tagSpecifications")]),
    ("tag-specification-tags-unknown", "prod", edit("gpu-lt", inputs("tagSpecifications.1.tags", UNKNOWN)),
     "finops-required-tags", {}, [cannot("tagSpecifications[volume].tags")]),
    ("tags-as-a-key-value-list", "prod", edit("cluster-eks", lambda r: r.inputs.update(tags=[
        {"key": k, "value": v} for k, v in r.inputs["tags"].items()] + [{"key": UNKNOWN, "value": "x"}])),
     "finops-required-tags", {}, []),
    # --- finops-required-labels ---
    ("labels-exempt-namespace", "prod", add(b.namespace("kube-system")), "finops-required-labels", {}, []),
    ("labels-in-an-exempt-namespace", "prod", add(b.service("dns", "kube-system")), "finops-required-labels", {}, []),
    # --- gpu-instance-allowlist ---
    ("instance-type-entry-unknown", "prod", edit("gpu-ng", inputs("instanceTypes", ["g5.2xlarge", UNKNOWN])),
     "gpu-instance-allowlist", {}, [cannot("instanceTypes[1]")]),
    ("launch-template-type-unknown", "prod", edit("gpu-lt", inputs("instanceType", UNKNOWN)),
     "gpu-instance-allowlist", {}, [cannot("instanceType")]),
    ("launch-template-type-not-allowed", "prod", edit("gpu-lt", inputs("instanceType", "p5.48xlarge")),
     "gpu-instance-allowlist", {}, ["LaunchTemplate gpu-lt: instance type(s) p5.48xlarge not allowed in this stack (prod); allowed: "
                                    "m6i.large, m6i.xlarge, m6i.2xlarge, m7i.large, m7i.xlarge, m7i.2xlarge, g5.xlarge, "
                                    "g5.2xlarge, g5.4xlarge, g5.12xlarge, g6.xlarge, g6.2xlarge, g6.12xlarge, "
                                    "g6e.xlarge, g6e.2xlarge, g6e.12xlarge"]),
    # --- gpu-capacity-ceiling ---
    ("max-size-not-a-count", "prod", edit("gpu-ng", inputs("scalingConfig.maxSize", "lots")),
     "gpu-capacity-ceiling", {}, ["NodeGroup gpu-ng: scalingConfig.maxSize 'lots' is not a node count"]),
    ("pool-type-from-the-launch-template", "prod", lambda: b.replace(
        b.replace(b.good_stack("prod"), "gpu-ng", lambda r: r.inputs.pop("instanceTypes")), "gpu-lt",
        inputs("instanceType", "g5.48xlarge")),
     "gpu-capacity-ceiling", {}, ["NodeGroup gpu-ng: maxSize 3 x 8 GPU(s) per instance (g5.48xlarge) = 24 GPUs, above the per-pool "
                                  "cap of 16"]),
    ("pool-type-from-the-launch-template-unknown", "prod", lambda: b.replace(
        b.replace(b.good_stack("prod"), "gpu-ng", lambda r: r.inputs.pop("instanceTypes")), "gpu-lt",
        inputs("instanceType", UNKNOWN)),
     "gpu-capacity-ceiling", {}, [cannot("instanceTypes of NodeGroup gpu-ng")]),
    # --- dev-only FinOps rules with unknowns (unknownValues mandatory to see them plainly) ---
    ("min-size-unknown", "dev", edit("gpu-ng", inputs("scalingConfig.minSize", UNKNOWN), "dev"),
     "gpu-pool-scale-to-zero", {"all": {"unknownValues": "mandatory"}}, [cannot("scalingConfig.minSize")]),
    ("capacity-type-unknown", "dev", edit("gpu-ng", inputs("capacityType", UNKNOWN), "dev"),
     "gpu-pool-spot", {"all": {"unknownValues": "mandatory"}}, [cannot("capacityType")]),
    ("schedule-sizes-unknown", "dev", lambda: b.replace(b.without(b.good_stack("dev"), "gpu-up"), "gpu-down",
                                                        inputs("maxSize", UNKNOWN)),
     "gpu-pool-off-peak-schedule", {"all": {"unknownValues": "mandatory"}},
     [cannot("the sizes of NodeGroup gpu-ng's schedules")]),
    ("schedule-that-never-scales-down", "dev", lambda: b.replace(b.without(b.good_stack("dev"), "gpu-down"), "gpu-up",
                                                                 inputs("desiredCapacity", 1.0)),
     "gpu-pool-off-peak-schedule", {}, ["NodeGroup gpu-ng: GPU pool has no off-peak scale-down schedule (an "
                                        "aws.autoscaling.Schedule on its Auto Scaling group with desiredCapacity/"
                                        "maxSize 0)"]),
    # --- cost-allocation-tags-active ---
    ("allocation-managed-centrally", "prod", drop("cat-owner"),
     "cost-allocation-tags-active", {"cost_allocation_tags_active": {"managedCentrally": True}}, []),
    # --- imdsv2-required ---
    ("imds-endpoint-unknown", "prod", edit("gpu-lt", inputs("metadataOptions.httpEndpoint", UNKNOWN)),
     "imdsv2-required", {}, [cannot("metadataOptions.httpEndpoint")]),
    ("imds-disabled-is-fine", "prod", edit("gpu-lt", inputs("metadataOptions", {"httpEndpoint": "disabled"})),
     "imdsv2-required", {}, []),
    # --- ebs-encrypted ---
    ("block-devices-unknown", "prod", edit("gpu-lt", inputs("blockDeviceMappings", UNKNOWN)),
     "ebs-encrypted", {}, [cannot("blockDeviceMappings")]),
    ("block-device-unknown", "prod", edit("gpu-lt", inputs("blockDeviceMappings.0", UNKNOWN)),
     "ebs-encrypted", {}, [cannot("blockDeviceMappings[0]")]),
    ("instance-store-needs-no-encryption", "prod", edit("gpu-lt", inputs("blockDeviceMappings", [
        {"deviceName": "/dev/sdb", "virtualName": "ephemeral0"}, {"deviceName": "/dev/sdc", "noDevice": ""},
        {"deviceName": "/dev/xvda", "ebs": {"volumeSize": 100.0, "encrypted": "true"}}])),
     "ebs-encrypted", {}, []),
    ("ebs-encrypted-unknown", "prod", edit("gpu-lt", inputs("blockDeviceMappings.0.ebs.encrypted", UNKNOWN)),
     "ebs-encrypted", {}, [cannot("blockDeviceMappings[0].ebs.encrypted")]),
    # --- eks-control-plane-hardening ---
    ("eks-encrypts-no-secrets", "prod", edit("cluster-eks", inputs("encryptionConfig.resources", ["configmaps"])),
     "eks-control-plane-hardening", {}, ["Cluster cluster-eks: encryptionConfig.resources does not include 'secrets'"]),
    # --- helm-chart-pinned ---
    ("helm-version-unknown", "prod", add(b.helm_release("plugin", "nvidia-device-plugin", UNKNOWN)),
     "helm-chart-pinned", {}, [cannot("version")]),
    ("helm-prerelease-is-exact", "prod", add(b.helm_release("plugin", "nvidia-device-plugin", "v0.17.1-rc.1+build.5")),
     "helm-chart-pinned", {}, []),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_rule_path(pack, case):
    _, env, stack, policy, overrides, expected = case
    run = pack.run(stack(), config_for(env, **overrides))
    found = [message for _, _, message in violations(run, policy)]
    assert found == expected
    assert not [v for v in run.violations if "internal error" in v.message]
