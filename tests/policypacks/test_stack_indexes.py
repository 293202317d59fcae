"""The indexes stack rules share within one AnalyzeStack: built once, and never hiding a PDB or a
GPU pool that a scan of the whole stack would have found."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from ai_governance import aws, framework, gpu_pools, gpu_workloads, k8s, pack_settings, props, reliability
from ai_governance.k8s import pods
from ai_governance.resources import Res, Stack

U = props.UNKNOWN
_KEYS = st.sampled_from(["app", "team", "tier"])
_VALUES = st.sampled_from(["a", "b", "c"])
_LABELS = st.dictionaries(_KEYS, _VALUES, max_size=3)
_SELECTORS = st.one_of(
    st.just(U), st.just(props.MISSING), st.just({}),
    st.fixed_dictionaries({"matchLabels": _LABELS}),
    st.fixed_dictionaries({"matchLabels": st.dictionaries(_KEYS, st.one_of(_VALUES, st.just(U)), max_size=3)}),
    st.fixed_dictionaries({"matchLabels": _LABELS, "matchExpressions": st.one_of(
        st.just(U), st.lists(st.fixed_dictionaries({"key": _KEYS, "operator": st.sampled_from(["In", "Exists"]),
                                                    "values": st.lists(_VALUES, max_size=2)}), max_size=2))}),
)


def _pdb(i: int, selector: Any) -> Res:
    spec = {} if selector is props.MISSING else {"selector": selector}
    return Res(type=k8s.PDB, name=f"pdb-{i}", urn=f"urn:pdb-{i}", props={"spec": spec})


def test_an_index_is_built_once_per_stack():
    built: list[int] = []
    stack = Stack([])
    first = stack.index("x", lambda s: built.append(1) or len(built))
    assert stack.index("x", lambda s: built.append(1) or len(built)) == first == 1
    assert Stack([]).index("x", lambda s: 7) == 7  # another AnalyzeStack, another index


@given(selectors=st.lists(_SELECTORS, max_size=8), pod_labels=_LABELS)
def test_pdb_candidates_hold_every_pdb_that_selects_or_may_select_the_pods(selectors, pod_labels):
    pdbs = [_pdb(i, s) for i, s in enumerate(selectors)]
    candidates = reliability.pdb_index(Stack(pdbs)).candidates(pod_labels)
    assert len(candidates) == len({p.urn for p in candidates})
    for pdb in pdbs:
        selector = props.get(pdb.props, "spec", "selector")
        if pdb not in candidates:  # left out only when a scan would have ruled it out for sure
            assert k8s.selector_matches(selector, pod_labels) is False and selector is not U


def _node_group(i: int, labels: Any, max_size: Any = 2) -> Res:
    return Res(type=aws.NODE_GROUP, name=f"gpu-{i}", urn=f"urn:ng-{i}",
                      props={"instanceTypes": ["g5.xlarge"], "labels": labels,
                             "scalingConfig": {"minSize": 0, "desiredSize": 0, "maxSize": max_size}})


@given(pools=st.lists(st.tuples(st.one_of(_LABELS, st.just(U)), st.sampled_from([2, U])), max_size=8),
       selector=_LABELS)
def test_gpu_pool_candidates_are_the_known_pools_whose_labels_match_in_stack_order(pools, selector):
    stack = Stack([_node_group(i, labels, size) for i, (labels, size) in enumerate(pools)])
    index = gpu_pools.gpu_pools(stack)
    assert [p.ng.name for p in index.pools] == [f"gpu-{i}" for i in range(len(pools))]
    expected = [p for p in index.pools if not p.unknown and all(p.labels.get(k) == v for k, v in selector.items())]
    assert index.candidates(selector) == expected




def _rule_check(policy: Any) -> tuple[framework.Check, list[str]]:
    declared = [framework.Setting(k, v, v.get("default"), "") for k, v in policy.config_schema.properties.items()]
    reported: list[str] = []
    settings = pack_settings.PackSettings("prod", "mandatory", "finops.example.com", "governance.example.com",
                                   dt.date(2026, 12, 1))
    return framework.Check(policy.name, lambda m, u=None: reported.append(m), settings,
                        framework.RuleConfig(declared, {})), reported


def test_stack_rules_read_pod_templates_once_per_stack(monkeypatch):
    """inference-availability and gpu-workload-schedulable share one (workload, template) index:
    each workload's templates are read once per AnalyzeStack, whatever the number of rules."""
    from tests.policypacks import builders as b

    resources = [Res(type=r.type, name=r.name, urn=r.urn, props=r.inputs) for r in b.good_stack("prod")]
    reads: list[str] = []
    real = k8s.pod_template
    monkeypatch.setattr(pods, "pod_template", lambda res: reads.append(res.urn) or real(res))
    stack = Stack(resources)
    for check_fn, policy in ((reliability._availability_check, reliability.INFERENCE_AVAILABILITY),
                             (gpu_workloads._schedulable_check, gpu_workloads.GPU_WORKLOAD_SCHEDULABLE)):
        c, reported = _rule_check(policy)
        check_fn(stack, c)
        c.finish()
        assert reported == [], reported
    workloads = [r.urn for r in resources if r.type in k8s.WORKLOAD_TYPES + (k8s.HELM_RELEASE,)]
    assert workloads and sorted(reads) == sorted(workloads)
