"""Synthetic stacks for the benchmark: N inference services over K projects and GPU pools.

They start from the prod stack (every component, every governance field) and grow it: K projects
and K GPU pools with K = ceil(N / 8), each pool sized so its services fit (2 replicas each, so a
pool stays within prod's per-pool GPU cap) and each project's budget covering its pool, so the
policy pack sees a realistic, passing stack of that size. Only the stack-wide caps of the prod
policy config (total GPUs, total monthly cost) are lifted to the synthetic stack's size.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

from components.config.model_store import bucket_name, repository_name
from preflight.stackfile import StackConfigSource, read_stack_config

P = "ai-platform:"
SERVICES_PER_POOL = 8
REPLICAS = 2


def _in_store_of(config: dict[str, Any], service: dict[str, Any], project: str) -> dict[str, Any]:
    """``service`` with its image, weights and report moved into ``project``'s model store (if the stack has stores)."""
    store = config.get(P + "modelStore")
    if not store:
        return service
    cluster, old = config[P + "cluster"]["name"], service["project"]
    text = json.dumps(service)
    for before, after in ((repository_name(cluster, old), repository_name(cluster, project)),
                          (bucket_name(store["namePrefix"], cluster, old), bucket_name(store["namePrefix"], cluster, project))):
        text = text.replace(before, after)
    return json.loads(text)


def synthetic_source(project_dir, n: int, base_stack: str = "prod") -> StackConfigSource:
    base = read_stack_config(project_dir, base_stack)
    config: dict[str, Any] = {}
    for key, raw in base.config.items():
        try:
            config[key] = json.loads(raw)
        except json.JSONDecodeError:
            config[key] = raw

    k = max(1, math.ceil(n / SERVICES_PER_POOL))
    template_service = config[P + "services"][0]
    template_project = config[P + "projects"][0]
    system_pool = next(p for p in config[P + "nodePools"] if p.get("role") == "system")
    gpu_pool = next(p for p in config[P + "nodePools"] if p.get("role", "gpu") == "gpu")

    projects, pools, services, limits = [], [copy.deepcopy(system_pool)], [], {}
    per_project = [n // k + (1 if i < n % k else 0) for i in range(k)]
    for i, count in enumerate(per_project):
        project = f"team-{i:03d}"
        pool_name = f"gpu-{i:03d}"
        max_replicas = REPLICAS
        projects.append({**copy.deepcopy(template_project), "name": project,
                         "quota": {"gpus": count * max_replicas, "cpu": "1000", "memory": "4000Gi"}})
        pool = copy.deepcopy(gpu_pool)
        pool.update({"name": pool_name, "project": project, "minSize": 1, "desiredSize": 1,
                     "maxSize": max(2, count * max_replicas)})
        pools.append(pool)
        # Generous: a synthetic stack must pass cost-within-budget like the shipped ones.
        limits[project] = 2_000.0 * pool["maxSize"] + 1_000.0
        for j in range(count):
            service = _in_store_of(config, copy.deepcopy(template_service), project)
            service.update({"name": f"model-{i:03d}-{j:03d}", "project": project, "nodePool": pool_name,
                            "replicas": {"min": REPLICAS, "max": REPLICAS}})
            services.append(service)
    limits[config[P + "finops"]["project"]] = limits.get(config[P + "finops"]["project"], 5_000.0)
    if config[P + "finops"]["project"] not in {p["name"] for p in projects}:
        projects.append({**copy.deepcopy(template_project), "name": config[P + "finops"]["project"]})

    config[P + "projects"] = projects
    config[P + "nodePools"] = pools
    config[P + "services"] = services
    config[P + "budgets"]["monthlyLimitsUsd"] = limits
    receivers = (config.get(P + "observability") or {}).get("receivers")
    if receivers:  # every project keeps an owner route, as observability-coverage requires in prod
        template_receiver = next(iter(receivers.values()))
        config[P + "observability"]["receivers"] = {p["name"]: copy.deepcopy(template_receiver) for p in projects}
    source = StackConfigSource(project=base.project, stack=f"bench-{n}", source=f"(synthetic N={n})",
                               secret_keys=list(base.secret_keys))
    source.config = {key: value if isinstance(value, str) else json.dumps(value) for key, value in config.items()}
    return source


def synthetic_policy_config(pack_dir: Path, out: Path, source: StackConfigSource) -> Path:
    """prod's policy config with only the stack-wide caps raised to fit ``source``'s size."""
    config = json.loads((pack_dir / "config" / "prod.json").read_text())
    pools = json.loads(source.config[P + "nodePools"])
    config["gpu-capacity-ceiling"]["maxGpusPerStack"] = sum(p["maxSize"] * 8 for p in pools)
    config["cost-within-budget"]["maxMonthlyUsd"] = 10_000_000
    out.write_text(json.dumps(config, indent=2))
    return out
