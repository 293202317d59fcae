"""Test support: stack sets (shipped and test-owned), recording readers and config builders.

- ``shipped``: the stacks users get (stacks/); re-exported here for preflight's and the pack's tests.
- ``fixtures``: the tests' own stacks (tests/fixtures/project), for component and config behaviour tests.
- ``stackset``: reading, editing, validating and previewing a directory of stacks.
- ``recordings``: finding resources in a recording.
- ``builders``: small configs built in code.
- ``prometheus``: the generated rules and the promtool/amtool helpers of the observability tests.
"""

from .recordings import one
from .shipped import (
           AWS_STACKS,
           STACKS,
           own_stacks_project,
           preview,
           recorded,
           stack_source,
)
from .stackset import ROOT, ConfigEdit

__all__ = ["AWS_STACKS", "ROOT", "STACKS", "ConfigEdit", "one", "own_stacks_project", "preview", "recorded",
           "stack_source"]
