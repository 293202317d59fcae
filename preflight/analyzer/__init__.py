"""Run a CrossGuard policy pack the way the Pulumi engine does: as a subprocess, over gRPC.

What the Pulumi CLI (3.272) does for a Python pack, and what this module repeats:

1. Read ``PulumiPolicy.yaml`` (runtime, ``options.virtualenv``, version). The pack's own Python is
   ``<pack>/<virtualenv>/bin/python``; when that virtualenv is missing it is created the way the
   CLI installs a pack's dependencies (``python -m venv venv`` then ``pip install -r
   requirements.txt`` in the pack directory), with a one-line note on stderr.
2. Start ``python -u -m pulumi.policy <engine-address> .`` in the pack directory, with
   ``PULUMI_PROJECT``, ``PULUMI_STACK``, ``PULUMI_DRY_RUN``, ``PULUMI_ORGANIZATION`` and
   ``PULUMI_CONFIG`` (the stack's config as JSON) in the environment and the virtualenv first on
   ``PATH`` (as the ``pulumi-analyzer-policy-python`` shim does). ``<engine-address>`` is a small
   Engine gRPC server of ours that collects ``Log`` calls. pulumi-policy 1.21 parses the address
   but never dials it (its runtime logs to stderr), so the server is there for fidelity only.
3. Read the port the pack prints on its first stdout line and speak the Analyzer protocol:
   ``Handshake`` (optional; UNIMPLEMENTED is fine), ``ConfigureStack``, ``GetAnalyzerInfo``,
   ``Configure`` with the reconciled policy config, ``Remediate`` once per resource when a policy is
   at ``remediate`` (its properties replace the resource's inputs), ``Analyze`` once per resource (type, URN,
   name, inputs, options with the parent, and its provider resource) and ``AnalyzeStack`` with
   every resource's *outputs*, provider, parent, dependencies and property dependencies.
   A resource that names no provider gets the engine's default provider for its package and
   version (``default_7_51_1``), registered and analyzed first, whose inputs are the stack's
   ``<package>:*`` config with every value a string, as the engine passes it (a structured value
   is its JSON text; a secure value a secret), plus ``version``.
4. Reconcile the policy config like ``pulumi preview --policy-pack-config``: schema defaults, then
   the pack's initial config, then the file (a top-level ``"all"`` sets every policy's level and
   is forwarded, with its properties, to ``Configure``), validated against each policy's
   ``configSchema``.

The subprocess is always terminated, whatever happens. What still differs from a real preview is
listed in docs/preflight.md ("What still differs from the real engine").

Modules: ``results`` (levels, pack info, violations, a run's result), ``pack_env`` (PulumiPolicy.yaml
and the pack's virtualenv), ``policy_config`` (the config file and its reconciliation) with
``json_schema`` (the schema subset it validates against), ``process`` (the pack's environment,
pipes and process group), ``requests`` (the engine's requests and default providers), ``remediation``
(``Remediate`` and what each remediation changed), ``stream``
(Analyze while the program runs) and ``client`` (``PolicyAnalyzer``). This package exports what
callers use.
"""

from .client import PolicyAnalyzer, analyze
from .json_schema import schema_errors
from .pack_env import (
    PACK_MODULES,
    PACK_PYTHON_ENV,
    VENV_MARKER,
    PackProject,
    load_pack_project,
    pack_python,
    pip_install,
)
from .policy_config import load_policy_config, reconcile_config
from .process import CONFIG_ENV_LIMIT, config_env, hold_signal_while_spawning, stop_all_packs
from .requests import (
    STACK_SHAPES,
    default_provider_name,
    default_provider_urn,
    default_providers,
    package_config,
    stack_urn,
)
from .results import (
    LEVEL_VALUES,
    LEVELS,
    SEVERITIES,
    PackInfo,
    PolicyConfig,
    PolicyMeta,
    PolicyPackError,
    PolicyRun,
    Remediation,
    Violation,
)
from .stream import ANALYZE_WINDOW

__all__ = [
    "ANALYZE_WINDOW", "CONFIG_ENV_LIMIT", "LEVELS", "LEVEL_VALUES", "PACK_MODULES", "PACK_PYTHON_ENV", "SEVERITIES",
    "STACK_SHAPES", "VENV_MARKER", "PackInfo", "PackProject", "PolicyAnalyzer", "PolicyConfig", "PolicyMeta",
    "PolicyPackError", "PolicyRun", "Remediation", "Violation", "analyze", "config_env", "default_provider_name",
    "default_provider_urn", "default_providers", "hold_signal_while_spawning", "load_pack_project",
    "load_policy_config", "pack_python", "package_config", "pip_install", "reconcile_config", "schema_errors",
    "stack_urn", "stop_all_packs",
]
