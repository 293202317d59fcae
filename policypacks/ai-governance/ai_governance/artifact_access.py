"""artifact-least-privilege: a workload's AWS role reads only its own project's model artifacts.

The path from a workload to its permissions, each link read from the stack:

1. a Kubernetes workload (any shape the pack reads; Helm-values workloads are not followed) of
   project P (the FinOps project label of its pod template, else of the workload; none: every
   project's store is foreign to it) runs as ``spec.serviceAccountName`` (default ``default``) in its
   ``metadata.namespace`` (default ``default``);
2. that ServiceAccount gets a role (``workload_identity``) from an ``aws:eks/podIdentityAssociation`` with the same
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

from collections.abc import Iterable, Mapping
from typing import Any

from pulumi_policy import Severity

from . import iam_policy, k8s
from .artifact_stores import Bucket, project_key, stores
from .framework import Check, Setting, stack_rule
from .props import MISSING, get, matches_any, text
from .resources import Res, Stack
from .workload_identity import iam as stack_iam
from .workload_identity import roles_for, workload_project

READ_ACTIONS = ["s3:GetObject", "s3:GetObjectVersion", "s3:ListBucket"]
PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
_PROBE = "x-unlisted-bucket-x"
"""A bucket name no literal resource pattern names: a pattern reaching it reaches any bucket."""
_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}


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


def _targets(bucket: Bucket) -> list[str]:
    name = bucket.name
    return [t for p in PARTITIONS for t in (f"arn:{p}:s3:::{name}", f"arn:{p}:s3:::{name}/*")]


def _candidates(st: iam_policy.Statement, foreign: Mapping[str, list[Bucket]]) -> list[Bucket]:
    """The buckets ``st`` might reach: where each of its resources names its bucket literally
    (``arn:aws:s3:::name/prefix*``), only those, found by name (so the stack's roles x buckets stay
    linear); all of them when a bucket name has a wildcard or the statement uses NotResource."""
    named: set[str] = set()
    for pattern in () if st.not_resources else st.resources:
        parts = pattern.split(":", 5)
        if len(parts) == 6 and parts[:5] == ["arn", parts[1], "s3", "", ""]:
            # A wildcard anywhere before the key spans colons and slashes too (arn:*:s3:::a reaches
            # the object "x:s3:::a" of any bucket), so only a literal prefix pins the bucket.
            name = parts[5].split("/", 1)[0]
            if not any(w in parts[1] + name for w in "*?"):
                named.add(name)
                continue
        elif ":s3:" not in pattern and "*" not in pattern and "?" not in pattern:
            continue  # a literal ARN of another service reaches no bucket
        break
    else:
        if not st.not_resources:
            return [bucket for name in sorted(named) for bucket in foreign.get(name, ())]
    return [bucket for same_name in foreign.values() for bucket in same_name]


def _reads(statements: Iterable[iam_policy.Statement], actions: list[str], foreign: Mapping[str, list[Bucket]]) -> list[str]:
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
        for bucket in _candidates(st, foreign):
            if any(st.reaches(t) for t in _targets(bucket)):
                problems.append(f"{st.label} lets it {'/'.join(reads)} bucket {bucket.name} of project "
                                f"'{bucket.project}'")
    return problems


def _check(stack: Stack, c: Check) -> None:
    iam = stack_iam(stack)
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
        foreign: dict[str, list[Bucket]] = {}
        for bucket in buckets:
            if bucket.project != project:
                foreign.setdefault(bucket.name, []).append(bucket)
        for role, via in roles_for(identity, iam, c):
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
                "fail unless trusted.",
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
