"""The kubeconfig of an EKS cluster: pure, no credential inside."""

from __future__ import annotations

import json


def kubeconfig_for_eks(name: str, endpoint: str, ca_data: str, region: str | None) -> str:
    """A kubeconfig whose user runs ``aws eks get-token``: no long-lived credential inside."""
    args = ["eks", "get-token", "--cluster-name", name, "--output", "json"]
    if region:
        args += ["--region", region]
    return json.dumps({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": endpoint, "certificate-authority-data": ca_data}}],
        "users": [{"name": name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": args,
            "interactiveMode": "Never",
        }}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
        "current-context": name,
    })
