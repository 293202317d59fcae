"""The stack config contract (pydantic v2): one typed model per stack, validated before any resource."""

from .base import ConfigModel, Environment, quantity_value
from .cluster import ClusterMode
from .network import NetworkMode
from .node_pools import (
    ACCELERATOR_LABEL,
    GPU_PRESENT_LABEL,
    GPU_RESOURCE,
    NVIDIA_DEVICE_PLUGIN_LABEL,
    POOL_LABEL,
    AmiType,
    CapacityType,
    NodePoolConfig,
    OffPeakSchedule,
    PoolRole,
    Taint,
)
from .loader import (
    PROJECT,
    ConfigError,
    StackSecrets,
    load_from_pulumi,
    secrets_from_pulumi,
    stack_file,
    validate_flat_config,
    validate_stack_config,
    values_from_flat_config,
)
from .stack import StackConfig
from .projects import ProjectConfig
from .services import InferenceServiceConfig, RiskTier, parse_image

__all__ = [
    "ACCELERATOR_LABEL", "NVIDIA_DEVICE_PLUGIN_LABEL", "AmiType", "CapacityType", "ClusterMode", "ConfigError", "ConfigModel", "Environment",
    "GPU_PRESENT_LABEL", "GPU_RESOURCE", "InferenceServiceConfig", "NetworkMode", "NodePoolConfig",
    "OffPeakSchedule", "POOL_LABEL", "PROJECT", "PoolRole", "ProjectConfig", "RiskTier", "StackConfig",
    "StackSecrets", "Taint", "load_from_pulumi", "parse_image", "quantity_value", "secrets_from_pulumi",
    "stack_file", "validate_flat_config", "validate_stack_config", "values_from_flat_config",
]
