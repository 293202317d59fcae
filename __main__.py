"""ai-platform: load and validate this stack's config, then compose the components.

No resource logic lives here: each block hands the typed config to one component.
"""

import pulumi

from components.config import ConfigError, load_from_pulumi, secrets_from_pulumi

try:
    cfg = load_from_pulumi()
except ConfigError as error:
    # RunError ends the program with this message alone: a user error, not a traceback.
    raise pulumi.RunError(str(error)) from None
secrets = secrets_from_pulumi()

# --- cluster: network, EKS (or existing/kubeconfig), node pools, add-ons -------------------

# --- tenancy and inference services --------------------------------------------------------

# --- FinOps: budgets, alerts, cost-allocation tags, anomaly detection -----------------------

# --- GitOps: Argo CD and its bootstrap ------------------------------------------------------

pulumi.export("environment", cfg.environment.value)
