"""Argo CD: chart values per environment, the GitOps custom resources, wiring and secrets."""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi
import pytest
import yaml

from components.argocd_values import (
    CHART,
    CHART_REPO,
    COMPONENTS,
    IN_CLUSTER,
    REDIS_HA_RESOURCE_PATHS,
    RESOURCE_PATHS,
    SYNC_OPTIONS,
    build_values,
    get_path,
)
from components.config import POOL_LABEL, ConfigError, StackConfig, validate_flat_config
from components.config.argocd import (
    ARGOCD_NAMESPACE,
    BOOTSTRAP_PROJECT,
    DEFAULT_CHART_VERSION,
)
from preflight.engine import SECRET_SIG, SIG_KEY, Recording
from preflight.report import build_report, render_plan
from program.args import system_node_selector
from tests.support.fixtures import STACKS, ConfigEdit, load, preview, stack_source
from tests.support.recordings import one

RELEASE = "kubernetes:helm.sh/v3:Release"
APP_PROJECT = "kubernetes:argoproj.io/v1alpha1:AppProject"
APP_PROJECT_PATCH = "kubernetes:argoproj.io/v1alpha1:AppProjectPatch"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
NAMESPACE = "kubernetes:core/v1:Namespace"
SECRET = "kubernetes:core/v1:Secret"
ARGO_KEY = "ai-platform:argocd"

ADMIN_HASH = "$2a$10$ZqXv7Q0DISTINCTIVEargoHASHk3yPq8mW1nB4cR6tY9uI2oL5eA7sD"
REPO_TOKEN = "ghp_DISTINCTIVEgitopsTOKEN9f8e7d6c5b4a3"
SECRETS = {"ai-platform:argocdAdminPasswordHash": ADMIN_HASH, "ai-platform:gitopsRepoToken": REPO_TOKEN}


def values_for(cfg: StackConfig, admin_password_hash: Any = None) -> dict[str, Any]:
    assert cfg.argocd is not None
    return build_values(cfg.argocd, is_prod=cfg.is_prod, labels=cfg.tags.k8s_labels(),
                        node_selector=system_node_selector(cfg), admin_password_hash=admin_password_hash)


def problems_of(stack: str, edit: ConfigEdit) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        load(stack, edit)
    return [f"{path}: {message}" for path, message in raised.value.problems]


def argo_edit(**changes: Any) -> ConfigEdit:
    def edit(config: dict[str, Any]) -> None:
        config[ARGO_KEY].update(changes)
    return edit


@pytest.fixture(scope="module")
def configs() -> dict[str, StackConfig]:
    return {stack: load(stack) for stack in STACKS}


@pytest.fixture(scope="module")
def recordings() -> dict[str, Recording]:
    return {stack: preview(stack) for stack in STACKS}


# --- chart values per environment ------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_ha_only_in_prod(configs, stack):
    cfg = configs[stack]
    values = values_for(cfg)
    replicas = [values[c]["replicas"] for c in ("server", "repoServer", "applicationSet")]
    if stack == "live":
        assert values["redis-ha"]["enabled"] is True
        assert min(replicas) >= 2
        assert all(values[c]["pdb"] == {"enabled": True, "minAvailable": 1} for c in ("server", "repoServer", "applicationSet"))
        assert values["redis-ha"]["nodeSelector"] == values["global"]["nodeSelector"]
    else:
        assert values["redis-ha"]["enabled"] is False
        assert replicas == [1, 1, 1]
        assert "pdb" not in values["server"]
    assert values["controller"]["replicas"] == 1


@pytest.mark.parametrize("stack", STACKS)
def test_every_container_has_requests_and_limits(configs, stack):
    values = values_for(configs[stack])
    paths = RESOURCE_PATHS + (REDIS_HA_RESOURCE_PATHS if values["redis-ha"]["enabled"] else ())
    for path in paths:
        resources = get_path(values, path)
        for kind in ("requests", "limits"):
            assert set(resources[kind]) == {"cpu", "memory"}, f"{stack}: {path}.{kind}"
    for component in ("controller", "server", "repoServer", "applicationSet", "redis"):
        assert f"{component}.resources" in paths


@pytest.mark.parametrize("stack", STACKS)
def test_system_pool_no_gpu_toleration_and_finops_labels(configs, stack):
    cfg = configs[stack]
    values = values_for(cfg)
    selector = values["global"]["nodeSelector"]
    assert selector[POOL_LABEL] == cfg.system_pool.name and not cfg.system_pool.is_gpu
    assert values["global"]["tolerations"] == []
    for component in COMPONENTS:
        assert values[component]["nodeSelector"] == selector and values[component]["tolerations"] == []
    assert "nvidia" not in json.dumps(values)
    assert values["global"]["additionalLabels"] == cfg.tags.k8s_labels()


@pytest.mark.parametrize("stack", STACKS)
def test_server_is_cluster_ip_dex_off_and_admin_without_sso(configs, stack):
    values = values_for(configs[stack])
    assert values["server"]["service"]["type"] == "ClusterIP"
    assert values["server"]["ingress"] == {"enabled": False}
    assert values["dex"]["enabled"] is False
    # prod turns the local admin off (argocd.adminEnabled: false); elsewhere Argo CD's initial-admin-secret flow
    assert values["configs"]["cm"]["admin.enabled"] is (stack != "live")
    assert values["configs"]["params"]["server.insecure"] is False
    assert "secret" not in values["configs"]


def test_ingress_is_opt_in_and_tls_only():
    ingress = {"host": "argocd.dev.apexlogic.com", "tlsSecretName": "argocd-dev-tls"}
    values = values_for(load("sandbox", argo_edit(ingress=ingress)))
    server_ingress = values["server"]["ingress"]
    assert server_ingress["enabled"] is True and server_ingress["hostname"] == ingress["host"]
    assert server_ingress["extraTls"] == [{"hosts": [ingress["host"]], "secretName": "argocd-dev-tls"}]
    assert server_ingress["annotations"]["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
    assert values["server"]["service"]["type"] == "ClusterIP"
    assert values["configs"]["cm"]["url"] == "https://argocd.dev.apexlogic.com"
    assert values["configs"]["params"]["server.insecure"] is False  # TLS to the pod as well
    assert "tlsSecretName" in problems_of("sandbox", argo_edit(ingress={"host": "argocd.example.com"}))[0]


def test_sso_disables_admin_and_configures_oidc_without_dex():
    edit = argo_edit(
        sso={"issuer": "https://apexlogic.okta.com", "clientId": "argocd-dev", "adminGroups": ["ml-platform-admins"]},
        ingress={"host": "argocd.dev.apexlogic.com", "tlsSecretName": "argocd-dev-tls"},
    )
    values = values_for(load("sandbox", edit), admin_password_hash="would-be-ignored")
    cm = values["configs"]["cm"]
    assert cm["admin.enabled"] is False
    oidc = yaml.safe_load(cm["oidc.config"])
    assert oidc["issuer"] == "https://apexlogic.okta.com" and oidc["clientID"] == "argocd-dev"
    assert oidc["clientSecret"] == "$argocd-oidc:clientSecret"  # a reference, never the secret
    assert values["dex"]["enabled"] is False
    assert "secret" not in values["configs"]
    assert values["configs"]["rbac"]["policy.csv"] == "g, ml-platform-admins, role:admin\n"
    assert values["configs"]["rbac"]["policy.default"] == "role:readonly"


def test_admin_hash_goes_to_the_chart_secret_with_a_fixed_mtime():
    values = values_for(load("sandbox", argo_edit(adminPasswordMtime="2026-07-01T00:00:00Z")), admin_password_hash="HASH")
    assert values["configs"]["secret"] == {
        "argocdServerAdminPassword": "HASH",
        "argocdServerAdminPasswordMtime": "2026-07-01T00:00:00Z",
    }


def test_a_disabled_admin_ignores_a_hash():
    values = values_for(load("sandbox", argo_edit(adminEnabled=False)), admin_password_hash="HASH")
    assert values["configs"]["cm"]["admin.enabled"] is False and "secret" not in values["configs"]


# --- argocd config checks ---------------------------------------------------------------------

PROD_ADMIN = ("argocd.adminEnabled: prod must not run Argo CD's local admin with the password Argo CD generates; "
              "configure argocd.sso, set a bcrypt hash with `pulumi config set --secret argocdAdminPasswordHash`, "
              "or set argocd.adminEnabled: false")


def test_prod_refuses_the_generated_admin_password():
    assert problems_of("live", argo_edit(adminEnabled=True)) == [PROD_ADMIN]


def test_prod_admin_with_a_secret_hash_or_sso_is_accepted():
    source = stack_source("live", argo_edit(adminEnabled=True))
    flat = {**source.config, "ai-platform:argocdAdminPasswordHash": "[secret]"}
    validate_flat_config(flat, source.project, source.source, ["ai-platform:argocdAdminPasswordHash"])
    sso = argo_edit(adminEnabled=True, sso={"issuer": "https://apexlogic.okta.com", "clientId": "argocd"},
                    ingress={"host": "argocd.apexlogic.com", "tlsSecretName": "argocd-tls"})
    assert load("live", sso).argocd is not None


@pytest.mark.parametrize("key", ["argocdAdminPasswordHash", "gitopsRepoToken"])
def test_a_secret_key_set_in_plaintext_is_a_config_error_that_never_quotes_it(key):
    source = stack_source("sandbox")
    flat = {**source.config, f"ai-platform:{key}": "hunter2-plaintext-value"}
    with pytest.raises(ConfigError) as raised:
        validate_flat_config(flat, source.project, source.source, source.secret_keys)
    message = str(raised.value)
    assert message.startswith(f"stacks/Pulumi.sandbox.yaml: {key}: is set in plaintext; a secret must be encrypted")
    assert "hunter2" not in message


def test_chart_version_must_be_exact():
    assert DEFAULT_CHART_VERSION == "9.7.1"
    for version in ("^9.7.1", "9.x", ">=9.0.0", "9.7"):
        found = problems_of("sandbox", argo_edit(chartVersion=version))
        assert len(found) == 1 and found[0].startswith("argocd.chartVersion:"), found


def test_argocd_cross_field_checks():
    def small_system_pool(config: dict[str, Any]) -> None:
        config["ai-platform:nodePools"][0]["minSize"] = 2
        config["ai-platform:nodePools"][0]["desiredSize"] = 2
    found = problems_of("live", small_system_pool)
    assert found == ["argocd.ha: HA runs redis-ha with 3 pods on separate nodes, but system pool 'system' has "
                     "minSize 2; raise its minSize to 3 or set argocd.ha: false"]
    assert problems_of("kind", argo_edit(ha=True))[0].startswith("argocd.ha: ")
    sso = {"issuer": "https://apexlogic.okta.com", "clientId": "argocd"}
    assert problems_of("sandbox", argo_edit(sso=sso)) == [
        "argocd.sso: needs argocd.ingress: Argo CD's external https URL is where the OIDC provider redirects"]
    assert problems_of("sandbox", argo_edit(rootProject="project-orion")) == [
        "argocd.rootProject: unknown project 'project-orion'; known: project-nova"]

    def reserved(config: dict[str, Any]) -> None:
        config["ai-platform:projects"][0]["name"] = "default"
    assert "projects[0].name: 'default' is reserved by Argo CD; pick another project name" in problems_of("kind", reserved)


# --- the recorded resources ---------------------------------------------------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_release_is_pinned_and_in_its_namespace(recordings, configs, stack):
    release = one(recordings[stack], RELEASE, "argocd")
    inputs = release.inputs
    assert inputs["chart"] == CHART == "argo-cd"
    assert inputs["repositoryOpts"] == {"repo": CHART_REPO}
    assert inputs["version"] == configs[stack].argocd.chart_version == DEFAULT_CHART_VERSION
    assert inputs["namespace"] == ARGOCD_NAMESPACE and inputs["createNamespace"] is False
    assert inputs["values"]["server"]["service"]["type"] == "ClusterIP"
    namespace = one(recordings[stack], NAMESPACE, "argocd-namespace")
    assert namespace.inputs["metadata"]["labels"] == configs[stack].tags.k8s_labels()
    assert namespace.urn in release.options["dependsOn"]


@pytest.mark.parametrize("stack", STACKS)
def test_app_projects_fence_each_project_into_its_namespace(recordings, configs, stack):
    cfg = configs[stack]
    projects = {r.inputs["metadata"]["name"]: r for r in recordings[stack].of_type(APP_PROJECT)}
    for project in cfg.projects:
        resource = projects[project.name]
        spec = resource.inputs["spec"]
        assert resource.inputs["apiVersion"] == "argoproj.io/v1alpha1" and resource.inputs["kind"] == "AppProject"
        assert resource.inputs["metadata"]["namespace"] == ARGOCD_NAMESPACE
        assert spec["destinations"] == [{"server": IN_CLUSTER, "namespace": project.name}]
        others = {p.name for p in cfg.projects} - {project.name} | {ARGOCD_NAMESPACE, "*", "kube-system", "default"}
        assert not others & {d["namespace"] for d in spec["destinations"]}
        assert spec["sourceRepos"] == project.source_repos
        assert spec["clusterResourceWhitelist"] == []
        assert {"group": "", "kind": "ResourceQuota"} in spec["namespaceResourceBlacklist"]
        assert resource.inputs["metadata"]["labels"] == cfg.project_tags(project.name).k8s_labels()
    expected = {p.name for p in cfg.projects} | ({BOOTSTRAP_PROJECT} if cfg.argocd.root_project is None else set())
    assert set(projects) == expected


@pytest.mark.parametrize("stack", [s for s in STACKS if s != "kind"])
def test_bootstrap_project_may_only_create_applications_in_argocd(recordings, configs, stack):
    spec = one(recordings[stack], APP_PROJECT, f"argocd-project-{BOOTSTRAP_PROJECT}").inputs["spec"]
    assert spec["sourceRepos"] == [configs[stack].argocd.repo.url]
    assert spec["destinations"] == [{"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE}]
    assert spec["clusterResourceWhitelist"] == []
    assert {w["kind"] for w in spec["namespaceResourceWhitelist"]} == {"Application", "ApplicationSet"}
    default = one(recordings[stack], APP_PROJECT_PATCH, "argocd-default-project").inputs
    assert default["metadata"]["name"] == "default"
    assert default["spec"]["sourceRepos"] == [] and default["spec"]["destinations"] == []


@pytest.mark.parametrize("stack", STACKS)
def test_root_application(recordings, configs, stack):
    cfg = configs[stack]
    app = one(recordings[stack], APPLICATION, "argocd-root-app").inputs
    spec = app["spec"]
    assert app["metadata"]["namespace"] == ARGOCD_NAMESPACE
    assert app["metadata"]["labels"] == cfg.tags.k8s_labels()
    assert spec["source"] == {"repoURL": cfg.argocd.repo.url, "path": cfg.argocd.repo.path,
                              "targetRevision": cfg.argocd.repo.revision}
    sync = spec["syncPolicy"]
    assert sync["automated"] == {"selfHeal": True, "prune": stack != "live"}
    assert sync["syncOptions"] == list(SYNC_OPTIONS) == ["ServerSideApply=true", "CreateNamespace=false"]
    assert sync["retry"]["limit"] >= 1 and sync["retry"]["backoff"]["duration"]
    if stack == "kind":  # the public guestbook, fenced into project-nova
        assert spec["project"] == "project-nova"
        assert spec["destination"] == {"server": IN_CLUSTER, "namespace": "project-nova"}
        assert cfg.argocd.repo.url == "https://github.com/argoproj/argocd-example-apps.git"
    else:
        assert spec["project"] == BOOTSTRAP_PROJECT
        assert spec["destination"] == {"server": IN_CLUSTER, "namespace": ARGOCD_NAMESPACE}


@pytest.mark.parametrize("stack", STACKS)
def test_custom_resources_depend_on_the_release_and_use_the_cluster_provider(recordings, stack):
    recording = recordings[stack]
    release = one(recording, RELEASE, "argocd")
    custom = recording.of_type(APP_PROJECT) + recording.of_type(APP_PROJECT_PATCH) + recording.of_type(APPLICATION)
    assert len(custom) >= 3
    for resource in custom:
        assert release.urn in resource.options["dependsOn"], resource.name
    root = one(recording, APPLICATION, "argocd-root-app")
    root_project = one(recording, APP_PROJECT, f"argocd-project-{root.inputs['spec']['project']}")
    assert root_project.urn in root.options["dependsOn"]
    provider = next(r for r in recording.resources if r.type == "pulumi:providers:kubernetes")
    for resource in [release, *custom, one(recording, NAMESPACE, "argocd-namespace")]:
        assert resource.options["provider"].startswith(provider.urn + "::"), resource.name


@pytest.mark.parametrize("stack", STACKS)
def test_release_protected_in_prod_only(recordings, stack):
    for resource in (one(recordings[stack], RELEASE, "argocd"), one(recordings[stack], NAMESPACE, "argocd-namespace")):
        assert resource.options["protect"] is (stack == "live"), resource.name


def test_protection_follows_the_protect_setting():
    def protect(config: dict[str, Any]) -> None:
        config["ai-platform:protect"] = True
    assert one(preview("preprod", protect), RELEASE, "argocd").options["protect"] is True


@pytest.mark.parametrize("stack", STACKS)
def test_outputs(recordings, stack):
    outputs = recordings[stack].outputs
    assert outputs["argocdNamespace"] == ARGOCD_NAMESPACE
    assert outputs["argocdServerService"] == "argocd-server"
    assert outputs["argocdPortForward"] == "kubectl -n argocd port-forward svc/argocd-server 8080:443"


def test_argocd_can_be_turned_off():
    recording = preview("sandbox", argo_edit(enabled=False))
    assert not [r for r in recording.resources if "argoproj.io" in r.type or r.name.startswith("argocd")]
    assert "argocdNamespace" not in recording.outputs


def test_private_repo_without_token_is_a_clear_error():
    def private(config: dict[str, Any]) -> None:
        config[ARGO_KEY]["repo"]["private"] = True
    with pytest.raises(pulumi.RunError, match=r"^stacks/Pulumi.sandbox.yaml: argocd.repo.private: .*gitopsRepoToken"):
        preview("sandbox", private)


# --- secrets never in plaintext ---------------------------------------------------------------


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG_KEY) == SECRET_SIG


@pytest.fixture(scope="module")
def with_secrets() -> dict[str, Recording]:
    def private(config: dict[str, Any]) -> None:
        config[ARGO_KEY]["repo"]["private"] = True
        config[ARGO_KEY]["adminEnabled"] = True  # prod ships with admin off; here it signs in with the hash
    return {stack: preview(stack, private, secret_values=SECRETS) for stack in ("sandbox", "live")}


@pytest.mark.parametrize("stack", ["sandbox", "live"])
def test_secret_values_are_used_only_as_secrets(with_secrets, stack):
    recording = with_secrets[stack]
    # They are used: the hash reaches the chart and the token the repository Secret, both as secrets...
    values = one(recording, RELEASE, "argocd").inputs["values"]
    assert _is_secret(values["configs"]["secret"]["argocdServerAdminPassword"])
    assert values["server"]["service"]["type"] == "ClusterIP"  # ...while the rest stays reviewable
    repo_secret = one(recording, SECRET, "argocd-gitops-repo")
    assert repo_secret.inputs["metadata"]["labels"]["argocd.argoproj.io/secret-type"] == "repository"
    assert _is_secret(repo_secret.inputs["stringData"])
    root = one(recording, APPLICATION, "argocd-root-app")
    assert repo_secret.urn in root.options["dependsOn"]

    # ...and appear nowhere in plaintext: inputs, outputs, logs, the JSON report or the plan.
    everything = "\n".join([
        json.dumps([r.as_json() for r in recording.resources]),
        json.dumps([[r.dependencies, r.property_dependencies] for r in recording.resources]),
        json.dumps(recording.outputs),
        json.dumps(recording.logs),
        json.dumps(build_report(recording)),
        render_plan(recording),
    ])
    for secret in (ADMIN_HASH, REPO_TOKEN):
        for form in (secret, base64.b64encode(secret.encode()).decode(), secret[8:40]):
            assert form not in everything, f"{stack}: a secret leaked"


def test_with_sso_the_hash_is_not_used_at_all():
    def sso(config: dict[str, Any]) -> None:
        config[ARGO_KEY]["sso"] = {"issuer": "https://apexlogic.okta.com", "clientId": "argocd"}
        config[ARGO_KEY]["ingress"] = {"host": "argocd.dev.apexlogic.com", "tlsSecretName": "argocd-tls"}
    recording = preview("sandbox", sso, secret_values={"ai-platform:argocdAdminPasswordHash": ADMIN_HASH})
    values = one(recording, RELEASE, "argocd").inputs["values"]
    assert "secret" not in values["configs"] and values["configs"]["cm"]["admin.enabled"] is False
    assert any("argocdAdminPasswordHash is ignored" in message for _, message in recording.logs)
