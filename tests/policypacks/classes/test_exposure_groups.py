"""IngressGroups: every ALB Ingress with the same group (the class's IngressClassParams
``spec.group.name``, else the ``alb.ingress.kubernetes.io/group.name`` annotation) shares ONE ALB
(ai_governance/exposure_groups.py cites the controller's source):

- the group's scheme is the one scheme its members set (params beat annotations), internal when
  none sets one; members that set different schemes make the controller refuse the whole group;
- per listen port, the inbound CIDRs the members on that port set; a port where none sets any is
  open to the internet. An Ingress is public when its group is internet-facing and one of its own
  ports is open.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params
from tests.policypacks.classes.test_exposure import ALB_SCHEME, RULE
from tests.policypacks.classes.test_exposure_params import INBOUND, class_params, ingress_class
from tests.policypacks.conftest import config_for

from ai_governance import exposure_groups, network
from ai_governance.resources import Res

GROUP = "alb.ingress.kubernetes.io/group.name"
PORTS = "alb.ingress.kubernetes.io/listen-ports"
CERT = "alb.ingress.kubernetes.io/certificate-arn"
HTTPS = json.dumps([{"HTTPS": 443}])
FACING = "internet-facing"


def member(name: str, annotations: dict[str, Any] | None = None, class_name: str | None = "alb",
           patch: bool = False) -> RecordedResource:
    spec: dict[str, Any] = {"rules": [{"host": f"{name}.example.com", "http": {"paths": [
        {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": name, "port": {"number": 80.0}}}}]}}]}
    if class_name is not None:
        spec["ingressClassName"] = class_name
    metadata: dict[str, Any] = {"name": name, "namespace": "tenant-a"}
    if annotations:
        metadata["annotations"] = annotations
    type_ = "kubernetes:networking.k8s.io/v1:Ingress" + ("Patch" if patch else "")
    return b.k8s(type_, f"{name}-ing", {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata,
                                        "spec": spec})


def fenced(group: str = "shared", **more: Any) -> dict[str, Any]:
    """An internet-facing member that is off the internet on its own: HTTPS only, from private networks."""
    return {GROUP: group, ALB_SCHEME: FACING, PORTS: HTTPS, CERT: "arn:aws:acm:us-east-1:1:certificate/x",
            INBOUND: "10.0.0.0/8", **more}


SHARES = "IngressGroup shared shares one ALB"

CASES: list[Case] = [
    disallowed("member-without-scheme-joins-an-internet-facing-group",
               adding(member("a", fenced()), member("b", {GROUP: "shared"})), RULE, message=SHARES),
    allowed("member-on-a-port-the-group-fences",
            adding(member("a", fenced()), member("b", {GROUP: "shared", PORTS: HTTPS})), RULE),
    allowed("certificate-moves-the-default-port-to-a-fenced-443",
            adding(member("a", fenced()), member("b", {GROUP: "shared", CERT: "arn:aws:acm:us-east-1:1:certificate/y"})),
            RULE),
    allowed("internal-group", adding(member("a", {GROUP: "shared", ALB_SCHEME: "internal"}),
                                     member("b", {GROUP: "shared"})), RULE),
    allowed("members-of-other-groups-do-not-share", adding(member("a", fenced("one")), member("b", {GROUP: "two"})),
            RULE),
    allowed("implicit-groups-do-not-share",
            adding(member("a", {k: v for k, v in fenced().items() if k != GROUP}), member("b")), RULE),
    allowed("invalid-group-names-are-refused-not-shared",
            adding(member("a", fenced("Shared_Group")), member("b", {GROUP: "Shared_Group"})), RULE),
    allowed("another-controllers-ingress-is-no-member",
            adding(member("a", fenced()), member("b", {GROUP: "shared"}, "nginx")), RULE),
    disallowed("conflicting-schemes-refuse-the-group",
               adding(member("a", fenced()), member("b", {GROUP: "shared", ALB_SCHEME: "internal"})), RULE,
               message="conflicting schemes"),
    disallowed("params-scheme-conflicts-with-a-members-annotation",
               adding(ingress_class(), class_params(scheme="internal"), member("a", {GROUP: "shared"}, "edge"),
                      member("b", fenced())), RULE, message="IngressClassParams edge-params spec.scheme 'internal'"),
    disallowed("params-group-joins-an-annotation-group",
               adding(ingress_class(), class_params(group={"name": "shared"}), member("a", None, "edge"),
                      member("b", fenced())), RULE, message=SHARES),
    allowed("params-group-beats-the-annotation",
            adding(ingress_class(), class_params(group={"name": "apart"}), member("a", {GROUP: "shared"}, "edge"),
                   member("b", fenced())), RULE),
    disallowed("another-members-public-cidrs-open-a-shared-port",
               adding(member("a", {GROUP: "shared", ALB_SCHEME: FACING, INBOUND: "10.0.0.0/8"}),
                      member("b", {GROUP: "shared", INBOUND: "0.0.0.0/1,128.0.0.0/1"})), RULE,
               message="an internet-facing ALB Ingress"),
    disallowed("unreadable-listen-ports-keep-no-fence",
               adding(member("a", {GROUP: "shared", ALB_SCHEME: FACING, INBOUND: "10.0.0.0/8"}),
                      member("b", {GROUP: "shared", PORTS: "80"})), RULE, message=SHARES),
    disallowed("patch-joins-an-internet-facing-group",
               adding(member("a", fenced()), member("b", {GROUP: "shared"}, None, patch=True)), RULE, message=SHARES),
    disallowed("group-name-unknown-at-preview", adding(member("a", {GROUP: UNKNOWN})), RULE,
               message=f"cannot verify metadata.annotations {GROUP}"),
    disallowed("listen-ports-unknown-keep-no-fence",
               adding(member("a", {GROUP: "shared", ALB_SCHEME: FACING, INBOUND: "10.0.0.0/8"}),
                      member("b", {GROUP: "shared", PORTS: UNKNOWN})), RULE, message=SHARES),
]


@pytest.mark.parametrize("case", params(CASES))
def test_exposure_groups(pack, case):
    check(pack, case)


def test_each_member_is_reported_once_on_its_own_urn(pack):
    """The member that sets the scheme is reported for its own scheme, the one that joins for its
    group's, each once."""
    stack = [*b.good_stack("prod"), member("a", {GROUP: "shared", ALB_SCHEME: FACING}), member("b", {GROUP: "shared"})]
    run = pack.run(stack, config_for("prod"))
    found = sorted((v.urn.rsplit("::", 1)[-1], v.message) for v in run.violations if v.policy == RULE)
    assert [(u, SHARES in m, f"{ALB_SCHEME} is 'internet-facing'" in m) for u, m in found] == [
        ("a-ing", False, True), ("b-ing", True, True)], found


# --- the pure helpers ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "valid"), [
    ("shared", True), ("a", True), ("team-a.web", True), ("0-9", True), ("x" * 63, True), ("x" * 64, False),
    ("Shared", False), ("-shared", False), ("shared-", False), ("shared_group", False), ("", False), ("a b", False),
])
def test_group_names_as_the_controller_validates_them(name, valid):
    assert exposure_groups.valid_group_name(name) is valid


def test_params_group_beats_the_annotation_and_invalid_names_stand_alone():
    assert exposure_groups.group_name({GROUP: "shared"}, None) == "shared"
    assert exposure_groups.group_name({GROUP: "shared"}, "apart") == "apart"
    assert exposure_groups.group_name({GROUP: "Shared"}, None) is None
    assert exposure_groups.group_name({GROUP: "shared"}, "Apart") is None
    assert exposure_groups.group_name({}, None) is None


@pytest.mark.parametrize(("annotations", "unknown", "certified", "expected"), [
    ({}, [], False, {"80"}),
    ({CERT: "arn:aws:acm:us-east-1:1:certificate/x"}, [], False, {"443"}),
    ({CERT: " "}, [], False, {"80"}),
    ({}, [], True, {"443"}),
    ({PORTS: json.dumps([{"HTTP": 80}, {"HTTPS": 443}, {"HTTPS": 8443}])}, [], False, {"80", "443", "8443"}),
    ({PORTS: json.dumps([{"HTTP": 8080, "HTTPS": 8443}])}, [], True, {"8080", "8443"}),
    ({PORTS: "[]"}, [], False, None),
    ({PORTS: "80"}, [], False, None),
    ({PORTS: "[{\"HTTP\": 80"}, [], False, None),
    ({PORTS: json.dumps([{"TCP": 80}])}, [], False, None),
    ({PORTS: json.dumps([{"HTTP": 0}])}, [], False, None),
    ({PORTS: json.dumps([{"HTTP": 65536}])}, [], False, None),
    ({PORTS: json.dumps([{"HTTP": True}])}, [], False, None),
    ({PORTS: json.dumps([{"HTTP": 80.5}])}, [], False, None),
    ({PORTS: json.dumps([["HTTP", 80]])}, [], False, None),
    ({PORTS: json.dumps([{"HTTP": 80}] * 400)}, [], False, None),
    ({}, [PORTS], False, None),
    ({}, [CERT], False, None),
    ({PORTS: HTTPS}, [CERT], False, {"443"}),
])
def test_listen_ports_as_the_controller_reads_them(annotations, unknown, certified, expected):
    found = exposure_groups.listen_ports(annotations, unknown, certified)
    assert (set(found) if found is not None else None) == expected


def _res(name: str) -> Res:
    return Res(type="kubernetes:networking.k8s.io/v1:Ingress", name=name, urn=f"urn:pulumi:s::p::ing::{name}", props={})


def _member(name: str, annotations: dict[str, str], params: network.ClassParams | None = None) -> exposure_groups.Member:
    return exposure_groups.member(_res(name), annotations, [], params)


def test_params_beat_the_members_annotations():
    params = network.ClassParams("IngressClassParams p", "internal", ("10.0.0.0/8",))
    found = _member("a", {ALB_SCHEME: FACING, INBOUND: "0.0.0.0/0"}, params)
    assert (found.scheme, found.scheme_from, found.cidrs) == ("internal", "IngressClassParams p spec.scheme",
                                                              ("10.0.0.0/8",))
    assert _member("a", {ALB_SCHEME: FACING, INBOUND: " 10.0.0.0/8 , "}, network.ClassParams("p")).cidrs == ("10.0.0.0/8",)


MEMBER_SHAPES = st.fixed_dictionaries({}, optional={
    GROUP: st.sampled_from(["shared", "other"]), ALB_SCHEME: st.sampled_from(["internal", FACING]),
    INBOUND: st.sampled_from(["10.0.0.0/8", "0.0.0.0/0"]), PORTS: st.sampled_from([HTTPS, "[{\"HTTP\": 80}]", "80"])})


@given(st.lists(MEMBER_SHAPES, min_size=1, max_size=6), st.randoms())
def test_verdicts_do_not_depend_on_the_stacks_order(shapes, rnd):
    members = [_member(f"m{i}", shape) for i, shape in enumerate(shapes)]
    shuffled = list(members)
    rnd.shuffle(shuffled)
    first, second = exposure_groups.Groups(members), exposure_groups.Groups(shuffled)
    for m in members:
        a, b_ = first.judge(m), second.judge(m)
        assert (a is None) == (b_ is None)
        if a is not None and b_ is not None:
            assert a.conflict == b_.conflict and (a.conflict or a.reasons == b_.reasons)


@given(st.lists(MEMBER_SHAPES, min_size=1, max_size=6))
def test_a_member_alone_keeps_its_own_verdict(shapes):
    """Outside any group the verdict is the one the Ingress's own annotations give."""
    for i, shape in enumerate(shapes):
        alone = {k: v for k, v in shape.items() if k != GROUP}
        m = _member(f"m{i}", alone)
        own = network.alb_ingress_exposure(alone)
        assert (exposure_groups.Groups([m]).judge(m) is not None) == own.public

