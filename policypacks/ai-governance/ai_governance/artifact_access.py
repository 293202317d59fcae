"""artifact-least-privilege: a workload's AWS role reads only its own project's model artifacts.

The path from a workload to its permissions, each link read from the stack:

1. a Kubernetes workload (any shape the pack reads; Helm-values workloads are not followed) of
   project P (the FinOps project label of its pod template, else of the workload; none: every
   project's store is foreign to it) runs as ``spec.serviceAccountName`` (default ``default``) in its
   ``metadata.namespace`` (default ``default``);
2. that ServiceAccount gets a role from an ``aws:eks/podIdentityAssociation`` with the same
   ``namespace`` and ``serviceAccount`` (its ``targetRoleArn``, when set, is the role the pods end up
   with), or through IRSA: a ``kubernetes:core/v1:ServiceAccount`` annotated
   ``eks.amazonaws.com/role-arn``;
3. the role is a ``aws:iam/role`` of the stack when the ARN input depends on exactly one role, or is a
   literal ARN naming one; a role outside the stack cannot be judged and fails (unless listed in
   ``trustedRoleArns``);
4. its permissions are its ``inlinePolicies``, its ``managedPolicyArns``, the ``aws:iam/rolePolicy``
   and ``aws:iam/rolePolicyAttachment`` resources linked to it the same way, and for attachments the
   ``aws:iam/policy`` of the stack they name. A managed policy outside the stack fails unless listed
   in ``trustedPolicyArns``; AWS's broad S3 policies (AmazonS3ReadOnlyAccess and the like) are known
   to read every bucket.

A violation is an Allow statement (``iam_policy`` semantics: conditions and denies not credited) that
lets the workload read (``readActions``) a bucket of another project (tagged with another project),
or any bucket at all (a resource such as ``*`` or ``arn:aws:s3:::*``), or that grants every S3 action.
A Pod Identity association's session ``policy`` (which can only narrow the role) is not credited
either. What is unknown at preview (a policy document built from outputs, an ARN with no single dependency,
a policy resource whose role is unknown) is "cannot verify" under ``unknownValues``; the model stores'
own documents are built from plain names, so they are judged at preview.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from pulumi_policy import Severity

from . import iam_policy, k8s
from .artifact_stores import Bucket, project_key, stores
from .common import (
    MISSING,
    UNKNOWN,
    Check,
    Res,
    Setting,
    Stack,
    elements,
    get,
    matches_any,
    short,
    stack_rule,
    string_map,
    text,
)

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
READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
_PROBE = "x-unlisted-bucket-x"
"""A bucket name no literal resource pattern names: a pattern reaching it reaches any bucket."""
_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}


@dataclass(frozen=True)
class Document:
    """One permissions document of a role: its text (str, UNKNOWN) or a known verdict."""

    label: str
    urn: str
    text: Any = MISSING
    problem: str | None = None
    """Set when the document cannot be read (outside the stack, ...): the violation to report."""


class _Iam:
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
            else:
                self.unlinked.append(res)

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


def _iam(stack: Stack) -> _Iam:
    return stack.index("artifact-iam", _Iam)


def _workload_identity(res: Res, tpl: k8s.PodTemplate, c: Check) -> tuple[str, str] | None:
    namespace = k8s.namespace_of(res)
    account = get(tpl.spec, "serviceAccountName")
    if account is MISSING:
        account = get(tpl.spec, "serviceAccount")
    if account is MISSING and tpl.partial:
        return None  # the live object's account stays
    if not c.known(namespace, f"metadata.namespace of {res.label}", res.urn) or \
            not c.known(account, f"{tpl.field('spec', 'serviceAccountName')} of {res.label}", res.urn):
        return None
    return (namespace if isinstance(namespace, str) else "default", account if isinstance(account, str) else "default")


def workload_project(res: Res, tpl: k8s.PodTemplate, key: str) -> str | None:
    """The workload's project: its pod template's FinOps project label, else the workload's own."""
    labels, _ = string_map(get(tpl.metadata, "labels"))
    if key in labels:
        return labels[key]
    own, _ = k8s.labels_of(res.props)
    return own.get(key)


def _roles_for(identity: tuple[str, str], iam: _Iam, c: Check) -> list[tuple[Res | str, str]]:
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


def _targets(bucket: Bucket) -> list[str]:
    name = bucket.name
    return [t for p in PARTITIONS for t in (f"arn:{p}:s3:::{name}", f"arn:{p}:s3:::{name}/*")]


def _reads(statements: Iterable[iam_policy.Statement], actions: list[str], foreign: list[Bucket]) -> list[str]:
    """What the Allow statements let a workload read that it should not, as message parts."""
    problems: list[str] = []
    for st in statements:
        if not st.allows:
            continue
        reads = [a for a in actions if st.covers_action(a)]
        s3_reach = any(st.reaches(f"arn:{p}:s3:::*") for p in PARTITIONS)
        if s3_reach and st.covers_all_actions("s3:*"):
            problems.append(f"{st.label} grants every S3 action")
            continue
        if not reads:
            continue
        if any(st.reaches(f"arn:{p}:s3:::{_PROBE}") or st.reaches(f"arn:{p}:s3:::{_PROBE}/x") for p in PARTITIONS):
            problems.append(f"{st.label} lets it {'/'.join(reads)} any bucket ({', '.join(st.resources)[:120]})")
            continue
        for bucket in foreign:
            if any(st.reaches(t) for t in _targets(bucket)):
                problems.append(f"{st.label} lets it {'/'.join(reads)} bucket {bucket.name} of project "
                                f"'{bucket.project}'")
    return problems


def _check(stack: Stack, c: Check) -> None:
    iam = _iam(stack)
    key = project_key(c)
    buckets = [b for b in stores(stack, c).buckets if isinstance(b.name, str) and isinstance(b.project, str)]
    actions = c.config.strings("readActions")
    trusted_roles = c.config.strings("trustedRoleArns")
    judged = 0
    for res, tpl in k8s.stack_templates(stack):
        if tpl.values_path is not None:
            continue
        identity = _workload_identity(res, tpl, c)
        if identity is None:
            continue
        project = workload_project(res, tpl, key)
        foreign = [b for b in buckets if b.project != project]
        for role, via in _roles_for(identity, iam, c):
            judged += 1
            who = f"{res.label} (project '{project or 'none'}', {identity[0]}/{identity[1]})"
            if isinstance(role, str):
                if not matches_any(role, trusted_roles):
                    c.violation(f"{who} gets role {role} through {via}; the role is not in the stack, so what it "
                                "reads cannot be judged (create it in the stack or list it in trustedRoleArns)", res.urn)
                continue
            if iam.unlinked:
                c.unknown(f"which role {iam.unlinked[0].label} belongs to (so the permissions of {role.label})",
                          iam.unlinked[0].urn)
            for doc in iam.documents(role, c):
                if doc.problem is not None:
                    c.violation(f"{who} gets {role.label} through {via}: {doc.problem}", res.urn)
                    continue
                if not c.known(doc.text, f"the policy document of {doc.label}", doc.urn):
                    continue
                document = text(doc.text)
                if document is None or not document.strip():
                    continue  # a role's recorded outputs list "no inline policy" as an empty entry
                try:
                    statements = iam_policy.parse(document)
                except iam_policy.PolicyError as error:
                    c.violation(f"{who} gets {role.label} through {via}: {doc.label} is not a readable policy "
                                f"document ({error}), so it cannot be judged", res.urn)
                    continue
                problems = _reads(statements, actions, foreign)
                if problems:
                    c.violation(f"{who} gets {role.label} through {via}: {doc.label}: {'; '.join(problems)}", res.urn)
    if not judged and not c.unknowns:
        c.not_applicable("no workload of the stack gets an AWS role (Pod Identity or IRSA)")


ARTIFACT_LEAST_PRIVILEGE = stack_rule(
    name="artifact-least-privilege",
    description="A Kubernetes workload's AWS role (EKS Pod Identity or IRSA) cannot read another project's model "
                "bucket, any bucket at large, or hold every S3 action; roles and managed policies outside the stack "
                "fail unless trusted. Severity: high.",
    severity=Severity.HIGH,
    remediation="Give each service the ModelAccess role the InferenceService makes from model.artifactUri (GetObject "
                "on its own prefix, ListBucket limited to it); scope hand-written policies to the project's own bucket "
                "ARN; list reviewed roles or managed policies outside the stack in trustedRoleArns / trustedPolicyArns.",
    check=_check,
    settings_=(Setting("readActions", _STRINGS, READ_ACTIONS, "The S3 actions that read a bucket's artifacts."),
               Setting("trustedRoleArns", _STRINGS, [],
                       "Roles outside the stack (ARN patterns) whose permissions were reviewed elsewhere."),
               Setting("trustedPolicyArns", _STRINGS, [],
                       "Managed policies outside the stack (ARN patterns) known to read no model bucket.")),
    tags=["security", "least-privilege"],
)

POLICIES = [ARTIFACT_LEAST_PRIVILEGE]

__all__ = ["ARTIFACT_LEAST_PRIVILEGE", "POLICIES"]
