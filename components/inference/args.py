"""What one InferenceService takes, and the names its children share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
from ai_platform_finops.tags import FinOpsTags

from components.config import InferenceServiceConfig, NodePoolConfig

CONTAINER_NAME = "model-server"
PORT_NAME = "http"
PROBE_PERIOD_SECONDS = 10
GPU_CAPACITY_SECONDS = 1200
"""What a GPU rollout may spend before the model loads: a node from zero and a multi-GB image pull."""
GPU_MIN_TIMEOUT_MINUTES = 30
EPHEMERAL_STORAGE = "ephemeral-storage"
SHM_VOLUME, SHM_PATH = "dshm", "/dev/shm"
MODEL_CACHE_VOLUME = "model-cache"


@dataclass(frozen=True)
class InferenceServiceArgs:
    """Everything one InferenceService needs, already resolved from the stack config."""

    service: InferenceServiceConfig
    """The service's config: model image, resources, replicas, probes, governance."""
    pool: NodePoolConfig
    """The node pool named by ``service.node_pool``: the source of tolerations and nodeSelector."""
    tags: FinOpsTags
    """The FinOps tags of the service's project."""
    governance_prefix: str
    """Where the governance annotations go (``<prefix>/...``)."""
    namespace: pulumi.Input[str]
    """The project's namespace (pass ProjectNamespace.namespace so the Deployment waits for it)."""
    spread_across_zones: bool = False
    """Topology spread across zones and hosts (prod)."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the pods need first, e.g. the namespace's quota and limit range, and metrics-server."""
    skip_await: bool = False
    """``pulumi.com/skipAwait`` on the Deployment: its pool may sit at zero (non-prod GPU pools)."""
    artifact_region: str | None = None
    """The model store's region, given to pods with ``model.artifactUri`` as AWS_REGION for their S3 client."""
