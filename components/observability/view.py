"""What the generated rules and dashboards read of a stack: a read-only view that StackConfig satisfies.

The rules cover the whole stack (every GPU pool, service, project and budget), so they take this view
rather than one component's Args; naming the attributes keeps them off the rest of the stack config.
"""

from __future__ import annotations

from typing import Protocol, Sequence

from components.config.finops import BudgetsConfig, FinOpsSettings
from components.config.node_pools import NodePoolConfig
from components.config.observability import ObservabilityConfig
from components.config.projects import ProjectConfig
from components.config.services import InferenceServiceConfig


class MonitoredStack(Protocol):
    @property
    def region(self) -> str | None:
        """The AWS region: prices the idle GPU-hours."""
        ...

    @property
    def observability(self) -> ObservabilityConfig:
        """Idle-GPU limits, drift limits and the spend horizon."""
        ...

    @property
    def finops(self) -> FinOpsSettings:
        """The spot price fraction, and the default project and owner labels."""
        ...

    @property
    def budgets(self) -> BudgetsConfig | None:
        """Monthly limits per project (None: no spend alerts)."""
        ...

    @property
    def projects(self) -> Sequence[ProjectConfig]:
        ...

    @property
    def services(self) -> Sequence[InferenceServiceConfig]:
        ...

    @property
    def gpu_pools(self) -> Sequence[NodePoolConfig]:
        ...

    def pool(self, name: str) -> NodePoolConfig | None:
        """The node pool called ``name``."""
        ...
