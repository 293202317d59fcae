"""A stack's workload identities: which AWS role a (namespace, ServiceAccount) gets and that role's
permission documents.

A ServiceAccount gets a role from an ``aws:eks/podIdentityAssociation`` with the same ``namespace`` and
``serviceAccount`` (its ``targetRoleArn``, when set, is the role the pods end up with), or through
IRSA: a ``kubernetes:core/v1:ServiceAccount`` annotated ``eks.amazonaws.com/role-arn``. An ARN or
role input names a stack ``aws:iam/role`` when it depends on exactly that role, or is a known name or
ARN one stack role has; a known one no stack role has is a role outside the stack; anything else is
unknown. A role's documents are its ``inlinePolicies``, ``managedPolicyArns``, and the
``aws:iam/rolePolicy``/``aws:iam/rolePolicyAttachment`` resources linked to it that way (an
attachment's policy: the ``aws:iam/policy`` its ARN depends on or names). Nothing is linked by guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import k8s
from .framework import Check
from .props import MISSING, UNKNOWN, elements, get, matches_any, short, string_map
from .resources import Res, Stack
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE_POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
POLICY = "aws:iam/policy:Policy"
POD_IDENTITY_ASSOCIATION = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
IRSA_ANNOTATION = "eks.amazonaws.com/role-arn"

BROAD_AWS_POLICIES = ("AmazonS3ReadOnlyAccess", "AmazonS3FullAccess", "AdministratorAccess", "PowerUserAccess",
                      "ReadOnlyAccess")
"""AWS managed policies known to read every bucket (their documents are not in any stack)."""

@dataclass(frozen=True)
class Document:
    """One permissions document of a role: its text (str, UNKNOWN) or a known verdict."""

    label: str
    urn: str
    text: Any = MISSING
    problem: str | None = None
    """Set when the document cannot be read (outside the stack, ...): the violation to report."""


class Iam:
    """The stack's roles and what is attached to them, indexed once."""

    def __init__(self, stack: Stack) -> None:
        self.roles = list(stack.of_type(ROLE))
        self.by_urn = {r.urn: r for r in self.roles}
        self.by_name: dict[str, list[Res]] = {}
        for role in self.roles:
            name = get(role.props, "name")
            if isinstance(name, str):
                self.by_name.setdefault(name, []).append(role)
        self.policies = list(stack.of_type(POLICY))
        self.policy_by_urn = {p.urn: p for p in self.policies}
        self.associations: dict[tuple[str, str], list[Res]] = {}
        self.unbound: list[Res] = []
        """Associations whose namespace or ServiceAccount is unknown."""
        for pia in stack.of_type(POD_IDENTITY_ASSOCIATION):
            ns, sa = get(pia.props, "namespace"), get(pia.props, "serviceAccount")
            if isinstance(ns, str) and isinstance(sa, str):
                self.associations.setdefault((ns, sa), []).append(pia)
            elif ns is UNKNOWN or sa is UNKNOWN:
                self.unbound.append(pia)
        self.accounts: dict[tuple[str, str], list[Res]] = {}
        for account in stack.of_type(SERVICE_ACCOUNT):
            name, ns = get(account.props, "metadata", "name"), get(account.props, "metadata", "namespace")
            if isinstance(name, str) and (isinstance(ns, str) or ns is MISSING):
                self.accounts.setdefault((ns if isinstance(ns, str) else "default", name), []).append(account)
        self.attached: dict[str, list[Res]] = {}
        self.unlinked: list[Res] = []
        for res in stack.of_type(ROLE_POLICY, ROLE_POLICY_ATTACHMENT):
            role = self.role_from(res, "role", name_input=True)
            if isinstance(role, Res):
                self.attached.setdefault(role.urn, []).append(res)
            elif role is None:
                self.unlinked.append(res)  # a known name of a role outside the stack concerns no stack role

    def role_from(self, res: Res, key: str, *, name_input: bool = False, value: Any = MISSING) -> Res | str | None:
        """The stack role an input certainly names (its only dependency, or a known name or ARN that one
        stack role has); a known ARN or name no stack role has (a role outside the stack); or None
        (unknown)."""
        deps = set(res.property_dependencies.get(key) or [])
        if len(deps) == 1 and next(iter(deps)) in self.by_urn:
            return self.by_urn[next(iter(deps))]
        raw = get(res.props, key) if value is MISSING else value
        if not isinstance(raw, str) or not raw:
            return None
        if raw.startswith("arn:"):
            if ":role/" not in raw:
                return raw
            name = raw.rsplit("/", 1)[-1]
        else:
            name = raw if name_input else ""
        matches = self.by_name.get(name, [])
        return matches[0] if len(matches) == 1 else raw

    def documents(self, role: Res, c: Check) -> list[Document]:
        docs: list[Document] = []
        inline = get(role.props, "inlinePolicies")
        if inline is UNKNOWN:
            docs.append(Document(f"inlinePolicies of {role.label}", role.urn, UNKNOWN))
        for item in elements(inline):
            docs.append(Document(f"inline policy {short(get(item, 'name'))} of {role.label}", role.urn,
                                 get(item, "policy")))
        managed = get(role.props, "managedPolicyArns")
        if managed is UNKNOWN:
            docs.append(Document(f"managedPolicyArns of {role.label}", role.urn, UNKNOWN))
        for arn in elements(managed):
            docs.append(self._managed(arn, role, f"managed policy of {role.label}", c))
        for res in self.attached.get(role.urn, []):
            if res.type == ROLE_POLICY:
                docs.append(Document(res.label, res.urn, get(res.props, "policy")))
                continue
            deps = set(res.property_dependencies.get("policyArn") or [])
            policy = self.policy_by_urn.get(next(iter(deps))) if len(deps) == 1 else None
            if policy is not None:
                docs.append(Document(f"{policy.label} (attached by {res.label})", res.urn, get(policy.props, "policy")))
            else:
                docs.append(self._managed(get(res.props, "policyArn"), res, res.label, c, linked=not deps))
        return docs

    def _managed(self, arn: Any, res: Res, label: str, c: Check, linked: bool = True) -> Document:
        if arn is UNKNOWN or not linked or not isinstance(arn, str):
            return Document(f"policyArn of {label}", res.urn, UNKNOWN)
        name = arn.rsplit("/", 1)[-1]
        stack_policies = [p for p in self.policies if get(p.props, "name") == name]
        if len(stack_policies) == 1:
            return Document(f"{stack_policies[0].label} ({label})", res.urn, get(stack_policies[0].props, "policy"))
        if matches_any(arn, c.config.strings("trustedPolicyArns")):
            return Document(label, res.urn, '{"Statement": []}')
        if ":iam::aws:policy/" in arn and name in BROAD_AWS_POLICIES:
            return Document(label, res.urn, problem=f"AWS managed policy {name} ({label}) reads every bucket")
        return Document(label, res.urn, problem=f"{label} attaches {arn}, whose document is not in the stack (create "
                                                 "the policy in the stack or list it in trustedPolicyArns)")


def iam(stack: Stack) -> Iam:
    """The stack's identities, indexed once per stack."""
    return stack.index("artifact-iam", Iam)


def roles_for(identity: tuple[str, str], iam: Iam, c: Check) -> list[tuple[Res | str, str]]:
    """(role or outside ARN, how the workload gets it) for a (namespace, ServiceAccount)."""
    found: list[tuple[Res | str, str]] = []
    for pia in iam.unbound:
        c.unknown(f"which ServiceAccount {pia.label} binds (namespace/serviceAccount)", pia.urn)
    for pia in iam.associations.get(identity, []):
        key = "targetRoleArn" if get(pia.props, "targetRoleArn") is not MISSING else "roleArn"
        role = iam.role_from(pia, key)
        if role is None:
            c.unknown(f"the {key} of {pia.label}", pia.urn)
        else:
            found.append((role, pia.label))
    for account in iam.accounts.get(identity, []):
        raw = get(account.props, "metadata", "annotations")
        annotations, unknown = string_map(raw)
        if raw is UNKNOWN or IRSA_ANNOTATION in unknown:
            role = iam.role_from(account, "metadata", value=None)
            if role is None:
                c.unknown(f"the {IRSA_ANNOTATION} annotation of {account.label}", account.urn)
                continue
            found.append((role, f"{account.label} (IRSA)"))
        elif IRSA_ANNOTATION in annotations:
            role = iam.role_from(account, "metadata", value=annotations[IRSA_ANNOTATION])
            if role is not None:
                found.append((role, f"{account.label} (IRSA)"))
    return found


def workload_project(res: Res, tpl: k8s.PodTemplate, key: str) -> str | None:
    """The workload's project: its pod template's FinOps project label, else the workload's own."""
    labels, _ = string_map(get(tpl.metadata, "labels"))
    if key in labels:
        return labels[key]
    own, _ = k8s.labels_of(res.props)
    return own.get(key)
