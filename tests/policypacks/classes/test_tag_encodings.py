"""Tags in every encoding: the provider's defaultTags count whether they arrive as an object or as
JSON text (the engine passes provider config values as strings), and secret-wrapped tag maps and
values count like plain ones."""

from __future__ import annotations

import json
from typing import Any

import pytest

from preflight.engine import SECRET_SIG, SIG_KEY, UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params

TAGS, BUDGET = "finops-required-tags", "budget-coverage"
OWNER = f"{b.PREFIX}/owner"


def secret(value: Any) -> dict[str, Any]:
    return {SIG_KEY: SECRET_SIG, "value": value}


def provider(name: str, default_tags: Any) -> RecordedResource:
    return b.res("pulumi:providers:aws", name, {"region": "us-east-1", "defaultTags": default_tags})


def bucket(name: str, tags: Any = None, via: RecordedResource | None = None) -> RecordedResource:
    inputs: dict[str, Any] = {"bucket": name}
    if tags is not None:
        inputs["tags"] = tags
    ref = f"{via.urn}::04da6b54-80e4-46f7-96ec-b56ff0331ba9" if via is not None else ""
    return b.res("aws:s3/bucket:Bucket", name, inputs, provider=ref)


def through(default_tags: Any, tags: Any = None) -> Any:
    p = provider("tagged", default_tags)
    return adding(p, bucket("data", tags, p))


ALL = b.tags()
WITHOUT_OWNER = {k: v for k, v in ALL.items() if k != OWNER}

CASES: list[Case] = [
    allowed("default-tags-object", through({"tags": ALL}), TAGS),
    allowed("default-tags-json-text", through(json.dumps({"tags": ALL})), TAGS),
    allowed("default-tags-tags-as-json-text", through({"tags": json.dumps(ALL)}), TAGS),
    allowed("default-tags-secret-json-text", through(secret(json.dumps({"tags": ALL}))), TAGS),
    allowed("default-tags-json-text-with-a-secret-value",
            through(json.dumps({"tags": {**WITHOUT_OWNER, OWNER: secret("ml-platform-team")}})), TAGS),
    allowed("default-tags-under-partial-own-tags", through(json.dumps({"tags": {OWNER: "ml-platform-team"}}),
                                                           WITHOUT_OWNER), TAGS),
    allowed("own-tags-secret-wrapped", adding(bucket("data", secret(ALL))), TAGS),
    allowed("own-tag-value-secret-wrapped", adding(bucket("data", {**WITHOUT_OWNER, OWNER: secret("ml-platform-team")})),
            TAGS),
    allowed("asg-tag-list-with-a-secret-value", adding(b.res("aws:autoscaling/group:Group", "asg", {
        "maxSize": 1.0, "minSize": 0.0,
        "tags": [{"key": k, "value": secret(v) if k == OWNER else v, "propagateAtLaunch": True}
                 for k, v in ALL.items()]})), TAGS),
    allowed("project-from-json-default-tags-has-its-budget", through(json.dumps({"tags": ALL})), BUDGET),
    disallowed("default-tags-json-text-missing-a-key", through(json.dumps({"tags": WITHOUT_OWNER})), TAGS,
               message=f"missing {OWNER}"),
    disallowed("default-tags-json-text-malformed", through('{"tags": {'), TAGS, message="missing"),
    disallowed("own-tags-secret-wrapped-missing-a-key", adding(bucket("data", secret(WITHOUT_OWNER))), TAGS,
               message=f"missing {OWNER}"),
    disallowed("secret-value-invalid", adding(bucket("data", {**WITHOUT_OWNER, OWNER: secret("not a label!")})), TAGS,
               message=OWNER),
    disallowed("default-tags-unknown-counts-as-absent", through({"tags": UNKNOWN}), TAGS, message="missing"),
    disallowed("project-from-json-default-tags-without-a-budget",
               through(json.dumps({"tags": {**ALL, f"{b.PREFIX}/project": "project-zeta"}})), BUDGET,
               message="project-zeta"),
]


@pytest.mark.parametrize("case", params(CASES))
def test_tag_encodings(pack, case):
    check(pack, case)
