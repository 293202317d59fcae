"""Security and platform rules: node metadata and disks, the EKS control plane, pinned charts and
protected critical resources."""

from __future__ import annotations

import re
from typing import Any

from ai_platform_finops.governance import SECRET_ENV_PATTERNS, looks_secret
from pulumi_policy import Severity

from ai_platform_finops.values import number

from . import aws, k8s
from .framework import Check, Setting, aws_config_rules, environments_setting, resource_rule
from .props import MISSING, UNKNOWN, elements, flag, get, matches_any, short, text
from .resources import Res
from .exposure_checks import unrestricted_endpoint

_STRINGS: dict[str, Any] = {"type": "array", "items": {"type": "string"}}


# --- imdsv2-required ------------------------------------------------------------------------------

def _imds_check(res: Res, c: Check) -> None:
    options = get(res.props, "metadataOptions")
    if not c.known(options, "metadataOptions"):
        return
    endpoint = get(options, "httpEndpoint")
    if not c.known(endpoint, "metadataOptions.httpEndpoint"):
        return
    if endpoint == "disabled":
        return  # no metadata service at all
    tokens = get(options, "httpTokens")
    if c.known(tokens, "metadataOptions.httpTokens") and tokens != "required":
        shown = "unset (IMDSv1 allowed)" if tokens is MISSING else short(tokens)
        c.violation(f"{res.label}: metadataOptions.httpTokens is {shown}; require IMDSv2 (httpTokens: required)")
    hop = get(options, "httpPutResponseHopLimit")
    if c.known(hop, "metadataOptions.httpPutResponseHopLimit") and hop is not MISSING:
        limit = c.config.num("maxHopLimit")
        value = number(hop)
        if value is None or value > limit:
            c.violation(f"{res.label}: metadataOptions.httpPutResponseHopLimit is {short(hop)}, above {limit:g}; "
                        "pods could reach the node's IAM credentials through IMDS")


IMDSV2_REQUIRED = resource_rule(
    name="imdsv2-required",
    description="Launch templates require IMDSv2 (httpTokens: required) with a hop limit at most the configured "
                "value.",
    severity=Severity.HIGH,
    remediation="Set metadata_options http_tokens='required' and http_put_response_hop_limit=1 on the launch "
                "template (nodePools[].metadataHopLimit raises it only for pods that must reach IMDS).",
    types=[aws.LAUNCH_TEMPLATE],
    check=_imds_check,
    settings_=(Setting("maxHopLimit", {"type": "integer", "minimum": 1, "maximum": 64}, 1,
                       "Highest allowed httpPutResponseHopLimit."),),
    framework=aws_config_rules("EC2_LAUNCH_TEMPLATE_IMDSV2_CHECK"),
    tags=["security", "nodes"],
)


# --- ebs-encrypted --------------------------------------------------------------------------------

def _ebs_check(res: Res, c: Check) -> None:
    mappings = get(res.props, "blockDeviceMappings")
    if not c.known(mappings, "blockDeviceMappings"):
        return
    items = elements(mappings)
    if not items:
        if c.config["requireRootVolumeMapping"]:
            c.violation(f"{res.label}: no blockDeviceMappings, so the root volume's encryption depends on the AMI "
                        "and the account default; declare it with ebs.encrypted = true")
        return
    for index, mapping in enumerate(items):
        where = f"blockDeviceMappings[{index}]"
        if mapping is UNKNOWN:
            c.unknown(where)
            continue
        ebs = get(mapping, "ebs")
        if ebs is MISSING:
            if get(mapping, "virtualName") is not MISSING or get(mapping, "noDevice") is not MISSING:
                continue  # instance store or suppressed device: nothing to encrypt
        encrypted = get(ebs, "encrypted")
        if encrypted is UNKNOWN:
            c.unknown(f"{where}.ebs.encrypted")
            continue
        if flag(encrypted) is not True:
            device = text(get(mapping, "deviceName")) or "?"
            c.violation(f"{res.label}: {where} ({device}) is not encrypted (ebs.encrypted is {short(encrypted) if encrypted is not MISSING else 'unset'})")


EBS_ENCRYPTED = resource_rule(
    name="ebs-encrypted",
    description="Launch-template block devices are encrypted.",
    severity=Severity.HIGH,
    remediation="Set block_device_mappings[].ebs.encrypted='true' (optionally kms_key_id) on the launch template; "
                "the NodePool component declares an encrypted gp3 root volume.",
    types=[aws.LAUNCH_TEMPLATE],
    check=_ebs_check,
    settings_=(Setting("requireRootVolumeMapping", {"type": "boolean"}, True,
                       "A launch template without block device mappings fails (its root volume is not declared "
                       "encrypted)."),),
    tags=["security", "nodes"],
)


# --- eks-control-plane-hardening -------------------------------------------------------------------

def _eks_check(res: Res, c: Check) -> None:
    problems = []
    logs = get(res.props, "enabledClusterLogTypes")
    if c.known(logs, "enabledClusterLogTypes"):
        enabled = {x for x in elements(logs) if isinstance(x, str)}
        missing = [x for x in c.config.strings("requiredLogTypes") if x not in enabled]
        if missing:
            problems.append(f"control-plane log types {', '.join(missing)} are off (enabledClusterLogTypes)")
    encryption = get(res.props, "encryptionConfig")
    if c.known(encryption, "encryptionConfig"):
        if encryption is MISSING:
            problems.append("secrets are not envelope-encrypted with KMS (no encryptionConfig)")
        else:
            resources = get(encryption, "resources")
            key = get(encryption, "provider", "keyArn")  # its value is computed: only its presence matters
            if c.known(resources, "encryptionConfig.resources"):
                if "secrets" not in [x for x in elements(resources) if isinstance(x, str)]:
                    problems.append("encryptionConfig.resources does not include 'secrets'")
            if key is MISSING:
                problems.append("encryptionConfig.provider.keyArn is not set")
    if c.settings.environment in c.config.strings("privateEndpointEnvironments"):
        why = unrestricted_endpoint(res, c)
        if why:
            problems.append(why)
    if problems:
        c.violation(f"{res.label}: {'; '.join(problems)}")


EKS_CONTROL_PLANE_HARDENING = resource_rule(
    name="eks-control-plane-hardening",
    description="EKS clusters log audit and authenticator events, envelope-encrypt secrets with KMS, and have no "
                "unrestricted public API endpoint in prod.",
    severity=Severity.HIGH,
    remediation="Set enabled_cluster_log_types to include 'audit' and 'authenticator', encryption_config with a KMS "
                "key for 'secrets', and in prod vpc_config endpoint_public_access=false (or public_access_cidrs). "
                "The Cluster component does all three.",
    types=[aws.CLUSTER],
    check=_eks_check,
    settings_=(Setting("requiredLogTypes", _STRINGS, ["audit", "authenticator"], "Control-plane log types that must be on."),
               Setting("privateEndpointEnvironments", _STRINGS, ["prod"],
                       "Environments where the API endpoint must not be open to the internet.")),
    framework=aws_config_rules("EKS_CLUSTER_LOGGING_ENABLED, EKS_SECRETS_ENCRYPTED, EKS_ENDPOINT_NO_PUBLIC_ACCESS"),
    tags=["security", "eks"],
)


# --- helm-chart-pinned ----------------------------------------------------------------------------

EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$")


def _helm_check(res: Res, c: Check) -> None:
    version = get(res.props, "version")
    if not c.known(version, "version"):
        return
    chart = text(get(res.props, "chart")) or res.name
    if version is MISSING or not isinstance(version, str) or not version.strip():
        c.violation(f"{res.label}: chart '{chart}' has no version, so every install takes the newest")
    elif not EXACT_VERSION.match(version.strip()):
        c.violation(f"{res.label}: chart '{chart}' version {short(version)} is a range or tag, not an exact version")


HELM_CHART_PINNED = resource_rule(
    name="helm-chart-pinned",
    description="Helm releases name an exact chart version (no range, no 'latest').",
    severity=Severity.MEDIUM,
    remediation="Set the release's version to an exact chart version, e.g. version='9.1.4' (config: "
                "argocd.chartVersion, addons.*.version); bump it deliberately in a reviewed change.",
    types=list(k8s.HELM_CHARTS),
    check=_helm_check,
    tags=["supply-chain", "kubernetes"],
)


# --- protect-critical-resources -------------------------------------------------------------------

def _protect_check(res: Res, c: Check) -> None:
    if res.type in k8s.HELM_CHARTS:
        chart = (text(get(res.props, "chart")) or "").rstrip("/").rsplit("/", 1)[-1]
        if chart not in c.config.strings("criticalCharts"):
            return
    elif not matches_any(res.type, c.config.strings("criticalTypes")):
        return
    c.applies_in(c.config.strings("environments"))
    if not res.protect:
        c.violation(f"{res.label}: a critical resource in {c.settings.environment} without protect=True; one "
                    "mistaken `pulumi destroy` or rename would delete it")


PROTECT_CRITICAL_RESOURCES = resource_rule(
    name="protect-critical-resources",
    description="In prod, the EKS cluster, the Argo CD release and the budgets have protect set.",
    severity=Severity.HIGH,
    remediation="Leave the stack setting 'protect' unset (on in prod) or true; components pass "
                "ResourceOptions(protect=True) to the critical resources. Unprotect deliberately with "
                "`pulumi state unprotect` before a planned removal.",
    types=None,
    check=_protect_check,
    settings_=(environments_setting(["prod"], "critical resources must be protected"),
               Setting("criticalTypes", _STRINGS, [aws.CLUSTER, aws.BUDGET],
                       "Resource types that must be protected."),
               Setting("criticalCharts", _STRINGS, ["argo-cd"], "Helm charts whose releases must be protected.")),
    tags=["reliability", "operations"],
)

# --- argocd-admin-secured ------------------------------------------------------------------------

def _argocd_admin_check(res: Res, c: Check) -> None:
    if k8s.chart_name(res) not in c.config.strings("argoCdCharts"):
        return
    c.applies_in(c.config.strings("environments"))
    values = get(res.props, "values")
    if not c.known(values, "values"):
        return
    enabled = get(values, "configs", "cm", "admin.enabled")
    if not c.known(enabled, "values.configs.cm.admin.enabled") or flag(enabled) is False:
        return
    password = get(values, "configs", "secret", "argocdServerAdminPassword")
    if password is UNKNOWN or (password is not MISSING and password != ""):
        return  # a configured hash (a secret, or computed): not the generated password
    c.violation(f"{res.label}: Argo CD's local admin is enabled (configs.cm.admin.enabled is "
                f"{'unset' if enabled is MISSING else short(enabled)}) with the password Argo CD generates into "
                "argocd-initial-admin-secret; disable it, or set a bcrypt configs.secret.argocdServerAdminPassword")


ARGOCD_ADMIN_SECURED = resource_rule(
    name="argocd-admin-secured",
    description="In prod, Argo CD's local admin is disabled or signs in with a configured bcrypt hash, never the "
                "password Argo CD generates.",
    severity=Severity.CRITICAL,
    remediation="Configure argocd.sso (admin is then disabled), set the hash with `pulumi config set --secret "
                "argocdAdminPasswordHash`, or set argocd.adminEnabled: false (then use `argocd --core`).",
    types=list(k8s.HELM_CHARTS),
    check=_argocd_admin_check,
    settings_=(environments_setting(["prod"], "the local admin must not use a generated password"),
               Setting("argoCdCharts", _STRINGS, ["argo-cd"], "Helm chart names that install Argo CD.")),
    tags=["security", "gitops"],
)


# --- no-literal-secrets-in-env ----------------------------------------------------------------------

def _literal_secret_env_check(res: Res, c: Check) -> None:
    for tpl in k8s.rule_templates(res, c):
        _literal_secret_env_template(res, tpl, c)


def _literal_secret_env_template(res: Res, tpl: k8s.PodTemplate, c: Check) -> None:
    patterns = c.config.strings("namePatterns")
    allowed = set(c.config.strings("allowedNames"))
    literal: list[str] = []
    for container in tpl.containers:
        env = get(container.value, "env")
        if not c.known(env, f"{container.path}.env"):
            continue
        for index, item in enumerate(elements(env)):
            where = f"{container.path}.env[{index}]"
            name = get(item, "name")
            if not c.known(name, f"{where}.name") or not isinstance(name, str):
                continue
            if name in allowed or not looks_secret(name, patterns):
                continue
            value = get(item, "value")
            if value is not MISSING and value != "":
                literal.append(f"{where} ({name})")  # never the value: it is the secret
    if literal:
        c.violation(f"{res.label}: {', '.join(literal)} hold literal values under secret-looking names; anyone who "
                    "can read the workload reads them. Use valueFrom.secretKeyRef")


NO_LITERAL_SECRETS_IN_ENV = resource_rule(
    name="no-literal-secrets-in-env",
    description="Container env vars whose names look secret (*PASSWORD*, *TOKEN*, *SECRET*, *_KEY, *CREDENTIALS*) "
                "come from a Secret (valueFrom.secretKeyRef), never a literal value.",
    severity=Severity.HIGH,
    remediation="Create a Kubernetes Secret out of band and reference it: in services[].env write "
                "NAME: {valueFrom: {secretKeyRef: {name: <secret>, key: <key>}}}.",
    types=k8s.may_carry_pods,
    check=_literal_secret_env_check,
    settings_=(Setting("namePatterns", _STRINGS, list(SECRET_ENV_PATTERNS),
                       "Shell-style patterns (case-insensitive) of env var names that hold secrets."),
               Setting("allowedNames", _STRINGS, [], "Names that match a pattern but are not secret, e.g. "
                       "TOKENIZER_PATH.")),
    tags=["security", "secrets", "kubernetes"],
)

POLICIES = [IMDSV2_REQUIRED, EBS_ENCRYPTED, EKS_CONTROL_PLANE_HARDENING, HELM_CHART_PINNED, PROTECT_CRITICAL_RESOURCES,
            ARGOCD_ADMIN_SECURED, NO_LITERAL_SECRETS_IN_ENV]

__all__ = ["POLICIES"]
