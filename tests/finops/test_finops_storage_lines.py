"""Model store storage as usage lines: one per project owning a bucket or a repository, at S3 Standard and ECR rates.

Rates (ai_platform_finops.rates): S3 Standard 0.023 $/GB-month, ECR 0.10 $/GB-month.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from ai_platform_finops.estimator import BUCKET_STORAGE, IMAGE_STORAGE, estimate
from ai_platform_finops.resource_types import ECR_REPOSITORY, S3_BUCKET
from ai_platform_finops.usage import Usage, usage_of
from tests.finops.finops_fixtures import KEY, resource

USAGE = Usage(model_bucket_gb_per_project=500, model_images_gb_per_project=30)


def run(resources: list[dict[str, Any]], usage: Usage = USAGE):
    return estimate(resources, region="us-east-1", project_tag_key=KEY, default_project="platform",
                    as_of=date(2026, 11, 1), usage=usage)


def store(project: str | None, suffix: str = "") -> list[dict[str, Any]]:
    tags = {KEY: project} if project else {}
    return [resource(S3_BUCKET, f"{project}-bucket{suffix}", {"bucket": f"b-{project}{suffix}", "tags": tags}),
            resource(ECR_REPOSITORY, f"{project}-images{suffix}", {"name": f"c/{project}{suffix}", "tags": tags})]


def lines(result) -> dict[tuple[str, str], float]:
    return {(i.type, i.project): i.figures.expected for i in result.items if i.type in (BUCKET_STORAGE, IMAGE_STORAGE)}


def test_each_project_with_a_store_gets_one_bucket_and_one_image_line():
    # team-a: 500 GB x 0.023 = 11.50 and 30 GB x 0.10 = 3.00; team-b the same. Two buckets of team-a: still one line.
    result = run(store("team-a") + store("team-a", "-2") + store("team-b"))
    assert lines(result) == {(BUCKET_STORAGE, "team-a"): 11.5, (IMAGE_STORAGE, "team-a"): 3.0,
                             (BUCKET_STORAGE, "team-b"): 11.5, (IMAGE_STORAGE, "team-b"): 3.0}
    assert result.by_project()["team-a"].expected == pytest.approx(14.5)
    line = next(i for i in result.items if i.type == BUCKET_STORAGE and i.project == "team-a")
    assert line.lines[0]["setting"] == "finops.usage.modelBucketGbPerProject" and line.lines[0]["unit_price"] == 0.023
    assert "500 GB a month assumed (finops.usage.modelBucketGbPerProject) x 0.023 $/GB" in line.basis


def test_no_store_no_line_and_zero_gb_prices_zero():
    assert lines(run([])) == {}
    assert set(lines(run(store("team-a"), Usage())).values()) == {0.0}


def test_an_untagged_store_is_billed_to_the_stacks_project_and_said_so():
    result = run(store(None))
    assert set(lines(result)) == {(BUCKET_STORAGE, "platform"), (IMAGE_STORAGE, "platform")}
    assert any("carry no" in note and "None-bucket" in note for note in result.assumptions)


def test_the_stack_config_keys_are_read_and_bad_values_keep_the_default():
    assert usage_of({"usage": {"modelBucketGbPerProject": 120, "modelImagesGbPerProject": "40"}}) == Usage(
        model_bucket_gb_per_project=120.0, model_images_gb_per_project=40.0)
    assert usage_of({"usage": {"modelBucketGbPerProject": -5}}).model_bucket_gb_per_project == 0.0
    assert Usage.from_config(USAGE.as_config()) == USAGE
