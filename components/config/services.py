"""Inference services: the model, its governance facts, resources and placement."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StrictInt, field_validator, model_validator

from ai_platform_finops.governance import ETHICS_POLICY_ID_EXAMPLE, ETHICS_POLICY_ID_PATTERN, looks_secret
from ai_platform_finops.tags import label_value_problem

from .advisor import AdvisorSettings
from .base import ConfigModel, DnsLabel, Quantity, quantity_value
from .observability import AutoscalingConfig, ServiceMetricsConfig, SloConfig


class RiskTier(StrEnum):
    MINIMAL = "minimal"
    LIMITED = "limited"
    HIGH = "high"


class DataClassification(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"
    CONFIDENTIAL = "confidential"
    PII = "pii"


# registry[:port]/path[:tag][@sha256:digest], after the distribution reference grammar.
_IMAGE = re.compile(
    r"^(?P<repo>(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>sha256:[a-f0-9]{64}))?$"
)


def parse_image(image: str) -> tuple[str, str | None, str | None]:
    """(repository, tag, digest) of an image reference; ValueError when malformed."""
    match = _IMAGE.fullmatch(image)
    if not match:
        raise ValueError(
            f"{image!r} is not an image reference; use registry/repo:tag or registry/repo@sha256:<64 hex>"
        )
    return match.group("repo"), match.group("tag"), match.group("digest")


class ModelConfig(ConfigModel):
    name: str
    """The model's name (the model-name annotation)."""
    version: str
    """The model version; equals the image tag unless a digest pins the image; also the app.kubernetes.io/version label."""
    image: str
    """registry/repo:tag, registry/repo@sha256:<64 hex>, or both."""
    model_card_url: Annotated[str, Field(pattern=r"^https://\S+$")]
    """The model card's https:// URL."""
    risk_tier: RiskTier
    """minimal, limited or high (EU AI Act style); picks the evaluation-gate thresholds."""
    data_classification: DataClassification
    """public, internal, confidential or pii; data-residency keys on it."""
    owner: Annotated[str, Field(min_length=3)]
    """The accountable owner and human-oversight contact (an email or on-call alias)."""
    intended_use: Annotated[str, Field(min_length=10)]
    """What the model is for, at least 10 characters."""
    explainability_url: Annotated[str, Field(pattern=r"^https://\S+$")] | None = None
    """An https:// explainability reference; required for high-risk models."""
    audit_logging: bool = False
    """Request/response audit logging, required for high-risk models."""
    artifact_uri: Annotated[str, Field(pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/\S*$")] | None = Field(
        default=None,
        description="Where the weights are: a prefix in the project's model store bucket, "
                    "s3://<bucket>/weights/<model>/<version>/ (needs modelStore). The pods get a role that can read "
                    "only this prefix (EKS Pod Identity) and find it in MODEL_ARTIFACT_URI (docs/ship-a-model.md).")

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        # The version is also the app.kubernetes.io/version label, so it must be a label value.
        problem = label_value_problem(value)
        if problem or not value:
            raise ValueError(f"model version {value!r} must be 1-63 letters, digits, '-', '_' or '.', "
                             "starting and ending alphanumeric (it becomes a Kubernetes label), e.g. v1.2.0")
        return value

    @field_validator("image")
    @classmethod
    def _image(cls, value: str) -> str:
        _, tag, digest = parse_image(value)
        if tag is None and digest is None:
            raise ValueError(f"{value!r} has neither a tag nor a digest; pin a version tag or @sha256 digest")
        return value

    @model_validator(mode="after")
    def _version_matches_tag(self) -> "ModelConfig":
        _, tag, digest = parse_image(self.image)
        if digest is None and tag is not None and tag != self.version:
            raise ValueError(
                f"model version {self.version!r} does not match the image tag {tag!r}; "
                "make them equal or pin the image by @sha256 digest"
            )
        return self

    @property
    def image_tag(self) -> str | None:
        return parse_image(self.image)[1]

    @property
    def image_digest(self) -> str | None:
        return parse_image(self.image)[2]


RESERVED_METRIC_NAMES = frozenset({"date", "report"})
"""``eval-date`` and ``eval-report`` are annotations of their own; no metric may take their key."""


class EvaluationConfig(ConfigModel):
    report_uri: Annotated[str, Field(pattern=r"^(https|s3)://\S+$")]
    """Where the evaluation report is (https:// or s3://)."""
    date: dt.date
    """The evaluation's date, ISO 8601 (2026-11-02)."""
    metrics: dict[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,40}$")], Annotated[float, Field(allow_inf_nan=False)]] = {}
    """e.g. accuracy: 0.91, demographic-parity-difference: 0.04; each becomes an eval-<name> annotation."""

    @field_validator("metrics")
    @classmethod
    def _metric_names(cls, value: dict[str, float]) -> dict[str, float]:
        clash = sorted(RESERVED_METRIC_NAMES & set(value))
        if clash:
            raise ValueError(f"metric names {clash} are reserved (eval-date and eval-report are set from date and reportUri)")
        return value


class EthicsConfig(ConfigModel):
    policy_id: str = Field(description=f"The approved ethics policy's id, policy-<year>-<3 digits> (e.g. "
                                       f"{ETHICS_POLICY_ID_EXAMPLE}); the pack's ethics-policy-approved registry "
                                       "lists the approved ids and their valid-until dates.")
    evaluation: EvaluationConfig
    """The evaluation the evaluation-gate policy checks."""

    @field_validator("policy_id")
    @classmethod
    def _policy_id(cls, value: str) -> str:
        if not re.fullmatch(ETHICS_POLICY_ID_PATTERN, value):
            raise ValueError(f"{value!r} is not an ethics policy id; the format is policy-<year>-<3 digits>, "
                             f"e.g. {ETHICS_POLICY_ID_EXAMPLE}")
        return value


GPU_SHARING = ("to share a GPU, configure NVIDIA time-slicing or MIG partitions on the device plugin, "
               "or serve several models from one server")


class ServiceResources(ConfigModel):
    gpus: Annotated[StrictInt, Field(ge=0, le=64)] = 0
    """Whole GPUs per pod: Kubernetes rejects fractional or overcommitted nvidia.com/gpu."""
    cpu: Quantity = "2"
    """cpu request per pod."""
    memory: Quantity = "8Gi"
    """memory request and limit per pod."""

    @field_validator("gpus", mode="before")
    @classmethod
    def _whole_gpus(cls, value: object) -> object:
        if isinstance(value, float) and not value.is_integer():
            raise ValueError(f"GPUs are whole: Kubernetes schedules nvidia.com/gpu only in whole units, so {value:g} "
                             f"cannot be requested; {GPU_SHARING}")
        return value


class Replicas(ConfigModel):
    min: Annotated[int, Field(ge=1, le=1000)] = 1
    """The HPA's minimum; a PodDisruptionBudget is added when 2 or more."""
    max: Annotated[int, Field(ge=1, le=1000)] = 1
    """The HPA's maximum; must fit the pool and the project's quota."""

    @model_validator(mode="after")
    def _order(self) -> "Replicas":
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class Probes(ConfigModel):
    readiness_path: Annotated[str, Field(pattern=r"^/\S*$")] = "/health/ready"
    """HTTP path of the readiness probe."""
    liveness_path: Annotated[str, Field(pattern=r"^/\S*$")] = "/health/live"
    """HTTP path of the liveness (and startup) probe."""
    startup_timeout_seconds: Annotated[int, Field(ge=10, le=3600)] = 600
    """How long the model may take to load before liveness applies (a startup probe on livenessPath)."""


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MODEL_CACHE_ENV = ("HOME", "HF_HOME")
"""Pointed at the model cache, so model downloads (Hugging Face and others) land in the sized emptyDir."""
MODEL_ARTIFACT_ENV = ("MODEL_ARTIFACT_URI", "AWS_REGION")
"""Set with model.artifactUri: where the weights are, and the bucket's region for the server's S3 client."""
PLATFORM_ENV = frozenset({"MODEL_VERSION", "ETHICS_POLICY_ID", *MODEL_CACHE_ENV, *MODEL_ARTIFACT_ENV})


class SharedMemoryConfig(ConfigModel):
    """An in-memory ``/dev/shm`` (emptyDir, medium Memory): NCCL tensor parallelism needs far more than 64 MiB."""

    enabled: bool | None = Field(default=None, description="Mount it; defaults to on for services with more than one GPU.")
    size_limit: Quantity | None = Field(
        default=None, description="The emptyDir's sizeLimit; it counts against the memory limit. Defaults to half "
                                  "of resources.memory.")


class ModelCacheConfig(ConfigModel):
    """A sized emptyDir for downloaded weights, also HOME and HF_HOME (the root filesystem stays small)."""

    path: Annotated[str, Field(pattern=r"^/[A-Za-z0-9._/-]+$", description="Mount path of the cache.")] = "/model-cache"
    size_limit: Quantity | None = Field(
        default=None, description="The emptyDir's sizeLimit, also requested as ephemeral-storage so the pod lands on "
                                  "a node with room. Defaults to 50Gi for GPU services and 2Gi otherwise.")


class SecretKeySelector(ConfigModel):
    """A key of a Kubernetes Secret in the service's namespace, created out of band."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$",
                               description="The Secret's name (a DNS subdomain).")]
    key: Annotated[str, Field(pattern=r"^[-._a-zA-Z0-9]{1,253}$", description="The key within the Secret.")]


class EnvValueSource(ConfigModel):
    secret_key_ref: SecretKeySelector = Field(description="Read the value from this Secret key.")


class EnvFromSecret(ConfigModel):
    """``NAME: {valueFrom: {secretKeyRef: {name, key}}}``: the value never passes through Pulumi."""

    value_from: EnvValueSource = Field(description="Where Kubernetes reads the value from.")


class InferenceServiceConfig(ConfigModel):
    name: DnsLabel
    """The service's name (a DNS label): Deployment, Service and HPA names."""
    project: DnsLabel
    """The project (namespace) it runs in."""
    node_pool: DnsLabel
    """The node pool it runs on; GPU services need a GPU pool."""
    model: ModelConfig
    """The model and its governance facts (written as annotations)."""
    ethics: EthicsConfig
    """The approved ethics policy and the model's evaluation."""
    resources: ServiceResources = ServiceResources()
    """Per-pod resources."""
    replicas: Replicas = Replicas()
    """The HorizontalPodAutoscaler's bounds."""
    target_cpu_utilization: Annotated[int, Field(ge=10, le=100)] = 70
    """The HPA's cpu target, percent."""
    port: Annotated[int, Field(ge=1024, le=65535)] = 8080
    """Container and Service port (1024-65535: the server runs as non-root)."""
    env: dict[str, str | EnvFromSecret] = Field(
        default={},
        description="Extra container environment (MODEL_VERSION, ETHICS_POLICY_ID, HOME, HF_HOME, MODEL_ARTIFACT_URI and AWS_REGION are set by the platform): a literal string, or {valueFrom: {secretKeyRef: {name, key}}}. "
                    "Names that look secret (*PASSWORD*, *TOKEN*, *SECRET*, *_KEY, *CREDENTIALS*) must use the "
                    "secretKeyRef form.")
    probes: Probes = Probes()
    """HTTP health probes."""
    args: list[str] = []
    """Container arguments (the image's entrypoint stays), e.g. ["netexec", "--http-port=8080"]."""
    run_as_user: Annotated[int, Field(ge=1, le=2**31 - 1)] = 65532
    """The non-root UID (and GID) the model server runs as; root (0) is never allowed."""
    automount_service_account_token: bool = False
    """Mount the ServiceAccount token (only when the server calls the Kubernetes API)."""
    shared_memory: SharedMemoryConfig = Field(default=SharedMemoryConfig(), description=SharedMemoryConfig.__doc__)
    model_cache: ModelCacheConfig = Field(default=ModelCacheConfig(), description=ModelCacheConfig.__doc__)
    slo: SloConfig | None = Field(default=None, description=SloConfig.__doc__)
    metrics: ServiceMetricsConfig = Field(default=ServiceMetricsConfig(), description=ServiceMetricsConfig.__doc__)
    autoscaling: AutoscalingConfig = Field(default=AutoscalingConfig(), description=AutoscalingConfig.__doc__)
    advisor: AdvisorSettings = Field(default=AdvisorSettings(), description="`python -m preflight advise`: with ignore: "
                                     "true (and a reason) it never proposes a change to this service.")

    @property
    def mounts_shared_memory(self) -> bool:
        if self.shared_memory.enabled is not None:
            return self.shared_memory.enabled
        return self.resources.gpus > 1

    @property
    def shared_memory_size(self) -> str:
        if self.shared_memory.size_limit is not None:
            return self.shared_memory.size_limit
        return f"{int(quantity_value(self.resources.memory) / 2 / 2**20)}Mi"

    @property
    def model_cache_size(self) -> str:
        if self.model_cache.size_limit is not None:
            return self.model_cache.size_limit
        return "50Gi" if self.resources.gpus > 0 else "2Gi"

    @property
    def rollout_max_surge(self) -> int:
        """Extra pods a rollout starts: none for a GPU service (at max replicas a surge pod needs a GPU
        that neither the project's quota nor the pool has, so the rollout would stall), one otherwise."""
        return 0 if self.resources.gpus > 0 else 1

    @property
    def rollout_max_unavailable(self) -> int:
        """Pods a rollout may take down first: one for a GPU service (its GPU goes to the new pod), none otherwise."""
        return 1 if self.resources.gpus > 0 else 0

    @field_validator("env")
    @classmethod
    def _env(cls, value: dict[str, str | EnvFromSecret]) -> dict[str, str | EnvFromSecret]:
        bad = [k for k in value if not _ENV_NAME.fullmatch(k)]
        if bad:
            raise ValueError(f"environment variable names {bad} must match [A-Za-z_][A-Za-z0-9_]*")
        literal = sorted(k for k, v in value.items() if isinstance(v, str) and looks_secret(k))
        if literal:
            # Never echo the value: it is the secret.
            raise ValueError(f"{literal} look secret but are literal values; reference a Kubernetes Secret instead: "
                             f"{literal[0]}: {{valueFrom: {{secretKeyRef: {{name: <secret>, key: <key>}}}}}}")
        reserved = PLATFORM_ENV & set(value)
        if reserved:
            raise ValueError(f"{sorted(reserved)} are set by the platform (model.version, ethics.policyId, the "
                             "model cache path and model.artifactUri); remove them from env")
        return value
