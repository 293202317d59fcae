"""Fixtures shared by the component tests: the fixture stacks' recordings, taken once per session."""

import pytest

from preflight.engine import Recording
from tests.support.fixtures import STACKS, recorded


@pytest.fixture
def dev() -> Recording:
    return recorded("sandbox")


@pytest.fixture
def prod() -> Recording:
    return recorded("live")


@pytest.fixture
def local() -> Recording:
    return recorded("kind")


@pytest.fixture(params=STACKS)
def every_stack(request) -> Recording:
    return recorded(request.param)
