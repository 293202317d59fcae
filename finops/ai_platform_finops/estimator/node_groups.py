"""Node groups and their launch templates, priced from the nodes their schedules leave running.

A node group is priced as instance-hours (its instance type, or its launch template's, at the
snapshot's on-demand price, SPOT at a fraction of it) x the average node counts its scaling sizes
and schedules give; a launch template as the EBS volumes it declares x the nodes of the groups
that use it; a group without one as its ``diskSize`` root volume.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from .. import rates
from ..schedules import AverageSizes, ScalingAction, average_sizes
from ..values import integer, is_unknown, known_str, mapping, seq
from .pricer import Pricer
from .report import HOURS, Figures, SpotRange, count_str, rate_str


def node_group(p: Pricer, ng: Mapping[str, Any], template: Mapping[str, Any] | None,
               schedules: Sequence[Mapping[str, Any]]) -> AverageSizes:
    inputs = mapping(ng.get("inputs"))
    name = str(ng.get("name") or "node group")
    region = p.resource_region(ng)
    project = p.project(ng)

    types_raw = inputs.get("instanceTypes")
    types = seq(types_raw)
    unknown_type = is_unknown(types_raw) or any(is_unknown(t) for t in types[:1])
    instance_type = known_str(types[0]) if types else None
    source = "instanceTypes[0]"
    if instance_type is None and not unknown_type and template is not None:
        lt_type = mapping(template.get("inputs")).get("instanceType")
        instance_type = known_str(lt_type)
        unknown_type = is_unknown(lt_type)
        source = "launch template instanceType"
    if instance_type is None and not unknown_type:
        instance_type = rates.DEFAULT_INSTANCE_TYPE
        source = "EKS default"
        p.note(f"{name}: no instance type given: priced as {rates.DEFAULT_INSTANCE_TYPE}, the EKS default.")
    known_types = [t for t in (known_str(x) for x in types) if t]
    if len(known_types) > 1:
        p.note(f"{name}: several instance types {known_types}: priced as the first, {known_types[0]} (as Infracost does).")

    scaling_raw = inputs.get("scalingConfig")
    scaling = mapping(scaling_raw)
    low, high = integer(scaling.get("minSize")), integer(scaling.get("maxSize"))
    desired = integer(scaling.get("desiredSize"))
    if low is None or high is None:
        if is_unknown(scaling_raw) or any(is_unknown(scaling.get(k)) for k in ("minSize", "maxSize")):
            p.unknown(f"{name}: scaling sizes are not known at preview: missing sizes priced as 0 nodes.")
        else:
            p.note(f"{name}: scalingConfig has no usable minSize/maxSize: missing sizes priced as 0 nodes.")
        low, high = low or 0, high or 0
    desired = low if desired is None else desired
    sizes = (low, desired, high)

    actions = []
    for schedule in schedules:
        sched_inputs = mapping(schedule.get("inputs"))
        unknown = [k for k in ("recurrence", "timeZone", "minSize", "maxSize", "desiredCapacity")
                   if is_unknown(sched_inputs.get(k))]
        if "recurrence" in unknown or "timeZone" in unknown:
            p.unknown(f"{name}: schedule {schedule.get('name')}'s {' and '.join(unknown[:2])} not known at "
                         "preview: not applied.")
            continue
        if unknown:
            p.unknown(f"{name}: schedule {schedule.get('name')}'s {', '.join(unknown)} not known at preview: "
                         "left unchanged when it fires.")
        actions.append(scaling_action(schedule))
    averages = average_sizes(sizes, actions)
    for problem in averages.problems:
        p.note(f"{name}: schedule not modelled ({problem}); its group is priced without it.")
    nodes = Figures(averages.min, averages.desired, averages.max)
    node_hours = nodes.times(HOURS)

    capacity = known_str(inputs.get("capacityType")) or "ON_DEMAND"
    if unknown_type or instance_type is None:
        p.unknown(f"{name}: instance type not known at preview: compute priced at 0.")
        rate, rate_text = 0.0, "instance type unknown at preview"
    else:
        rate, rate_text = p.instance_rate(instance_type, region, capacity == "SPOT", name)
        rate_text += f" ({source}, {capacity})"
    schedule_text = ""
    if schedules and averages.cycle != "always":
        zones = sorted({a.time_zone for a in actions})
        schedule_text = (
            f"; {len(schedules)} schedule(s) ({averages.cycle}ly cycle, {', '.join(zones)}): "
            f"at zero {averages.zero_fraction:.1%} of the time, average nodes "
            f"{count_str(nodes.min)} / {count_str(nodes.expected)} / {count_str(nodes.max)}"
        )
    basis = (
        f"{rate_text} x node-hours/month min {count_str(node_hours.min)} / expected {count_str(node_hours.expected)} / "
        f"max {count_str(node_hours.max)} (nodes {low} / {desired} / {high} x {HOURS} h{schedule_text})"
    )
    figures = node_hours.times(rate)
    attributes: dict[str, Any] = {"instance type": instance_type or "unknown", "capacity type": capacity,
                                  "minSize": low, "desiredSize": desired, "maxSize": high}
    if rate and capacity == "SPOT":
        on_demand = rate / p.spot_fraction
        p.spot.append(SpotRange(str(ng.get("urn") or ""), name, project, figures, node_hours.times(on_demand)))
    elif rate:
        p.on_demand_base += node_hours.min * rate
    if template is None:
        disk = integer(inputs.get("diskSize"))
        if disk is None:
            disk = rates.DEFAULT_NODE_DISK_GIB
            p.note(f"{name}: no launch template and no diskSize: root volume priced at the EKS default "
                      f"{disk} GiB {rates.DEFAULT_VOLUME_TYPE}.")
        else:
            p.note(f"{name}: no launch template: its {disk} GiB diskSize is priced as {rates.DEFAULT_VOLUME_TYPE}.")
        per_gb, _ = p.volume_rate(rates.DEFAULT_VOLUME_TYPE, name)
        per_node = disk * per_gb
        figures = figures + nodes.times(per_node)
        basis += f"; plus root volume {disk} GiB x {rate_str(per_gb)} $/GB-month = {rate_str(per_node)} $/node-month x average nodes"
        attributes["disk"] = f"{disk} GiB {rates.DEFAULT_VOLUME_TYPE}"
    p.add(ng, project, figures, basis, attributes)
    return averages

def launch_template(p: Pricer, lt: Mapping[str, Any], users: Sequence[tuple[str, str, AverageSizes]]) -> None:
    """Storage of a launch template's volumes x the nodes of the groups that use it."""
    inputs = mapping(lt.get("inputs"))
    name = str(lt.get("name") or "launch template")
    per_node = 0.0
    parts: list[str] = []
    disks: list[str] = []
    mappings = [mapping(m) for m in seq(inputs.get("blockDeviceMappings"))]
    volumes = [mapping(m.get("ebs")) for m in mappings if mapping(m.get("ebs"))]
    if not volumes:
        p.note(f"{name}: no EBS block device: the AMI's root volume is priced as "
                  f"{rates.DEFAULT_NODE_DISK_GIB} GiB {rates.DEFAULT_VOLUME_TYPE}.")
        volumes = [{"volumeSize": rates.DEFAULT_NODE_DISK_GIB, "volumeType": rates.DEFAULT_VOLUME_TYPE}]
    for ebs in volumes:
        size = integer(ebs.get("volumeSize"))
        if size is None:
            size = rates.DEFAULT_NODE_DISK_GIB
            if is_unknown(ebs.get("volumeSize")):
                p.unknown(f"{name}: a volume size is not known at preview: priced as {size} GiB.")
            else:
                p.note(f"{name}: a volume size is not given: priced as {size} GiB.")
        per_gb, kind = p.volume_rate(known_str(ebs.get("volumeType")), name)
        per_node += size * per_gb
        parts.append(f"{size} GiB {kind} x {rate_str(per_gb)} $/GB-month")
        disks.append(f"{size} GiB {kind}")
    nodes = Figures()
    groups: list[str] = []
    project: str | None = None
    for group_name, group_project, averages in users:
        nodes = nodes + Figures(averages.min, averages.desired, averages.max)
        groups.append(group_name)
        project = project or group_project
    basis = (
        f"{' + '.join(parts)} = {rate_str(round(per_node, 6))} $/node-month x average nodes "
        f"{count_str(nodes.min)} / {count_str(nodes.expected)} / {count_str(nodes.max)} of node group(s) {', '.join(groups)}"
    )
    # Its own project tag first; else the project of the nodes whose volumes these are.
    p.add(lt, p.project(lt, fallback=project), nodes.times(per_node), basis,
             {"disk": " + ".join(disks), "nodes of": ", ".join(groups)})


def scaling_action(schedule: Mapping[str, Any]) -> ScalingAction:
    inputs = mapping(schedule.get("inputs"))

    def size(key: str) -> int | None:
        raw = inputs.get(key)
        if raw is None:
            return 0  # the AWS provider's default for an omitted size
        value = integer(raw)
        return None if value is None or value < 0 else value  # -1 (or unknown): unchanged

    return ScalingAction(
        recurrence=known_str(inputs.get("recurrence")) or "",
        time_zone=known_str(inputs.get("timeZone")) or "UTC",
        min_size=size("minSize"),
        max_size=size("maxSize"),
        desired=size("desiredCapacity"),
        name=str(schedule.get("name") or "schedule"),
    )
