"""Small stack configs built in code, named apart from any shipped stack.

``stack(...)`` returns the values of one stack file (keys as in the file, without the project
prefix); ``build(...)`` validates them into a StackConfig. Tests change what they exercise with
keyword overrides or by editing the returned dicts, so each test says which facts it depends on.
"""

from __future__ import annotations

import copy
from typing import Any

from components.config import StackConfig, validate_stack_config
from components.inference.args import InferenceServiceArgs

PROJECT_NAME = "team-a"
SYSTEM_POOL = "base"
GPU_POOL = "accel"
SERVICE = "svc-a"
OWNER = "team-a-owners"


def system_pool(**overrides: Any) -> dict[str, Any]:
    return {"name": SYSTEM_POOL, "role": "system", "instanceTypes": ["m6i.large"], "minSize": 1, "maxSize": 2,
            **overrides}


def gpu_pool(**overrides: Any) -> dict[str, Any]:
    return {"name": GPU_POOL, "role": "gpu", "instanceTypes": ["g5.xlarge"], "minSize": 0, "maxSize": 2, **overrides}


def project(**overrides: Any) -> dict[str, Any]:
    return {"name": PROJECT_NAME, "quota": {"gpus": 2, "cpu": "16", "memory": "64Gi"}, **overrides}


def service(**overrides: Any) -> dict[str, Any]:
    return {
        "name": SERVICE, "project": PROJECT_NAME, "nodePool": GPU_POOL,
        "model": {"name": "model-a", "version": "1.0.0", "image": "registry.example.org/model-a:1.0.0",
                  "modelCardUrl": "https://models.example.org/model-a", "riskTier": "minimal",
                  "dataClassification": "internal", "owner": "team-a@example.org",
                  "intendedUse": "A test model server."},
        "ethics": {"policyId": "policy-2026-001",
                   "evaluation": {"reportUri": "https://models.example.org/model-a/eval", "date": "2026-11-01",
                                  "metrics": {"accuracy": 0.9}}},
        "resources": {"gpus": 1, "cpu": "2", "memory": "8Gi"},
        "replicas": {"min": 1, "max": 2},
        **overrides,
    }


def stack(environment: str = "dev", **sections: Any) -> dict[str, Any]:
    """One AWS stack (``environment``) with a system pool, a GPU pool, one project and one service."""
    values: dict[str, Any] = {
        "region": "us-east-1",
        "environment": environment,
        "finops": {"tagPrefix": "finops.example.org", "costCenter": "cc-1", "project": PROJECT_NAME,
                   "tier": "development", "owner": OWNER},
        "cluster": {"mode": "existing", "name": f"test-{environment}", "version": "1.35"},
        "nodePools": [system_pool(), gpu_pool()],
        "projects": [project()],
        "services": [service()],
        "budgets": {"monthlyLimitsUsd": {PROJECT_NAME: 5000}, "alertEmails": ["finops@example.org"]},
    }
    values.update(copy.deepcopy(sections))
    return values


def build(values: dict[str, Any] | None = None, source: str = "test-stack.yaml") -> StackConfig:
    """``values`` (default: ``stack()``) validated as the program validates a stack file."""
    return validate_stack_config(values if values is not None else stack(), source)


def inference_args(values: dict[str, Any] | None = None, index: int = 0) -> InferenceServiceArgs:
    """The Args of service ``index`` of ``values`` (default: ``stack()``), as the program resolves them."""
    from program.args import inference_service_args

    cfg = build(values)
    return inference_service_args(cfg, cfg.services[index], namespace=PROJECT_NAME)


NAME_PREFIX = "acme"
REGISTRY = "210987654321.dkr.ecr.us-east-1.amazonaws.com"
DIGEST = "sha256:" + "c" * 64


def model_store(**overrides: Any) -> dict[str, Any]:
    return {"namePrefix": NAME_PREFIX, **overrides}


def store_names(environment: str = "dev", project_name: str = PROJECT_NAME) -> tuple[str, str]:
    """(repository, bucket) of ``project_name`` in ``stack(environment)`` with ``model_store()``."""
    return f"test-{environment}/{project_name}", f"{NAME_PREFIX}-test-{environment}-{project_name}-models"


def stored_service(environment: str = "dev", **overrides: Any) -> dict[str, Any]:
    """``service()`` with its image, evaluation report and weights in its project's model store."""
    repository, bucket = store_names(environment)
    values = service(**overrides)
    values["model"] = {**values["model"], "image": f"{REGISTRY}/{repository}:1.0.0@{DIGEST}",
                       "artifactUri": f"s3://{bucket}/weights/model-a/1.0.0/"}
    values["ethics"] = {**values["ethics"], "evaluation": {
        **values["ethics"]["evaluation"], "reportUri": f"s3://{bucket}/reports/model-a/1.0.0/report.json"}}
    return values


def stored_stack(environment: str = "dev", **sections: Any) -> dict[str, Any]:
    """``stack(environment)`` with a modelStore and its service using the project's store."""
    defaults: dict[str, Any] = {"modelStore": model_store(), "services": [stored_service(environment)]}
    return stack(environment, **{**defaults, **sections})
