"""The SDK floor registers a recording's resources in an order the SDK can follow: a recording is in URN
order, but a parent or provider object must exist before the resources that name it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bench.floor import creation_order
from preflight.engine import RecordedResource


def _resource(index: int, parent: int | None, provider: int | None) -> RecordedResource:
    urn = f"urn:pulumi:s::p::t::r{index:03d}"
    return RecordedResource(urn=urn, type="t", name=f"r{index}",
                            parent=f"urn:pulumi:s::p::t::r{parent:03d}" if parent is not None else "",
                            custom=True, inputs={}, options={},
                            provider=f"urn:pulumi:s::p::t::r{provider:03d}::id" if provider is not None else "")


@st.composite
def forests(draw: st.DrawFn) -> list[RecordedResource]:
    """Resources whose parents and providers come from earlier ones (as registration makes them), shuffled."""
    size = draw(st.integers(1, 30))
    made = [_resource(i, draw(st.none() | st.integers(0, i - 1)) if i else None,
                      draw(st.none() | st.integers(0, i - 1)) if i else None) for i in range(size)]
    return draw(st.permutations(made))


@given(forests())
def test_every_parent_and_provider_is_created_before_the_resources_naming_them(resources):
    ordered = creation_order(resources)
    assert sorted(r.urn for r in ordered) == sorted(r.urn for r in resources)
    position = {r.urn: i for i, r in enumerate(ordered)}
    for r in ordered:
        if r.parent:
            assert position[r.parent] < position[r.urn]
        if r.provider:
            assert position[r.provider.rsplit("::", 1)[0]] < position[r.urn]


def test_a_urn_sorted_recording_is_reordered():
    child, parent = _resource(0, 1, None), _resource(1, None, None)
    assert [r.name for r in creation_order([child, parent])] == ["r1", "r0"]
