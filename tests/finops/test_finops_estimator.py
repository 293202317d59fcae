"""The estimator against numbers worked by hand from the shipped catalog and the fixed rates.

Catalog (finops/ai_platform_finops/data/ec2-ondemand-us-east-1.csv, 2026-07-20):
    g5.xlarge 1.006 $/h, g5.12xlarge 5.672 $/h, m6i.large 0.096 $/h.
Fixed rates (ai_platform_finops.rates): EKS 0.10 $/h standard, 0.60 $/h extended; NAT 0.045 $/h;
gp3 0.08 $/GB-month. A month is 730 h.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ai_platform_finops import catalog
from ai_platform_finops.catalog import PriceTable, write_price_table
from ai_platform_finops.estimator import estimate
from ai_platform_finops.usage import Usage
from tests.finops.finops_fixtures import KEY, UNKNOWN, eks_cluster, nat_gateways, node_pool, resource

DOWN = ("gpu-off-peak-down", "0 20 * * MON-FRI", 0, 0, 0)
UP = ("gpu-off-peak-up", "0 8 * * MON-FRI", 0, 2, 1)


def run(resources: list[dict[str, Any]], **kwargs: Any):
    options: dict[str, Any] = {"region": "us-east-1", "project_tag_key": KEY, "default_project": "platform",
                               "spot_fraction": 0.35, "as_of": date(2026, 11, 1)}
    options.update(kwargs)
    return estimate(resources, **options)


def item(result, name: str):
    found = [i for i in result.items if i.name == name]
    assert len(found) == 1, [i.name for i in result.items]
    return found[0]


def test_spot_pool_that_sleeps_off_peak_weekday_nights_and_weekends():
    # g5.xlarge SPOT, min 0 / desired 1 / max 2; down Mon-Fri 20:00, up Mon-Fri 08:00 (UTC).
    # Up Mon-Fri 08:00-20:00 = 5 x 12 h = 60 h of 168 h a week; nights and the weekend
    # (Fri 20:00 -> Mon 08:00) are down. Share up: 60 / 168 = 5/14.
    # Node-hours a month: expected 1 x 730 x 5/14 = 260.714; max 2 x 730 x 5/14 = 521.429; min 0.
    # Rate: 1.006 $/h on-demand x 0.35 spot = 0.3521 $/h.
    # Compute: expected 260.714 x 0.3521 = 91.80; max 521.429 x 0.3521 = 183.59 (183.595); min 0.
    # Root volume: 200 GiB x 0.08 $/GB-month = 16 $/node-month; x average nodes 5/14 = 5.71, x 10/14 = 11.43.
    result = run(node_pool("gpu", "g5.xlarge", capacity="SPOT", min_size=0, max_size=2, desired=1,
                           schedules=[DOWN, UP]))
    ng, lt = item(result, "gpu-ng"), item(result, "gpu-lt")
    assert ng.figures.min == 0
    assert ng.figures.expected == pytest.approx(730 * 5 / 14 * 1.006 * 0.35, abs=0.006) == pytest.approx(91.80, abs=0.006)
    assert ng.figures.max == pytest.approx(2 * 730 * 5 / 14 * 1.006 * 0.35, abs=0.006) == pytest.approx(183.59, abs=0.006)
    assert (lt.figures.min, lt.figures.expected, lt.figures.max) == (0, 5.71, 11.43)
    assert "0.3521 $/h" in ng.basis and "2 schedule(s)" in ng.basis
    assert any("SPOT capacity is priced at 0.35 x the on-demand price" in a for a in result.assumptions)


def test_the_same_pool_without_schedules_runs_all_month():
    # 1 node x 730 h x 0.3521 = 257.03; max 2 x = 514.07.
    result = run(node_pool("gpu", "g5.xlarge", capacity="SPOT", min_size=0, max_size=2, desired=1))
    ng = item(result, "gpu-ng")
    assert (ng.figures.min, ng.figures.expected, ng.figures.max) == (0, 257.03, 514.07)


def test_on_demand_pool_min_1_max_3():
    # g5.12xlarge ON_DEMAND, min 1 / desired 1 / max 3: 5.672 $/h x 730 h = 4,140.56 a node.
    # min = expected = 4,140.56; max = 3 x 4,140.56 = 12,421.68.
    # Root 400 GiB x 0.08 = 32 $/node-month: 32 / 32 / 96.
    result = run(node_pool("atlas", "g5.12xlarge", min_size=1, max_size=3, disk_gib=400, project="project-atlas"))
    ng, lt = item(result, "atlas-ng"), item(result, "atlas-lt")
    assert (ng.figures.min, ng.figures.expected, ng.figures.max) == (4140.56, 4140.56, 12421.68)
    assert (lt.figures.min, lt.figures.expected, lt.figures.max) == (32.0, 32.0, 96.0)
    assert ng.project == lt.project == "project-atlas"
    assert not any("SPOT" in a for a in result.assumptions)
    assert result.by_project()["project-atlas"].max == 12517.68


def test_eks_cluster_standard_support():
    # 730 h x 0.10 $/h = 73.00 whatever the version's lifecycle, with supportType STANDARD.
    # From 2026-11-27 the month reaches past 2026-12-02, when 1.34 leaves standard support: said.
    result = run([eks_cluster("1.34", "STANDARD")], as_of=date(2026, 11, 27))
    assert item(result, "cluster-eks").figures.expected == 73.00
    assert any("leaves standard support on 2026-12-02" in a and "never billed" in a for a in result.assumptions)
    # From 2026-11-01 it ends on 2026-12-01 10:00, before that date: nothing to say.
    quiet = run([eks_cluster("1.34", "STANDARD")], as_of=date(2026, 11, 1))
    assert not any("leaves standard support" in a for a in quiet.assumptions)


def test_eks_cluster_entering_extended_support_mid_month():
    # Month from 2026-12-01 00:00; 1.34 leaves standard support 2026-12-02 00:00: 24 h standard, 706 h extended.
    # 24 x 0.10 + 706 x 0.60 = 2.40 + 423.60 = 426.00.
    result = run([eks_cluster("1.34", "EXTENDED")], as_of=date(2026, 12, 1))
    cluster = item(result, "cluster-eks")
    assert cluster.figures.expected == 426.00
    assert "706 h x 0.6 $/h (extended support)" in cluster.basis


def test_eks_cluster_without_support_type_assumes_aws_default_extended():
    # 1.30 left standard support 2025-07-23: the whole month is extended, 730 x 0.60 = 438.00.
    result = run([eks_cluster("1.30", None)])
    assert item(result, "cluster-eks").figures.expected == 438.00
    assert any("AWS's default, EXTENDED, is assumed" in a for a in result.assumptions)


@pytest.mark.parametrize("count, monthly", [(1, 32.85), (3, 98.55)])
def test_nat_gateways(count, monthly):
    # 730 h x 0.045 $/h = 32.85 each; data processing is a usage line at 0 GB unless assumed.
    result = run(nat_gateways(count))
    assert result.total.expected == monthly
    processing = item(result, "nat-gateway-data-processing")
    assert processing.figures.expected == 0 and processing.lines[0]["setting"] == "finops.usage.natGbPerMonth"
    # 1,000 GB x 0.045 $/GB = 45.00 more, however many gateways.
    assert run(nat_gateways(count), usage=Usage(nat_gb_per_month=1000)).total.expected == pytest.approx(monthly + 45.0)


def test_a_whole_stack_adds_up_per_project():
    resources = [
        *node_pool("gpu", "g5.xlarge", capacity="SPOT", min_size=0, max_size=2, desired=1, schedules=[DOWN, UP]),
        *node_pool("atlas", "g5.12xlarge", min_size=1, max_size=3, disk_gib=400, project="project-atlas"),
        eks_cluster(),
        *nat_gateways(3),
    ]
    result = run(resources)
    by_project = result.by_project()
    # nova: 0 + 91.80 + 5.71 (pool) + 73.00 (EKS) + 98.55 (NAT) = 269.06 expected.
    assert by_project["project-nova"].expected == pytest.approx(269.06, abs=0.011)
    assert by_project["project-atlas"].expected == 4172.56
    assert result.total.expected == pytest.approx(by_project["project-nova"].expected + 4172.56, abs=0.001)
    section = result.section({"project-nova": 1000.0, "project-atlas": 16000.0, "project-idle": 10.0})
    assert set(section) == {"currency", "hours_per_month", "catalog", "total", "by_project", "items", "assumptions",
                            "usage", "fixed", "commitments", "spot"}
    # The 24x7 on-demand base: atlas's min 1 x 5.672 $/h x 730 h (the SPOT pool is not in it).
    assert section["commitments"]["on_demand_base"] == 4140.56
    assert section["commitments"]["savings_plan"]["saving"] == round(4140.56 * 0.28, 2)
    # The SPOT pool at on-demand: 1.006 $/h x 730 h x 5/14 of the week on, x 2 at max.
    assert section["spot"][0]["on_demand"]["max"] == pytest.approx(2 * 1.006 * 730 * 5 / 14, abs=0.01)
    assert section["catalog"] == {"source": catalog.price_table("us-east-1").source, "date": "2026-07-20", "region": "us-east-1"}
    assert section["by_project"]["project-idle"] == {"min": 0.0, "expected": 0.0, "max": 0.0, "budget": 10.0}
    assert set(section["items"][0]) <= {"urn", "type", "project", "min", "expected", "max", "basis", "attributes", "lines"}


def test_schedules_link_through_the_graph_not_through_names():
    # Two pools; the schedules carry misleading names and unknown ASG names. Only their
    # property dependencies say which group they scale.
    gpu = node_pool("gpu", "g5.xlarge", min_size=0, max_size=2, desired=1,
                    schedules=[("system-down", "0 20 * * MON-FRI", 0, 0, 0), ("system-up", "0 8 * * MON-FRI", 0, 2, 1)])
    system = node_pool("system", "m6i.large", min_size=2, max_size=3)
    result = run(gpu + system)
    assert item(result, "system-ng").figures.expected == round(2 * 730 * 0.096, 2)  # 140.16, untouched
    assert item(result, "gpu-ng").figures.expected == pytest.approx(730 * 5 / 14 * 1.006, abs=0.006)


def test_schedule_linked_only_by_parent_when_dependencies_are_missing():
    pool = node_pool("gpu", "g5.xlarge", min_size=0, max_size=2, desired=1, schedules=[DOWN, UP])
    for r in pool:
        if r["type"] == "aws:autoscaling/schedule:Schedule":
            r["dependencies"], r["property_dependencies"] = [], {}
    result = run(pool)
    assert item(result, "gpu-ng").figures.expected == pytest.approx(730 * 5 / 14 * 1.006, abs=0.006)


def test_instance_type_from_the_launch_template():
    pool = node_pool("gpu", "g5.12xlarge", min_size=1, max_size=1)
    lt = next(r for r in pool if r["name"] == "gpu-lt")
    ng = next(r for r in pool if r["name"] == "gpu-ng")
    lt["inputs"]["instanceType"] = "g5.xlarge"
    del ng["inputs"]["instanceTypes"]
    result = run(pool)
    assert item(result, "gpu-ng").figures.expected == round(730 * 1.006, 2)
    assert "launch template instanceType" in item(result, "gpu-ng").basis


def test_unknown_instance_type_is_said_not_guessed():
    pool = node_pool("gpu", "g5.xlarge", min_size=1, max_size=1)
    next(r for r in pool if r["name"] == "gpu-ng")["inputs"]["instanceTypes"] = UNKNOWN
    result = run(pool)
    assert item(result, "gpu-ng").figures.expected == 0
    assert any("instance type not known at preview" in a for a in result.assumptions)


def test_inputs_unknown_at_preview_are_listed_apart_for_gates_that_fail_closed():
    pool = node_pool("gpu", "g5.xlarge", min_size=0, max_size=2, desired=1, schedules=[DOWN, UP])
    next(r for r in pool if r["name"] == "gpu-ng")["inputs"]["scalingConfig"]["maxSize"] = UNKNOWN
    next(r for r in pool if r["name"] == "gpu-off-peak-up")["inputs"]["recurrence"] = UNKNOWN
    result = run(pool)
    assert result.unknowns == [
        "gpu-ng: scaling sizes are not known at preview: missing sizes priced as 0 nodes.",
        "gpu-ng: schedule gpu-off-peak-up's recurrence not known at preview: not applied.",
    ]
    assert set(result.unknowns) <= set(result.assumptions)
    assert run(node_pool("gpu", "g5.xlarge", min_size=0, max_size=2)).unknowns == []


def test_resources_without_the_project_tag_go_to_the_stack_project_with_an_assumption():
    nat = resource("aws:ec2/natGateway:NatGateway", "nat-untagged", {"connectivityType": "public"})
    result = run([nat], default_project="project-nova")
    assert item(result, "nat-untagged").project == "project-nova"
    assert any("carry no 'finops.example.com/project' tag" in a and "nat-untagged" in a for a in result.assumptions)


def test_region_without_a_snapshot_falls_back_visibly():
    result = run(node_pool("gpu", "g5.xlarge", min_size=1, max_size=1), region="eu-west-1")
    assert item(result, "gpu-ng").figures.expected == round(730 * 1.006, 2)
    assert result.catalog.region == "us-east-1"  # the catalog actually used, never relabelled
    notes = " ".join(result.assumptions)
    assert "No price snapshot for region eu-west-1" in notes
    assert "prices refresh --region eu-west-1" in notes
    assert "Fixed rates (EKS, NAT gateway, public IPv4, EBS) are us-east-1 rates" in notes


def test_a_region_with_its_own_snapshot_uses_it(tmp_path: Path):
    write_price_table(PriceTable("eu-west-1", "2026-11-01", "test snapshot", {"g5.xlarge": 1.123}),
                      tmp_path / "ec2-ondemand-eu-west-1.csv")
    result = run(node_pool("gpu", "g5.xlarge", min_size=1, max_size=1), region="eu-west-1", data_dir=tmp_path)
    assert item(result, "gpu-ng").figures.expected == round(730 * 1.123, 2)
    assert (result.catalog.region, result.catalog.date) == ("eu-west-1", "2026-11-01")
    assert not any("No price snapshot" in a for a in result.assumptions)


def test_the_catalog_is_read_once_however_many_resources(monkeypatch):
    calls: list[str] = []
    real = catalog.price_table

    def counting(region: str, *args: Any) -> Any:
        calls.append(region)
        return real(region, *args)

    monkeypatch.setattr(catalog, "price_table", counting)
    resources = [r for i in range(300) for r in node_pool(f"p{i}", "g5.xlarge", min_size=0, max_size=2, desired=1,
                                                          schedules=[(f"d{i}", *DOWN[1:]), (f"u{i}", *UP[1:])])]
    result = run(resources)
    assert len(result.items) == 600
    assert calls == ["us-east-1"]


@st.composite
def pools(draw):
    low = draw(st.integers(0, 20))
    high = draw(st.integers(low, 40))
    desired = draw(st.integers(low, high))
    hours = st.integers(0, 23)
    days = st.sampled_from(["*", "MON-FRI", "SAT,SUN", "1-5", "0", "TUE"])
    schedules = []
    for index in range(draw(st.integers(0, 4))):
        size = st.one_of(st.integers(-1, 40))
        schedules.append((f"s{index}", f"{draw(st.integers(0, 59))} {draw(hours)} * * {draw(days)}",
                          draw(size), draw(size), draw(size)))
    return dict(low=low, high=high, desired=desired, schedules=schedules,
                capacity=draw(st.sampled_from(["SPOT", "ON_DEMAND"])),
                zone=draw(st.sampled_from(["UTC", "America/New_York", "Asia/Tokyo"])))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pools())
def test_min_never_exceeds_expected_nor_expected_max(pool):
    result = run(node_pool("p", "g5.xlarge", capacity=pool["capacity"], min_size=pool["low"], max_size=pool["high"],
                           desired=pool["desired"], schedules=pool["schedules"], time_zone=pool["zone"]))
    for cost in result.items:
        assert 0 <= cost.figures.min <= cost.figures.expected <= cost.figures.max
    total = result.total
    assert total.min <= total.expected <= total.max


odd = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8), st.just(UNKNOWN)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(
        ["instanceTypes", "scalingConfig", "minSize", "maxSize", "desiredSize", "capacityType", "tags", KEY,
         "blockDeviceMappings", "ebs", "volumeSize", "volumeType", "recurrence", "timeZone", "version",
         "upgradePolicy", "supportType", "region", "launchTemplate", "instanceType"]), inner, max_size=4)),
    max_leaves=12,
)
TYPES = ["aws:eks/nodeGroup:NodeGroup", "aws:ec2/launchTemplate:LaunchTemplate", "aws:autoscaling/schedule:Schedule",
         "aws:eks/cluster:Cluster", "aws:ec2/natGateway:NatGateway", "aws:ec2/instance:Instance", "aws:ebs/volume:Volume"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.fixed_dictionaries({
    "urn": st.sampled_from(["a", "b", "c", 3, None]), "type": st.sampled_from(TYPES), "name": odd, "parent": odd,
    "inputs": odd, "dependencies": odd, "property_dependencies": odd}), max_size=6))
def test_odd_property_bags_never_crash_the_estimator(resources):
    result = run(resources)
    section = result.section({})
    assert section["total"]["min"] <= section["total"]["expected"] <= section["total"]["max"]


def test_eks_cluster_past_standard_support_with_standard_type_says_so():
    result = run([eks_cluster("1.30", "STANDARD")])
    assert item(result, "cluster-eks").figures.expected == 73.00
    assert any("1.30 left standard support on 2025-07-23" in a for a in result.assumptions)
