"""The program with modelStore on the fixture prod stack: a store per project, a reader per service with
weights, the weights contract in the pods, and the stores' spend counted by each project's budget."""

from __future__ import annotations

import json
from datetime import date
from functools import cache
from typing import Any

from ai_platform_finops.estimator import BUCKET_STORAGE, IMAGE_STORAGE, estimate

from preflight.cost import estimator_resources
from preflight.engine import RecordedResource, Recording
from tests.support.fixtures import P, load, preview
from tests.support.recordings import of_type

TAG = "finops.apexlogic.com/"
REGISTRY = "210987654321.dkr.ecr.us-east-1.amazonaws.com"
DIGEST = "@sha256:" + "d" * 64
BUCKET, REPOSITORY = "aws:s3/bucket:Bucket", "aws:ecr/repository:Repository"
ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
DEPLOYMENT, SERVICE_ACCOUNT = "kubernetes:apps/v1:Deployment", "kubernetes:core/v1:ServiceAccount"
BUDGET = "aws:budgets/budget:Budget"
USAGE = {"modelBucketGbPerProject": 250, "modelImagesGbPerProject": 80}


def with_stores(config: dict[str, Any]) -> None:
    """modelStore on; every service's image and report in its project's store; the first also has weights."""
    cluster = config[P + "cluster"]["name"]
    config[P + "modelStore"] = {"namePrefix": "acme"}
    config[P + "finops"]["usage"] = USAGE
    for index, service in enumerate(config[P + "services"]):
        project, model = service["project"], service["model"]
        bucket = f"acme-{cluster}-{project}-models"
        model["image"] = f"{REGISTRY}/{cluster}/{project}:{model['version']}{DIGEST}"
        service["ethics"]["evaluation"]["reportUri"] = f"s3://{bucket}/reports/{model['name']}/report.json"
        if index == 0:
            model["artifactUri"] = f"s3://{bucket}/weights/{model['name']}/{model['version']}/"


@cache
def recorded() -> Recording:
    return preview("live", with_stores)


def cluster_name() -> str:
    return load("live", with_stores).cluster.name


def named(recording: Recording, type_: str, name: str) -> RecordedResource:
    found = [r for r in of_type(recording, type_) if r.name == name]
    assert len(found) == 1, [r.name for r in of_type(recording, type_)]
    return found[0]


def test_each_project_gets_one_repository_and_one_bucket_named_after_it():
    recording, cluster = recorded(), cluster_name()
    projects = [p.name for p in load("live", with_stores).projects]
    assert sorted(r.inputs["name"] for r in of_type(recording, REPOSITORY)) == sorted(f"{cluster}/{p}" for p in projects)
    assert sorted(r.inputs["bucket"] for r in of_type(recording, BUCKET)) == sorted(
        f"acme-{cluster}-{p}-models" for p in projects)
    assert recording.outputs["modelStores"]["project-nova"]["bucket"] == f"acme-{cluster}-project-nova-models"


def test_only_the_service_with_weights_gets_a_reader_bound_to_its_service_account():
    recording, cfg = recorded(), load("live", with_stores)
    first, second = cfg.services[0], cfg.services[1]
    association = named(recording, ASSOCIATION, f"{first.name}-model-reader")
    account = named(recording, SERVICE_ACCOUNT, first.name)
    assert association.inputs["serviceAccount"] == account.inputs["metadata"]["name"] == first.name
    assert association.inputs["namespace"] == first.project
    assert not [a for a in of_type(recording, ASSOCIATION) if a.name == f"{second.name}-model-reader"]
    policy = json.loads(named(recording, ROLE_POLICY, f"{first.name}-model-reader").inputs["policy"])
    assert policy["Statement"][0]["Resource"] == (
        f"arn:aws:s3:::acme-{cfg.cluster.name}-{first.project}-models/weights/{first.model.name}/{first.model.version}/*")


def test_the_pods_get_the_weights_uri_and_region_and_start_after_their_reader():
    recording, cfg = recorded(), load("live", with_stores)
    first, second = cfg.services[0], cfg.services[1]
    deployment = named(recording, DEPLOYMENT, first.name)
    (server,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in server["env"]}
    assert env["MODEL_ARTIFACT_URI"] == first.model.artifact_uri and env["AWS_REGION"] == "us-east-1"
    association = named(recording, ASSOCIATION, f"{first.name}-model-reader")
    assert association.urn in deployment.options["dependsOn"]
    # Pod Identity mounts its own token: the Kubernetes API token stays off.
    assert deployment.inputs["spec"]["template"]["spec"]["automountServiceAccountToken"] is False
    other = named(recording, DEPLOYMENT, second.name)
    names = {e["name"] for e in other.inputs["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert not names & {"MODEL_ARTIFACT_URI", "AWS_REGION"}


def budget_filter(budget: RecordedResource) -> dict[str, str]:
    return {t["tags"]["key"]: t["tags"]["values"][0] for t in budget.inputs["filterExpression"]["ands"]}


def test_each_projects_budget_filters_on_tags_its_stores_carry_and_counts_their_storage_lines():
    recording = recorded()
    budgets = {budget_filter(b)[TAG + "project"]: budget_filter(b) for b in of_type(recording, BUDGET)}
    stores = of_type(recording, BUCKET) + of_type(recording, REPOSITORY)
    assert len(stores) == 4
    for store in stores:
        tags = store.inputs["tags"]
        wanted = budgets[tags[TAG + "project"]]
        # The budget's filter is an AND of tag values: the store's spend is counted only if it carries all of them.
        assert {key: tags.get(key) for key in wanted} == wanted, store.name
    result = estimate(estimator_resources(recording), region="us-east-1", project_tag_key=TAG + "project",
                      default_project="project-nova", as_of=date(2026, 12, 1),
                      usage=load("live", with_stores).finops.usage_assumptions)
    lines = {(i.type, i.project): i.figures.expected for i in result.items if i.type in (BUCKET_STORAGE, IMAGE_STORAGE)}
    assert lines == {(BUCKET_STORAGE, "project-nova"): 5.75, (BUCKET_STORAGE, "project-atlas"): 5.75,
                     (IMAGE_STORAGE, "project-nova"): 8.0, (IMAGE_STORAGE, "project-atlas"): 8.0}
    by_project = result.by_project()
    for project in budgets:
        assert by_project[project].expected >= 5.75 + 8.0
