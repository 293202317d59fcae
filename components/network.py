"""Network: the VPC an EKS cluster runs in, either created here or taken from existing subnets.

``create`` builds a VPC across ``azCount`` availability zones, chosen by zone ID (a zone *name* maps to a
different physical zone in each account; IDs do not) among the Availability Zones proper (Local and
Wavelength Zones are filtered out by opt-in status) that offer every instance type of every node pool
(``aws.ec2.get_instance_type_offerings`` by ``availability-zone-id``: some zones, e.g. ``use1-az3``,
cannot launch current families), with, per zone, one private subnet
(nodes, internal load balancers) and one public subnet (internet-facing load balancers, NAT).
Subnets carry the tags the AWS Load Balancer Controller and EKS look for
(``kubernetes.io/role/elb``, ``kubernetes.io/role/internal-elb``, ``kubernetes.io/cluster/<name>``).
NAT gateways are one for the whole VPC (cheap: dev, staging) or one per zone (a zone outage
does not cut the others off: prod). The free S3 gateway endpoint sits on the private route tables, so
model weights and image layers from S3 (ECR stores layers there) skip the NAT's per-GB charge.
``existing`` only hands the configured ids on.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Mapping, Sequence

import pulumi
import pulumi_aws as aws

from components.config.network import NatGatewayMode, NetworkConfig, NetworkMode
from components.config.loader import stack_file

TYPE = "ai-platform:network:Network"


def subnet_cidrs(vpc_cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """(private, public) CIDRs: private subnets get 1/8 of the VPC each, public ones 1/128.

    The VPC is cut in eight blocks: the first ``az_count`` (at most 6) are the private subnets,
    where nodes and pods take their IPs (the VPC CNI gives every pod a VPC address, so they must
    be large); the last block is cut again in 16 for small public subnets.
    """
    vpc = ipaddress.ip_network(vpc_cidr)
    blocks = list(vpc.subnets(prefixlen_diff=3))
    private = [str(b) for b in blocks[:az_count]]
    public = [str(b) for b in list(blocks[-1].subnets(prefixlen_diff=4))[:az_count]]
    return private, public


def usable_zone_ids(zone_ids: Sequence[str], offerings: Sequence[tuple[str, str]],
                    instance_types: Sequence[str]) -> list[str]:
    """The zone IDs, in order, where every one of ``instance_types`` is offered.

    ``offerings`` are (instance type, zone ID) pairs as ``DescribeInstanceTypeOfferings`` lists them.
    """
    offered: dict[str, set[str]] = {}
    for instance_type, zone_id in offerings:
        offered.setdefault(zone_id, set()).add(instance_type)
    wanted = set(instance_types)
    return [z for z in zone_ids if wanted <= offered.get(z, set())]


def s3_gateway_service(region: str) -> str:
    return f"com.amazonaws.{region}.s3"


@dataclass(frozen=True)
class NetworkArgs:
    """Network's inputs: the network section and what the pools need of the zones."""

    config: NetworkConfig
    """The stack's ``network`` section: create a VPC or use existing subnets."""
    cluster_name: str
    """Subnets are tagged ``kubernetes.io/cluster/<cluster_name>: shared``."""
    is_prod: bool
    """One NAT gateway per zone in prod (unless natGateways says otherwise)."""
    tags: Mapping[str, str]
    """The FinOps AWS tags every network resource carries."""
    region: str = "us-east-1"
    """For the S3 gateway endpoint's service name."""
    instance_types: tuple[str, ...] = ()
    """Every node pool's instance types: each subnet's zone must offer all of them."""

    @property
    def nat_mode(self) -> NatGatewayMode:
        if self.config.nat_gateways is not None:
            return self.config.nat_gateways
        return NatGatewayMode.PER_AZ if self.is_prod else NatGatewayMode.SINGLE


class Network(pulumi.ComponentResource):
    """The VPC (see the module docstring). Outputs:"""

    vpc_id: pulumi.Output[str]
    """The VPC's id."""
    private_subnet_ids: pulumi.Output[Sequence[str]]
    """The private subnets (nodes, internal load balancers), one per zone."""
    public_subnet_ids: pulumi.Output[Sequence[str]]
    """The public subnets (internet-facing load balancers, NAT), one per zone."""
    zone_ids: list[str]
    """The zone IDs the subnets are in (mode 'create'; empty for 'existing')."""
    s3_endpoint: aws.ec2.VpcEndpoint | None
    """The S3 gateway endpoint on the private route tables ('create' only)."""

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(TYPE, name, None, opts)
        config = args.config
        self.zone_ids = []
        self.s3_endpoint = None
        if config.mode == NetworkMode.EXISTING:
            if not config.vpc_id or len(config.private_subnet_ids) < 2:
                raise ValueError("network mode 'existing' needs vpcId and at least 2 privateSubnetIds")
            self.vpc_id = pulumi.Output.from_input(config.vpc_id)
            self.private_subnet_ids = pulumi.Output.from_input(list(config.private_subnet_ids))
            self.public_subnet_ids = pulumi.Output.from_input(list(config.public_subnet_ids))
        else:
            self._create(name, args)
        self.register_outputs({
            "vpcId": self.vpc_id,
            "privateSubnetIds": self.private_subnet_ids,
            "publicSubnetIds": self.public_subnet_ids,
        })

    def _create(self, name: str, args: NetworkArgs) -> None:
        config = args.config
        child = pulumi.ResourceOptions(parent=self)
        # Availability Zones only: an opted-in Local Zone (or Wavelength Zone) sorts before the AZs
        # (us-east-1-bos-1a < us-east-1a); EKS takes no Local Zone subnet for its control plane, and a
        # Local Zone offers few instance types and services, so it must not get these subnets.
        found = aws.get_availability_zones(
            state="available", filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            opts=pulumi.InvokeOptions(parent=self),
        )
        offerings = aws.ec2.get_instance_type_offerings(
            location_type="availability-zone-id",
            filters=[{"name": "instance-type", "values": list(args.instance_types)}],
            opts=pulumi.InvokeOptions(parent=self),
        )
        zones = usable_zone_ids(sorted(found.zone_ids), list(zip(offerings.instance_types, offerings.locations)),
                                args.instance_types)
        if len(zones) < config.az_count:
            # The account's answer, not the file, is short: still one line naming the key, never a traceback.
            raise pulumi.RunError(
                f"{stack_file(pulumi.get_stack())}: network.azCount: {config.az_count} zones asked for, but only "
                f"{len(zones)} zone(s) of the region ({', '.join(zones) or 'none'}) offer every node pool instance "
                f"type ({', '.join(args.instance_types)}); lower azCount or change the pools' instanceTypes")
        zones = zones[: config.az_count]
        private_cidrs, public_cidrs = subnet_cidrs(config.cidr, config.az_count)
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}

        def tags(resource: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
            return {**args.tags, "Name": f"{args.cluster_name}-{resource}", **(extra or {})}

        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=config.cidr, enable_dns_hostnames=True,
                          enable_dns_support=True, tags=tags("vpc"), opts=child)
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=tags("igw"), opts=child)

        public_rt = aws.ec2.RouteTable(
            f"{name}-public", vpc_id=vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
            tags=tags("public"), opts=child,
        )
        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        for zone, private_cidr, public_cidr in zip(zones, private_cidrs, public_cidrs):
            public = aws.ec2.Subnet(
                f"{name}-public-{zone}", vpc_id=vpc.id, cidr_block=public_cidr, availability_zone_id=zone,
                map_public_ip_on_launch=False,
                tags=tags(f"public-{zone}", {**cluster_tag, "kubernetes.io/role/elb": "1"}), opts=child,
            )
            aws.ec2.RouteTableAssociation(f"{name}-public-{zone}", subnet_id=public.id,
                                          route_table_id=public_rt.id, opts=child)
            public_subnets.append(public)
            private_subnets.append(aws.ec2.Subnet(
                f"{name}-private-{zone}", vpc_id=vpc.id, cidr_block=private_cidr, availability_zone_id=zone,
                map_public_ip_on_launch=False,
                tags=tags(f"private-{zone}", {**cluster_tag, "kubernetes.io/role/internal-elb": "1"}), opts=child,
            ))

        nat_zones = zones if args.nat_mode == NatGatewayMode.PER_AZ else zones[:1]
        nats: list[aws.ec2.NatGateway] = []
        for zone, public in zip(nat_zones, public_subnets):
            eip = aws.ec2.Eip(f"{name}-nat-{zone}", domain="vpc", tags=tags(f"nat-{zone}"), opts=child)
            nats.append(aws.ec2.NatGateway(
                f"{name}-nat-{zone}", allocation_id=eip.id, subnet_id=public.id, connectivity_type="public",
                tags=tags(f"nat-{zone}"), opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
            ))
        private_rts: list[aws.ec2.RouteTable] = []
        for index, (zone, private) in enumerate(zip(zones, private_subnets)):
            nat = nats[index] if args.nat_mode == NatGatewayMode.PER_AZ else nats[0]
            rt = aws.ec2.RouteTable(
                f"{name}-private-{zone}", vpc_id=vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags=tags(f"private-{zone}"), opts=child,
            )
            aws.ec2.RouteTableAssociation(f"{name}-private-{zone}", subnet_id=private.id,
                                          route_table_id=rt.id, opts=child)
            private_rts.append(rt)
        self.s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3", vpc_id=vpc.id, service_name=s3_gateway_service(args.region), vpc_endpoint_type="Gateway",
            route_table_ids=[rt.id for rt in private_rts], tags=tags("s3"), opts=child,
        )
        self.zone_ids = zones

        self.vpc_id = vpc.id
        self.private_subnet_ids = pulumi.Output.all(*[s.id for s in private_subnets])
        self.public_subnet_ids = pulumi.Output.all(*[s.id for s in public_subnets])
