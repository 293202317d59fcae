"""Resources in the estimator's input shape, built by hand (engine form, as preflight records them)."""

from __future__ import annotations

from typing import Any

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
KEY = "finops.example.com/project"
STACK = "urn:pulumi:test::ai-platform::pulumi:pulumi:Stack::ai-platform-test"


def urn(type_: str, name: str, parent_type: str = "") -> str:
    qualified = f"{parent_type}${type_}" if parent_type else type_
    return f"urn:pulumi:test::ai-platform::{qualified}::{name}"


def resource(type_: str, name: str, inputs: dict[str, Any], *, parent: str = STACK,
             parent_type: str = "", deps: dict[str, list[str]] | None = None) -> dict[str, Any]:
    deps = deps or {}
    return {
        "urn": urn(type_, name, parent_type),
        "type": type_,
        "name": name,
        "parent": parent,
        "inputs": inputs,
        "dependencies": sorted({u for urns in deps.values() for u in urns}),
        "property_dependencies": deps,
    }


POOL = "ai-platform:cluster:NodePool"


def node_pool(name: str, instance_type: str, *, capacity: str = "ON_DEMAND", min_size: int, max_size: int,
              desired: int | None = None, disk_gib: int = 200, project: str = "project-nova",
              schedules: list[tuple[str, str, int, int, int]] | None = None, time_zone: str = "UTC",
              ) -> list[dict[str, Any]]:
    """A NodePool component as the cluster engineer builds it: launch template, node group, schedules.

    ``schedules``: (name, recurrence, min, max, desired) each.
    """
    component = resource(POOL, name, {}, parent=STACK)
    tags = {KEY: project, "Name": name}
    lt = resource("aws:ec2/launchTemplate:LaunchTemplate", f"{name}-lt", {
        "blockDeviceMappings": [{"deviceName": "/dev/xvda", "ebs": {"volumeSize": float(disk_gib), "volumeType": "gp3",
                                                                    "encrypted": "true"}}],
        "tags": tags,
    }, parent=component["urn"], parent_type=POOL)
    ng = resource("aws:eks/nodeGroup:NodeGroup", f"{name}-ng", {
        "instanceTypes": [instance_type],
        "capacityType": capacity,
        "scalingConfig": {"minSize": float(min_size), "maxSize": float(max_size),
                          "desiredSize": float(min_size if desired is None else desired)},
        "launchTemplate": {"id": UNKNOWN, "version": UNKNOWN},
        "tags": tags,
    }, parent=component["urn"], parent_type=POOL, deps={"launchTemplate": [lt["urn"]]})
    out = [component, lt, ng]
    for sched_name, recurrence, low, high, want in schedules or []:
        out.append(resource("aws:autoscaling/schedule:Schedule", sched_name, {
            "autoscalingGroupName": UNKNOWN,  # unknown at preview: linking must not need it
            "scheduledActionName": sched_name,
            "recurrence": recurrence,
            "timeZone": time_zone,
            "minSize": float(low), "maxSize": float(high), "desiredCapacity": float(want),
        }, parent=component["urn"], parent_type=POOL, deps={"autoscalingGroupName": [ng["urn"]]}))
    return out


def eks_cluster(version: str = "1.34", support: str | None = "STANDARD", project: str = "project-nova") -> dict[str, Any]:
    inputs: dict[str, Any] = {"version": version, "tags": {KEY: project}}
    if support is not None:
        inputs["upgradePolicy"] = {"supportType": support}
    return resource("aws:eks/cluster:Cluster", "cluster-eks", inputs)


def nat_gateways(count: int, project: str = "project-nova") -> list[dict[str, Any]]:
    return [resource("aws:ec2/natGateway:NatGateway", f"nat-{i}", {"connectivityType": "public", "subnetId": UNKNOWN,
                                                                   "tags": {KEY: project}})
            for i in range(count)]
