"""Model artifact stores: artifact-store-hardening, artifact-least-privilege and artifact-provenance,
allowed and disallowed samples through gRPC on top of the good stack (whose inference Deployment
``multimodal`` of project-nova runs as ``project-nova/default``)."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from preflight.engine import UNKNOWN, RecordedResource
from tests.policypacks import builders as b
from tests.policypacks import store_builders as s
from tests.policypacks.classes.suite import Case, adding, allowed, check, disallowed, params

HARDENING = "artifact-store-hardening"
ACCESS = "artifact-least-privilege"
PROVENANCE = "artifact-provenance"
NOVA = s.bucket_name("project-nova")
ORION = s.bucket_name("project-orion")


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(action: object, resource: object, **extra: object) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def stack_with(*groups: list[RecordedResource] | RecordedResource) -> Callable[[list[RecordedResource]], list[RecordedResource]]:
    flat: list[RecordedResource] = []
    for group in groups:
        flat += group if isinstance(group, list) else [group]
    return lambda stack: adding(*flat)(s.bare(stack))


def registry_scanning(scan_type: str, pattern: str, frequency: str = "CONTINUOUS_SCAN") -> RecordedResource:
    return b.res("aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration", "scanning", {
        "scanType": scan_type,
        "rules": [{"scanFrequency": frequency, "repositoryFilters": [{"filter": pattern, "filterType": "WILDCARD"}]}]})


def unlinked_block() -> RecordedResource:
    return b.res("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "elsewhere", {
        "bucket": UNKNOWN, "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
        "restrictPublicBuckets": True})


def linked_by_dependency() -> list[RecordedResource]:
    """The configuration resources take the bucket's computed id: linked by their one property dependency."""
    found = s.bucket_store()
    bucket = found[0]
    for res in found[1:]:
        res.inputs["bucket"] = UNKNOWN
        res.property_dependencies["bucket"] = [bucket.urn]
    return found


HARDENING_CASES: list[Case] = [
    allowed("store-as-the-component-makes-it", stack_with(s.store()), HARDENING),
    allowed("linked-by-property-dependency", stack_with(linked_by_dependency()), HARDENING),
    # The bucket's outputs as recorded at its creation, before its configuration resources applied.
    allowed("stale-inline-outputs-yield-to-linked-resources", stack_with(s.bucket_store(bucket_over={
        "serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}},
        "versioning": {"enabled": False, "mfaDelete": False}, "policy": ""})), HARDENING),
    allowed("inline-settings-alone", stack_with(s.bucket_store(drop=("sse", "versioning", "policy"), bucket_over={
        "serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"},
                                                       "bucketKeyEnabled": True}},
        "versioning": {"enabled": True}, "policy": s.tls_policy(NOVA)})), HARDENING),
    disallowed("inline-sse-s3-alone", stack_with(s.bucket_store(drop=("sse",), bucket_over={
        "serverSideEncryptionConfiguration": {"rule": {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}}})),
        HARDENING, message="default encryption is 'AES256'"),
    allowed("enhanced-registry-scan-covers-repo", stack_with(
        s.repository(imageScanningConfiguration={"scanOnPush": False}),
        registry_scanning("ENHANCED", "ai-platform-prod/*")), HARDENING),
    allowed("aes256-repository-accepted-by-setting", stack_with(s.repository(encryptionConfigurations=None)),
            HARDENING, artifact_store_hardening={"repositoryEncryption": "AES256"}),
    allowed("sse-s3-default-accepted-by-setting", stack_with(s.bucket_store(drop=("sse",))), HARDENING,
            artifact_store_hardening={"bucketEncryption": "AES256"}),
    allowed("account-public-access-block", stack_with(s.bucket_store(drop=("pab",)), b.res(
        "aws:s3/accountPublicAccessBlock:AccountPublicAccessBlock", "account", {
            "blockPublicAcls": True, "blockPublicPolicy": True, "ignorePublicAcls": True,
            "restrictPublicBuckets": True})), HARDENING),
    allowed("versioning-not-required-by-setting", stack_with(s.bucket_store(drop=("versioning",))), HARDENING,
            artifact_store_hardening={"requireVersioning": False}),
    disallowed("mutable-tags", stack_with(s.repository(imageTagMutability="MUTABLE")), HARDENING,
               message="image tags are MUTABLE"),
    disallowed("mutability-default", stack_with(s.repository(imageTagMutability=None)), HARDENING,
               message="MUTABLE (the default)"),
    disallowed("immutable-with-exclusion", stack_with(s.repository(imageTagMutability="IMMUTABLE_WITH_EXCLUSION")),
               HARDENING, message="IMMUTABLE_WITH_EXCLUSION"),
    disallowed("no-scanning", stack_with(s.repository(imageScanningConfiguration={"scanOnPush": False})), HARDENING,
               message="not scanned"),
    disallowed("enhanced-registry-without-matching-rule", stack_with(
        s.repository(), registry_scanning("ENHANCED", "other/*")), HARDENING, message="ENHANCED registry scanning"),
    disallowed("manual-registry-rule-is-no-scanning", stack_with(
        s.repository(imageScanningConfiguration={"scanOnPush": False}),
        registry_scanning("BASIC", "*", "MANUAL")), HARDENING, message="not scanned"),
    disallowed("repository-aes256-default", stack_with(s.repository(encryptionConfigurations=None)), HARDENING,
               message="encryption is AES256, KMS is required"),
    disallowed("no-public-access-block", stack_with(s.bucket_store(drop=("pab",))), HARDENING,
               message="no public access block"),
    disallowed("public-access-block-partial", stack_with(s.bucket_store(pab={"restrictPublicBuckets": False})),
               HARDENING, message="does not set all of"),
    disallowed("sse-s3", stack_with(s.bucket_store(sse={"rules": [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]})), HARDENING,
               message="SSE-KMS (aws:kms) is required"),
    disallowed("sse-kms-without-bucket-key", stack_with(s.bucket_store(sse={"rules": [
        {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}]})), HARDENING, message="bucket key"),
    disallowed("no-encryption-config", stack_with(s.bucket_store(drop=("sse",))), HARDENING,
               message="no default encryption"),
    disallowed("no-bucket-policy", stack_with(s.bucket_store(drop=("policy",))), HARDENING,
               message="no bucket policy denying"),
    disallowed("policy-without-tls-condition", stack_with(s.bucket_store(policy={"policy": doc(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [f"arn:aws:s3:::{NOVA}",
                                                                             f"arn:aws:s3:::{NOVA}/*"]})})),
               HARDENING, message="no bucket policy statement denies"),
    disallowed("tls-deny-on-objects-only", stack_with(s.bucket_store(policy={"policy": doc(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": f"arn:aws:s3:::{NOVA}/*",
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}})})), HARDENING,
               message="no bucket policy statement denies"),
    disallowed("tls-deny-some-actions-only", stack_with(s.bucket_store(policy={"policy": doc(
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": ["*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}})})), HARDENING,
               message="no bucket policy statement denies"),
    disallowed("policy-not-json", stack_with(s.bucket_store(policy={"policy": "{not json"})), HARDENING,
               message="not JSON"),
    disallowed("no-versioning", stack_with(s.bucket_store(drop=("versioning",))), HARDENING, message="versioning is off"),
    disallowed("versioning-suspended", stack_with(s.bucket_store(versioning={
        "versioningConfiguration": {"status": "Suspended"}})), HARDENING, message="'Suspended', not Enabled"),
    disallowed("unlinked-block-cannot-verify", stack_with(s.bucket_store(drop=("pab",)), unlinked_block()), HARDENING,
               message="cannot verify which bucket"),
    disallowed("policy-unknown-cannot-verify", stack_with(s.bucket_store(policy={"policy": UNKNOWN})), HARDENING,
               message="cannot verify the policy of"),
]


def own_reader() -> list[RecordedResource]:
    return s.access(s.reader_policy(NOVA))


def irsa_account(role_arn: str) -> RecordedResource:
    return b.k8s("kubernetes:core/v1:ServiceAccount", "default-sa", {
        "apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": "project-nova", "annotations": {"eks.amazonaws.com/role-arn": role_arn}}})


def external_association(role_arn: str) -> RecordedResource:
    return b.res("aws:eks/podIdentityAssociation:PodIdentityAssociation", "external", {
        "clusterName": "ai-platform-prod", "namespace": "project-nova", "serviceAccount": "default", "roleArn": role_arn})


def attached(policy_arn: str) -> list[RecordedResource]:
    role, _, association = own_reader()
    attachment = b.res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach", {
        "role": UNKNOWN, "policyArn": policy_arn}, prop_deps={"role": [role.urn]})
    return [role, attachment, association]


def managed_policy(document: str) -> list[RecordedResource]:
    """The reader role with a stack aws:iam/policy attached by a RolePolicyAttachment (both by dependency)."""
    role, _, association = own_reader()
    policy = b.res("aws:iam/policy:Policy", "team-read", {"name": "team-read", "policy": document})
    attachment = b.res("aws:iam/rolePolicyAttachment:RolePolicyAttachment", "attach-team", {
        "role": UNKNOWN, "policyArn": UNKNOWN}, prop_deps={"role": [role.urn], "policyArn": [policy.urn]})
    return [role, policy, attachment, association]


def by_role_name(document: str) -> list[RecordedResource]:
    """A RolePolicy naming its role by a literal name, and an association with a literal role ARN."""
    role = b.res(s.ROLE, "named-reader", {"name": "named-reader", "assumeRolePolicy": "{}"})
    return [role, b.res("aws:iam/rolePolicy:RolePolicy", "named-reader", {"role": "named-reader", "policy": document}),
            external_association("arn:aws:iam::123456789012:role/named-reader")]


def target_role(document: str) -> list[RecordedResource]:
    """Pod Identity with a targetRoleArn: the pods end up with the target role."""
    first, _, association = own_reader()
    target = b.res(s.ROLE, "target", {"assumeRolePolicy": "{}"})
    policy = b.res("aws:iam/rolePolicy:RolePolicy", "target", {"role": UNKNOWN, "policy": document},
                   prop_deps={"role": [target.urn]})
    association.inputs["targetRoleArn"] = UNKNOWN
    association.property_dependencies["targetRoleArn"] = [target.urn]
    return [first, target, policy, association]


ACCESS_CASES: list[Case] = [
    allowed("reads-own-prefix", stack_with(s.store(), s.store("project-orion"), own_reader()), ACCESS),
    allowed("broad-role-of-another-service-account", stack_with(
        s.store("project-orion"), s.access(doc(allow("s3:GetObject", "*")), service_account="other")), ACCESS),
    allowed("kms-only-policy", stack_with(s.store("project-orion"), s.access(doc(
        allow("kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/abcd1234-0000")))), ACCESS),
    allowed("trusted-outside-role", stack_with(external_association("arn:aws:iam::123456789012:role/reviewed")),
            ACCESS, artifact_least_privilege={"trustedRoleArns": ["arn:aws:iam::123456789012:role/reviewed"]}),
    allowed("role-outputs-empty-inline-entry", stack_with(s.access(s.reader_policy(NOVA), role_inputs={
        "inlinePolicies": [{"name": "", "policy": ""}]})), ACCESS),
    allowed("policy-of-a-role-outside-the-stack", stack_with(own_reader(), b.res(
        "aws:iam/rolePolicy:RolePolicy", "elsewhere", {"role": "someone-elses-role",
                                                      "policy": doc(allow("s3:*", "*"))})), ACCESS),
    disallowed("policy-of-an-unknown-role", stack_with(own_reader(), b.res(
        "aws:iam/rolePolicy:RolePolicy", "elsewhere", {"role": UNKNOWN, "policy": doc(allow("s3:*", "*"))})), ACCESS,
        message="cannot verify which role RolePolicy elsewhere belongs to"),
    allowed("attached-stack-policy-own-bucket", stack_with(s.store(), managed_policy(s.reader_policy(NOVA))), ACCESS),
    disallowed("attached-stack-policy-other-bucket", stack_with(s.store("project-orion"), managed_policy(
        s.reader_policy(ORION))), ACCESS, message="Policy team-read (attached by"),
    disallowed("role-by-literal-name", stack_with(s.store("project-orion"), by_role_name(
        s.reader_policy(ORION))), ACCESS, message="Role named-reader"),
    disallowed("target-role", stack_with(s.store("project-orion"), target_role(s.reader_policy(ORION))), ACCESS,
               message="Role target through"),
    disallowed("association-unknown-service-account", stack_with(s.access(
        s.reader_policy(NOVA), service_account=UNKNOWN)), ACCESS, message="cannot verify which ServiceAccount"),
    disallowed("reads-another-projects-bucket", stack_with(s.store(), s.store("project-orion"), s.access(
        s.reader_policy(ORION))), ACCESS, message=f"bucket {ORION} of project 'project-orion'"),
    disallowed("list-form-with-another-projects-objects", stack_with(s.store("project-orion"), s.access(doc(
        allow(["s3:ListBucket", "s3:GetObject*"], [f"arn:aws:s3:::{NOVA}/*", f"arn:aws:s3:::{ORION}/weights/*"])))),
        ACCESS, message="project-orion"),
    disallowed("wildcard-bucket-prefix-reaches-another-project", stack_with(s.store("project-orion"), s.access(doc(
        allow("s3:Get*", "arn:aws:s3:::apexlogic-ai-platform-prod-*/*")))), ACCESS, message="project-orion"),
    disallowed("any-resource", stack_with(s.access(doc(allow("s3:GetObject", "*")))), ACCESS, message="any bucket"),
    disallowed("any-bucket-arn", stack_with(s.access(doc(allow("s3:GetObject", "arn:aws:s3:::*")))), ACCESS,
               message="any bucket"),
    disallowed("policy-variable-bucket", stack_with(s.access(doc(
        allow("s3:GetObject", "arn:aws:s3:::${aws:PrincipalTag/bucket}/*")))), ACCESS, message="any bucket"),
    disallowed("every-s3-action-on-own-bucket", stack_with(s.store(), s.access(doc(
        allow("s3:*", [f"arn:aws:s3:::{NOVA}", f"arn:aws:s3:::{NOVA}/*"])))), ACCESS, message="every S3 action"),
    disallowed("not-action", stack_with(s.access(doc({"Effect": "Allow", "NotAction": "iam:*",
                                                      "Resource": f"arn:aws:s3:::{NOVA}/*"}))), ACCESS,
               message="every S3 action"),
    disallowed("not-resource", stack_with(s.store("project-orion"), s.access(doc({
        "Effect": "Allow", "Action": "s3:GetObject", "NotResource": f"arn:aws:s3:::{NOVA}/secret/*"}))), ACCESS,
        message="any bucket"),
    disallowed("statement-object-form", stack_with(s.store("project-orion"), s.access(json.dumps({
        "Statement": allow("s3:GetObject", f"arn:aws:s3:::{ORION}/*")}))), ACCESS, message="project-orion"),
    disallowed("aws-managed-s3-read", stack_with(attached("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")), ACCESS,
               message="AmazonS3ReadOnlyAccess"),
    disallowed("outside-managed-policy", stack_with(attached("arn:aws:iam::123456789012:policy/team-policy")), ACCESS,
               message="whose document is not in the stack"),
    disallowed("inline-policies-on-role", stack_with(s.store("project-orion"), s.access(
        s.reader_policy(NOVA), role_inputs={"inlinePolicies": [
            {"name": "extra", "policy": doc(allow("s3:GetObject", f"arn:aws:s3:::{ORION}/*"))}]})), ACCESS,
        message="project-orion"),
    disallowed("irsa-role", stack_with(s.store("project-orion"), s.access(
        doc(allow("s3:GetObject", f"arn:aws:s3:::{ORION}/*")), service_account="nobody", name="irsa",
        role_inputs={"name": "irsa-reader"}), irsa_account("arn:aws:iam::123456789012:role/irsa-reader")), ACCESS,
        message="(IRSA)"),
    disallowed("outside-role", stack_with(external_association("arn:aws:iam::123456789012:role/elsewhere")), ACCESS,
               message="the role is not in the stack"),
    disallowed("policy-not-json", stack_with(s.access("{]")), ACCESS, message="not a readable policy document"),
    disallowed("policy-unknown-cannot-verify", stack_with(s.access(UNKNOWN)), ACCESS,
               message="cannot verify the policy document"),
]


def with_report(uri: str) -> Callable[[list[RecordedResource]], list[RecordedResource]]:
    def edit(stack: list[RecordedResource]) -> list[RecordedResource]:
        def set_report(dep: RecordedResource) -> None:
            for meta in (dep.inputs["metadata"], dep.inputs["spec"]["template"]["metadata"]):
                meta["annotations"][f"{b.GOV}/eval-report"] = uri
        return b.replace(stack, "multimodal", set_report)
    return edit


def then(*steps: Callable[[list[RecordedResource]], list[RecordedResource]]
         ) -> Callable[[list[RecordedResource]], list[RecordedResource]]:
    def apply(stack: list[RecordedResource]) -> list[RecordedResource]:
        for step in steps:
            stack = step(stack)
        return stack
    return apply


PROVENANCE_CASES: list[Case] = [
    allowed("image-from-own-repository", stack_with(s.repository(name="multimodal-model")), PROVENANCE),
    allowed("no-store-for-the-project-keeps-allowlist", stack_with(s.store("project-orion")), PROVENANCE),
    allowed("report-in-own-bucket", then(with_report(f"s3://{NOVA}/reports/multimodal-model/v1.2.0/report.json"),
                                         stack_with(s.bucket_store())), PROVENANCE),
    disallowed("image-not-from-own-repository", stack_with(s.repository()), PROVENANCE,
               message="is not from the project's own ECR repository (ai-platform-prod/project-nova)"),
    disallowed("image-from-another-projects-repository", stack_with(
        s.repository(), s.repository("project-orion", name="multimodal-model")), PROVENANCE,
        message="from project 'project-orion''s repository multimodal-model"),
    disallowed("repository-url-differs", stack_with(s.repository(
        name="multimodal-model", repositoryUrl="999999999999.dkr.ecr.us-east-1.amazonaws.com/multimodal-model")),
        PROVENANCE, message="but not its URL 999999999999"),
    disallowed("report-elsewhere", stack_with(s.bucket_store()), PROVENANCE,
               message="is not in project 'project-nova''s bucket"),
    disallowed("report-in-another-projects-bucket", then(with_report(f"s3://{ORION}/reports/r.json"),
                                                         stack_with(s.bucket_store(), s.bucket_store("project-orion"))),
               PROVENANCE, message="is not in project 'project-nova''s bucket"),
    disallowed("report-not-s3", then(with_report("https://example.org/report.json"), stack_with(s.bucket_store())),
               PROVENANCE, message="is not an s3:// URI"),
]


@pytest.mark.parametrize("case", params(HARDENING_CASES))
def test_artifact_store_hardening(pack, case):
    check(pack, case)


@pytest.mark.parametrize("case", params(ACCESS_CASES))
def test_artifact_least_privilege(pack, case):
    check(pack, case)


@pytest.mark.parametrize("case", params(PROVENANCE_CASES))
def test_artifact_provenance(pack, case):
    check(pack, case)


def test_the_good_stacks_store_passes_and_is_judged(pack):
    run = pack.run(b.good_stack("prod"), "prod")
    assert not [v for v in run.violations if v.policy in (HARDENING, ACCESS, PROVENANCE)]
    assert not {HARDENING, ACCESS, PROVENANCE} & {n["policy"] for n in run.not_applicable}


def test_rules_are_not_applicable_without_stores(pack):
    run = pack.run(s.bare(b.good_stack("prod")), "prod")
    assert {HARDENING, ACCESS, PROVENANCE} <= {n["policy"] for n in run.not_applicable}
