"""ai-platform: load and validate this stack's config, then compose the components.

No resource logic lives here: ``program.args`` resolves each component's Args from the typed config,
and each block hands them to one component.
"""

import pulumi

from components.argocd import ArgoCd
from components.cluster import Cluster
from components.cluster_addons import ClusterAddons
from components.config import ConfigError, load_from_pulumi, secrets_from_pulumi, stack_file
from components.config.model_store import ScanningMode
from components.config.stack import config_warnings
from components.cost_controls import CostControls
from components.inference_service import InferenceService
from components.model_store.access import ModelAccess
from components.model_store.scanning import RegistryScanning
from components.model_store.store import ModelStore
from components.network import Network
from components.observability.stack import Observability
from components.project_namespace import ProjectNamespace
from program import args
from program.cost_estimate import estimate_output

try:
    cfg = load_from_pulumi()
except ConfigError as error:
    # RunError ends the program with this message alone: a user error, not a traceback.
    raise pulumi.RunError(str(error)) from None
secrets = secrets_from_pulumi()
for path, warning in config_warnings(cfg):
    pulumi.log.warn(f"{stack_file(pulumi.get_stack())}: {path}: {warning}")

# --- FinOps: budgets, alerts, cost-allocation tags, anomaly detection -----------------------

cost_controls = None
if not cfg.is_local and cfg.budgets is not None:
    cost_controls = CostControls("finops", args.cost_controls_args(cfg, f"{pulumi.get_project()}-{pulumi.get_stack()}"))
    pulumi.export("budgetsUsd", dict(sorted(cfg.budgets.monthly_limits_usd.items())))
    pulumi.export("costAlertsTopicArn", cost_controls.topic.arn)
    # The declared config priced by the same estimator as preflight's cost section (see program/cost_estimate.py).
    pulumi.export("costEstimateUsd", estimate_output(cfg))

# --- cluster: network, EKS (or existing/kubeconfig), node pools, add-ons -------------------

network = Network("network", args.network_args(cfg)) if cfg.network is not None and not cfg.is_local else None
cluster = Cluster("cluster", args.cluster_args(cfg, network))
# Tenants first: the monitoring stack puts a ServiceMonitor in each service's namespace.
k8s_opts = pulumi.ResourceOptions(provider=cluster.provider)
tenants = {p.name: ProjectNamespace(p.name, args.project_namespace_args(cfg, p), k8s_opts) for p in cfg.projects}
# Prometheus, Alertmanager, Grafana and OpenCost with the generated rules (none on the local stack).
observability = None
if cfg.observability.enabled and not cfg.is_local:
    try:  # the evaluation thresholds are read from the stack's policy pack config
        observability_args = args.observability_args(
            cfg, cluster, pulumi.get_stack(), alert_topic_arn=cost_controls.topic_arn if cost_controls is not None else None,
            namespace_dependencies={name: tenant.ready for name, tenant in tenants.items()})
    except ValueError as error:
        raise pulumi.RunError(str(error)) from None
    observability = Observability("observability", observability_args)
    pulumi.export("monitoringNamespace", "monitoring")
# On the local (kubeconfig) stack the add-ons are only metrics-server, for the HPAs.
cluster_addons = ClusterAddons("cluster-addons", args.cluster_addons_args(
    cfg, cluster, monitoring_crds=observability.crds_ready if observability is not None else ()))
if cluster.kubeconfig is not None:
    pulumi.export("kubeconfig", cluster.kubeconfig)
pulumi.export("clusterName", cluster.name)

# --- model stores: per project an ECR repository and an S3 bucket; per service read access to its weights ----

stores: dict[str, ModelStore] = {}
readers: dict[str, ModelAccess] = {}
if cfg.model_store is not None and not cfg.is_local:
    stores = {p.name: ModelStore(f"{p.name}-store", args.model_store_args(cfg, p)) for p in cfg.projects}
    if cfg.model_store.scanning == ScanningMode.ENHANCED:
        RegistryScanning("model-image-scanning", args.registry_scanning_args(cfg))
    readers = {s.name: ModelAccess(s.name, args.model_access_args(cfg, s, cluster.name))
               for s in cfg.services if s.model.artifact_uri is not None}
    pulumi.export("modelStores", {name: {"repositoryUrl": store.repository_url, "bucket": store.bucket_name}
                                  for name, store in stores.items()})

# --- tenancy and inference services --------------------------------------------------------

services = {
    s.name: InferenceService(s.name, args.inference_service_args(
        cfg, s, tenants[s.project].namespace, [*tenants[s.project].ready, *cluster_addons.workload_dependencies,
                                               *([readers[s.name]] if s.name in readers else [])]),
        k8s_opts)
    for s in cfg.services
}
pulumi.export("namespaces", {name: tenant.namespace for name, tenant in tenants.items()})
pulumi.export("inferenceServices", {name: service.url for name, service in services.items()})


# --- GitOps: Argo CD and its bootstrap ------------------------------------------------------

if cfg.argocd is not None and cfg.argocd.enabled:
    argocd = ArgoCd("argocd", args.argocd_args(cfg, secrets, cluster.provider))
    pulumi.export("argocdNamespace", argocd.namespace)
    pulumi.export("argocdServerService", argocd.server_service)
    pulumi.export("argocdPortForward", argocd.port_forward)

pulumi.export("environment", cfg.environment.value)
