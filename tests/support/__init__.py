"""Test support: stack sets (test-owned and shipped), recording readers and config builders.

- ``fixtures``: the tests' own stacks (tests/fixtures/project): what behaviour tests run, and what this
  package re-exports (``STACKS``, ``preview``, ``recorded``...).
- ``shipped``: the stacks users get (stacks/); only the tests of the shipped stacks themselves import it,
  by name (``tests.support.shipped``), so no behaviour test reads them by accident.
- ``stackset``: reading, editing, validating and previewing a directory of stacks.
- ``recordings``: finding resources in a recording.
- ``builders``: small configs built in code.
- ``prometheus``: the generated rules and the promtool/amtool helpers of the observability tests.
"""

from .fixtures import (
           AWS_STACKS,
           ENVIRONMENT,
           PROJECT,
           STACKS,
           edited_project,
           own_project,
           preview,
           recorded,
           stack_source,
)
from .recordings import one
from .stackset import ROOT, ConfigEdit

__all__ = ["AWS_STACKS", "ENVIRONMENT", "PROJECT", "ROOT", "STACKS", "ConfigEdit", "edited_project", "one",
           "own_project", "preview", "recorded", "stack_source"]
