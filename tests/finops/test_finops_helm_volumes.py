"""The volumes Helm charts claim are priced: size x replicas at the EBS rate of their StorageClass.

gp3 is 0.08 $/GB-month and gp2 0.10 (ai_platform_finops.rates); worked by hand below.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ai_platform_finops.estimator import estimate
from ai_platform_finops.helm_volumes import claims, gib
from tests.finops.finops_fixtures import KEY, UNKNOWN, resource

RELEASE = "kubernetes:helm.sh/v3:Release"
SC = "kubernetes:storage.k8s.io/v1:StorageClass"


def kps(prometheus: str | None = "100Gi", alertmanager: str | None = "2Gi", replicas: Any = 2.0,
        storage_class: str = "gp3-encrypted") -> dict[str, Any]:
    def claim(size: str) -> dict[str, Any]:
        return {"volumeClaimTemplate": {"spec": {"storageClassName": storage_class,
                                                 "resources": {"requests": {"storage": size}}}}}
    values: dict[str, Any] = {"prometheus": {"prometheusSpec": {}}, "alertmanager": {"alertmanagerSpec": {"replicas": replicas}}}
    if prometheus:
        values["prometheus"]["prometheusSpec"]["storageSpec"] = claim(prometheus)
    if alertmanager:
        values["alertmanager"]["alertmanagerSpec"]["storage"] = claim(alertmanager)
    return resource(RELEASE, "observability-kube-prometheus-stack", {"chart": "kube-prometheus-stack", "values": values})


def storage_class(name: str = "gp3-encrypted", kind: str | None = "gp3") -> dict[str, Any]:
    return resource(SC, f"sc-{name}", {"metadata": {"name": name}, "parameters": {"type": kind} if kind else {}})


def run(resources):
    return estimate(resources, region="us-east-1", project_tag_key=KEY, default_project="platform",
                    as_of=date(2026, 11, 1))


def test_prometheus_and_two_alertmanagers_on_gp3():
    result = run([kps(), storage_class()])
    (item,) = result.items
    # (100 + 2 x 2) GiB x 0.08 = 8.32
    assert (item.figures.min, item.figures.expected, item.figures.max) == (8.32, 8.32, 8.32)
    assert item.project == "platform"
    assert "Prometheus 1 x 100 GiB gp3" in item.basis and "Alertmanager 2 x 2 GiB gp3" in item.basis


def test_a_gp2_class_is_priced_as_gp2_and_a_missing_class_as_gp3_with_a_note():
    assert run([kps(alertmanager=None), storage_class(kind="gp2")]).items[0].figures.expected == 10.0
    result = run([kps(alertmanager=None)])
    assert result.items[0].figures.expected == 8.0
    assert any("storage class gp3-encrypted is not among the stack's StorageClasses" in a for a in result.assumptions)


def test_releases_without_volumes_or_of_other_charts_cost_nothing():
    assert run([kps(prometheus=None, alertmanager=None)]).items == []
    other = resource(RELEASE, "argocd", {"chart": "argo-cd", "values": {"prometheus": {"prometheusSpec": {}}}})
    assert run([other]).items == []


def test_sizes_and_unknowns():
    assert gib("100Gi") == 100 and gib("1Ti") == 1024 and round(gib("50G"), 3) == 46.566
    assert gib(UNKNOWN) is None and gib("lots") is None
    # Kubernetes' whole quantity grammar (the one parser the pack uses too), but no negative size or number.
    assert gib("1048576Ki") == 1 and gib("0.5e1Gi") == 5 and gib("-5Gi") is None and gib(100) is None
    assert claims({"chart": "kube-prometheus-stack", "values": UNKNOWN}) == []
    (claim,) = claims({"chart": "kube-prometheus-stack",
                       "values": kps(alertmanager=None, replicas=UNKNOWN)["inputs"]["values"]})
    assert claim.replicas == 1
