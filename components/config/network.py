"""The network a stack's cluster runs in: a VPC created here or existing subnets."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator, model_validator


from .base import ConfigModel


class NetworkMode(StrEnum):
    CREATE = "create"
    EXISTING = "existing"


class NatGatewayMode(StrEnum):
    SINGLE = "single"
    PER_AZ = "perAz"


class NetworkConfig(ConfigModel):
    mode: NetworkMode = NetworkMode.CREATE
    """'create' a VPC here, or use an 'existing' one by its ids."""
    cidr: str = "10.0.0.0/16"
    """The VPC's CIDR (mode 'create')."""
    az_count: Annotated[int, Field(ge=2, le=6)] = 2
    """Availability zones to spread subnets over (mode 'create')."""
    nat_gateways: NatGatewayMode | None = None
    """Defaults to one NAT gateway outside prod and one per AZ in prod."""
    vpc_id: str | None = None
    """The existing VPC's id (mode 'existing')."""
    private_subnet_ids: list[str] = []
    """The existing private subnets for nodes (mode 'existing')."""
    public_subnet_ids: list[str] = []
    """The existing public subnets for load balancers (mode 'existing')."""

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        try:
            net = ipaddress.ip_network(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a CIDR block such as 10.0.0.0/16") from None
        if net.version != 4 or not 16 <= net.prefixlen <= 20:
            raise ValueError(f"{value!r} must be an IPv4 block between /16 and /20")
        return value

    @model_validator(mode="after")
    def _existing_needs_ids(self) -> "NetworkConfig":
        if self.mode == NetworkMode.EXISTING and (not self.vpc_id or len(self.private_subnet_ids) < 2):
            raise ValueError("mode 'existing' needs vpcId and at least 2 privateSubnetIds (in 2 AZs)")
        return self

