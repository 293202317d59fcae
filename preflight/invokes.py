"""Deterministic answers for data sources (invokes): the one place preflight makes facts up.

A real preview asks AWS; preflight answers from this table so every run is repeatable and
needs no account. Each answer is what a fresh account in the stack's region would return.
An invoke without an answer here fails loudly rather than returning an empty guess.
"""

from __future__ import annotations

from typing import Any, Callable

ACCOUNT_ID = "123456789012"
CALLER_ARN = f"arn:aws:iam::{ACCOUNT_ID}:role/preflight"
AZ_SUFFIXES = ("a", "b", "c", "d", "e", "f")


def _azs(args: dict[str, Any], region: str) -> dict[str, Any]:
    names = [f"{region}{s}" for s in AZ_SUFFIXES]
    return {
        "names": names,
        "zoneIds": [f"use1-az{i + 1}" for i in range(len(names))],
        "groupNames": [region] * len(names),
        "id": region,
        "state": args.get("state", "available"),
    }


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
    "aws:index/getCallerIdentity:getCallerIdentity": _caller,
    "aws:index/getRegion:getRegion": _region,
    "aws:index/getPartition:getPartition": _partition,
    "aws:eks/getCluster:getCluster": _eks_cluster,
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
