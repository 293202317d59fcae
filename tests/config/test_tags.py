"""The FinOps tag contract: one builder, tags AWS accepts and labels Kubernetes accepts."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_platform_finops.tags import (
    STANDARD_KEYS,
    FinOpsTags,
    aws_tag_key_problem,
    aws_tag_value_problem,
    label_key_problem,
    label_value_problem,
    required_keys,
)

# Independent restatements of the published rules, to check the builder against.
AWS_CHARS = re.compile(r"[\w .:/=+\-@]*")
K8S_NAME = re.compile(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?")


def aws_accepts(key: str, value: str) -> bool:
    return 1 <= len(key) <= 128 and len(value) <= 256 and bool(AWS_CHARS.fullmatch(key)) and bool(
        AWS_CHARS.fullmatch(value)) and not key.lower().startswith("aws:")


def k8s_accepts_label(key: str, value: str) -> bool:
    prefix, _, name = key.rpartition("/")
    prefix_ok = not prefix or (len(prefix) <= 253 and all(
        re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", part) for part in prefix.split(".")))
    name_ok = len(name) <= 63 and bool(K8S_NAME.fullmatch(name))
    value_ok = value == "" or (len(value) <= 63 and bool(K8S_NAME.fullmatch(value)))
    return prefix_ok and name_ok and value_ok


def seed() -> FinOpsTags:
    return FinOpsTags("finops.apexlogic.com", "ai-innovation", "project-nova", "prod", "production", "ml-platform-team")


def test_one_source_builds_aws_tags_and_k8s_labels_with_the_same_keys_and_values():
    tags = seed()
    expected = {
        "finops.apexlogic.com/cost-center": "ai-innovation",
        "finops.apexlogic.com/project": "project-nova",
        "finops.apexlogic.com/environment": "prod",
        "finops.apexlogic.com/tier": "production",
        "finops.apexlogic.com/owner": "ml-platform-team",
    }
    assert tags.aws_tags() == expected
    assert tags.k8s_labels() == expected
    assert sorted(required_keys("finops.apexlogic.com")) == sorted(expected)
    assert tags.problems() == []


def test_extra_tags_never_override_a_finops_key():
    tags = seed().aws_tags({"Name": "x", "finops.apexlogic.com/project": "someone-else"})
    assert tags["finops.apexlogic.com/project"] == "project-nova"
    assert tags["Name"] == "x"


@pytest.mark.parametrize(
    "field, value, reason",
    [
        ("owner", "", "must not be empty"),
        ("owner", "ml team!", "label value 'ml team!' must be at most 63 characters"),
        ("project", "-nova", "label value '-nova' must be at most 63 characters"),
        ("cost-center", "x" * 64, "label value"),
        ("tier", "prod#1", "label value 'prod#1' must be at most 63 characters"),
    ],
)
def test_rejected_values_say_why(field, value, reason):
    values = seed().values() | {field: value}
    tags = FinOpsTags("finops.apexlogic.com", values["cost-center"], values["project"], values["environment"],
                      values["tier"], values["owner"])
    problems = tags.problems()
    assert any(f == field and reason in why for f, why in problems), problems


def test_a_prefix_that_is_not_a_dns_subdomain_is_rejected_once():
    tags = FinOpsTags("FinOps_Example", "a", "b", "dev", "c", "d")
    problems = tags.problems()
    assert problems == [("prefix", "'FinOps_Example' is not a DNS subdomain: each dot-separated part must be 1-63 "
                         "lowercase letters, digits or '-', starting and ending alphanumeric")]


def test_reserved_aws_prefix_is_rejected():
    assert aws_tag_key_problem("aws:createdBy") == "tag key 'aws:createdBy' may not start with 'aws:' (reserved by AWS)"


value_text = st.text(alphabet=st.characters(codec="utf-8"), max_size=80)
prefix_text = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,10}[a-z0-9])?){0,3}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(prefix=prefix_text, values=st.lists(value_text, min_size=5, max_size=5))
def test_any_accepted_input_yields_tags_aws_accepts_and_labels_kubernetes_accepts(prefix, values):
    tags = FinOpsTags(prefix, *values)
    problems = tags.problems()
    if not problems:
        for key, value in tags.aws_tags().items():
            assert aws_accepts(key, value)
        for key, value in tags.k8s_labels().items():
            assert k8s_accepts_label(key, value)
        assert set(tags.aws_tags()) == {f"{prefix}/{k}" for k in STANDARD_KEYS}
    else:
        # Any rejection names a field and says why.
        for field, reason in problems:
            assert field in (*STANDARD_KEYS, "prefix") and reason


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=70))
def test_label_value_checks_agree_with_the_published_rule(value):
    assert (label_value_problem(value) is None) == k8s_accepts_label("a", value)
    assert (aws_tag_value_problem(value) is None) == (len(value) <= 256 and bool(AWS_CHARS.fullmatch(value)))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abcXYZ019-._/", max_size=80))
def test_label_key_checks_agree_with_the_published_rule(key):
    assert (label_key_problem(key) is None) == k8s_accepts_label(key, "v")
