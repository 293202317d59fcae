"""Deterministic answers for data sources (invokes): the one place preflight makes facts up.

A real preview asks AWS; preflight answers from this table so every run is repeatable and
needs no account. Each answer is what an account in the stack's region would return. The account
is chosen to catch mistakes real accounts punish:

- it has opted in to one Local Zone group (a program that forgets to filter zones picks it);
- its zone names map to zone IDs in a shuffled order, as every account's do (names are per account);
- zone ``<prefix>-az3`` offers no GPU instance type (like ``use1-az3``, which cannot launch current
  families), so a program that picks zones without checking offerings puts a GPU subnet there;
- Billing lists every tag key the program asks about, as after a month of tagged spend.

An invoke without an answer here fails loudly rather than returning an empty guess, and so does an
argument an answer cannot honour (e.g. an unknown filter).
"""

from __future__ import annotations

from typing import Any, Callable

ACCOUNT_ID = "123456789012"
CALLER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/preflight"
AZ_SUFFIXES = ("a", "b", "c", "d", "e", "f")
ZONE_NUMBER_BY_SUFFIX = dict(zip(AZ_SUFFIXES, (4, 6, 1, 2, 3, 5)))
"""This account's name-to-ID mapping: ``<region>a`` is ``<prefix>-az4``, and so on (every account differs)."""
ZONE_WITHOUT_GPUS = 3
"""``<prefix>-az3`` offers no GPU instance type."""
_DIRECTIONS = {"east": "e", "west": "w", "north": "n", "south": "s", "central": "c", "northeast": "ne",
               "northwest": "nw", "southeast": "se", "southwest": "sw"}


def zone_id_prefix(region: str) -> str:
    """``us-east-1`` -> ``use1``, ``ap-southeast-2`` -> ``apse2``: how AWS spells a region in zone IDs."""
    parts = region.split("-")
    if len(parts) != 3 or parts[1] not in _DIRECTIONS:
        raise UnansweredInvoke(f"preflight cannot name the zone IDs of region {region!r}")
    return f"{parts[0]}{_DIRECTIONS[parts[1]]}{parts[2]}"


def zone_without_gpus(region: str) -> str:
    return f"{zone_id_prefix(region)}-az{ZONE_WITHOUT_GPUS}"


def _zones(region: str) -> list[dict[str, str]]:
    """The region's zones as DescribeAvailabilityZones sees them: six AZs, a Local Zone the account has
    opted in to and a Wavelength Zone it has not. Sorted by name, as AWS lists them, which puts
    ``<region>-bos-1a`` before ``<region>a``: an unfiltered ``names[:n]`` starts with the Local Zone."""
    prefix = zone_id_prefix(region)
    zones = [{"name": f"{region}{s}", "zoneId": f"{prefix}-az{ZONE_NUMBER_BY_SUFFIX[s]}", "groupName": region,
              "optInStatus": "opt-in-not-required", "zoneType": "availability-zone", "state": "available"}
             for s in AZ_SUFFIXES]
    zones.append({"name": f"{region}-bos-1a", "zoneId": f"{prefix}-bos1-az1", "groupName": f"{region}-bos-1",
                  "optInStatus": "opted-in", "zoneType": "local-zone", "state": "available"})
    zones.append({"name": f"{region}-wl1-bos-wlz-1", "zoneId": f"{prefix}-wl1-bos-wlz1", "groupName": f"{region}-wl1",
                  "optInStatus": "not-opted-in", "zoneType": "wavelength-zone", "state": "available"})
    return sorted(zones, key=lambda z: z["name"])


def _offerings(args: dict[str, Any], region: str) -> dict[str, Any]:
    """DescribeInstanceTypeOfferings by zone ID for the instance types asked for: every AZ offers them,
    except that ``<prefix>-az3`` offers no GPU type. Local and Wavelength Zones offer none of them."""
    from ai_platform_finops.catalog import gpu_count

    location_type = args.get("locationType")
    if location_type != "availability-zone-id":
        raise UnansweredInvoke(f"preflight's getInstanceTypeOfferings answers locationType 'availability-zone-id' only, "
                               f"not {location_type!r}")
    types: list[str] = []
    for flt in args.get("filters") or []:
        if flt.get("name") != "instance-type":
            raise UnansweredInvoke(f"preflight's getInstanceTypeOfferings answer has no filter {flt.get('name')!r}; "
                                   "known: instance-type")
        types.extend(flt.get("values", []))
    if not types:
        raise UnansweredInvoke("preflight's getInstanceTypeOfferings answer needs an instance-type filter")
    zone_ids = sorted(z["zoneId"] for z in _zones(region) if z["zoneType"] == "availability-zone")
    pairs = [(t, z) for z in zone_ids for t in dict.fromkeys(types)
             if not (z == zone_without_gpus(region) and gpu_count(t) > 0)]
    return {"instanceTypes": [t for t, _ in pairs], "locations": [z for _, z in pairs],
            "locationTypes": ["availability-zone-id"] * len(pairs), "locationType": location_type,
            "filters": args.get("filters") or [], "id": region}


def _cost_tags(args: dict[str, Any], _: str) -> dict[str, Any]:
    """Cost Explorer GetTags: the keys Billing lists. This account has had tagged spend for a month, so
    every key the program searches for is listed; tests replace this answer to model a fresh account."""
    if args.get("tagKey"):
        raise UnansweredInvoke("preflight's costexplorer getTags answer lists tag keys, not a key's values")
    search = args.get("searchString")
    if not search:
        raise UnansweredInvoke("preflight's costexplorer getTags answer needs searchString (the tag key to look for)")
    return {"tags": [search], "searchString": search, "timePeriod": args.get("timePeriod"), "id": "preflight"}


_AZ_FILTERS = {"opt-in-status": "optInStatus", "zone-type": "zoneType", "zone-name": "name",
               "zone-id": "zoneId", "group-name": "groupName", "state": "state"}
"""DescribeAvailabilityZones filter names this answer honours (anything else fails loudly)."""


def _azs(args: dict[str, Any], region: str) -> dict[str, Any]:
    zones = _zones(region)
    if not args.get("allAvailabilityZones"):
        # Without allAvailabilityZones AWS lists only the zones the account can use.
        zones = [z for z in zones if z["optInStatus"] != "not-opted-in"]
    if args.get("state"):
        zones = [z for z in zones if z["state"] == args["state"]]
    for flt in args.get("filters") or []:
        field = _AZ_FILTERS.get(flt.get("name", ""))
        if field is None:
            raise UnansweredInvoke(f"preflight's getAvailabilityZones answer has no filter {flt.get('name')!r}; "
                                   f"known: {', '.join(sorted(_AZ_FILTERS))}")
        zones = [z for z in zones if z[field] in flt.get("values", [])]
    zones = [z for z in zones if z["name"] not in (args.get("excludeNames") or [])
             and z["zoneId"] not in (args.get("excludeZoneIds") or [])]
    return {
        "names": [z["name"] for z in zones],
        "zoneIds": [z["zoneId"] for z in zones],
        "groupNames": [z["groupName"] for z in zones],
        "id": region,
        "state": args.get("state", "available"),
        "filters": args.get("filters") or [],
    }


ADDON_VERSIONS = {
    "vpc-cni": "v1.20.4-eksbuild.2",
    "coredns": "v1.12.4-eksbuild.1",
    "eks-pod-identity-agent": "v1.3.9-eksbuild.3",
    "kube-proxy": "v{kubernetes}.0-eksbuild.2",
    "aws-ebs-csi-driver": "v1.48.0-eksbuild.2",
}
"""Newest EKS add-on versions, in the form DescribeAddonVersions gives them (kube-proxy follows the
cluster's minor). Illustrative, not a record of real releases: they make previews repeatable."""


def _addon_version(args: dict[str, Any], region: str) -> dict[str, Any]:
    name, kubernetes = args.get("addonName", ""), args.get("kubernetesVersion", "")
    template = ADDON_VERSIONS.get(name)
    if template is None:
        raise UnansweredInvoke(f"preflight has no version of EKS add-on {name!r}; add it to ADDON_VERSIONS in preflight/invokes.py")
    return {"addonName": name, "kubernetesVersion": kubernetes, "mostRecent": bool(args.get("mostRecent")),
            "version": template.format(kubernetes=kubernetes), "id": name, "region": region}


def _caller(_: dict[str, Any], __: str) -> dict[str, Any]:
    return {"accountId": ACCOUNT_ID, "arn": CALLER_ARN, "userId": "AROAPREFLIGHT", "id": ACCOUNT_ID}


def _region(_: dict[str, Any], region: str) -> dict[str, Any]:
    return {"name": region, "region": region, "id": region, "endpoint": f"ec2.{region}.amazonaws.com",
            "description": region}


def _partition(_: dict[str, Any], __: str) -> dict[str, Any]:
    return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws", "reverseDnsPrefix": "com.amazonaws"}


def _eks_cluster(args: dict[str, Any], region: str) -> dict[str, Any]:
    name = args.get("name", "cluster")
    return {
        "name": name,
        "id": name,
        "arn": f"arn:aws:eks:{region}:{ACCOUNT_ID}:cluster/{name}",
        "endpoint": f"https://{name.upper().replace('-', '')}.gr7.{region}.eks.amazonaws.com",
        "certificateAuthorities": [{"data": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCnByZWZsaWdodAo="}],
        "version": "1.34",
        "roleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/{name}-cluster",
        "vpcConfig": {"subnetIds": ["subnet-0aaa0000000000001", "subnet-0aaa0000000000002"],
                      "securityGroupIds": [], "clusterSecurityGroupId": "sg-0preflight0000001",
                      "vpcId": "vpc-0preflight000001", "endpointPrivateAccess": True,
                      "endpointPublicAccess": False, "publicAccessCidrs": []},
        "identities": [{"oidcs": [{"issuer": f"https://oidc.eks.{region}.amazonaws.com/id/PREFLIGHT"}]}],
        "accessConfigs": [{"authenticationMode": "API"}],
        "status": "ACTIVE",
        "tags": {},
    }


ANSWERS: dict[str, Callable[[dict[str, Any], str], dict[str, Any]]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _azs,
    "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": _offerings,
    "aws:costexplorer/getTags:getTags": _cost_tags,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller,
    "aws:index/getRegion:getRegion": _region,
    "aws:index/getPartition:getPartition": _partition,
    "aws:eks/getCluster:getCluster": _eks_cluster,
    "aws:eks/getAddonVersion:getAddonVersion": _addon_version,
}


class UnansweredInvoke(Exception):
    pass


def answer(token: str, args: dict[str, Any], region: str) -> dict[str, Any]:
    handler = ANSWERS.get(token)
    if handler is None:
        raise UnansweredInvoke(
            f"preflight has no deterministic answer for the data source {token}; add one to preflight/invokes.py"
        )
    return handler(args, region)
