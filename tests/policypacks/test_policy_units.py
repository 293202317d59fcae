"""Unit-level tests: safe property access, Kubernetes semantics, settings, the pack's metadata and
config files, and preflight's side (config reconciliation, the pack's virtualenv, report parts)."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Any

import pytest
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from preflight import policy as policy_report
from preflight.analyzer import (
    PolicyAnalyzer,
    PolicyConfig,
    PolicyPackError,
    load_pack_project,
    load_policy_config,
    reconcile_config,
    schema_errors,
)
from preflight.engine import UNKNOWN
from tests.policypacks import builders as b
from tests.policypacks.conftest import PACK_DIR, ROOT, config_for, violations

from ai_platform_finops.quantity import quantity
from ai_governance import POLICIES, framework, k8s, pack_settings, props, resources, responsible_ai, sdk_hooks


# --- safe access ----------------------------------------------------------------------------------

def test_get_reads_through_the_sdk_proxy_without_raising():
    bag = unknown_checking_proxy({"a": {"b": [1.0, UNKNOWN, {"c": "x"}]}, "u": UNKNOWN, "n": None})
    with pytest.raises(UnknownValueError):
        bag["u"]  # what a naive rule would hit
    assert props.get(bag, "u") is props.UNKNOWN
    assert props.get(bag, "a", "b", 1) is props.UNKNOWN
    assert props.get(bag, "a", "b", 2, "c") == "x"
    assert props.get(bag, "a", "b", 9) is props.MISSING
    assert props.get(bag, "n") is props.MISSING
    assert props.get(bag, "a", "b", "c") is props.MISSING  # a key into a list
    assert props.get(bag, "a", "b", 0, "x") is props.MISSING  # a key into a number
    assert props.get(bag, "u", "deeper") is props.UNKNOWN
    assert props.elements(props.get(bag, "a", "b"))[1] is props.UNKNOWN
    assert props.to_plain(bag)["u"] == UNKNOWN


@pytest.mark.parametrize("value, expected", [
    ("1", 1.0), ("500m", 0.5), ("0.5", 0.5), ("2k", 2000.0), ("16Gi", 16 * 2**30), (1.0, 1.0), ("1e3", 1000.0),
    ("", None), ("abc", None), (True, None), (None, None), ("1.5.2", None), (float("inf"), None),
])
def test_quantity(value, expected):
    assert quantity(value) == expected


@pytest.mark.parametrize("value, expected", [(True, True), ("true", True), ("FALSE", False), ("yes", None), (1, None)])
def test_flag(value, expected):
    assert props.flag(value) is expected


GPU_TAINT = k8s.Taint("nvidia.com/gpu", "true", "NoSchedule")


@pytest.mark.parametrize("tolerations, expected", [
    ([{"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}], True),
    ([{"key": "nvidia.com/gpu", "operator": "Exists"}], True),
    ([{"operator": "Exists"}], True),  # tolerates everything
    ([{"key": "nvidia.com/gpu", "value": "true"}], True),  # operator defaults to Equal, effect to all
    ([{"key": "nvidia.com/gpu", "operator": "Equal", "value": "false"}], False),
    ([{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoExecute"}], False),
    ([{"key": "other", "operator": "Exists"}], False),
    ([], False),
    ([props.UNKNOWN], None),
])
def test_toleration_matching_follows_kubernetes(tolerations, expected):
    assert k8s.tolerates(tolerations, GPU_TAINT) is expected


def test_selector_matching():
    labels = {"app": "m", "tier": "inference"}
    assert k8s.selector_matches({"matchLabels": {"app": "m"}}, labels) is True
    assert k8s.selector_matches({"matchLabels": {"app": "x"}}, labels) is False
    assert k8s.selector_matches({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["inference"]}]},
                                labels) is True
    assert k8s.selector_matches({"matchExpressions": [{"key": "gone", "operator": "Exists"}]}, labels) is False
    assert k8s.selector_matches({}, labels) is None  # empty selects all: proves nothing
    assert k8s.selector_matches(props.UNKNOWN, labels) is None


def test_rule_config_falls_back_to_defaults_on_wrong_types():
    declared = [framework.Setting("n", {"type": "number"}, 4, ""), framework.Setting("l", {"type": "array"}, ["a"], ""),
                framework.Setting("e", {"type": "string", "enum": ["x", "y"]}, "x", "")]
    config = framework.RuleConfig(declared, {"n": "lots", "l": ["b", 3], "e": "z"})
    assert config["n"] == 4 and config.strings("l") == ["b"] and config["e"] == "x"


def _check(mode: str) -> tuple[framework.Check, list[tuple[str, Any]]]:
    reported: list[tuple[str, Any]] = []
    settings = pack_settings.PackSettings("prod", mode, "finops.example.com", "governance.example.com",
                                   dt.date(2026, 12, 1))
    check = framework.Check("p", lambda m, u=None: reported.append((m, u)), settings, framework.RuleConfig([], {}))
    check.unknown("instanceTypes", "urn:x")
    return check, reported


def test_check_finish_applies_unknown_values():
    check, reported = _check("mandatory")
    check.finish()
    assert reported == [("cannot verify instanceTypes at preview", "urn:x")]
    check, reported = _check("advisory")
    with pytest.raises(UnknownValueError) as raised:
        check.finish()
    assert raised.value.message == "cannot verify instanceTypes at preview" and reported == []
    check, reported = _check("disabled")
    check.finish()
    assert reported == []


def test_settings_come_from_the_stack_config_and_fill_in_from_pins(monkeypatch):
    monkeypatch.setenv("PULUMI_PROJECT", "ai-platform")
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"ai-platform:environment": "staging",
                                                    "ai-platform:finops": json.dumps({"tagPrefix": "finops.acme.io"})}))
    monkeypatch.setattr(pack_settings.PACK_CONFIG, "_all", {"unknownValues": "advisory", "asOf": "2027-01-02"})
    s = pack_settings.settings({"unknownValues": "mandatory"})
    assert (s.environment, s.unknown_values, s.tag_prefix, s.governance_prefix, s.as_of.isoformat()) == (
        "staging", "mandatory", "finops.acme.io", "governance.acme.io", "2027-01-02")
    assert pack_settings.settings().unknown_values == "advisory"
    # Nothing in the stack config: the pins fill in.
    monkeypatch.setenv("PULUMI_CONFIG", "{}")
    monkeypatch.setattr(pack_settings.PACK_CONFIG, "_all", {"environment": "dev", "tagPrefix": "finops.pinned.io"})
    s = pack_settings.settings()
    assert (s.environment, s.tag_prefix, s.governance_prefix, s.unknown_values) == (
        "dev", "finops.pinned.io", "governance.pinned.io", "mandatory")  # no unknownValues: fail closed
    monkeypatch.setattr(pack_settings.PACK_CONFIG, "_all", {})
    monkeypatch.setenv("PULUMI_STACK", "my-feature")
    s = pack_settings.settings()
    assert (s.environment, s.tag_prefix) == ("prod", "finops.example.com")  # unknown environment: the strictest rules


def test_a_pin_that_disagrees_with_the_stack_is_one_error_naming_both(monkeypatch):
    monkeypatch.setenv("PULUMI_PROJECT", "ai-platform")
    monkeypatch.setenv("PULUMI_STACK", "staging")
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps({"ai-platform:environment": "staging",
                                                    "ai-platform:finops": json.dumps({"tagPrefix": "finops.acme.io"})}))
    assert pack_settings.pin_problem({"environment": "staging", "tagPrefix": "finops.acme.io",
                               "governancePrefix": "governance.acme.io", "unknownValues": "advisory"}) is None
    message = pack_settings.pin_problem({"tagPrefix": "finops.apexlogic.com"})
    assert message == ("the policy pack config (--policy-pack-config): all.tagPrefix: 'finops.apexlogic.com' disagrees "
                       "with the stack config (Pulumi.staging.yaml): ai-platform:finops.tagPrefix 'finops.acme.io'; "
                       "the stack config is where org settings live: remove the pin or make them equal")


# --- the pack's metadata and config files ------------------------------------------------------------

def test_the_pack_has_exactly_the_28_policies_with_full_metadata():
    from tests.policypacks.test_policy_grpc_cases import ALL_POLICIES

    names = [p.name for p in POLICIES]
    assert len(names) == 35 and set(names) == ALL_POLICIES
    for p in POLICIES:
        assert p.description and "Severity:" in p.description, p.name
        assert p.severity is not None and p.remediation_steps, p.name
        assert p.config_schema is not None and "unknownValues" in p.config_schema.properties, p.name
        for name, schema in p.config_schema.properties.items():
            if "default" in schema:
                assert not schema_errors(schema["default"], schema, name), (p.name, name)
    frameworks = {p.name: p.framework.name for p in POLICIES if p.framework is not None}
    assert frameworks["finops-required-tags"] == "FinOps Framework"
    assert frameworks["budget-coverage"] == "FinOps Framework"
    assert {frameworks[n] for n in ("ethics-policy-approved", "model-card-metadata", "evaluation-gate",
                                    "high-risk-safeguards", "model-provenance")} == {"EU AI Act"}


@pytest.mark.parametrize("env", ["dev", "staging", "prod", "local"])
def test_config_files_name_only_real_policies_and_valid_pack_settings(env):
    doc = json.loads((PACK_DIR / "config" / f"{env}.json").read_text())
    assert set(doc) - {"all"} <= {p.name for p in POLICIES}, "a typo in a policy name is silently ignored"
    settings = {k: v for k, v in doc["all"].items() if k != "enforcementLevel"}
    assert set(settings) <= set(pack_settings.PACK_SETTINGS_SCHEMA)
    for key, value in settings.items():
        assert not schema_errors(value, pack_settings.PACK_SETTINGS_SCHEMA[key], key)
    assert settings["environment"] == env and settings["unknownValues"] == ("mandatory" if env == "prod" else "advisory")


def test_annotation_names_match_the_program():
    """Governance names come from ai_platform_finops.governance for both; the selector labels are
    defined twice (the pack cannot import the program), so they must agree."""
    from components import metadata

    for name in ("APP_COMPONENT", "INFERENCE_COMPONENT"):
        assert getattr(k8s, name) == getattr(metadata, name), name
    assert responsible_ai.ETHICS_POLICY_ID is metadata.ETHICS_POLICY_ID


def test_taggable_types_match_the_installed_pulumi_aws():
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen_taggable_types", PACK_DIR / "tools" / "gen_taggable_types.py")
    assert spec is not None and spec.loader is not None
    gen_taggable_types = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen_taggable_types)
    version, types = gen_taggable_types.taggable_types()
    shipped = (PACK_DIR / "ai_governance" / "data" / "aws-taggable-types.txt").read_text()
    assert f"# pulumi-aws: {version}" in shipped, "regenerate: tools/gen_taggable_types.py"
    assert [line for line in shipped.splitlines() if not line.startswith("#")] == types


# --- preflight: config files as the CLI reads them ----------------------------------------------------

def _meta(name: str, schema: dict[str, Any], level: str = "mandatory") -> Any:
    from preflight.analyzer import PolicyMeta

    return PolicyMeta(name=name, description="d", level=level, severity="high", kind="resource", remediation="r",
                      framework={}, tags=(), config_schema=schema)


def test_reconcile_like_the_cli():
    policies = [_meta("a", {"n": {"type": "number", "default": 2}}), _meta("b", {}, "advisory")]
    given = {"all": PolicyConfig("advisory", {"environment": "dev"}), "a": PolicyConfig(None, {"n": 5})}
    result = reconcile_config(policies, {}, given)
    assert result["a"] == PolicyConfig("advisory", {"n": 5})
    assert result["b"] == PolicyConfig("advisory", {})
    assert result["all"] == PolicyConfig("advisory", {"environment": "dev"})  # forwarded to Configure
    result = reconcile_config(policies, {}, {"a": PolicyConfig("mandatory", {})})
    assert result["a"] == PolicyConfig("mandatory", {"n": 2})  # schema default filled in


def test_reconcile_rejects_what_the_cli_rejects():
    policies = [_meta("a", {"n": {"type": "number", "minimum": 0}})]
    with pytest.raises(PolicyPackError) as raised:
        reconcile_config(policies, {}, {"a": PolicyConfig(None, {"n": -1}), "settings": PolicyConfig(None, {"x": 1})})
    assert "a: n: must be >= 0" in str(raised.value)
    assert "settings: no valid enforcement level" in str(raised.value)


def test_load_policy_config(tmp_path):
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"all": "advisory", "p": {"enforcementLevel": "disabled", "x": 1}, "q": {}}))
    assert load_policy_config(path) == {"all": PolicyConfig("advisory"), "p": PolicyConfig("disabled", {"x": 1})}
    for bad, message in (({"p": "sometimes"}, "not a valid enforcement level"), ({"p": 3}, "must be a string"),
                         ([], "must be a JSON object")):
        path.write_text(json.dumps(bad))
        with pytest.raises(PolicyPackError, match=message):
            load_policy_config(path)
    path.write_text("{")
    with pytest.raises(PolicyPackError, match="not valid JSON"):
        load_policy_config(path)


def test_pulumi_policy_yaml():
    project = load_pack_project(PACK_DIR)
    assert (project.runtime, project.virtualenv) == ("python", "venv") and project.version == "1.0.0"
    assert project.description


def test_a_broken_pack_is_reported_with_its_stderr_and_stopped(tmp_path):
    (tmp_path / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.1.0\n")
    (tmp_path / "__main__.py").write_text("raise SystemExit('no such rule module: ai_governance_v2')\n")
    analyzer = PolicyAnalyzer(tmp_path, project="p", stack="s", config_file=None, python=sys.executable, timeout=30)
    with pytest.raises(PolicyPackError, match="exited before serving") as raised:
        with analyzer:
            analyzer.info()
    assert "no such rule module: ai_governance_v2" in str(raised.value)  # the pack's stderr, quoted
    assert analyzer._proc is None


# --- preflight: report parts ------------------------------------------------------------------------

SECTION = {
    "packs": [{"name": "ai-governance", "version": "1.0.0"}],
    "violations": [{"pack": "ai-governance", "policy": "gpu-request-valid", "level": "mandatory",
                    "urn": "urn:pulumi:dev::ai-platform::ai-platform:inference:InferenceService$kubernetes:apps/v1:Deployment::m",
                    "message": "request '0.5' | <b>not</b> whole"}],
    "mandatory": 1, "advisory": 0,
    "not_applicable": [{"policy": "inference-availability", "reason": "applies only in prod"}],
}


def test_human_view_and_markdown_part():
    human = policy_report.render_policy(SECTION)
    assert "[mandatory]  gpu-request-valid  (Deployment m)" in human and "exit code 1" in human
    lines = "\n".join(policy_report.markdown_part({"policy": SECTION}))
    assert "1 mandatory policy violation(s)" in lines
    assert "\\|" in lines and "&lt;b&gt;" in lines and "<b>" not in lines
    assert policy_report.markdown_part({}) == []
    assert policy_report.has_mandatory(SECTION) and not policy_report.has_mandatory(None)


def test_the_comment_carries_the_policy_part():
    from preflight.markdown import render_comment

    comment = render_comment({"project": "ai-platform", "stack": "dev", "policy": SECTION})
    assert "### Policy checks" in comment and "`gpu-request-valid`" in comment


def test_section_counts_and_orders(pack):
    stack = b.replace(b.good_stack("prod"), "gpu-lt", lambda r: r.inputs["metadataOptions"].update(httpTokens="optional"))
    config = config_for("prod", imdsv2_required="advisory")
    stack = b.replace(stack, "cluster-eks", lambda r: r.options.update(protect=False))
    section = policy_report.policy_section(pack.run(stack, config), "c.json")
    assert (section["mandatory"], section["advisory"]) == (1, 1)
    assert [v["level"] for v in section["violations"]] == ["mandatory", "advisory"]
    assert set(section["violations"][0]) == {"pack", "policy", "level", "urn", "message"}
    assert section["packs"][0]["config"] == "c.json"


def test_tag_prefix_comes_from_the_stack_config(pack):
    """The shared pack's PULUMI_CONFIG sets finops.tagPrefix; tags under another prefix are missing."""
    stack = b.replace(b.good_stack("prod"), "gpu-ng", lambda r: r.inputs.update(
        tags={k.replace(b.PREFIX, "finops.example.com"): v for k, v in r.inputs["tags"].items()}))
    found = violations(pack.run(stack, "prod"), "finops-required-tags")
    assert found and all(f"missing {b.PREFIX}/cost-center" in m for _, _, m in found)


def test_configure_refuses_a_pinned_prefix_that_disagrees_with_the_stack(pack):
    config = config_for("prod")
    config["all"].properties["tagPrefix"] = "finops.example.com"
    with pytest.raises(PolicyPackError) as raised:
        pack.run(b.good_stack("prod"), config)
    assert ("INVALID_ARGUMENT: the policy pack config (--policy-pack-config): all.tagPrefix: 'finops.example.com' "
            f"disagrees with the stack config (Pulumi.{b.STACK}.yaml): ai-platform:finops.tagPrefix '{b.PREFIX}'"
            in str(raised.value))


# --- the generated policy table (docs/policies.md) ------------------------------------------------------------------------------

def test_policy_table_is_generated_from_the_pack(pack):
    info = pack.analyzer.info()
    levels = policy_report.environment_levels(info, policy_report.load_environment_configs(info, PACK_DIR))
    table = policy_report.policies_table(info, levels)
    doc = (ROOT / "docs" / "policies.md").read_text()
    assert policy_report.generated_block(doc) == table, (
        "docs/policies.md policy table is stale: python -m preflight policies --update docs/policies.md")
    assert table.count("\n") == 35 + 2
    assert levels["gpu-instance-allowlist"] == {"dev": "mandatory", "staging": "mandatory", "prod": "mandatory"}
    assert levels["gpu-pool-spot"]["prod"] == "n/a" and levels["inference-availability"]["dev"] == "n/a"


def test_update_readme_rewrites_only_the_block(tmp_path):
    readme = f"# x\n\n{policy_report.TABLE_BEGIN}\nold\n{policy_report.TABLE_END}\n\nafter\n"
    assert policy_report.replace_table(readme, "| new |\n") == (
        f"# x\n\n{policy_report.TABLE_BEGIN}\n| new |\n{policy_report.TABLE_END}\n\nafter\n")
    with pytest.raises(ValueError):
        policy_report.replace_table("no markers", "t")


def test_pack_dir_layout():
    requirements = (PACK_DIR / "requirements.txt").read_text()
    assert ".." not in requirements and "-e " not in requirements  # publish uploads only the pack directory
    main = (PACK_DIR / "__main__.py").read_text()
    assert "PolicyPack(" in main and "def " not in main  # only builds the pack
    ignored = (PACK_DIR / ".gitignore").read_text().splitlines()  # publish reads the pack's own .gitignore
    assert "venv/" in ignored and "__pycache__/" in ignored


# --- scale: the per-call cache and PULUMI_CONFIG ----------------------------------------------------

def test_rules_share_one_conversion_per_message_within_a_call():
    calls: list[Any] = []

    def convert(value: Any, *args: Any) -> dict[str, Any]:
        calls.append(value)
        return {"converted": True}

    cached = sdk_hooks.per_call_cache(convert)
    message = object()
    cached(message), cached(message)
    assert len(calls) == 2  # outside an Analyze call: no caching
    sdk_hooks.CALL.entries = {}
    try:
        first, second = cached(message), cached(message)
        assert first is second and len(calls) == 3
        cached(object())
        assert len(calls) == 4
        cached(message, True)  # extra arguments (Remediate's proxy_secrets): never cached
        assert len(calls) == 5
    finally:
        sdk_hooks.CALL.entries = None


def test_pulumi_config_env_leaves_out_the_largest_values_only_when_too_big():
    from preflight.analyzer import config_env

    config = {"aws:region": "us-east-1", "ai-platform:services": json.dumps(["x" * 50] * 100),
              "ai-platform:environment": "prod"}
    text, dropped = config_env(config)
    assert json.loads(text) == config and dropped == []
    text, dropped = config_env(config, limit=200)
    assert dropped == ["ai-platform:services"]
    assert json.loads(text) == {"aws:region": "us-east-1", "ai-platform:environment": "prod"}


def test_advisory_unknown_messages_name_the_pack_version_the_cli_shows(pack):
    stack = b.replace(b.good_stack("dev"), "gpu-ng", lambda r: r.inputs.update(instanceTypes=UNKNOWN))
    found = [v.message for v in pack.run(stack, "dev").violations if v.policy == "gpu-instance-allowlist"]
    assert found == ["can't run policy 'gpu-instance-allowlist' from policy pack 'ai-governance@v1.0.0' during "
                     "preview: cannot verify instanceTypes at preview"]


def test_tags_given_as_a_key_value_list_count(pack):
    """aws:autoscaling/group:Group takes tags as [{key, value, propagateAtLaunch}]."""
    full = [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in b.tags("prod").items()]
    asg = b.res("aws:autoscaling/group:Group", "asg", {"tags": full, "maxSize": 1.0, "minSize": 0.0})
    assert violations(pack.run(b.good_stack("prod") + [asg], "prod"), "finops-required-tags") == []
    asg.inputs["tags"] = full[1:]
    found = violations(pack.run(b.good_stack("prod") + [asg], "prod"), "finops-required-tags")
    assert [m for _, _, m in found] == [f"Group asg: tags: missing {b.PREFIX}/cost-center"]


# --- secure defaults: allowed and disallowed samples, straight through the rule's check -----------

def _run_check(policy_name: str, res: Any, env: str = "prod") -> list[str]:
    """The rule's own check with its declared defaults (from its config schema) in ``env``."""
    from ai_governance import security

    check_fn, policy = {"argocd-admin-secured": (security._argocd_admin_check, security.ARGOCD_ADMIN_SECURED),
                        "no-literal-secrets-in-env": (security._literal_secret_env_check,
                                                      security.NO_LITERAL_SECRETS_IN_ENV)}[policy_name]
    assert policy.config_schema is not None
    declared = [framework.Setting(k, v, v.get("default"), "") for k, v in policy.config_schema.properties.items()]
    reported: list[str] = []
    settings = pack_settings.PackSettings(env, "mandatory", "finops.example.com", "governance.example.com",
                                   dt.date(2026, 12, 1))
    check = framework.Check(policy_name, lambda m, u=None: reported.append(m), settings,
                         framework.RuleConfig(declared, {"allowedNames": ["TOKENIZER_PATH"]}))
    try:
        check_fn(res, check)
    except framework._NotApplicable as exc:
        return [f"n/a: {exc.reason}"]
    check.finish()
    return reported


def _deployment(env: list[dict[str, Any]]) -> Any:
    spec = {"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "x:1", "env": env}]}}}}
    return resources.Res(type=k8s.DEPLOYMENT, name="app", urn="urn:app", props=spec)


@pytest.mark.parametrize("env, fires", [
    ([{"name": "DB_PASSWORD", "value": "p"}], True),
    ([{"name": "github_token", "value": "t"}], True),
    ([{"name": "AWS_SECRET_ACCESS_KEY", "value": "k"}], True),
    ([{"name": "SIGNING_KEY", "value": "k"}], True),
    ([{"name": "GOOGLE_CREDENTIALS", "value": "{}"}], True),
    ([{"name": "API_TOKEN", "value": UNKNOWN}], True),  # computed, but still a literal in the spec
    ([{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}}], False),
    ([{"name": "DB_PASSWORD", "value": ""}], False),
    ([{"name": "TOKENIZER_PATH", "value": "/models/tok"}], False),  # allowed by name
    ([{"name": "KEYCLOAK_URL", "value": "https://id"}, {"name": "LOG_LEVEL", "value": "info"}], False),
])
def test_no_literal_secrets_in_env_samples(env, fires):
    reported = _run_check("no-literal-secrets-in-env", _deployment(env))
    assert bool(reported) is fires, reported
    assert all("value" not in m or "literal values" in m for m in reported)


@pytest.mark.parametrize("values, env, fires", [
    ({"configs": {"cm": {"admin.enabled": True}}}, "prod", True),
    ({}, "prod", True),  # the chart enables admin by default
    ({"configs": {"cm": {"admin.enabled": False}}}, "prod", False),
    ({"configs": {"cm": {"admin.enabled": "false"}}}, "prod", False),
    ({"configs": {"cm": {"admin.enabled": True}, "secret": {"argocdServerAdminPassword": "$2a$10$hash"}}}, "prod", False),
    ({"configs": {"cm": {"admin.enabled": True}}}, "dev", False),  # not applicable outside prod
])
def test_argocd_admin_secured_samples(values, env, fires):
    res = resources.Res(type=k8s.HELM_RELEASE, name="argocd", urn="urn:argocd", props={"chart": "argo-cd", "values": values})
    reported = [m for m in _run_check("argocd-admin-secured", res, env) if not m.startswith("n/a: applies only in prod")]
    assert bool(reported) is fires, reported
