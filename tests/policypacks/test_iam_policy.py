"""The IAM policy parser and wildcard matching the artifact rules rely on."""

from __future__ import annotations

import fnmatch
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_governance import iam_policy as p

ALPHABET = "ab/:*?"
patterns = st.text(alphabet=ALPHABET, max_size=8)
literals = st.text(alphabet="ab/:", max_size=8)


def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern), re.DOTALL)


@given(patterns, literals)
def test_match_agrees_with_a_regex(pattern, value):
    assert p.glob_match(pattern, value) == bool(_regex(pattern).fullmatch(value))


@settings(max_examples=300)
@given(patterns, patterns)
def test_intersection_is_symmetric_and_witnessed(a, b):
    found = p.glob_intersects(a, b)
    assert found == p.glob_intersects(b, a)
    # A brute-force witness over short strings agrees whenever one exists among them.
    words = [""] + [x + y for x in "ab/:" for y in ["", *"ab/:"]]
    witness = any(_regex(a).fullmatch(w) and _regex(b).fullmatch(w) for w in words)
    if witness:
        assert found


@given(literals, literals)
def test_literals_intersect_only_when_equal(a, b):
    assert p.glob_intersects(a, b) == (a == b)


@given(st.text(alphabet="ab/", max_size=6), st.text(alphabet="ab/", max_size=6))
def test_prefix_star_covers(head, extra):
    outer, inner = f"{head}*", f"{head}{extra}*"
    assert p.glob_covers(outer, inner)
    assert p.glob_covers(outer, f"{head}{extra}")
    if extra:
        assert not p.glob_covers(f"{head}{extra}x*", f"{head}*")


def test_match_is_bounded_by_pattern_length():
    long = "a*" * 2000
    statements = p.parse(json.dumps({"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": long}}))
    assert statements[0].resources == ("*",)  # too long to match precisely: reads as everything


@pytest.mark.parametrize("document, reason", [
    ("{", "not JSON"),
    ("[]", "not a JSON object"),
    ('{"Statement": 3}', "Statement is not an object or a list"),
    ('{"Statement": [{"Effect": "Maybe", "Action": "s3:*", "Resource": "*"}]}', "not Allow or Deny"),
    ('{"Statement": [{"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:*", "Resource": "*"}]}',
     "exactly one of Action and NotAction"),
    ('{"Statement": [{"Effect": "Allow", "Action": [], "Resource": "*"}]}', "non-empty list"),
    ('{"Statement": [{"Effect": "Allow", "Action": [3], "Resource": "*"}]}', "not a string"),
    ('{"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*", "Condition": []}]}',
     "Condition is not an object"),
    ("x" * (p.MAX_TEXT + 1), "longer than"),
    ("[" * 40 + "]" * 40, "nested deeper"),
])
def test_unreadable_documents_say_why(document, reason):
    with pytest.raises(p.PolicyError, match=re.escape(reason)):
        p.parse(document)


def test_statement_forms_and_semantics():
    [allow, deny] = p.parse(json.dumps({"Statement": [
        {"Sid": "Read", "Effect": "Allow", "Action": ["S3:GetObject*", "s3:ListBucket"],
         "Resource": "arn:aws:s3:::bucket/${aws:username}/*"},
        {"Effect": "Deny", "Principal": {"AWS": ["*"]}, "NotAction": "iam:*", "NotResource": "arn:aws:s3:::b/keep/*",
         "Condition": {"Bool": {"aws:SecureTransport": False}}}]}))
    assert allow.allows and allow.label == "statement 'Read'"
    assert allow.covers_action("s3:GetObjectVersion") and allow.covers_action("s3:getobject")
    assert not allow.covers_action("s3:PutObject")
    assert allow.reaches("arn:aws:s3:::bucket/*") and not allow.reaches("arn:aws:s3:::other/*")
    assert not deny.allows and deny.principal_everyone
    assert deny.condition("Bool", "aws:securetransport") == ("false",)
    assert deny.covers_all_actions("s3:*") and not deny.covers_action("iam:PassRole")
    assert deny.reaches("arn:aws:s3:::b/*")  # parts of b are outside keep/
    assert not deny.reaches("arn:aws:s3:::b/keep/x")
    assert not deny.reaches_all("arn:aws:s3:::b/*")


@given(st.lists(st.sampled_from(["s3:GetObject", "s3:*", "*", "s3:Get*", "kms:Decrypt", "s3:List*"]),
                min_size=1, max_size=4), st.booleans())
def test_not_action_is_the_complement(actions, negated):
    key = "NotAction" if negated else "Action"
    [statement] = p.parse(json.dumps({"Statement": [{"Effect": "Allow", key: actions, "Resource": "*"}]}))
    plain = any(fnmatch.fnmatchcase("s3:getobject", a.lower()) for a in actions)
    assert statement.covers_action("s3:GetObject") == (plain != negated)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(["Allow", "Deny", "s3:*", "*", "arn:aws:s3:::b/*"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["Statement", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition",
                         "Principal", "Bool", "Sid"]), inner, max_size=5),
    max_leaves=20)


@settings(max_examples=300)
@given(_json)
def test_any_json_parses_or_says_why(value):
    try:
        statements = p.parse(json.dumps(value))
    except p.PolicyError as error:
        assert str(error)
    else:
        assert all(s.effect in ("Allow", "Deny") and s.actions and s.resources for s in statements)


# --- which buckets a statement is checked against (artifact-least-privilege) --------------------------

_NAMES = ("models-a", "models-b", "models-ab", "other")
_resources = st.lists(st.one_of(
    st.builds(lambda part, name, key: f"arn:{part}:s3:::{name}{key}", st.sampled_from(["aws", "*", "aws-cn"]),
              st.sampled_from([*_NAMES, "models-*", "models-?", "*", "mod*s-a"]),
              st.sampled_from(["", "/*", "/weights/*", "/x"])),
    st.sampled_from(["*", "arn:aws:kms:us-east-1:1:key/k", "arn:aws:kms:*", "arn:aws:s3:us-east-1::models-a",
                     "arn:aws:iam::1:role/r"])), min_size=1, max_size=3)


@given(_resources, st.booleans())
def test_only_the_buckets_a_statement_cannot_reach_are_skipped(resources, not_resources):
    from ai_governance.artifact_access import _candidates, _targets
    from ai_governance.artifact_stores import Bucket

    buckets = {name: [Bucket(res=None, name=name, project="p")] for name in _NAMES}  # type: ignore[arg-type]
    statement = p.Statement(effect="Allow", actions=("s3:getobject",), not_actions=False,
                            resources=tuple(resources), not_resources=not_resources)
    candidates = _candidates(statement, buckets)
    reached = [b for same in buckets.values() for b in same if any(statement.reaches(t) for t in _targets(b))]
    assert all(any(b is c for c in candidates) for b in reached)
