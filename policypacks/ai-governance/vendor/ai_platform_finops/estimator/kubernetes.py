"""What Kubernetes objects cost through AWS: load balancers, and the volumes Helm charts claim.

A Kubernetes object carries no AWS tags: its project is its FinOps label, else its namespace's,
else the stack's.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from .. import helm_volumes, load_balancers, rates
from ..usage import setting
from ..values import known_str, mapping
from .pricer import Pricer
from .report import HOURS, Figures, cost_line, count_str, rate_str


def namespace_projects(namespaces: Iterable[Mapping[str, Any]], project_tag_key: str) -> dict[str, str]:
    """Namespace name -> the project its FinOps label names (the later one where two agree on a name)."""
    found: dict[str, str] = {}
    for namespace in namespaces:
        metadata = mapping(mapping(namespace.get("inputs")).get("metadata"))
        name, label = known_str(metadata.get("name")), known_str(mapping(metadata.get("labels")).get(project_tag_key))
        if name and label:
            found[name] = label
    return found


def storage_volume_types(storage_classes: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """StorageClass name -> the EBS volume type it provisions (gp3, the EBS CSI driver's default, when
    its ``parameters.type`` names none)."""
    return {
        name: kind for r in storage_classes
        for name, kind in [(known_str(mapping(mapping(r.get("inputs")).get("metadata")).get("name")),
                            known_str(mapping(mapping(r.get("inputs")).get("parameters")).get("type")) or "gp3")]
        if name
    }


def k8s_project(p: Pricer, resource: Mapping[str, Any]) -> str:
    """A Kubernetes resource's project: its FinOps label, else its namespace's, else the stack's."""
    inputs = mapping(resource.get("inputs"))
    metadata = mapping(inputs.get("metadata"))
    label = known_str(mapping(metadata.get("labels")).get(p.project_tag_key))
    if label:
        return label
    namespace = known_str(metadata.get("namespace")) or known_str(inputs.get("namespace"))
    if namespace and namespace in p.namespace_projects:
        return p.namespace_projects[namespace]
    return p.project(resource)


def load_balancer(p: Pricer, lb: load_balancers.LoadBalancer) -> None:
    resource = lb.resource
    hourly, unit_rate, unit = {
        load_balancers.ALB: (rates.ALB_HOUR, rates.ALB_LCU_HOUR, "LCU-h"),
        load_balancers.NLB: (rates.NLB_HOUR, rates.NLB_NLCU_HOUR, "NLCU-h"),
    }.get(lb.kind, (rates.CLB_HOUR, None, ""))
    lcu = p.usage.lcu_per_load_balancer
    lines = [cost_line("load balancer-hours", HOURS, "h", hourly.usd)]
    if unit_rate is not None:
        lines.append(cost_line(f"{unit.split('-')[0]}s", lcu * HOURS, unit, unit_rate.usd,
                           setting("lcuPerLoadBalancer"), lcu))
    else:
        p.note(f"{resource.get('name')}: a Classic Load Balancer also bills 0.008 $/GB processed: not in the estimate.")
    zones = p.usage.load_balancer_zones if lb.internet_facing else 0
    if zones:
        lines.append(cost_line("public IPv4 address-hours", zones * HOURS, "IPv4 address-h", rates.PUBLIC_IPV4_HOUR.usd,
                           setting("loadBalancerZones"), zones))
    if lb.note:
        p.note(lb.note)
    cost = sum(line["quantity"] * line["unit_price"] for line in lines)
    scheme = "internet-facing" if lb.internet_facing else "internal"
    basis = f"{lb.kind}, {scheme}, from {lb.what}: " + " + ".join(
        f"{count_str(line['quantity'])} {line['unit']} x {rate_str(line['unit_price'])} $" for line in lines)
    project = k8s_project(p, resource) if str(resource.get("type", "")).startswith("kubernetes:") else p.project(resource)
    p.add(resource, project, Figures(cost, cost, cost), basis,
             {"load balancer": lb.kind, "scheme": scheme}, lines)


def release_volumes(p: Pricer, resource: Mapping[str, Any], volume_types: Mapping[str, str]) -> None:
    """The EBS volumes a chart's StatefulSets claim (helm_volumes), priced like EBS volumes."""
    found = helm_volumes.claims(mapping(resource.get("inputs")))
    if not found:
        return
    name = str(resource.get("name") or "release")
    cost, parts = 0.0, []
    for claim in found:
        kind = volume_types.get(claim.storage_class or "")
        if kind is None:
            p.note(f"{name}: storage class {claim.storage_class or '(cluster default)'} is not among the stack's "
                      f"StorageClasses: its {claim.what} volume is priced as {rates.DEFAULT_VOLUME_TYPE}.")
        per_gb, kind_text = p.volume_rate(kind or rates.DEFAULT_VOLUME_TYPE, name)
        cost += claim.gib * claim.replicas * per_gb
        parts.append(f"{claim.what} {claim.replicas} x {claim.gib:g} GiB {kind_text} x {rate_str(per_gb)} $/GB-month")
    p.add(resource, p.project(resource, fallback=p.default_project), Figures(cost, cost, cost),
             "Helm chart volumes: " + " + ".join(parts))
